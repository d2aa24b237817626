package notify_test

import (
	"fmt"
	"time"

	"orderhub/internal/config"
	"orderhub/internal/notify"
	"orderhub/internal/order"
)

func ExampleRules_Match() {
	cfg, err := config.Parse([]byte(`
systems:
  ops_ding: {kind: dingtalk_robot, webhook: "https://oapi.dingtalk.com/robot/send?access_token=t0k3n"}
rules:
  big_order:
    on: [created, paid]
    when: order.total >= 5000
    channels: [ops_ding]
    template: big_order
`), "orderhub.yaml", func(string) (string, bool) { return "", false })
	if err != nil {
		fmt.Println(err)
		return
	}
	rules, errs := notify.Compile(cfg)
	if len(errs) > 0 {
		fmt.Println(errs)
		return
	}
	o := order.Order{Source: "shop_orders", OrderNo: "M1", Status: order.StatusCreated, Total: 599900,
		Buyer: order.Buyer{Phone: "13800001234"}, CreatedAt: time.Date(2026, 3, 8, 1, 0, 0, 0, time.UTC)}
	matches, err := rules.Match(o, notify.Event{Type: order.EventCreated, To: order.StatusCreated})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range matches {
		for _, cm := range m.Messages {
			fmt.Println(cm.Channel, cm.Message.Title, cm.Message.Key)
		}
	}
	r, _ := rules.Rule("big_order")
	o.Total = 18900
	fmt.Println(rules.Explain(r, o, notify.Event{Type: order.EventCreated}).Reason)
	// Output:
	// ops_ding 大额订单 ¥5,999.00 M1 big_order/shop_orders/M1/created
	// when: order.total >= 5000 is false
}
