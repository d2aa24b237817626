package webhookout

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"orderhub/internal/connector"
	"orderhub/internal/connector/simfault"
	"orderhub/internal/connector/stdwebhook"
)

const payload = `{"type":"order.paid","timestamp":"2026-11-26T10:00:00+08:00","data":{"order_no":"D1","status":"paid","total":"5999.00"}}`

// What goes on the wire: the payload byte for byte, the three headers,
// application/json; the result names the webhook-id.
func TestSendsThePayloadSigned(t *testing.T) {
	r := newRig(t, SimConfig{})
	m := connector.Message{Title: "订单已付款 D1", Payload: json.RawMessage(payload), Key: "erp/shop/D1/paid"}
	res, err := r.client(t, testSecret).Send(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	got := r.sim.Received()
	if len(got) != 1 {
		t.Fatalf("received %d", len(got))
	}
	g := got[0]
	if string(g.Body) != payload {
		t.Errorf("body %s, want the payload as given", g.Body)
	}
	if res.MessageID != g.ID || res.MessageID != MessageID(m.Key, nil) || res.Code != "200" {
		t.Errorf("result %+v, received id %s", res, g.ID)
	}
	if g.Timestamp != r.clock.Now().Unix() {
		t.Errorf("timestamp %d, want the clock's %d", g.Timestamp, r.clock.Now().Unix())
	}
	if ct := g.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	key, _ := stdwebhook.ParseSecret(testSecret)
	if want := stdwebhook.Sign(key, g.ID, g.Timestamp, g.Body); g.Header.Get(stdwebhook.HeaderSignature) != want {
		t.Errorf("signature %q, want %q", g.Header.Get(stdwebhook.HeaderSignature), want)
	}
}

// The id is derived from the message's key, so a retry later, from
// another client (another node, after a restart), carries the same one,
// with a fresh timestamp; the receiver takes the message once.
func TestRetriesKeepTheID(t *testing.T) {
	r := newRig(t, SimConfig{})
	r.sim.Faults().Inject(simfault.Fault{Kind: simfault.ServerError, Count: 1})
	m := connector.Message{Payload: json.RawMessage(payload), Key: "erp/shop/D1/paid"}
	if _, err := r.client(t, testSecret).Send(context.Background(), m); connector.ClassOf(err) != connector.Retry {
		t.Fatalf("first attempt: %v", err)
	}
	r.clock.Add(5 * time.Second)
	first, err := r.client(t, testSecret).Send(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	r.clock.Add(5 * time.Minute)
	again, err := r.client(t, testSecret).Send(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	if first.MessageID != again.MessageID {
		t.Fatalf("ids %s and %s; want one", first.MessageID, again.MessageID)
	}
	if r.sim.Len() != 1 || r.sim.Duplicates() != 1 {
		t.Fatalf("taken %d, duplicates %d", r.sim.Len(), r.sim.Duplicates())
	}
	other, _ := r.client(t, testSecret).Send(context.Background(), connector.Message{Payload: json.RawMessage(payload), Key: "erp/shop/D1/shipped"})
	if other.MessageID == first.MessageID {
		t.Fatal("two messages share an id")
	}
}

func TestMessageID(t *testing.T) {
	// printf %s 'big_order/shop/D1/created' | sha256sum | cut -c1-32
	if id := MessageID("big_order/shop/D1/created", []byte(`{"a":1}`)); id != "msg_53f67912398ae92398f18cb69eec5868" {
		t.Errorf("MessageID = %q", id)
	}
	if MessageID("k", []byte("a")) != MessageID("k", []byte("b")) {
		t.Error("the id of a keyed message depends on its body")
	}
	if MessageID("", []byte("a")) == MessageID("", []byte("b")) || MessageID("", []byte("a")) != MessageID("", []byte("a")) {
		t.Error("an unkeyed message's id is not its body's")
	}
}

func TestBody(t *testing.T) {
	cases := []struct {
		name string
		m    connector.Message
		want string // "" for a refusal
	}{
		{"payload as given", connector.Message{Title: "t", Payload: json.RawMessage(payload)}, payload},
		{"text message", connector.Message{Title: "新订单 D1", Markdown: "**¥5,999.00** <b>", Text: "新订单 D1 & more", Link: "http://127.0.0.1:8080/orders/shop/D1", Key: "k"},
			`{"title":"新订单 D1","markdown":"**¥5,999.00** <b>","text":"新订单 D1 & more","link":"http://127.0.0.1:8080/orders/shop/D1","key":"k"}`},
		{"title only", connector.Message{Title: "新订单 D1"}, `{"title":"新订单 D1"}`},
		{"blank payload falls back to the text", connector.Message{Title: "新订单 D1", Payload: json.RawMessage("  ")}, `{"title":"新订单 D1"}`},
		{"nothing to send", connector.Message{Link: "http://x", Key: "k"}, ""},
		{"payload not JSON", connector.Message{Title: "t", Payload: json.RawMessage(`{"order_no":`)}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := Body(c.m)
			if c.want == "" {
				if err == nil {
					t.Fatalf("body %s; want a refusal", b)
				}
				r := newRig(t, SimConfig{})
				_, serr := r.client(t, testSecret).Send(context.Background(), c.m)
				if ce, ok := connector.AsCallError(serr); !ok || ce.Class != connector.Permanent || ce.Hint == "" || r.sim.Len() != 0 {
					t.Fatalf("send: %v; want a permanent refusal with a hint, nothing sent", serr)
				}
				return
			}
			if err != nil || string(b) != c.want {
				t.Fatalf("body %s, %v; want %s", b, err, c.want)
			}
		})
	}
}

// What the receiver refuses reaches the hub as a permanent failure with
// the receiver's reason: a sender clock far off, a secret the receiver
// does not have, an endpoint the receiver disabled.
func TestReceiverRefusals(t *testing.T) {
	ctx := context.Background()
	t.Run("clock off", func(t *testing.T) {
		r := newRig(t, SimConfig{})
		c := r.client(t, testSecret)
		c.now = func() time.Time { return r.clock.Now().Add(-10 * time.Minute) }
		_, err := c.Send(ctx, msg)
		ce, ok := connector.AsCallError(err)
		if !ok || ce.Class != connector.Permanent || ce.Code != "HTTP 401" || !strings.Contains(ce.Message, "stale_timestamp") || !strings.Contains(ce.Hint, "时钟") {
			t.Fatalf("%+v", ce)
		}
	})
	t.Run("rotated secret", func(t *testing.T) {
		r := newRig(t, SimConfig{}, otherSecret, testSecret) // the receiver has both while rotating
		for _, sec := range []string{testSecret, otherSecret} {
			if _, err := r.client(t, sec).Send(ctx, connector.Message{Title: sec[:10], Key: sec}); err != nil {
				t.Fatalf("signed with one of the receiver's secrets: %v", err)
			}
		}
		r2 := newRig(t, SimConfig{}, otherSecret)
		if _, err := r2.client(t, testSecret).Send(ctx, msg); connector.ClassOf(err) != connector.Permanent || r2.sim.Refusals()["bad_signature"] != 1 {
			t.Fatalf("a secret the receiver dropped: %v, refusals %v", err, r2.sim.Refusals())
		}
	})
	t.Run("gone", func(t *testing.T) {
		r := newRig(t, SimConfig{})
		r.sim.SetGone(true)
		_, err := r.client(t, testSecret).Send(ctx, msg)
		if ce, ok := connector.AsCallError(err); !ok || ce.Class != connector.Permanent || ce.Code != "HTTP 410" {
			t.Fatalf("%v", err)
		}
	})
}

// The simulator is strict where a receiver would be.
func TestSimRefuses(t *testing.T) {
	r := newRig(t, SimConfig{})
	key, _ := stdwebhook.ParseSecret(testSecret)
	body := []byte(payload)
	signed := func(ct string) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, r.srv.URL, bytes.NewReader(body))
		stdwebhook.Headers(req.Header, key, "msg_1", r.clock.Now(), body)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		return req
	}
	get, _ := http.NewRequest(http.MethodGet, r.srv.URL, nil)
	unsigned, _ := http.NewRequest(http.MethodPost, r.srv.URL, bytes.NewReader(body))
	unsigned.Header.Set("Content-Type", "application/json")
	notJSON := signed("application/json")
	notJSON.Body = http.NoBody
	cases := []struct {
		name string
		req  *http.Request
		want int
	}{
		{"signed", signed("application/json; charset=utf-8"), 200},
		{"GET", get, 405},
		{"no Content-Type", signed(""), 415},
		{"text/plain", signed("text/plain"), 415},
		{"unsigned", unsigned, 401},
		{"body does not match", notJSON, 401},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, err := r.srv.Client().Do(c.req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, c.want)
			}
		})
	}
	if r.sim.Len() != 1 {
		t.Fatalf("taken %d, want only the signed one", r.sim.Len())
	}
	if got := r.sim.Refusals(); got["missing_signature"] != 1 || got["bad_signature"] != 1 || got["content_type"] != 2 {
		t.Fatalf("refusals %v", got)
	}
}
