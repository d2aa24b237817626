package notify_test

import (
	"fmt"
	"testing"

	"orderhub/internal/notify"
	"orderhub/internal/order"
)

// BenchmarkRender matches and renders the shipped big_order template for one
// event, beside a baseline that formats a message of the same shape with
// fmt.Sprintf: the ratio is what the template engine costs.
func BenchmarkRender(b *testing.B) {
	cfg, err := configFor("rules:\n  big_order: {on: [created], when: \"order.total >= 5000\", channels: [ops_ding], template: big_order}\n")
	if err != nil {
		b.Fatal(err)
	}
	rs, errs := notify.Compile(cfg)
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	o := sample()
	ev := notify.Event{Type: order.EventCreated, To: order.StatusPaid}
	b.Run("match+render", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ms, err := rs.Match(o, ev)
			if err != nil || len(ms) != 1 {
				b.Fatal(ms, err)
			}
		}
	})
	b.Run("baseline-sprintf", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			total, _ := notify.Yuan(o.Total.String())
			s := fmt.Sprintf("### 大额订单 %s\n\n**%s**（%s）\n\n- 店铺：%s\n- 买家：%s\n- 下单时间：%s\n\n- %s × %d　%s\n\n[查看订单](%s)",
				o.OrderNo, total, "已付款", "shop", order.MaskPhone(o.Buyer.Phone), o.CreatedAt.Format("2006-01-02 15:04:05"),
				o.Items[0].Name, o.Items[0].Quantity, total, "http://127.0.0.1:8080/v1/orders/"+o.Source+"/"+o.OrderNo)
			if len(s) == 0 {
				b.Fatal("empty")
			}
		}
	})
}
