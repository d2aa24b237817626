package mall

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"orderhub/internal/connector"
	"orderhub/internal/order"
	"orderhub/internal/problem"
)

// FuzzReceive: whatever arrives, Receive answers with an order or with a
// problem the sender can act on, and never keeps the credential.
func FuzzReceive(f *testing.F) {
	seed := seedDoc(f)
	f.Add(seed)
	for _, m := range [][2]string{
		{`"is_pay": 1`, `"is_pay": "x"`},
		{`"num": 1`, `"num": 0`},
		{`"total_pay_price": "3.00"`, `"total_pay_price": "3.001"`},
		{`"created_at": "2025-03-20 16:58:09"`, `"created_at": "bad"`},
		{`"detail": [{`, `"detail": {"a":[{`},
		{`"app_sign": "` + seedSign + `"`, `"app_sign": "\u0062aaeda3f7f1c3529010816ddb50778f6"`},
		{`"cancel_status": 0`, `"cancel_status": 1`},
		{`"back_price": "0.00"`, `"back_price": "-1.00"`},
		{`"order_no": "20250320165809904355"`, `"order_no": ""`},
	} {
		f.Add(replaceFirst(f, seed, m[0], m[1]))
	}
	f.Add(seed[:len(seed)/2])
	f.Add(append(bytes.Clone(seed), '}'))
	f.Add([]byte(`{"app_sign":"` + seedSign + `","order_no":"1","total_pay_price":"1","created_at":"2025-01-01 00:00:00","detail":[{"num":1,"unit_price":"1","total_price":"1"}]}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`null`))
	f.Add([]byte(``))

	r := NewReceiver(seedSign, time.FixedZone("CST", 8*3600))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := receive(t, r, body)
		if err != nil {
			var p *problem.Problem
			if !errors.As(err, &p) {
				t.Fatalf("error %v (%T) is not a problem", err, err)
			}
			if p.Status != 400 && p.Status != 401 && p.Status != 422 {
				t.Fatalf("problem status %d: %v", p.Status, p)
			}
			if p.Code == "" || p.Title == "" {
				t.Fatalf("problem without code or title: %#v", p)
			}
			if p.Offset < 0 || p.Offset > int64(len(body)) {
				t.Fatalf("offset %d outside the body of %d bytes", p.Offset, len(body))
			}
			return
		}
		o := got.Order
		if strings.TrimSpace(o.OrderNo) == "" {
			t.Fatalf("accepted an order without order_no: %+v", o)
		}
		if !o.Status.Valid() {
			t.Fatalf("accepted an order with status %q", o.Status)
		}
		if o.CreatedAt.IsZero() {
			t.Fatal("accepted an order without created_at")
		}
		if p := connector.CheckOrderNo("order_no", o.OrderNo); p != nil {
			t.Fatalf("accepted order_no %q: %v", o.OrderNo, p)
		}
		for _, m := range []order.Money{o.Total, o.Goods, o.Freight, o.Discount, o.Refunded} {
			if m < 0 {
				t.Fatalf("accepted a negative amount: %+v", o)
			}
		}
		if bytes.Contains(got.Raw, []byte(seedSign)) {
			t.Fatalf("Raw keeps the sign: %s", got.Raw)
		}
		// A sign escaped in the body (so its bytes are not there to replace)
		// is not kept either. (A sender that also writes it unescaped
		// elsewhere gets the literal copies replaced, the escaped one not.)
		var kept struct {
			AppSign string `json:"app_sign"`
		}
		if !bytes.Contains(body, []byte(seedSign)) && json.Unmarshal(got.Raw, &kept) == nil && kept.AppSign == seedSign {
			t.Fatalf("Raw keeps the sign in escaped form: %s", got.Raw)
		}
		if _, err := json.Marshal(o); err != nil {
			t.Fatalf("the canonical order does not encode: %v", err)
		}
	})
}
