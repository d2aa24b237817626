package feishu_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"orderhub/internal/connector"
	"orderhub/internal/connector/feishu"
)

// A big order sent as a card to a simulated 飞书 bot with 签名校验 and
// the keyword 订单 on; a sender with the wrong secret is refused with
// 19021 and told what to fix.
func ExampleSender_Send() {
	sim := feishu.NewSim(feishu.SimConfig{})
	sim.AddRobot(feishu.Robot{Token: "0f6e1b2c-3d4e", Secret: "SEC-feishu-demo", Keywords: []string{"订单"}})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	hook := feishu.HookURL(srv.URL, "0f6e1b2c-3d4e")

	sender, err := feishu.New(feishu.Config{System: "ops_feishu", Webhook: hook, Secret: "SEC-feishu-demo", Keyword: "订单"})
	if err != nil {
		panic(err)
	}
	msg := connector.Message{
		Title:     "Big order D20261126005009000001",
		Markdown:  "### Big order D20261126005009000001\n\n- 金额：**¥5,999.00**\n- 状态：已付款",
		Link:      "http://127.0.0.1:8080/orders/shop/D20261126005009000001",
		Color:     "#F54A45",
		AtUserIDs: []string{"ou_7d8a6e6df7621556ce0d21922b676706ccs"},
	}
	res, err := sender.Send(context.Background(), msg)
	fmt.Println("code", res.Code, err)
	got := sim.Received()[0]
	fmt.Println(got.MsgType, got.Signed, got.Mentioned)
	fmt.Println(got.Text)

	wrong, _ := feishu.New(feishu.Config{System: "ops_feishu", Webhook: hook, Secret: "an-old-secret", Keyword: "订单"})
	_, err = wrong.Send(context.Background(), msg)
	ce, _ := connector.AsCallError(err)
	fmt.Println(ce.Class, ce.Code, ce.Message)
	fmt.Println(ce.Hint)
	// Output:
	// code 0 <nil>
	// interactive true [ou_7d8a6e6df7621556ce0d21922b676706ccs]
	// 【订单】Big order D20261126005009000001
	// - 金额：**¥5,999.00**
	// - 状态：已付款
	// <at id=ou_7d8a6e6df7621556ce0d21922b676706ccs></at>
	// 查看详情
	// http://127.0.0.1:8080/orders/shop/D20261126005009000001
	// permanent 19021 sign match fail or timestamp is not within one hour from current time
	// 签名校验失败：secret 须与机器人安全设置中“签名校验”的密钥一致，且本机时钟与标准时间相差不超过 1 小时
}
