package order_test

import (
	"slices"
	"testing"
	"time"

	"orderhub/internal/order"
)

func baseOrder(s order.Status) *order.Order {
	return &order.Order{
		Source: "shop", OrderNo: "A1", Status: s, Currency: "CNY",
		Total: 300, Goods: 100, Freight: 200,
		Buyer:     order.Buyer{ID: "7", Name: "张三", Phone: "13812341234", Address: "浙江省杭州市西湖区文三路1号"},
		Items:     []order.Item{{SKU: "cce", Name: "cce", Spec: "颜色:黑色", Quantity: 1, UnitPrice: 100, Total: 100}},
		CreatedAt: time.Date(2025, 3, 20, 16, 58, 9, 0, time.FixedZone("CST", 8*3600)),
	}
}

func with(s order.Status, f func(o *order.Order)) *order.Order {
	o := baseOrder(s)
	if f != nil {
		f(o)
	}
	return o
}

func TestTransition(t *testing.T) {
	E := func(evs ...order.EventType) []order.EventType { return evs }
	const (
		created   = order.EventCreated
		paid      = order.EventPaid
		shipped   = order.EventShipped
		completed = order.EventCompleted
		cancelled = order.EventCancelled
		refunded  = order.EventRefunded
		changed   = order.EventChanged
	)
	tracked := func(no string) func(o *order.Order) {
		return func(o *order.Order) { o.Shipping = order.Shipping{Company: "顺丰速运", TrackingNo: no} }
	}
	for _, tc := range []struct {
		name       string
		prev, next *order.Order
		want       []order.EventType
	}{
		// First sight.
		{"first created", nil, baseOrder(order.StatusCreated), E(created)},
		{"first paid", nil, baseOrder(order.StatusPaid), E(created, paid)},
		{"first shipped", nil, baseOrder(order.StatusShipped), E(created, paid, shipped)},
		{"first completed", nil, baseOrder(order.StatusCompleted), E(created, paid, shipped, completed)},
		{"first cancelled", nil, baseOrder(order.StatusCancelled), E(created, cancelled)},
		{"first refunded", nil, baseOrder(order.StatusRefunded), E(created, refunded)},

		// Forward along the normal path: every step passed.
		{"created→paid", baseOrder(order.StatusCreated), baseOrder(order.StatusPaid), E(paid)},
		{"created→shipped", baseOrder(order.StatusCreated), baseOrder(order.StatusShipped), E(paid, shipped)},
		{"created→completed", baseOrder(order.StatusCreated), baseOrder(order.StatusCompleted), E(paid, shipped, completed)},
		{"paid→shipped", baseOrder(order.StatusPaid), baseOrder(order.StatusShipped), E(shipped)},
		{"shipped→completed", baseOrder(order.StatusShipped), baseOrder(order.StatusCompleted), E(completed)},

		// Into cancelled or refunded, from anywhere.
		{"created→cancelled", baseOrder(order.StatusCreated), baseOrder(order.StatusCancelled), E(cancelled)},
		{"paid→cancelled", baseOrder(order.StatusPaid), baseOrder(order.StatusCancelled), E(cancelled)},
		{"paid→refunded", baseOrder(order.StatusPaid), baseOrder(order.StatusRefunded), E(refunded)},
		{"completed→refunded", baseOrder(order.StatusCompleted), baseOrder(order.StatusRefunded), E(refunded)},
		{"cancelled→refunded", baseOrder(order.StatusCancelled), baseOrder(order.StatusRefunded), E(refunded)},
		// The refunded amount arrives with the refund: it is what the event
		// reports, not a change of its own.
		{"paid→refunded with amount", baseOrder(order.StatusPaid), with(order.StatusRefunded, func(o *order.Order) { o.Refunded = 300 }), E(refunded)},
		{"refund amount changed later", with(order.StatusRefunded, func(o *order.Order) { o.Refunded = 100 }), with(order.StatusRefunded, func(o *order.Order) { o.Refunded = 300 }), E(changed)},
		{"refund reversed", with(order.StatusRefunded, func(o *order.Order) { o.Refunded = 300 }), baseOrder(order.StatusPaid), E(changed)},

		// Backwards, or out of a branch: changed.
		{"shipped→paid", baseOrder(order.StatusShipped), baseOrder(order.StatusPaid), E(changed)},
		{"completed→created", baseOrder(order.StatusCompleted), baseOrder(order.StatusCreated), E(changed)},
		{"cancelled→paid", baseOrder(order.StatusCancelled), baseOrder(order.StatusPaid), E(changed)},
		{"refunded→completed", baseOrder(order.StatusRefunded), baseOrder(order.StatusCompleted), E(changed)},

		// Business changes with the status standing still.
		{"total", baseOrder(order.StatusPaid), with(order.StatusPaid, func(o *order.Order) { o.Total = 301 }), E(changed)},
		{"goods", baseOrder(order.StatusPaid), with(order.StatusPaid, func(o *order.Order) { o.Goods = 101 }), E(changed)},
		{"freight", baseOrder(order.StatusPaid), with(order.StatusPaid, func(o *order.Order) { o.Freight = 0 }), E(changed)},
		{"discount", baseOrder(order.StatusPaid), with(order.StatusPaid, func(o *order.Order) { o.Discount = 5 }), E(changed)},
		{"refunded amount", baseOrder(order.StatusPaid), with(order.StatusPaid, func(o *order.Order) { o.Refunded = 5 }), E(changed)},
		{"currency", baseOrder(order.StatusPaid), with(order.StatusPaid, func(o *order.Order) { o.Currency = "USD" }), E(changed)},
		{"item quantity", baseOrder(order.StatusPaid), with(order.StatusPaid, func(o *order.Order) { o.Items[0].Quantity = 2 }), E(changed)},
		{"item added", baseOrder(order.StatusPaid), with(order.StatusPaid, func(o *order.Order) { o.Items = append(o.Items, o.Items[0]) }), E(changed)},
		{"items removed", baseOrder(order.StatusPaid), with(order.StatusPaid, func(o *order.Order) { o.Items = nil }), E(changed)},
		{"buyer phone", baseOrder(order.StatusPaid), with(order.StatusPaid, func(o *order.Order) { o.Buyer.Phone = "13900000000" }), E(changed)},
		{"buyer address", baseOrder(order.StatusPaid), with(order.StatusPaid, func(o *order.Order) { o.Buyer.Address += "2室" }), E(changed)},
		{"remark", baseOrder(order.StatusPaid), with(order.StatusPaid, func(o *order.Order) { o.Remark = "请尽快发货" }), E(changed)},

		// Tracking numbers.
		{"first tracking number with shipped", baseOrder(order.StatusPaid), with(order.StatusShipped, tracked("SF1")), E(shipped)},
		{"first tracking number alone", baseOrder(order.StatusShipped), with(order.StatusShipped, tracked("SF1")), nil},
		{"tracking number replaced", with(order.StatusShipped, tracked("SF1")), with(order.StatusShipped, tracked("SF2")), E(changed)},
		{"tracking number removed", with(order.StatusShipped, tracked("SF1")), baseOrder(order.StatusShipped), E(changed)},
		{"tracking kept, completed", with(order.StatusShipped, tracked("SF1")), with(order.StatusCompleted, tracked("SF1")), E(completed)},

		// Status move plus a business change: both, changed once.
		{"paid and total", baseOrder(order.StatusCreated), with(order.StatusPaid, func(o *order.Order) { o.Total = 250 }), E(paid, changed)},
		{"two steps and remark", baseOrder(order.StatusCreated), with(order.StatusShipped, func(o *order.Order) { o.Remark = "x" }), E(paid, shipped, changed)},
		{"cancelled and total", baseOrder(order.StatusPaid), with(order.StatusCancelled, func(o *order.Order) { o.Total = 0 }), E(cancelled, changed)},
		{"backwards and total", baseOrder(order.StatusShipped), with(order.StatusPaid, func(o *order.Order) { o.Total = 1 }), E(changed)},

		// Nothing a person would call a change.
		{"identical", baseOrder(order.StatusPaid), baseOrder(order.StatusPaid), nil},
		{"times only", baseOrder(order.StatusPaid), with(order.StatusPaid, func(o *order.Order) {
			o.PaidAt = o.CreatedAt.Add(time.Minute)
			o.UpdatedAt = o.CreatedAt.Add(2 * time.Minute)
			o.CreatedAt = o.CreatedAt.UTC()
		}), nil},
		{"nil and empty items", with(order.StatusPaid, func(o *order.Order) { o.Items = nil }), with(order.StatusPaid, func(o *order.Order) { o.Items = []order.Item{} }), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := order.Transition(tc.prev, tc.next)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("Transition = %v, want %v", got, tc.want)
			}
			if n := count(got, order.EventChanged); n > 1 {
				t.Fatalf("changed appears %d times in %v", n, got)
			}
		})
	}
}

func count(evs []order.EventType, e order.EventType) int {
	n := 0
	for _, x := range evs {
		if x == e {
			n++
		}
	}
	return n
}

func TestStatusValid(t *testing.T) {
	for _, s := range order.Statuses {
		if !s.Valid() {
			t.Errorf("%q.Valid() = false", s)
		}
	}
	for _, s := range []order.Status{"", "Paid", "unknown", "paid "} {
		if s.Valid() {
			t.Errorf("%q.Valid() = true", s)
		}
	}
}

func TestOrderIn(t *testing.T) {
	sh := time.FixedZone("CST", 8*3600)
	o := order.Order{CreatedAt: time.Date(2025, 3, 20, 8, 58, 9, 0, time.UTC)}
	got := o.In(sh)
	if got.CreatedAt.Format(time.RFC3339) != "2025-03-20T16:58:09+08:00" {
		t.Fatalf("CreatedAt = %s", got.CreatedAt.Format(time.RFC3339))
	}
	if !got.PaidAt.IsZero() {
		t.Fatalf("zero PaidAt became %v", got.PaidAt)
	}
}
