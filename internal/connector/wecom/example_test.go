package wecom_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"orderhub/internal/connector"
	"orderhub/internal/connector/wecom"
)

// A big order sent to a simulated 企业微信 robot: as markdown, then as
// text because it must @ a mobile, and refused once the robot is removed.
func ExampleSender_Send() {
	sim := wecom.NewSim(wecom.SimConfig{})
	sim.AddRobot("693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa")
	srv := httptest.NewServer(sim)
	defer srv.Close()

	sender, err := wecom.New(wecom.Config{
		System:  "ops_wecom",
		Webhook: wecom.WebhookURL(srv.URL, "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"),
	})
	if err != nil {
		panic(err)
	}
	msg := connector.Message{
		Title:    "大额订单 D20261126005009000001",
		Markdown: "### 大额订单 D20261126005009000001\n\n| 金额 | 状态 |\n|---|---|\n| ¥5,999.00 | 已付款 |",
		Link:     "http://127.0.0.1:8080/orders/shop/D20261126005009000001",
	}
	ctx := context.Background()
	res, err := sender.Send(ctx, msg)
	fmt.Println("errcode", res.Code, err)
	msg.AtMobiles = []string{"13800001234"}
	sender.Send(ctx, msg)
	for _, r := range sim.Received() {
		fmt.Printf("%s %v\n%s\n", r.MsgType, r.MentionedMobiles, r.Text)
	}

	sim.RemoveRobot("693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa")
	_, err = sender.Send(ctx, msg)
	ce, _ := connector.AsCallError(err)
	fmt.Println(ce.Class, ce.Code)
	fmt.Println(ce.Hint)
	// Output:
	// errcode 0 <nil>
	// markdown []
	// ### 大额订单 D20261126005009000001
	//
	// **金额** | **状态**
	// ¥5,999.00 | 已付款
	//
	// [查看详情](http://127.0.0.1:8080/orders/shop/D20261126005009000001)
	// text [13800001234]
	// 大额订单 D20261126005009000001
	//
	// 金额  状态
	// ¥5,999.00  已付款
	// http://127.0.0.1:8080/orders/shop/D20261126005009000001
	// permanent 93000
	// webhook 地址无效：机器人已被移出群或 key 不对；在群聊 → 群机器人 中复制机器人的 webhook 地址填入 webhook
}
