package aliyunsms_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"time"

	"orderhub/internal/connector"
	"orderhub/internal/connector/aliyunsms"
)

// A shipping notice by SMS, on a local simulator whose account has the
// sign 某某商城 and one approved notification template. The rule's
// template "shipped" maps to it; its variables come from the message's
// values. The simulator's notification limit is set to one a day, so the
// second notice to the same number waits.
func Example() {
	now := func() time.Time { return time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC) }
	sim := aliyunsms.NewSim(aliyunsms.SimConfig{Now: now, Limits: aliyunsms.SimLimits{TemplatePerDay: 1}})
	sim.AddKey("LTAI5tDemoKey", "demo-secret")
	sim.AddSign(aliyunsms.SimSign{Name: "某某商城"})
	sim.AddTemplate(aliyunsms.SimTemplate{Code: "SMS_300000001", Kind: aliyunsms.Notification,
		Text: "您的订单${order_no}已由${company}发出，运单号${tracking}，请留意查收。"})
	srv := httptest.NewServer(sim)
	defer srv.Close()

	sms, err := aliyunsms.New(aliyunsms.Options{
		System:          "sms",
		BaseURL:         srv.URL,
		AccessKeyID:     "LTAI5tDemoKey",
		AccessKeySecret: "demo-secret",
		SignName:        "某某商城",
		Templates: map[string]aliyunsms.Template{
			"shipped": {Code: "SMS_300000001", Params: []string{"order_no", "company", "tracking"}},
		},
		HTTP: srv.Client(),
		Now:  now,
		Log:  slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	msg := connector.Message{
		Key:      "shipped_to_buyer/shop/D20261126005009000001/shipped",
		Template: "shipped",
		Vars:     map[string]string{"order_no": "D20261126005009000001", "company": "顺丰速运", "tracking": "SF1234567890"},
		To:       []connector.Recipient{{Person: "buyer", Mobile: "+86 138 0000 1234"}},
	}
	res, err := sms.Send(context.Background(), msg)
	fmt.Println(res.Code, res.MessageID != "", err)
	got := sim.ReceivedBy("13800001234")[0]
	fmt.Println(got.Text)

	// The same number again the same day: over the per-number limit.
	_, err = sms.Send(context.Background(), msg)
	ce, _ := connector.AsCallError(err)
	fmt.Println(ce.Class, ce.Code, ce.Message, ce.RetryAfter)

	// A rule template with no approved SMS template: refused, with a hint.
	msg.Template = "big_order"
	_, err = sms.Send(context.Background(), msg)
	ce, _ = connector.AsCallError(err)
	fmt.Println(ce.Class, ce.Hint)
	// Output:
	// OK true <nil>
	// 【某某商城】您的订单D20261126005009000001已由顺丰速运发出，运单号SF1234567890，请留意查收。
	// slow_down isv.BUSINESS_LIMIT_CONTROL 触发天级流控Permits:1 24h0m0s
	// permanent 短信只能发送审核通过的模板：在该系统的 templates 中加入 big_order: {code: SMS_…, params: [order_no, …]}（模板 CODE 见短信服务控制台（dysms.console.aliyun.com）→ 国内消息 → 模板管理）
}
