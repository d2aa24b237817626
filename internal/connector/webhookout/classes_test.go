package webhookout

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"orderhub/internal/connector"
	"orderhub/internal/connector/connectortest"
	"orderhub/internal/connector/simfault"
)

var msg = connector.Message{Title: "新订单 D1", Markdown: "### 新订单 D1", Key: "big_order/shop/D1/created"}

// answering returns a client whose receiver answers every request with
// status, the headers given and body.
func answering(t *testing.T, status int, header map[string]string, body string) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	c, err := New(Options{System: "erp_hook", URL: srv.URL + "/hooks", Secret: testSecret, HTTP: srv.Client(), Now: newClock().Now})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Every answer the spec names, and the transport failures, map to the
// class the hub acts on; each refusal carries the status, a snippet of the
// answer and a hint.
func TestClasses(t *testing.T) {
	ctx := context.Background()
	inAMinute := newClock().Now().Add(time.Minute).Format(http.TimeFormat)
	cases := []struct {
		name   string
		status int
		header map[string]string
		body   string
		want   connector.Class
		wait   time.Duration
		hint   string
	}{
		{"410 Gone: the receiver disabled the endpoint", 410, nil, "endpoint disabled", connector.Permanent, 0, "410 Gone"},
		{"429 with Retry-After seconds", 429, map[string]string{"Retry-After": "120"}, "slow down", connector.SlowDown, 2 * time.Minute, "429"},
		{"429 with an HTTP date", 429, map[string]string{"Retry-After": inAMinute}, "", connector.SlowDown, time.Minute, "Retry-After"},
		{"429 without Retry-After", 429, nil, "", connector.SlowDown, 0, "429"},
		{"429 asking for a week", 429, map[string]string{"Retry-After": "604800"}, "", connector.SlowDown, 24 * time.Hour, "429"},
		{"503 with Retry-After", 503, map[string]string{"Retry-After": "30"}, "maintenance", connector.SlowDown, 30 * time.Second, "503"},
		{"503 without Retry-After", 503, nil, "maintenance", connector.Retry, 0, "503"},
		{"503 with a Retry-After that is not one", 503, map[string]string{"Retry-After": "soon"}, "", connector.Retry, 0, "503"},
		{"500", 500, nil, "boom", connector.Retry, 0, "webhook-id 不变"},
		{"502", 502, nil, "bad gateway", connector.Retry, 0, "502"},
		{"504", 504, nil, "gateway timeout", connector.Retry, 0, "504"},
		{"408: the receiver gave up reading", 408, nil, "", connector.Retry, 0, "408"},
		{"400 with the receiver's reason", 400, nil, `{"error":"order_no missing"}`, connector.Permanent, 0, "按其应答"},
		{"401: the receiver refused the signature", 401, nil, `{"code":"bad_signature"}`, connector.Permanent, 0, "whsec_"},
		{"403", 403, nil, "forbidden", connector.Permanent, 0, "来源 IP"},
		{"404", 404, nil, "not found", connector.Permanent, 0, "url 的路径"},
		{"405", 405, nil, "", connector.Permanent, 0, "POST"},
		{"413", 413, nil, "", connector.Permanent, 0, "过大"},
		{"415", 415, nil, "", connector.Permanent, 0, "application/json"},
		{"422", 422, nil, "unprocessable", connector.Permanent, 0, "按其应答"},
		{"301 is not followed", 301, map[string]string{"Location": "https://erp2.example.com/hooks?token=s3cret"}, "", connector.Permanent, 0, "https://erp2.example.com/hooks"},
		{"307 is not followed", 307, map[string]string{"Location": "/elsewhere"}, "", connector.Permanent, 0, "不跟随跳转"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := answering(t, c.status, c.header, c.body).Send(ctx, msg)
			ce, ok := connector.AsCallError(err)
			if !ok || ce.Class != c.want {
				t.Fatalf("error %v; want class %s", err, c.want)
			}
			if ce.Code != "HTTP "+res.Code || !strings.HasPrefix(ce.Code, "HTTP ") {
				t.Errorf("code %q, result code %q", ce.Code, res.Code)
			}
			if ce.Message != c.body {
				t.Errorf("message %q, want the answer %q", ce.Message, c.body)
			}
			if ce.RetryAfter != c.wait {
				t.Errorf("retry after %s, want %s", ce.RetryAfter, c.wait)
			}
			if !strings.Contains(ce.Hint, c.hint) {
				t.Errorf("hint %q; want it to mention %q", ce.Hint, c.hint)
			}
			if strings.Contains(ce.Hint, "s3cret") {
				t.Errorf("the hint quotes the redirect's query: %q", ce.Hint)
			}
		})
	}
	for _, status := range []int{200, 201, 202, 204} {
		res, err := answering(t, status, nil, "").Send(ctx, msg)
		if err != nil || res.Code != strconv.Itoa(status) || res.MessageID != MessageID(msg.Key, nil) {
			t.Errorf("%d: %+v, %v", status, res, err)
		}
	}
}

// A long answer is cut for the delivery log.
func TestAnswerSnippet(t *testing.T) {
	_, err := answering(t, 400, nil, strings.Repeat("错", 1000)).Send(context.Background(), msg)
	ce, _ := connector.AsCallError(err)
	if n := len([]rune(ce.Message)); n > 201 || !strings.HasSuffix(ce.Message, "…") {
		t.Fatalf("message of %d runes: %q", n, ce.Message)
	}
}

// Transport failures: nothing reached the receiver is Retry; the request
// was sent and no answer came is Unknown.
func TestTransportClasses(t *testing.T) {
	ctx := context.Background()

	// A port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	refused, err := New(Options{System: "erp_hook", URL: "http://" + addr + "/hooks", Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	_, refusedErr := refused.Send(ctx, msg)

	// A receiver that takes the request and never answers, within the
	// system's timeout.
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) })
	hc := slow.Client()
	hc.Timeout = 200 * time.Millisecond
	timedOut, err := New(Options{System: "erp_hook", URL: slow.URL, Secret: testSecret, HTTP: hc})
	if err != nil {
		t.Fatal(err)
	}
	_, timeoutErr := timedOut.Send(ctx, msg)

	// A receiver that takes the message and drops the connection.
	r := newRig(t, SimConfig{})
	r.sim.Faults().Inject(simfault.Fault{Kind: simfault.LoseAnswer, Count: 1})
	_, lostErr := r.client(t, testSecret).Send(ctx, msg)

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, canceledErr := r.client(t, testSecret).Send(canceled, msg)

	connectortest.CheckClasses(t, []connectortest.ClassCase{
		{Name: "connection refused", Err: refusedErr, Want: connector.Retry},
		{Name: "timeout after sending", Err: timeoutErr, Want: connector.Unknown},
		{Name: "answer lost after the receiver took it", Err: lostErr, Want: connector.Unknown},
		{Name: "the hub is stopping", Err: canceledErr, Want: connector.Retry},
	})
	for name, e := range map[string]error{"refused": refusedErr, "timeout": timeoutErr, "lost": lostErr} {
		ce, _ := connector.AsCallError(e)
		if ce == nil || ce.Hint == "" || strings.Contains(ce.Hint, "base_url") || strings.Contains(ce.Hint, "单据") {
			t.Errorf("%s: hint %+v should speak of this channel's url and the webhook-id", name, ce)
		}
		if !errors.Is(e, ce.Err) {
			t.Errorf("%s: the transport error is not kept", name)
		}
	}
	// The lost answer's message was taken; the resend is a duplicate the
	// receiver recognises by its webhook-id.
	if _, err := r.client(t, testSecret).Send(ctx, msg); err != nil {
		t.Fatal(err)
	}
	if r.sim.Len() != 1 || r.sim.Duplicates() != 1 {
		t.Fatalf("taken %d, duplicates %d; want 1 and 1", r.sim.Len(), r.sim.Duplicates())
	}
}
