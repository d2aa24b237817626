package mapping

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"orderhub/internal/order"
)

// OrderMap must show an order exactly as the read API's JSON does.
func TestOrderMapMatchesTheReadAPI(t *testing.T) {
	at := time.Date(2024, 11, 11, 9, 12, 3, 500, time.FixedZone("CST", 8*3600))
	orders := []order.Order{
		{Source: "wdt_trades", OrderNo: "JY1", Status: order.StatusPaid, Currency: "CNY", Total: 18900, Goods: 19900,
			Freight: 1000, Discount: 2000, Buyer: order.Buyer{ID: "u1", Name: "张三", Phone: "13800001234"},
			Items:    []order.Item{{SKU: "SKU-RED-M", Name: "T-shirt", Quantity: 1, UnitPrice: 17900, Total: 17900}, {SKU: "G", Quantity: 2}},
			Shipping: order.Shipping{Company: "YTO", TrackingNo: "YT1"},
			Remark:   "快", CreatedAt: at, PaidAt: at.Add(time.Minute), UpdatedAt: at.Add(time.Hour)},
		{Source: "s", OrderNo: "2", Status: order.StatusCreated, CreatedAt: at, Items: []order.Item{}},
	}
	for _, o := range orders {
		raw, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		want, err := decodeDoc(raw, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := OrderMap(o, nil); !reflect.DeepEqual(got, want) {
			t.Errorf("OrderMap(%s)\n got %#v\nwant %#v", o.OrderNo, got, want)
		}
	}
	if got := OrderMap(orders[1], time.UTC)["created_at"]; got != "2024-11-11T01:12:03.0000005Z" {
		t.Errorf("created_at in UTC = %v", got)
	}
}

func TestExpressionsReadTheCanonicalOrder(t *testing.T) {
	m := mustParse(t, "when: order.status == \"paid\"\nbody:\n  total: money(order.total)\n  first: order.items[0].sku\n  day: date(order.created_at, \"2006-01-02\")\n", Options{})
	o := order.Order{OrderNo: "JY1", Status: order.StatusPaid, Total: 18900,
		CreatedAt: time.Date(2024, 11, 10, 17, 0, 0, 0, time.UTC), Items: []order.Item{{SKU: "A", Quantity: 1}}}
	res, err := m.Apply([]byte(`{}`), OrderMap(o, nil))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"total": "189.00", "first": "A", "day": "2024-11-11"}
	if res.BillNo != "JY1" || !reflect.DeepEqual(res.Body, want) {
		t.Errorf("%+v", res)
	}
}
