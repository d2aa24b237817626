package dingtalk_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	"orderhub/internal/connector"
	"orderhub/internal/connector/dingtalk"
)

// A robot with 加签 on and the keyword 订单, on a local simulator: the
// message is signed, carries the keyword, @s the mobile in the text as
// DingTalk requires, and the simulator shows what the group would see.
func Example() {
	now := func() time.Time { return time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC) }
	sim := dingtalk.NewSim(dingtalk.SimConfig{Now: now})
	sim.AddRobot("demo-token", "SECdemo-secret", "订单")
	srv := httptest.NewServer(sim)
	defer srv.Close()

	robot, err := dingtalk.New(dingtalk.Options{
		System:  "ops_ding",
		Webhook: dingtalk.WebhookURL(srv.URL, "demo-token"),
		Secret:  "SECdemo-secret",
		Keyword: "订单",
		HTTP:    srv.Client(),
		Now:     now,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := robot.Send(context.Background(), connector.Message{
		Title:     "大额订单 D20261126005009000001",
		Markdown:  "### 大额订单 D20261126005009000001\n- 金额：**¥5,999.00**\n- 买家：138****1234",
		Link:      "http://127.0.0.1:8080/orders/shop/D20261126005009000001",
		AtMobiles: []string{"13800001234"},
		Key:       "big_order/shop/D20261126005009000001/created",
	})
	fmt.Println("errcode", res.Code, err)

	// The keyword is missing from this robot's setting: refused, with a hint.
	sim.AddRobot("other-token", "", "发货")
	other, _ := dingtalk.New(dingtalk.Options{System: "ops_ship", Webhook: dingtalk.WebhookURL(srv.URL, "other-token"), Keyword: "订单", HTTP: srv.Client(), Now: now})
	_, err = other.Send(context.Background(), connector.Message{Title: "新订单 D2", Markdown: "新订单 D2"})
	ce, _ := connector.AsCallError(err)
	fmt.Println(ce.Class, ce.Code, ce.Message)
	fmt.Println(ce.Hint)

	got := sim.Received()[0]
	fmt.Println(got.MsgType, got.Mentioned)
	// DingTalk breaks a line only after two spaces; shown here as ␠␠.
	fmt.Println(strings.ReplaceAll(got.Text, "  \n", "␠␠\n"))
	// Output:
	// errcode 0 <nil>
	// permanent 310000 keywords not in content
	// 消息中带有 keyword「订单」，但它不在机器人的「自定义关键词」中：在群设置 → 机器人 → 该自定义机器人 → 设置 → 安全设置中加入「订单」，或把 keyword 改成已有的关键词
	// markdown [13800001234]
	// 大额订单 D20261126005009000001
	// ### 大额订单 D20261126005009000001␠␠
	// - 金额：**¥5,999.00**␠␠
	// - 买家：138****1234
	//
	// @13800001234
}
