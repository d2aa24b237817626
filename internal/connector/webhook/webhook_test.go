package webhook

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"orderhub/internal/config"
	"orderhub/internal/connector"
	"orderhub/internal/order"
	"orderhub/internal/problem"
)

const (
	secret   = "whsec_test_secret_0123456789"
	previous = "whsec_old_secret_9876543210"
)

var now = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

const validBody = `{"order_no":"W1","status":"paid","total":"12.50","goods_amount":"12.50",` +
	`"buyer":{"name":"张三","phone":"13812341234"},` +
	`"items":[{"sku":"S1","quantity":1,"unit_price":"12.50","total":"12.50"}],` +
	`"created_at":"2026-11-25T17:58:09+08:00","paid_at":"2026-11-25T18:00:00+08:00"}`

// TestSignVector pins the signature to a value computed outside Go:
//
//	printf '%s' '1700000000.{"order_no":"A1"}' | openssl dgst -sha256 -hmac 'whsec_test_secret_0123456789' -hex
//	SHA2-256(stdin)= 422630a94df2179ef99b9c7b0a19415a82025c247040f6805bd21e91f394aa9e
func TestSignVector(t *testing.T) {
	ts, sig := Sign(secret, time.Unix(1700000000, 0), []byte(`{"order_no":"A1"}`))
	if ts != "1700000000" {
		t.Fatalf("timestamp = %q, want 1700000000", ts)
	}
	if want := "v1=422630a94df2179ef99b9c7b0a19415a82025c247040f6805bd21e91f394aa9e"; sig != want {
		t.Fatalf("signature = %q, want %q", sig, want)
	}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	r := NewReceiver(5*time.Minute, secret)
	for _, body := range []string{validBody, strings.Replace(validBody, `"W1"`, `"W2"`, 1)} {
		ts, sig := Sign(secret, now, []byte(body))
		got, err := r.Receive(signed(ts, sig, body))
		if err != nil {
			t.Fatalf("Receive of a body Sign signed: %v", err)
		}
		if !bytes.Equal(got.Raw, []byte(body)) {
			t.Fatalf("Raw = %s, want the body unchanged", got.Raw)
		}
	}
}

func signed(ts, sig, body string) *connector.PushRequest {
	h := http.Header{}
	if ts != "" {
		h.Set(HeaderTimestamp, ts)
	}
	if sig != "" {
		h.Set(HeaderSignature, sig)
	}
	return &connector.PushRequest{Header: h, Body: []byte(body), Now: now}
}

func TestReceiveValid(t *testing.T) {
	r := NewReceiver(5*time.Minute, secret)
	ts, sig := Sign(secret, now, []byte(validBody))
	got, err := r.Receive(signed(ts, sig, validBody))
	if err != nil {
		t.Fatal(err)
	}
	o := got.Order
	if o.OrderNo != "W1" || o.Status != order.StatusPaid || o.Total != 1250 || o.Goods != 1250 || o.Currency != "CNY" || o.Source != "" {
		t.Fatalf("order = %+v", o)
	}
	if o.Buyer != (order.Buyer{Name: "张三", Phone: "13812341234"}) {
		t.Fatalf("buyer = %+v", o.Buyer)
	}
	if len(o.Items) != 1 || o.Items[0] != (order.Item{SKU: "S1", Quantity: 1, UnitPrice: 1250, Total: 1250}) {
		t.Fatalf("items = %+v", o.Items)
	}
	if s := o.CreatedAt.Format(time.RFC3339); s != "2026-11-25T17:58:09+08:00" {
		t.Fatalf("created_at = %s", s)
	}
	if s := o.PaidAt.Format(time.RFC3339); s != "2026-11-25T18:00:00+08:00" {
		t.Fatalf("paid_at = %s", s)
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

func TestReceive(t *testing.T) {
	good := func(body string) func() (string, string, string) {
		return func() (string, string, string) {
			ts, sig := Sign(secret, now, []byte(body))
			return ts, sig, body
		}
	}
	at := func(when time.Time, key string) func() (string, string, string) {
		return func() (string, string, string) {
			ts, sig := Sign(key, when, []byte(validBody))
			return ts, sig, validBody
		}
	}
	edit := func(old, new string) string {
		if !strings.Contains(validBody, old) {
			panic("fixture: " + old)
		}
		return strings.Replace(validBody, old, new, 1)
	}
	goodSig := func() string { _, s := Sign(secret, now, []byte(validBody)); return s }
	ts := func() string { t, _ := Sign(secret, now, []byte(validBody)); return t }
	for _, tc := range []struct {
		name   string
		req    func() (ts, sig, body string)
		status int // 0: accepted
		code   string
		field  string
		title  string
		offset int64 // -1: > 0
	}{
		{name: "valid", req: good(validBody)},
		{name: "no headers", req: func() (string, string, string) { return "", "", validBody }, status: 401, code: "missing_signature", title: "X-Orderhub-Timestamp or X-Orderhub-Signature"},
		{name: "no signature", req: func() (string, string, string) { return ts(), "", validBody }, status: 401, code: "missing_signature"},
		{name: "no timestamp", req: func() (string, string, string) { return "", goodSig(), validBody }, status: 401, code: "missing_signature"},
		{name: "timestamp text", req: func() (string, string, string) { return "yesterday", goodSig(), validBody }, status: 401, code: "bad_timestamp", title: `"yesterday" is not Unix seconds`},
		{name: "timestamp milliseconds float", req: func() (string, string, string) { return "1764064800.5", goodSig(), validBody }, status: 401, code: "bad_timestamp"},
		{name: "6 min old", req: at(now.Add(-6*time.Minute), secret), status: 401, code: "stale_timestamp", title: "6m0s away"},
		{name: "6 min in future", req: at(now.Add(6*time.Minute), secret), status: 401, code: "stale_timestamp", title: "6m0s away"},
		{name: "far future", req: func() (string, string, string) { return "9223372036854775807", goodSig(), validBody }, status: 401, code: "stale_timestamp"},
		{name: "4 min old", req: at(now.Add(-4*time.Minute), secret)},
		{name: "exactly 5 min old", req: at(now.Add(-5*time.Minute), secret)},
		{name: "wrong secret", req: at(now, "whsec_somebody_elses_secret"), status: 401, code: "bad_signature", title: "does not match"},
		{name: "previous secret", req: at(now, previous)},
		{name: "several v1 values, one correct", req: func() (string, string, string) {
			_, old := Sign("whsec_wrong_0000000000000", now, []byte(validBody))
			return ts(), old + ", " + goodSig() + ",v1=zz", validBody
		}},
		{name: "uppercase hex", req: func() (string, string, string) { return ts(), "v1=" + strings.ToUpper(goodSig()[3:]), validBody }},
		{name: "v0 scheme not accepted", req: func() (string, string, string) { return ts(), "v0=" + goodSig()[3:], validBody }, status: 401, code: "bad_signature"},
		{name: "no scheme", req: func() (string, string, string) { return ts(), goodSig()[3:], validBody }, status: 401, code: "bad_signature"},
		{name: "several wrong values", req: func() (string, string, string) { return ts(), "v1=00,v1=abcdef", validBody }, status: 401, code: "bad_signature"},
		{name: "body tampered after signing", req: func() (string, string, string) {
			return ts(), goodSig(), edit(`"total":"12.50"`, `"total":"1.25"`)
		}, status: 401, code: "bad_signature"},
		{name: "signature for another timestamp", req: func() (string, string, string) {
			_, s := Sign(secret, now.Add(-time.Second), []byte(validBody))
			return ts(), s, validBody
		}, status: 401, code: "bad_signature"},
		{name: "unknown field", req: good(edit(`"status":"paid"`, `"status":"paid","colour":"red"`)), status: 422, code: "unknown_field", field: "colour", title: `unknown field "colour"`},
		{name: "unknown nested field", req: good(edit(`"phone":"13812341234"`, `"phone":"13812341234","wechat":"x"`)), status: 422, code: "unknown_field", field: "buyer.wechat", title: `"wechat"`},
		{name: "missing order_no", req: good(edit(`"order_no":"W1",`, ``)), status: 422, code: "missing_field", field: "order_no", title: "required field order_no"},
		{name: "blank order_no", req: good(edit(`"order_no":"W1"`, `"order_no":" "`)), status: 422, code: "missing_field", field: "order_no"},
		{name: "missing status", req: good(edit(`"status":"paid",`, ``)), status: 422, code: "missing_field", field: "status"},
		{name: "missing created_at", req: good(edit(`"created_at":"2026-11-25T17:58:09+08:00",`, ``)), status: 422, code: "missing_field", field: "created_at"},
		{name: "bad status", req: good(edit(`"status":"paid"`, `"status":"sent"`)), status: 422, code: "invalid_field", field: "status", title: `"sent" is not a known status`},
		{name: "status in capitals", req: good(edit(`"status":"paid"`, `"status":"PAID"`)), status: 422, code: "invalid_field", field: "status"},
		{name: "source in body", req: good(edit(`"order_no":"W1"`, `"order_no":"W1","source":"other"`)), status: 422, code: "invalid_field", field: "source"},
		{name: "bad money", req: good(edit(`"total":"12.50"`, `"total":"12.505"`)), status: 422, code: "invalid_field", field: "total", title: "decimal amount"},
		{name: "money as float", req: good(edit(`"total":"12.50"`, `"total":12.505`)), status: 422, code: "invalid_field", field: "total"},
		{name: "money as number", req: good(edit(`"total":"12.50"`, `"total":12.5`))},
		{name: "nested bad money", req: good(edit(`"unit_price":"12.50"`, `"unit_price":"x"`)), status: 422, code: "invalid_field", field: "items[0].unit_price"},
		{name: "quantity as string", req: good(edit(`"quantity":1`, `"quantity":"1"`)), status: 422, code: "invalid_field", field: "items[0].quantity", title: "a whole number"},
		{name: "bad created_at", req: good(edit(`"2026-11-25T17:58:09+08:00"`, `"2026-11-25 17:58:09"`)), status: 422, code: "invalid_field", field: "created_at", title: "created_at"},
		{name: "created_at number", req: good(edit(`"2026-11-25T17:58:09+08:00"`, `1764064689`)), status: 422, code: "invalid_field", field: "created_at"},
		{name: "bad paid_at", req: good(edit(`"2026-11-25T18:00:00+08:00"`, `"2026-02-30T18:00:00+08:00"`)), status: 422, code: "invalid_field", field: "paid_at"},
		{name: "created_at year 9999", req: good(edit(`"2026-11-25T17:58:09+08:00"`, `"9999-12-31T23:00:00Z"`)), status: 422, code: "invalid_field", field: "created_at"},
		{name: "negative total", req: good(edit(`"total":"12.50"`, `"total":"-5.00"`)), status: 422, code: "invalid_field", field: "total", title: "total is negative: -5.00"},
		{name: "negative unit_price", req: good(edit(`"unit_price":"12.50"`, `"unit_price":"-5999.00"`)), status: 422, code: "invalid_field", field: "items[0].unit_price", title: "is negative"},
		{name: "negative refunded", req: good(edit(`"total":"12.50"`, `"total":"12.50","refunded":"-1.00"`)), status: 422, code: "invalid_field", field: "refunded"},
		{name: "zero quantity", req: good(edit(`"quantity":1`, `"quantity":0`)), status: 422, code: "invalid_field", field: "items[0].quantity", title: "positive quantity"},
		{name: "order_no too long", req: good(edit(`"order_no":"W1"`, `"order_no":"`+strings.Repeat("W", 65)+`"`)), status: 422, code: "invalid_field", field: "order_no", title: "65 characters long"},
		{name: "order_no with NUL", req: good(edit(`"order_no":"W1"`, `"order_no":"W\u00001"`)), status: 422, code: "invalid_field", field: "order_no", title: "U+0000"},
		{name: "order_no with bidi", req: good(edit(`"order_no":"W1"`, `"order_no":"W\u202e1"`)), status: 422, code: "invalid_field", field: "order_no", title: "U+202E"},
		{name: "created_at zero time", req: good(edit(`"2026-11-25T17:58:09+08:00"`, `"0001-01-01T00:00:00Z"`)), status: 422, code: "missing_field", field: "created_at"},
		{name: "key in another case", req: good(edit(`"order_no"`, `"Order_No"`)), status: 422, code: "unknown_field", field: "Order_No"},
		{name: "key twice", req: good(edit(`"total":"12.50"`, `"total":"12.50","total":"0.01"`)), status: 400, code: "duplicate_key", field: "total", offset: -1, title: `"total" appears twice`},
		{name: "nested key twice", req: good(edit(`"sku":"S1"`, `"sku":"S1","sku":"S2"`)), status: 400, code: "duplicate_key", field: "items[0].sku", offset: -1},
		{name: "null", req: good(`null`), status: 400, code: "not_an_object", title: "the body must be a JSON object: this one is null", offset: 1},
		{name: "null unsigned", req: func() (string, string, string) { return "", "", "null" }, status: 400, code: "not_an_object", offset: 1},
		{name: "empty object", req: good(`{}`), status: 400, code: "not_an_object", offset: 1},
		{name: "wrapped", req: good(`{"data":` + validBody + `}`), status: 400, code: "not_an_object", title: `(it has "data")`, offset: 1},
		{name: "wrapped unsigned", req: func() (string, string, string) { return "", "", `{"data":` + validBody + `}` }, status: 400, code: "not_an_object", offset: 1},
		{name: "empty body", req: good(""), status: 400, code: "malformed_json", title: "empty"},
		{name: "truncated", req: good(validBody[:40]), status: 400, code: "malformed_json", offset: 40},
		{name: "trailing garbage", req: good(validBody + "x"), status: 400, code: "malformed_json", offset: int64(len(validBody)) + 1},
		{name: "trailing brace", req: good(validBody + "}"), status: 400, code: "malformed_json", offset: int64(len(validBody)) + 1},
		{name: "trailing bracket after space", req: good(validBody + " ]"), status: 400, code: "malformed_json", offset: int64(len(validBody)) + 2},
		{name: "trailing whitespace is fine", req: good(validBody + "\r\n\t ")},
		{name: "two objects", req: good(validBody + validBody), status: 400, code: "malformed_json", offset: int64(len(validBody)) + 1},
		{name: "array", req: good(`[` + validBody + `]`), status: 400, code: "not_an_object", title: "the body must be a JSON object", offset: -1},
		{name: "syntax error", req: good(`{"order_no":"W1",}`), status: 400, code: "malformed_json", offset: -1, title: "not valid JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReceiver(5*time.Minute, secret, previous)
			ts, sig, body := tc.req()
			got, err := r.Receive(signed(ts, sig, body))
			if tc.status == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if got.Order.OrderNo != "W1" {
					t.Fatalf("order_no %q", got.Order.OrderNo)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted %+v, want %d %s", got.Order, tc.status, tc.code)
			}
			p := asProblem(t, err)
			if p.Status != tc.status || p.Code != tc.code {
				t.Fatalf("problem %d %s, want %d %s (%v)", p.Status, p.Code, tc.status, tc.code, p)
			}
			if p.Field != tc.field {
				t.Errorf("field %q, want %q (%v)", p.Field, tc.field, p)
			}
			if !strings.Contains(p.Title, tc.title) {
				t.Errorf("title %q does not say %q", p.Title, tc.title)
			}
			switch {
			case tc.offset == -1 && (p.Offset <= 0 || p.Offset > int64(len(body))):
				t.Errorf("offset %d, want within the body (1..%d)", p.Offset, len(body))
			case tc.offset > 0 && p.Offset != tc.offset:
				t.Errorf("offset %d, want %d", p.Offset, tc.offset)
			}
			if p.Detail == "" {
				t.Errorf("no detail on how to fix it: %v", p)
			}
		})
	}
}

// A document Decode accepts encodes to canonical JSON that Decode accepts
// again unchanged, and can be shown in any zone.
func TestDecodeRoundTrip(t *testing.T) {
	o, err := Decode([]byte(validBody))
	if err != nil {
		t.Fatal(err)
	}
	checkRoundTrip(t, o)
}

func checkRoundTrip(t *testing.T, o order.Order) {
	t.Helper()
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatalf("encoding the accepted order: %v", err)
	}
	back, err := Decode(b)
	if err != nil {
		t.Fatalf("Decode of its own encoding %s: %v", b, err)
	}
	b2, _ := json.Marshal(back)
	if !bytes.Equal(b, b2) {
		t.Fatalf("round trip changed the order:\n%s\n%s", b, b2)
	}
	for _, off := range []int{-12, 0, 14} {
		if _, err := json.Marshal(o.In(time.FixedZone("", off*3600))); err != nil {
			t.Fatalf("the order cannot be shown at UTC%+d: %v", off, err)
		}
	}
}

func TestRegisteredFactory(t *testing.T) {
	sys := &config.System{Name: "hook", Kind: Kind, Settings: &Settings{Secret: secret, PreviousSecret: previous}}
	r, err := connector.NewPushReceiver(connector.PushEnv{System: sys})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{secret, previous} {
		ts, sig := Sign(key, now, []byte(validBody))
		req := signed(ts, sig, validBody)
		if _, err := r.Receive(req); err != nil {
			t.Fatalf("key %s: %v", key[:10], err)
		}
	}
	// The default replay window is 5 minutes.
	ts, sig := Sign(secret, now.Add(-5*time.Minute-time.Second), []byte(validBody))
	if _, err := r.Receive(signed(ts, sig, validBody)); err == nil || asProblem(t, err).Code != "stale_timestamp" {
		t.Fatalf("5m1s old: %v, want stale_timestamp", err)
	}
	if _, err := connector.NewPushReceiver(connector.PushEnv{System: &config.System{Name: "x", Kind: Kind, Settings: &Settings{}}}); err == nil {
		t.Fatal("a webhook system without secret was accepted")
	}
}

// Goods totals that disagree with the lines beyond a fen a line are kept as
// sent, with a warning.
func TestCheckTotals(t *testing.T) {
	for _, tc := range []struct {
		goods string
		warn  bool
	}{{"12.50", false}, {"12.51", false}, {"12.52", true}, {"1.00", true}, {"0", false}} {
		o, err := Decode([]byte(strings.Replace(validBody, `"goods_amount":"12.50"`, `"goods_amount":"`+tc.goods+`"`, 1)))
		if err != nil {
			t.Fatalf("goods_amount %s: %v", tc.goods, err)
		}
		ws := CheckTotals(&o)
		if got := len(ws) == 1 && ws[0].Code == "totals_mismatch" && ws[0].Field == "goods_amount"; got != tc.warn || len(ws) > 1 {
			t.Errorf("goods_amount %s: warnings %+v, want warning %v", tc.goods, ws, tc.warn)
		}
	}
}
