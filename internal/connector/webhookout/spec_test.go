package webhookout

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"orderhub/internal/connector"
)

// A receiver built on the spec's own Go library verifies what orderhub
// sends, as any team's system using it would: every message, a retry of one
// (the same webhook-id with a new timestamp), and the text-only body. The
// library checks its tolerance against the real clock, so the client runs
// on it too.
func TestSpecLibraryVerifiesWhatIsSent(t *testing.T) {
	lib, err := standardwebhooks.NewWebhook(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var ids []string
	var refused []error
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := lib.Verify(body, r.Header); err != nil {
			mu.Lock()
			refused = append(refused, err)
			mu.Unlock()
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		mu.Lock()
		ids = append(ids, r.Header.Get("webhook-id"))
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	c, err := New(Options{System: "erp_hook", URL: srv.URL + "/hooks", Secret: testSecret, HTTP: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	msgs := []connector.Message{
		{Payload: json.RawMessage(payload), Key: "erp/shop/D1/paid"},
		{Payload: json.RawMessage("{\n  \"type\": \"order.created\",\n  \"data\": {\"remark\": \"请尽快发货. 谢谢\"}\n}\n"), Key: "erp/shop/D2/created"},
		{Title: "新订单 D3", Markdown: "### 新订单 D3 <金额> & 更多", Key: "erp/shop/D3/created"},
		{Payload: json.RawMessage(payload), Key: "erp/shop/D1/paid"}, // a retry
	}
	for i, m := range msgs {
		res, err := c.Send(context.Background(), m)
		if err != nil {
			t.Fatalf("message %d: %v (library: %v)", i, err, refused)
		}
		if res.Code != "204" {
			t.Fatalf("message %d: code %s", i, res.Code)
		}
	}
	if len(ids) != 4 || ids[0] != ids[3] || ids[0] == ids[1] {
		t.Fatalf("ids %v: want four, the retry's equal to the first", ids)
	}

	// The library refuses what the spec says to refuse: orderhub's
	// agreement with it is not that both accept anything.
	other, _ := New(Options{System: "erp_hook", URL: srv.URL, Secret: otherSecret, HTTP: srv.Client()})
	late, _ := New(Options{System: "erp_hook", URL: srv.URL, Secret: testSecret, HTTP: srv.Client(), Now: func() time.Time { return time.Now().Add(-10 * time.Minute) }})
	for name, s := range map[string]*Client{"another secret": other, "a clock 10 minutes late": late} {
		if _, err := s.Send(context.Background(), msgs[0]); connector.ClassOf(err) != connector.Permanent {
			t.Errorf("%s: %v; want the library's refusal", name, err)
		}
	}
	if len(refused) != 2 {
		t.Fatalf("the library refused %v", refused)
	}
}
