package connector

import (
	"encoding/json"
	"testing"
	"time"

	"orderhub/internal/order"
)

func TestOrderEventPayload(t *testing.T) {
	at := time.Date(2026, 11, 26, 17, 59, 0, 0, time.FixedZone("CST", 8*3600))
	o := order.Order{Source: "shop_orders", OrderNo: "D1", Status: order.StatusPaid, Currency: "CNY", Total: 599900, CreatedAt: at.Add(-time.Minute), PaidAt: at}
	b, err := OrderEventPayload(order.EventPaid, at, o)
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		t.Fatal(err)
	}
	if string(top["type"]) != `"order.paid"` || string(top["timestamp"]) != `"2026-11-26T17:59:00+08:00"` || len(top) != 3 {
		t.Fatalf("payload %s", b)
	}
	var back OrderEvent
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Data.OrderNo != "D1" || back.Data.Total != 599900 || back.Data.Source != "shop_orders" || !back.Data.PaidAt.Equal(at) {
		t.Fatalf("order back %+v", back.Data)
	}
	if _, err := OrderEventPayload("", at, o); err == nil {
		t.Fatal("a payload without an event type")
	}
}

func TestEventOf(t *testing.T) {
	cases := []struct {
		typ  string
		want order.EventType
		ok   bool
	}{
		{"order.paid", order.EventPaid, true},
		{"order.payment_timeout", "payment_timeout", true},
		{"order.", "", false},
		{"invoice.paid", "", false},
		{"paid", "", false},
	}
	for _, c := range cases {
		if ev, ok := EventOf(c.typ); ev != c.want && c.ok || ok != c.ok {
			t.Errorf("EventOf(%q) = %q, %t", c.typ, ev, ok)
		}
	}
}
