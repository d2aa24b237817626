package dingtalkapp_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"time"

	"orderhub/internal/connector"
	"orderhub/internal/connector/dingtalkapp"
	"orderhub/internal/testutil/fakeclock"
)

// A work notification to a person and a department, on a local
// simulator: the app fetches its token, DingTalk answers a task id, and
// read status follows as people read it. A person without a 钉钉 userid
// is refused with a hint of what to configure.
func Example() {
	clock := fakeclock.New(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	sim := dingtalkapp.NewSim(dingtalkapp.SimConfig{Now: clock.Now})
	sim.AddApp(dingtalkapp.App{Key: "dingdemo", Secret: "demo-secret", AgentID: 1000001})
	sim.AddDept("1234", "")
	sim.AddUser("manager4220")
	sim.AddUser("finance01", "1234")
	srv := httptest.NewServer(sim)
	defer srv.Close()

	app, err := dingtalkapp.New(dingtalkapp.Options{
		System: "ding_app", BaseURL: srv.URL,
		AppKey: "dingdemo", AppSecret: "demo-secret", AgentID: 1000001,
		HTTP: srv.Client(), Now: clock.Now, Log: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	res, err := app.Send(ctx, connector.Message{
		Title:    "大额订单 D20261126005009000001",
		Markdown: "### 大额订单 D20261126005009000001\n- 金额：**¥5,999.00**\n- 买家：138****1234",
		Link:     "https://orders.example.com/orders/shop/D20261126005009000001",
		Key:      "big_order/shop/D20261126005009000001/created",
		To: []connector.Recipient{
			{Person: "zhang", Name: "张三", DingUserID: "manager4220"},
			{DingDept: "1234"},
		},
	})
	fmt.Println("task", res.MessageID, "errcode", res.Code, err)

	st, _ := app.ReadStatus(ctx, res.MessageID)
	fmt.Println("read", st.Read, "unread", st.Unread)
	clock.Add(3 * time.Minute)
	sim.MarkRead(res.MessageID, "manager4220")
	st, _ = app.ReadStatus(ctx, res.MessageID)
	fmt.Println("read", st.Read, "unread", st.Unread)

	got := sim.Inbox("finance01")[0]
	// DingTalk breaks a line only after two spaces; shown here as ␠␠.
	fmt.Printf("%s: %s\n%s\n", got.MsgType, got.Title, strings.ReplaceAll(got.Text, "  \n", "␠␠\n"))

	_, err = app.Send(ctx, connector.Message{Title: "新订单 D2", Markdown: "新订单 D2",
		To: []connector.Recipient{{Person: "li", Name: "李四", Mobile: "13900001234"}}})
	ce, _ := connector.AsCallError(err)
	fmt.Println(ce.Class)
	fmt.Println(ce.Hint)
	// Output:
	// task 256271667527 errcode 0 <nil>
	// read [] unread [finance01 manager4220]
	// read [manager4220] unread [finance01]
	// markdown: 大额订单 D20261126005009000001
	// 大额订单 D20261126005009000001
	// ### 大额订单 D20261126005009000001␠␠
	// - 金额：**¥5,999.00**␠␠
	// - 买家：138****1234
	// permanent
	// 这条工作通知没有可送达的钉钉收件人：在 people 中为收件人配置 dingtalk_userid（钉钉通讯录里的 userid），或在规则的 to 中写 dept:部门ID 或 all；缺少 dingtalk_userid 的有：li（李四）
}
