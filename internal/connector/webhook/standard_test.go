package webhook

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"orderhub/internal/config"
	"orderhub/internal/connector"
	"orderhub/internal/connector/stdwebhook"
	"orderhub/internal/order"
	"orderhub/internal/problem"
)

const (
	// stdSecret is the spec's example secret; stdPrevious another valid one.
	stdSecret   = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	stdPrevious = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
)

// envelopeBody is what another orderhub's webhook_out sends: the event and
// the order, the sender's source name included.
const envelopeBody = `{"type":"order.paid","timestamp":"2026-11-25T18:00:00+08:00","data":` +
	`{"source":"shop_orders","order_no":"W1","status":"paid","total":"12.50","goods_amount":"12.50",` +
	`"buyer":{"name":"张三","phone":"13812341234"},` +
	`"items":[{"sku":"S1","quantity":1,"unit_price":"12.50","total":"12.50"}],` +
	`"created_at":"2026-11-25T17:58:09+08:00","paid_at":"2026-11-25T18:00:00+08:00"}}`

func stdKey(t testing.TB, secret string) []byte {
	t.Helper()
	k, err := stdwebhook.ParseSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// stdSigned is a push signed the Standard Webhooks way at when.
func stdSigned(t testing.TB, secret, id string, when time.Time, body string) *connector.PushRequest {
	h := http.Header{}
	stdwebhook.Headers(h, stdKey(t, secret), id, when, []byte(body))
	return &connector.PushRequest{Header: h, Body: []byte(body), Now: now}
}

func newStandard(t testing.TB, secrets ...string) *Receiver {
	t.Helper()
	r, err := NewStandardReceiver(5*time.Minute, secrets...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// What a Standard Webhooks source takes: the envelope or the bare order,
// signed by the secret or the previous one, one signature of several.
func TestStandardAccepts(t *testing.T) {
	r := newStandard(t, stdSecret, stdPrevious)
	other := stdKey(t, "whsec_"+strings.Repeat("QUJD", 8))
	rotation := stdSigned(t, stdSecret, "msg_1", now, validBody)
	rotation.Header.Set(stdwebhook.HeaderSignature, stdwebhook.Sign(other, "msg_1", now.Unix(), []byte(validBody))+" "+rotation.Header.Get(stdwebhook.HeaderSignature))
	for _, tc := range []struct {
		name string
		req  *connector.PushRequest
	}{
		{"envelope", stdSigned(t, stdSecret, "msg_1", now, envelopeBody)},
		{"bare order", stdSigned(t, stdSecret, "msg_1", now, validBody)},
		{"previous secret", stdSigned(t, stdPrevious, "msg_1", now, envelopeBody)},
		{"4 min old", stdSigned(t, stdSecret, "msg_1", now.Add(-4*time.Minute), envelopeBody)},
		{"a rotated-out signature first", rotation},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.Receive(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			o := got.Order
			if o.OrderNo != "W1" || o.Status != order.StatusPaid || o.Total != 1250 || o.Currency != "CNY" || o.Source != "" {
				t.Fatalf("order %+v", o)
			}
			if !bytes.Equal(got.Raw, tc.req.Body) {
				t.Fatalf("raw %s, want the body as received", got.Raw)
			}
		})
	}
}

// Every refusal, with its status, code and the field or words that tell
// the sender what to fix.
func TestStandardRefusals(t *testing.T) {
	r := newStandard(t, stdSecret, stdPrevious)
	good := func(body string) *connector.PushRequest { return stdSigned(t, stdSecret, "msg_1", now, body) }
	header := func(k, v string) *connector.PushRequest {
		req := good(envelopeBody)
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
		return req
	}
	edit := func(old, new string) string {
		if !strings.Contains(envelopeBody, old) {
			panic("fixture: " + old)
		}
		return strings.Replace(envelopeBody, old, new, 1)
	}
	orderhubSigned := func() *connector.PushRequest {
		ts, sig := Sign(stdSecret, now, []byte(envelopeBody))
		return signed(ts, sig, envelopeBody)
	}
	changedBody := good(envelopeBody)
	changedBody.Body = []byte(edit(`"total":"12.50"`, `"total":"1.25"`))
	wrongSecret := stdSigned(t, "whsec_"+strings.Repeat("QUJD", 8), "msg_1", now, envelopeBody)
	for _, tc := range []struct {
		name   string
		req    *connector.PushRequest
		status int
		code   string
		field  string
		says   string
	}{
		{"no headers", &connector.PushRequest{Header: http.Header{}, Body: []byte(envelopeBody), Now: now}, 401, "missing_signature", "", "webhook-id or webhook-timestamp or webhook-signature"},
		{"no webhook-id", header(stdwebhook.HeaderID, ""), 401, "missing_signature", "", "no webhook-id header"},
		{"no webhook-timestamp", header(stdwebhook.HeaderTimestamp, ""), 401, "missing_signature", "", "no webhook-timestamp header"},
		{"no webhook-signature", header(stdwebhook.HeaderSignature, ""), 401, "missing_signature", "", "no webhook-signature header"},
		{"signed with orderhub's scheme", orderhubSigned(), 401, "missing_signature", "", "this source has scheme: standard"},
		{"id with a full stop", stdSigned(t, stdSecret, "msg.1", now, envelopeBody), 401, "bad_webhook_id", "", "full stops"},
		{"timestamp text", header(stdwebhook.HeaderTimestamp, "yesterday"), 401, "bad_timestamp", "", `"yesterday" is not Unix seconds`},
		{"6 min old", stdSigned(t, stdSecret, "msg_1", now.Add(-6*time.Minute), envelopeBody), 401, "stale_timestamp", "", "6m0s away"},
		{"6 min ahead", stdSigned(t, stdSecret, "msg_1", now.Add(6*time.Minute), envelopeBody), 401, "stale_timestamp", "", "6m0s away"},
		{"far future", header(stdwebhook.HeaderTimestamp, "9223372036854775807"), 401, "stale_timestamp", "", ""},
		{"body changed", changedBody, 401, "bad_signature", "", "no signature matches"},
		{"wrong secret", wrongSecret, 401, "bad_signature", "", "whsec_"},
		{"another id than signed", header(stdwebhook.HeaderID, "msg_2"), 401, "bad_signature", "", "no signature matches"},
		{"hex signature", header(stdwebhook.HeaderSignature, "v1=422630a94df2179ef99b9c7b0a19415a82025c247040f6805bd21e91f394aa9e"), 401, "bad_signature", "", "orderhub's own scheme"},
		{"unsigned null", &connector.PushRequest{Header: http.Header{}, Body: []byte("null"), Now: now}, 400, "not_an_object", "", ""},

		{"type missing", good(edit(`"type":"order.paid",`, ``)), 422, "missing_field", "type", "order.<event>"},
		{"type not an order event", good(edit(`"order.paid"`, `"invoice.paid"`)), 422, "invalid_field", "type", `"invoice.paid" is not an order event`},
		{"type without the event", good(edit(`"order.paid"`, `"order."`)), 422, "invalid_field", "type", ""},
		{"data missing", good(`{"type":"order.paid","timestamp":"2026-11-25T18:00:00+08:00"}`), 422, "missing_field", "data", "under data"},
		{"data null", good(`{"type":"order.paid","data":null}`), 422, "missing_field", "data", ""},
		{"data not an object", good(`{"type":"order.paid","data":[1]}`), 422, "", "data", ""},
		{"timestamp not a time", good(edit(`"2026-11-25T18:00:00+08:00","data"`, `"yesterday","data"`)), 422, "", "timestamp", ""},
		{"unknown top-level member", good(edit(`"type":"order.paid",`, `"type":"order.paid","id":"evt_1",`)), 422, "unknown_field", "id", "only type, timestamp and data"},
		{"misspelt order field", good(edit(`"paid_at"`, `"payed_at"`)), 422, "unknown_field", "data.payed_at", ""},
		{"order_no missing", good(edit(`"order_no":"W1",`, ``)), 422, "missing_field", "data.order_no", "data.order_no"},
		{"status missing", good(edit(`"status":"paid",`, ``)), 422, "missing_field", "data.status", "data.status"},
		{"status unknown", good(edit(`"status":"paid"`, `"status":"sent"`)), 422, "invalid_field", "data.status", "not a known status"},
		{"negative total", good(edit(`"total":"12.50"`, `"total":"-12.50"`)), 422, "invalid_field", "data.total", "data.total is negative"},
		{"duplicate key", good(edit(`"type":"order.paid",`, `"type":"order.paid","type":"order.shipped",`)), 400, "duplicate_key", "type", "appears twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.Receive(tc.req)
			if err == nil {
				t.Fatalf("accepted; want %d %s", tc.status, tc.code)
			}
			p := asProblem(t, err)
			if p.Status != tc.status || (tc.code != "" && p.Code != tc.code) || p.Field != tc.field || !strings.Contains(p.Error(), tc.says) {
				t.Fatalf("got %v (field %q); want %d %s field %q saying %q", p, p.Field, tc.status, tc.code, tc.field, tc.says)
			}
		})
	}
}

// A source with today's scheme tells a Standard Webhooks sender which
// setting takes it.
func TestOrderhubSchemePointsAtStandard(t *testing.T) {
	r := NewReceiver(5*time.Minute, secret)
	for _, body := range []string{validBody, envelopeBody} {
		_, err := r.Receive(stdSigned(t, stdSecret, "msg_1", now, body))
		p := asProblem(t, err)
		if p.Status != 401 || p.Code != "missing_signature" || !strings.Contains(p.Detail, "scheme: standard") {
			t.Fatalf("%v", p)
		}
	}
	// Unsigned, the envelope is still not an order.
	_, err := r.Receive(&connector.PushRequest{Header: http.Header{}, Body: []byte(envelopeBody), Now: now})
	if p := asProblem(t, err); p.Code != "not_an_object" {
		t.Fatalf("%v", p)
	}
}

// The spec's own Go library signs; the source takes it. The library signs
// with the real clock's timestamp, so the push is checked against it too.
func TestStandardTakesTheSpecLibrary(t *testing.T) {
	lib, err := standardwebhooks.NewWebhook(stdSecret)
	if err != nil {
		t.Fatal(err)
	}
	r := newStandard(t, stdSecret)
	when := time.Now()
	for _, body := range []string{envelopeBody, validBody} {
		sig, err := lib.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", when, []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{}
		h.Set(standardwebhooks.HeaderWebhookID, "msg_p5jXN8AQM9LWM0D4loKWxJek")
		h.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(when.Unix(), 10))
		h.Set(standardwebhooks.HeaderWebhookSignature, sig)
		got, err := r.Receive(&connector.PushRequest{Header: h, Body: []byte(body), Now: when.Add(time.Second)})
		if err != nil {
			t.Fatalf("the library's push was refused: %v", err)
		}
		if got.Order.OrderNo != "W1" {
			t.Fatalf("order %+v", got.Order)
		}
	}
}

// scheme: standard from a configuration file, through the registry, with
// the replay window the hub gives; and the settings it refuses.
func TestStandardConfig(t *testing.T) {
	parse := func(block string) (*config.Config, error) {
		env := map[string]string{"HOOK_SECRET": stdSecret, "OLD_SECRET": stdPrevious}
		return config.Parse([]byte("systems:\n  partner:\n    kind: webhook\n"+block), "orderhub.yaml", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	}
	cfg, err := parse("    scheme: standard\n    secret: ${HOOK_SECRET}\n    previous_secret: ${OLD_SECRET}\n")
	if err != nil {
		t.Fatal(err)
	}
	r, err := connector.NewPushReceiver(connector.PushEnv{System: cfg.Systems["partner"], ReplayWindow: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	for _, sec := range []string{stdSecret, stdPrevious} {
		if _, err := r.Receive(stdSigned(t, sec, "msg_1", now.Add(-50*time.Second), envelopeBody)); err != nil {
			t.Fatalf("signed with %s…: %v", sec[:10], err)
		}
	}
	if _, err := r.Receive(stdSigned(t, stdSecret, "msg_1", now.Add(-70*time.Second), envelopeBody)); err == nil || asProblem(t, err).Code != "stale_timestamp" {
		t.Fatalf("outside the configured replay window: %v", err)
	}

	for _, tc := range []struct{ name, block, want string }{
		{"standard with a plain secret", "    scheme: standard\n    secret: plain-secret-of-enough-length\n", "whsec_"},
		{"standard with a short key", "    scheme: standard\n    secret: whsec_QUJDREVGR0g=\n", "at least 24"},
		{"standard with a bad previous secret", "    scheme: standard\n    secret: ${HOOK_SECRET}\n    previous_secret: whsec_***\n", "previous_secret"},
		{"scheme in capitals", "    scheme: Standard\n    secret: ${HOOK_SECRET}\n", "scheme"},
		{"unknown scheme", "    scheme: svix\n    secret: ${HOOK_SECRET}\n", "orderhub, standard"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(tc.block)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v; want one naming %s", err, tc.want)
			}
			if strings.Contains(err.Error(), "MfKQ9r8G") || strings.Contains(err.Error(), "plain-secret") {
				t.Fatalf("the error quotes a secret: %v", err)
			}
		})
	}

	// Today's scheme stays the default, a whsec_ value used as it is.
	cfg, err = parse("    secret: ${HOOK_SECRET}\n")
	if err != nil {
		t.Fatal(err)
	}
	r, err = connector.NewPushReceiver(connector.PushEnv{System: cfg.Systems["partner"]})
	if err != nil {
		t.Fatal(err)
	}
	ts, sig := Sign(stdSecret, now, []byte(validBody))
	if _, err := r.Receive(signed(ts, sig, validBody)); err != nil {
		t.Fatalf("the default scheme: %v", err)
	}
	if _, err := r.Receive(stdSigned(t, stdSecret, "msg_1", now, validBody)); err == nil {
		t.Fatal("the default scheme took a Standard Webhooks push")
	}
}

// FuzzDecodeStandard: DecodeStandard never panics, refuses with a 400 or
// 422 problem, and what it accepts is a complete order without the
// sender's source that survives its own encoding, and the same order once
// wrapped in an envelope by connector.OrderEventPayload.
func FuzzDecodeStandard(f *testing.F) {
	f.Add([]byte(envelopeBody))
	f.Add([]byte(validBody))
	f.Add([]byte(envelopeBody[:60]))
	f.Add([]byte(`{"type":"order.paid","data":null}`))
	f.Add([]byte(`{"type":"order.","data":{}}`))
	f.Add([]byte(`{"data":{"order_no":"x","status":"created","created_at":"2026-01-01T00:00:00Z","source":"s"}}`))
	f.Add([]byte(`{"type":"order.paid","type":"x","data":{}}`))
	f.Add([]byte(`{"timestamp":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`[{"type":"order.paid"}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		o, err := DecodeStandard(body)
		if err != nil {
			p, ok := problem.As(err)
			if !ok {
				t.Fatalf("error %v (%T) is not a problem", err, err)
			}
			if (p.Status != 400 && p.Status != 422) || p.Code == "" || p.Title == "" || p.Offset < 0 || p.Offset > int64(len(body)) {
				t.Fatalf("problem %#v", p)
			}
			return
		}
		if strings.TrimSpace(o.OrderNo) == "" || !o.Status.Valid() || o.CreatedAt.IsZero() || o.Source != "" || o.Currency == "" {
			t.Fatalf("accepted an incomplete order: %+v", o)
		}
		checkRoundTrip(t, o)
		wrapped, err := connector.OrderEventPayload(order.EventChanged, o.CreatedAt, o)
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeStandard(wrapped)
		if err != nil {
			t.Fatalf("the envelope of an accepted order %s: %v", wrapped, err)
		}
		b1, _ := json.Marshal(o)
		b2, _ := json.Marshal(back)
		if !bytes.Equal(b1, b2) {
			t.Fatalf("the envelope changed the order:\n%s\n%s", b1, b2)
		}
	})
}
