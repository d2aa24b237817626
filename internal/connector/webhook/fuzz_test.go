package webhook

import (
	"errors"
	"strings"
	"testing"

	"orderhub/internal/connector"
	"orderhub/internal/order"
	"orderhub/internal/problem"
)

// FuzzDecode: Decode never panics, refuses with a 400 or 422 problem, and
// what it accepts is a complete order that survives its own encoding.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(validBody))
	f.Add([]byte(validBody[:40]))
	f.Add([]byte(validBody + "}"))
	f.Add([]byte(`[]`))
	f.Add([]byte(`null`))
	f.Add([]byte(``))
	f.Add([]byte(`{"order_no":"x","order_no":"y","status":"created","created_at":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"Order_No":"x","status":"created","created_at":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"order_no":"x","status":"created","created_at":"2026-01-01T00:00:00Z","total":1e2}`))
	f.Add([]byte(`{"order_no":"x","status":"created","created_at":"2026-01-01T00:00:00Z","buyer":{"x":1}}`))
	f.Add([]byte(`{"order_no":"x","status":"created","created_at":"0000-01-01T00:00:00+01:00"}`))
	f.Add([]byte(strings.Replace(validBody, `"total":"12.50"`, `"total":"-999999999999999.99"`, 1)))
	f.Fuzz(func(t *testing.T, body []byte) {
		o, err := Decode(body)
		if err != nil {
			var p *problem.Problem
			if !errors.As(err, &p) {
				t.Fatalf("error %v (%T) is not a problem", err, err)
			}
			if p.Status != 400 && p.Status != 422 {
				t.Fatalf("status %d: %v", p.Status, p)
			}
			if p.Code == "" || p.Title == "" {
				t.Fatalf("problem without code or title: %#v", p)
			}
			if p.Offset < 0 || p.Offset > int64(len(body)) {
				t.Fatalf("offset %d outside the body of %d bytes", p.Offset, len(body))
			}
			return
		}
		if strings.TrimSpace(o.OrderNo) == "" || !o.Status.Valid() || o.CreatedAt.IsZero() || o.Source != "" || o.Currency == "" {
			t.Fatalf("accepted an incomplete order: %+v", o)
		}
		if p := connector.CheckOrderNo("order_no", o.OrderNo); p != nil {
			t.Fatalf("accepted order_no %q: %v", o.OrderNo, p)
		}
		for _, m := range []order.Money{o.Total, o.Goods, o.Freight, o.Discount, o.Refunded} {
			if m < 0 {
				t.Fatalf("accepted a negative amount: %+v", o)
			}
		}
		checkRoundTrip(t, o)
	})
}
