package mall

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"orderhub/internal/connector"
	"orderhub/internal/order"
	"orderhub/internal/problem"
)

// seedSign is the app_sign the seed document itself carries.
const seedSign = "baaeda3f7f1c3529010816ddb50778f6"

func shanghai(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func seedDoc(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/seed004_order.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// replaceFirst replaces the first occurrence of old in b, failing the test
// when there is none (so that a fixture drifting away from the seed is
// noticed instead of silently testing the unchanged document).
func replaceFirst(t testing.TB, b []byte, old, new string) []byte {
	t.Helper()
	i := bytes.Index(b, []byte(old))
	if i < 0 {
		t.Fatalf("fixture: %q not in the document", old)
	}
	out := make([]byte, 0, len(b)-len(old)+len(new))
	out = append(out, b[:i]...)
	out = append(out, new...)
	return append(out, b[i+len(old):]...)
}

func receive(t testing.TB, r *Receiver, body []byte) (*connector.Pushed, error) {
	t.Helper()
	return r.Receive(&connector.PushRequest{Header: http.Header{}, Body: body, Now: time.Now()})
}

func TestReceiveSeed(t *testing.T) {
	loc := shanghai(t)
	body := seedDoc(t)
	orig := bytes.Clone(body)
	got, err := receive(t, NewReceiver(seedSign, loc), body)
	if err != nil {
		t.Fatalf("Receive(seed): %v", err)
	}
	if !bytes.Equal(body, orig) {
		t.Fatal("Receive modified the request body in place")
	}
	o := got.Order
	at := func(h, m, s int) time.Time { return time.Date(2025, 3, 20, h, m, s, 0, loc) }
	want := order.Order{
		OrderNo: "20250320165809904355", Status: order.StatusPaid, Currency: "CNY",
		Total: 300, Goods: 100, Freight: 200, Discount: 0, Refunded: 0,
		Buyer: order.Buyer{ID: "594847", Name: "下单人姓名", Phone: "下单人手机号", Address: "下单人地址"},
		Items: []order.Item{{SKU: "182694", Name: "cce", Spec: "颜色:黑色", Quantity: 1, UnitPrice: 100, Total: 100}},
	}
	check := func(name string, got, want any) {
		t.Helper()
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(want)
		if !bytes.Equal(gb, wb) {
			t.Errorf("%s = %s, want %s", name, gb, wb)
		}
	}
	check("source", o.Source, "") // the hub sets it from the push URL
	check("order_no", o.OrderNo, want.OrderNo)
	check("status", o.Status, want.Status)
	check("currency", o.Currency, want.Currency)
	check("total", o.Total, "3.00")
	check("goods", o.Goods, "1.00")
	check("freight", o.Freight, "2.00")
	check("discount", o.Discount, "0.00")
	check("refunded", o.Refunded, "0.00")
	check("buyer", o.Buyer, want.Buyer)
	check("items", o.Items, want.Items)
	check("shipping", o.Shipping, order.Shipping{})
	check("remark", o.Remark, "")
	for _, tc := range []struct {
		name string
		got  time.Time
		want string
	}{
		{"created_at", o.CreatedAt, "2025-03-20T16:58:09+08:00"},
		{"paid_at", o.PaidAt, "2025-03-20T16:58:12+08:00"},
		{"updated_at", o.UpdatedAt, "2025-03-20T16:58:12+08:00"},
	} {
		if s := tc.got.Format(time.RFC3339); s != tc.want {
			t.Errorf("%s = %s, want %s", tc.name, s, tc.want)
		}
	}
	if !o.CreatedAt.Equal(at(16, 58, 9)) || !o.PaidAt.Equal(at(16, 58, 12)) {
		t.Errorf("times are not the instants the shop meant: created %v paid %v", o.CreatedAt, o.PaidAt)
	}
	for name, tm := range map[string]time.Time{"shipped_at": o.ShippedAt, "completed_at": o.CompletedAt, "cancelled_at": o.CancelledAt} {
		if !tm.IsZero() {
			t.Errorf("%s = %v, want zero (the mall wrote 0000-00-00 00:00:00)", name, tm)
		}
	}

	// Raw: the body with the credential replaced, nothing else touched.
	if bytes.Contains(got.Raw, []byte(seedSign)) {
		t.Fatal("Raw still contains app_sign")
	}
	wantRaw := bytes.Replace(orig, []byte(seedSign), []byte("[redacted]"), 1)
	if !bytes.Equal(got.Raw, wantRaw) {
		t.Fatalf("Raw differs from the body beyond the app_sign replacement:\n%s", got.Raw)
	}
	if bytes.Count(orig, []byte(seedSign)) != 1 {
		t.Fatal("fixture: the seed should carry its sign exactly once")
	}
}

// The credential must not be stored however the sender spelled it in JSON:
// escaped characters decode to the same app_sign but are not the same bytes.
func TestReceiveRedactsEscapedSign(t *testing.T) {
	loc := shanghai(t)
	for _, tc := range []struct {
		name, sign, written string
	}{
		{"unicode escape", seedSign, `\u0062aaeda3f7f1c3529010816ddb50778f6`},
		{"PHP escaped slash", "k3y/with/slashes+0", `k3y\/with\/slashes+0`},
		{"escaped, and escaped again in another field", seedSign, `\u0062aaeda3f7f1c3529010816ddb50778f6","words":"\u0062aaeda3f7f1c3529010816ddb50778f6`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := replaceFirst(t, seedDoc(t), `"app_sign": "`+seedSign+`"`, `"app_sign": "`+tc.written+`"`)
			got, err := receive(t, NewReceiver(tc.sign, loc), body)
			if err != nil {
				t.Fatalf("Receive: %v", err)
			}
			var kept struct {
				AppSign string `json:"app_sign"`
				Words   string `json:"words"`
			}
			if err := json.Unmarshal(got.Raw, &kept); err != nil {
				t.Fatalf("Raw is not JSON any more: %v", err)
			}
			if kept.AppSign == tc.sign || kept.Words == tc.sign || bytes.Contains(got.Raw, []byte(tc.sign)) {
				t.Fatalf("Raw still reveals the app_sign: %s", got.Raw)
			}
			if kept.AppSign != "[redacted]" {
				t.Fatalf("Raw app_sign = %q, want [redacted]", kept.AppSign)
			}
			if got.Order.OrderNo != "20250320165809904355" || got.Order.Total != 300 {
				t.Fatalf("order decoded wrongly: %+v", got.Order)
			}
		})
	}
}

func TestReceiveStatus(t *testing.T) {
	loc := shanghai(t)
	var base Order
	if err := json.Unmarshal(seedDoc(t), &base); err != nil {
		t.Fatal(err)
	}
	base.IsPay, base.PayTime = 0, never
	for _, tc := range []struct {
		name string
		set  func(d *Order)
		want order.Status
	}{
		{"nothing set", func(d *Order) {}, order.StatusCreated},
		{"is_pay", func(d *Order) { d.IsPay = 1 }, order.StatusPaid},
		{"is_send", func(d *Order) { d.IsPay, d.IsSend = 1, 1 }, order.StatusShipped},
		{"is_send without is_pay", func(d *Order) { d.IsSend = 1 }, order.StatusShipped},
		{"is_confirm", func(d *Order) { d.IsPay, d.IsSend, d.IsConfirm = 1, 1, 1 }, order.StatusCompleted},
		{"back_price", func(d *Order) { d.IsPay, d.IsSend, d.IsConfirm = 1, 1, 1; d.BackPrice = str("3.00") }, order.StatusRefunded},
		{"partial back_price", func(d *Order) { d.IsPay = 1; d.BackPrice = str("0.01") }, order.StatusRefunded},
		{"back_price zero", func(d *Order) { d.IsPay = 1; d.BackPrice = str("0.00") }, order.StatusPaid},
		{"back_price null", func(d *Order) { d.IsPay = 1; d.BackPrice = nil }, order.StatusPaid},
		{"cancel_status wins over all", func(d *Order) {
			d.IsPay, d.IsSend, d.IsConfirm, d.CancelStatus = 1, 1, 1, 1
			d.BackPrice = str("3.00")
		}, order.StatusCancelled},
		{"cancel_status 2 is not cancelled", func(d *Order) { d.IsPay, d.CancelStatus = 1, 2 }, order.StatusPaid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := base
			tc.set(&d)
			got, err := receive(t, NewReceiver(seedSign, loc), Body(&d))
			if err != nil {
				t.Fatalf("Receive: %v", err)
			}
			if got.Order.Status != tc.want {
				t.Fatalf("status = %q, want %q", got.Order.Status, tc.want)
			}
		})
	}
}

func asProblem(t testing.TB, err error) *problem.Problem {
	t.Helper()
	p, ok := problem.As(err)
	if !ok {
		t.Fatalf("error %v (%T) is not a *problem.Problem", err, err)
	}
	return p
}

func TestReceiveErrors(t *testing.T) {
	loc := shanghai(t)
	seed := seedDoc(t)
	set := func(old, new string) func(t *testing.T) []byte {
		return func(t *testing.T) []byte { return replaceFirst(t, seed, old, new) }
	}
	fixed := func(b string) func(t *testing.T) []byte { return func(*testing.T) []byte { return []byte(b) } }
	for _, tc := range []struct {
		name   string
		sign   string // receiver's; seedSign when empty
		body   func(t *testing.T) []byte
		status int
		code   string
		field  string
		offset int64 // -1: must be > 0; 0: not checked beyond the field
		title  string
	}{
		{name: "wrong sign", sign: "another-shops-sign", body: fixed(string(seed)), status: 401, code: "bad_signature", field: "app_sign", title: "app_sign does not match"},
		{name: "sign differs in case", sign: strings.ToUpper(seedSign), body: fixed(string(seed)), status: 401, code: "bad_signature", field: "app_sign"},
		{name: "empty app_sign", body: set(`"app_sign": "`+seedSign+`"`, `"app_sign": ""`), status: 401, code: "missing_signature", field: "app_sign", title: "no app_sign"},
		{name: "no app_sign key", body: set(`"app_sign": "`+seedSign+`",`, ``), status: 401, code: "missing_signature", field: "app_sign"},
		{name: "truncated", body: fixed(string(seed[:len(seed)/2])), status: 400, code: "malformed_json", offset: int64(len(seed) / 2), title: "not valid JSON"},
		{name: "trailing garbage", body: fixed(string(seed) + "x"), status: 400, code: "malformed_json", offset: -1, title: "not valid JSON"},
		{name: "second object", body: fixed(string(seed) + "{}"), status: 400, code: "malformed_json", offset: -1},
		{name: "extra brace", body: fixed(string(seed) + "}"), status: 400, code: "malformed_json", offset: -1},
		{name: "array", body: fixed(`[1,2]`), status: 400, code: "malformed_json", offset: -1, title: "not an object"},
		{name: "string", body: fixed(`"order"`), status: 400, code: "malformed_json", offset: -1, title: "not an object"},
		{name: "number", body: fixed(`42`), status: 400, code: "malformed_json", offset: -1, title: "not an object"},
		{name: "bad syntax", body: fixed(`{"order_no": 1,,}`), status: 400, code: "malformed_json", offset: 16},
		{name: "empty body", body: fixed(``), status: 400, code: "malformed_json", title: "empty"},
		{name: "blank body", body: fixed(" \n\t"), status: 400, code: "malformed_json", title: "empty"},
		{name: "is_pay string", body: set(`"is_pay": 1`, `"is_pay": "x"`), status: 422, code: "invalid_field", field: "is_pay", title: "field is_pay has a JSON string"},
		{name: "detail object", body: set(`"detail": [{`, `"detail": {"x":[{`), status: 400, code: "malformed_json", offset: -1}, // unbalanced: still a syntax error
		{name: "detail not array", body: set(`"detail": [{`, `"detail": {}, "x": [{`), status: 422, code: "invalid_field", field: "detail", title: "where an array is expected"},
		{name: "num string", body: set(`"num": 1`, `"num": "1"`), status: 422, code: "invalid_field", field: "detail.num"},
		{name: "mobile number", body: set(`"mobile": "下单人手机号"`, `"mobile": 13812345678`), status: 422, code: "invalid_field", field: "mobile"},
		{name: "total_pay_price number", body: set(`"total_pay_price": "3.00"`, `"total_pay_price": 3`), status: 422, code: "invalid_field", field: "total_pay_price"},
		{name: "order_no empty", body: set(`"order_no": "20250320165809904355"`, `"order_no": ""`), status: 422, code: "missing_field", field: "order_no", title: "required field order_no"},
		{name: "order_no blank", body: set(`"order_no": "20250320165809904355"`, `"order_no": "  "`), status: 422, code: "missing_field", field: "order_no"},
		{name: "order_no absent", body: set(`"order_no": "20250320165809904355",`, ``), status: 422, code: "missing_field", field: "order_no"},
		{name: "total_pay_price null", body: set(`"total_pay_price": "3.00"`, `"total_pay_price": null`), status: 422, code: "missing_field", field: "total_pay_price"},
		{name: "total_pay_price empty", body: set(`"total_pay_price": "3.00"`, `"total_pay_price": ""`), status: 422, code: "missing_field", field: "total_pay_price"},
		{name: "created_at empty", body: set(`"created_at": "2025-03-20 16:58:09"`, `"created_at": ""`), status: 422, code: "missing_field", field: "created_at"},
		{name: "amount 3 decimals", body: set(`"total_pay_price": "3.00"`, `"total_pay_price": "3.001"`), status: 422, code: "invalid_field", field: "total_pay_price", title: "more than 2 decimal places"},
		{name: "amount text", body: set(`"express_price": "2.00"`, `"express_price": "two"`), status: 422, code: "invalid_field", field: "express_price"},
		{name: "discount bad", body: set(`"coupon_discount_price": "0.00"`, `"coupon_discount_price": "1e2"`), status: 422, code: "invalid_field", field: "coupon_discount_price"},
		{name: "num zero", body: set(`"num": 1`, `"num": 0`), status: 422, code: "invalid_field", field: "detail[0].num", title: "detail[0].num must be a positive quantity, got 0"},
		{name: "num negative", body: set(`"num": 1`, `"num": -2`), status: 422, code: "invalid_field", field: "detail[0].num"},
		{name: "unit_price bad", body: set(`"unit_price": "1.00"`, `"unit_price": "1.005"`), status: 422, code: "invalid_field", field: "detail[0].unit_price"},
		{name: "unit_price missing", body: set(`"unit_price": "1.00"`, `"unit_price": null`), status: 422, code: "missing_field", field: "detail[0].unit_price"},
		{name: "created_at RFC 3339", body: set(`"created_at": "2025-03-20 16:58:09"`, `"created_at": "2025-03-20T16:58:09+08:00"`), status: 422, code: "invalid_field", field: "created_at", title: "is not a time"},
		{name: "created_at impossible date", body: set(`"created_at": "2025-03-20 16:58:09"`, `"created_at": "2025-13-45 16:58:09"`), status: 422, code: "invalid_field", field: "created_at"},
		{name: "pay_time text", body: set(`"pay_time": "2025-03-20 16:58:12"`, `"pay_time": "yesterday"`), status: 422, code: "invalid_field", field: "pay_time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sign := tc.sign
			if sign == "" {
				sign = seedSign
			}
			body := tc.body(t)
			got, err := receive(t, NewReceiver(sign, loc), body)
			if err == nil {
				t.Fatalf("Receive succeeded with %+v, want %d %s", got.Order, tc.status, tc.code)
			}
			p := asProblem(t, err)
			if p.Status != tc.status || p.Code != tc.code {
				t.Fatalf("problem %d %s, want %d %s (%v)", p.Status, p.Code, tc.status, tc.code, p)
			}
			if p.Field != tc.field {
				t.Errorf("field %q, want %q (%v)", p.Field, tc.field, p)
			}
			switch {
			case tc.offset == -1 && (p.Offset <= 0 || p.Offset > int64(len(body))):
				t.Errorf("offset %d, want within the body (1..%d)", p.Offset, len(body))
			case tc.offset > 0 && p.Offset != tc.offset:
				t.Errorf("offset %d, want %d", p.Offset, tc.offset)
			}
			if !strings.Contains(p.Title, tc.title) {
				t.Errorf("title %q does not say %q", p.Title, tc.title)
			}
			if p.Detail == "" {
				t.Errorf("problem has no detail saying how to fix it: %v", p)
			}
		})
	}
}

// The registry builds a working receiver from configuration.
func TestRegisteredPushKind(t *testing.T) {
	found := false
	for _, k := range connector.PushKinds() {
		found = found || k == Kind
	}
	if !found {
		t.Fatalf("kind %q not registered; kinds: %v", Kind, connector.PushKinds())
	}
}
