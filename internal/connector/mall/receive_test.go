package mall

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
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
		{"escaped, and escaped again in another field", seedSign, `\u0062aaeda3f7f1c3529010816ddb50778f6","shop_words":"\u0062aaeda3f7f1c3529010816ddb50778f6`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := replaceFirst(t, seedDoc(t), `"app_sign": "`+seedSign+`"`, `"app_sign": "`+tc.written+`"`)
			got, err := receive(t, NewReceiver(tc.sign, loc), body)
			if err != nil {
				t.Fatalf("Receive: %v", err)
			}
			var kept struct {
				AppSign string `json:"app_sign"`
				Words   string `json:"shop_words"`
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
		{name: "array", body: fixed(`[1,2]`), status: 400, code: "not_an_object", offset: -1, title: "the body must be a JSON object"},
		{name: "string", body: fixed(`"order"`), status: 400, code: "not_an_object", offset: -1, title: "the body must be a JSON object"},
		{name: "number", body: fixed(`42`), status: 400, code: "not_an_object", offset: -1, title: "the body must be a JSON object"},
		{name: "bad syntax", body: fixed(`{"order_no": 1,,}`), status: 400, code: "malformed_json", offset: 16},
		{name: "empty body", body: fixed(``), status: 400, code: "malformed_json", title: "empty"},
		{name: "blank body", body: fixed(" \n\t"), status: 400, code: "malformed_json", title: "empty"},
		{name: "is_pay string", body: set(`"is_pay": 1`, `"is_pay": "x"`), status: 422, code: "invalid_field", field: "is_pay", title: "field is_pay has a JSON string"},
		{name: "detail object", body: set(`"detail": [{`, `"detail": {"x":[{`), status: 400, code: "malformed_json", offset: -1}, // unbalanced: still a syntax error
		{name: "detail not array", body: set(`"detail": [{`, `"detail": {}, "x": [{`), status: 422, code: "invalid_field", field: "detail", title: "where an array is expected"},
		{name: "num string", body: set(`"num": 1`, `"num": "1"`), status: 422, code: "invalid_field", field: "detail[0].num"},
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
		{name: "total_pay_price negative", body: set(`"total_pay_price": "3.00"`, `"total_pay_price": "-5.00"`), status: 422, code: "invalid_field", field: "total_pay_price", title: "total_pay_price is negative: -5.00"},
		{name: "unit_price negative", body: set(`"unit_price": "1.00"`, `"unit_price": "-5999.00"`), status: 422, code: "invalid_field", field: "detail[0].unit_price", title: "is negative"},
		{name: "express_price negative", body: set(`"express_price": "2.00"`, `"express_price": "-0.01"`), status: 422, code: "invalid_field", field: "express_price"},
		{name: "total_goods_price negative", body: set(`"total_goods_price": "1.00"`, `"total_goods_price": "-1.00"`), status: 422, code: "invalid_field", field: "total_goods_price"},
		{name: "back_price negative", body: set(`"back_price": "0.00"`, `"back_price": "-1.00"`), status: 422, code: "invalid_field", field: "back_price"},
		{name: "order_no too long", body: set(`"order_no": "20250320165809904355"`, `"order_no": "`+strings.Repeat("9", 10000)+`"`), status: 422, code: "invalid_field", field: "order_no", title: "order_no is 10000 characters long, more than the 64 allowed"},
		{name: "order_no 65 characters", body: set(`"order_no": "20250320165809904355"`, `"order_no": "`+strings.Repeat("号", 65)+`"`), status: 422, code: "invalid_field", field: "order_no", title: "65 characters"},
		{name: "order_no with NUL", body: set(`"order_no": "20250320165809904355"`, `"order_no": "2025\u0000"`), status: 422, code: "invalid_field", field: "order_no", title: "unprintable character U+0000 at byte 4"},
		{name: "order_no with bidi override", body: set(`"order_no": "20250320165809904355"`, `"order_no": "2025\u202e5502"`), status: 422, code: "invalid_field", field: "order_no", title: "U+202E"},
		{name: "order_no with tab", body: set(`"order_no": "20250320165809904355"`, `"order_no": "20\t25"`), status: 422, code: "invalid_field", field: "order_no"},
		{name: "order_no padded", body: set(`"order_no": "20250320165809904355"`, `"order_no": " 2025"`), status: 422, code: "invalid_field", field: "order_no", title: "white space"},
		{name: "order_no number", body: set(`"order_no": "20250320165809904355"`, `"order_no": 2025`), status: 422, code: "invalid_field", field: "order_no", title: "a JSON number where a string is expected"},
		{name: "created_at zero date", body: set(`"created_at": "2025-03-20 16:58:09"`, `"created_at": "0000-00-00 00:00:00"`), status: 422, code: "invalid_field", field: "created_at", title: `"never" date`},
		{name: "created_at zero date short", body: set(`"created_at": "2025-03-20 16:58:09"`, `"created_at": "0000-00-00"`), status: 422, code: "invalid_field", field: "created_at"},
		{name: "created_at absent", body: set(`"created_at": "2025-03-20 16:58:09",`, ``), status: 422, code: "missing_field", field: "created_at"},
		{name: "created_at in another case", body: set(`"created_at"`, `"CreAted_At"`), status: 422, code: "unknown_field", field: "CreAted_At", title: `differs from "created_at" only in case`},
		{name: "app_sign in another case too", body: set(`"app_sign": "`+seedSign+`"`, `"app_sign": "`+seedSign+`", "App_sign": "x"`), status: 422, code: "unknown_field", field: "App_sign"},
		{name: "line key in another case", body: set(`"num": 1`, `"num": 1, "NUM": 5`), status: 422, code: "unknown_field", field: "detail[0].NUM"},
		{name: "fuzz crasher", body: fixed(`{"App_sign":"` + seedSign + `","order_no":"1","totAl_pAY_priCe":"1","CreAted_At":"0000-00-00","detail":[{"num":1,"unit_price":"1","total_price":"1"}]}`), status: 422, code: "unknown_field", field: "App_sign"},
		{name: "app_sign twice", body: set(`"app_sign": "`+seedSign+`"`, `"app_sign": "`+seedSign+`", "app_sign": "other"`), status: 400, code: "duplicate_key", field: "app_sign", offset: -1, title: `the key "app_sign" appears twice`},
		{name: "key twice in a line", body: set(`"num": 1`, `"num": 1, "num": 2`), status: 400, code: "duplicate_key", field: "detail[0].num", offset: -1},
		{name: "key twice where nothing is read", body: set(`"goods_attr": {`, `"goods_attr": {"weight": 1, "weight": 2,`), status: 400, code: "duplicate_key", field: "detail[0].goods_info.goods_attr.weight", offset: -1},
		{name: "invalid UTF-8", body: set(`"remark": ""`, "\"remark\": \"\xff\""), status: 400, code: "malformed_json", offset: -1, title: "invalid UTF-8"},
		{name: "null", body: fixed(`null`), status: 400, code: "not_an_object", offset: 1, title: "the body must be a JSON object: this one is null"},
		{name: "empty object", body: fixed(` {} `), status: 400, code: "not_an_object", offset: 1, title: "the body must be a JSON object"},
		{name: "wrapped order", body: func(t *testing.T) []byte { return []byte(`{"data": ` + string(seed) + `}`) }, status: 400, code: "not_an_object", offset: 1, title: `none of the order's fields (it has "data")`},
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

// A repeated key is named with the byte where it is written again, so the
// sender can find it; the first copy does not decide anything.
func TestReceiveDuplicateKeyOffset(t *testing.T) {
	body := replaceFirst(t, seedDoc(t), `"app_sign": "`+seedSign+`"`, `"app_sign": "other", "app_sign": "`+seedSign+`"`)
	_, err := receive(t, NewReceiver(seedSign, shanghai(t)), body)
	p := asProblem(t, err)
	want := int64(bytes.LastIndex(body, []byte(`"app_sign"`))) + 1
	if p.Code != "duplicate_key" || p.Offset != want || p.Field != "app_sign" {
		t.Fatalf("problem %v at offset %d, want duplicate_key app_sign at %d", p, p.Offset, want)
	}
	line := bytes.Count(body[:want], []byte("\n")) + 1
	col := int(want) - bytes.LastIndexByte(body[:want], '\n') - 1
	if !strings.Contains(p.Title, fmt.Sprintf("byte %d (line %d, column %d)", want, line, col)) {
		t.Fatalf("title %q does not point at byte %d, line %d, column %d", p.Title, want, line, col)
	}
}

// Order numbers up to the limit, in any script, with inner spaces, are kept
// exactly as sent.
func TestReceiveOrderNoAccepted(t *testing.T) {
	for _, no := range []string{"1", strings.Repeat("9", 64), strings.Repeat("号", 64), "SO 2025-03/20#1", "订单-١٢٣"} {
		body := replaceFirst(t, seedDoc(t), `"order_no": "20250320165809904355"`, `"order_no": `+strconv.Quote(no))
		got, err := receive(t, NewReceiver(seedSign, shanghai(t)), body)
		if err != nil {
			t.Fatalf("order_no %q refused: %v", no, err)
		}
		if got.Order.OrderNo != no {
			t.Fatalf("order_no %q kept as %q", no, got.Order.OrderNo)
		}
	}
}

// Totals that disagree with the lines beyond rounding are accepted as sent,
// with a warning; rounding (a fen a line) is not worth one.
func TestReceiveTotalsWarning(t *testing.T) {
	for _, tc := range []struct {
		name, goods string
		warn        bool
	}{
		{"equal", "1.00", false},
		{"a fen over, rounding", "1.01", false},
		{"a fen under, rounding", "0.99", false},
		{"two fen over", "1.02", true},
		{"far under", "0.10", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := replaceFirst(t, seedDoc(t), `"total_goods_price": "1.00"`, `"total_goods_price": "`+tc.goods+`"`)
			got, err := receive(t, NewReceiver(seedSign, shanghai(t)), body)
			if err != nil {
				t.Fatalf("Receive: %v", err)
			}
			if !tc.warn {
				if len(got.Warnings) != 0 {
					t.Fatalf("warnings %+v, want none", got.Warnings)
				}
				return
			}
			if len(got.Warnings) != 1 {
				t.Fatalf("warnings %+v, want one", got.Warnings)
			}
			w := got.Warnings[0]
			if w.Code != order.WarnTotalsMismatch || w.Field != "total_goods_price" ||
				!strings.Contains(w.Message, "total_goods_price "+tc.goods+" differs from the sum of the lines' total_price, 1.00") {
				t.Fatalf("warning %+v", w)
			}
			if got.Order.Goods.String() != tc.goods {
				t.Fatalf("goods total %s, want it kept as sent (%s)", got.Order.Goods, tc.goods)
			}
		})
	}
}
