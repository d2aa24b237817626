package console

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"orderhub/internal/config"
	"orderhub/internal/store"
)

func newPeopleServer(t *testing.T, tokens []config.APIToken) (*httptest.Server, *store.Store) {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "hub.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	people := map[string]*config.Person{
		"zhang": {Name: "张三", DingUserID: "manager4220", Mobile: "13800001234", Email: "zhang@example.com", Groups: []string{"finance"}},
		"li":    {Name: "李四", Mobile: "13900005678"},
	}
	mux := http.NewServeMux()
	api := NewAPI(st, orTestToken(tokens), time.FixedZone("CST", 8*3600), slog.New(slog.NewTextHandler(io.Discard, nil)))
	api.RegisterPeople(mux, people, []string{"ding_app", "mail", "sms"})
	srv := httptest.NewServer(withTestToken(mux, tokens))
	t.Cleanup(srv.Close)
	return srv, st
}

func call(t *testing.T, method, url, body, token string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, b)
	}
	return resp.StatusCode, out
}

func TestPreferencesThroughTheAPI(t *testing.T) {
	srv, st := newPeopleServer(t, nil)
	tests := []struct {
		name   string
		method string
		path   string
		body   string
		status int
		want   string // in the answer, as JSON
	}{
		{"unknown person", "GET", "/v1/people/wang/preferences", "", 404, `"code":"person_not_found"`},
		{"defaults", "GET", "/v1/people/zhang/preferences", "", 200, `"muted_channels":[],"muted_events":[]`},
		{"mute an event and a channel", "PUT", "/v1/people/zhang/preferences", `{"muted_events":["created"],"muted_channels":["sms"]}`, 200,
			`"muted_channels":["sms"],"muted_events":["created"]`},
		{"read back", "GET", "/v1/people/zhang/preferences", "", 200, `"muted_channels":["sms"],"muted_events":["created"]`},
		{"unknown event", "PUT", "/v1/people/zhang/preferences", `{"muted_events":["creatd"]}`, 422, `"code":"unknown_event"`},
		{"unknown channel", "PUT", "/v1/people/zhang/preferences", `{"only":"fax"}`, 422, `"code":"unknown_channel"`},
		{"only a muted channel", "PUT", "/v1/people/zhang/preferences", `{"muted_channels":["sms"],"only":"sms"}`, 422, `"code":"only_muted"`},
		{"unknown key", "PUT", "/v1/people/zhang/preferences", `{"mute":["sms"]}`, 400, `"code":"bad_preferences"`},
		{"unchanged after refusals", "GET", "/v1/people/zhang/preferences", "", 200, `"muted_channels":["sms"],"muted_events":["created"]`},
		{"SMS only", "PUT", "/v1/people/li/preferences", `{"only":"sms"}`, 200, `"only":"sms"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := call(t, tt.method, srv.URL+tt.path, tt.body, "")
			b, _ := json.Marshal(out)
			if status != tt.status || !strings.Contains(string(b), tt.want) {
				t.Errorf("%s %s: %d %s\nwant %d with %s", tt.method, tt.path, status, b, tt.status, tt.want)
			}
		})
	}
	prefs, err := st.AllPrefs(context.Background(), st.Reader())
	if err != nil || len(prefs) != 2 || prefs["li"].Only != "sms" {
		t.Errorf("stored preferences: %+v %v", prefs, err)
	}
	// The list masks contact details without a PII token.
	_, out := call(t, "GET", srv.URL+"/v1/people", "", "")
	b, _ := json.Marshal(out)
	if strings.Contains(string(b), "13800001234") || strings.Contains(string(b), "zhang@example.com") || !strings.Contains(string(b), "138****1234") {
		t.Errorf("GET /v1/people shows contact details: %s", b)
	}
}

func TestInboxThroughTheAPI(t *testing.T) {
	srv, st := newPeopleServer(t, nil)
	ctx := context.Background()
	if err := st.AddInbox(ctx, []store.InboxItem{
		{Person: "zhang", Key: "big/shop/A1/created", Rule: "big", Title: "大额订单 A1", Markdown: "**¥9,000.00**"},
		{Person: "zhang", Key: "big/shop/A2/created", Rule: "big", Title: "大额订单 A2", Markdown: "**¥8,000.00**"},
		{Person: "zhang", Key: "big/shop/A2/created", Rule: "big", Title: "twice", Markdown: "the same key again"},
		{Person: "li", Key: "big/shop/A1/created", Rule: "big", Title: "大额订单 A1", Markdown: "**¥9,000.00**"},
	}, time.Now()); err != nil {
		t.Fatal(err)
	}
	status, out := call(t, "GET", srv.URL+"/v1/inbox?person=zhang", "", "")
	msgs, _ := out["messages"].([]any)
	if status != 200 || out["unread"] != float64(2) || len(msgs) != 2 {
		t.Fatalf("zhang's inbox: %d %v", status, out)
	}
	id := int64(msgs[0].(map[string]any)["id"].(float64))
	if status, out := call(t, "POST", srv.URL+"/v1/inbox/"+itoa(id)+"/read", "", ""); status != 200 || out["marked"] != float64(1) {
		t.Errorf("marking one read: %d %v", status, out)
	}
	if _, out := call(t, "GET", srv.URL+"/v1/inbox?person=zhang&unread=1", "", ""); out["unread"] != float64(1) || len(out["messages"].([]any)) != 1 {
		t.Errorf("after reading one: %v", out)
	}
	if status, out := call(t, "POST", srv.URL+"/v1/inbox/read-all?person=zhang", "", ""); status != 200 || out["marked"] != float64(1) {
		t.Errorf("read all: %d %v", status, out)
	}
	if _, out := call(t, "GET", srv.URL+"/v1/inbox?person=li", "", ""); out["unread"] != float64(1) {
		t.Errorf("li's inbox was touched: %v", out)
	}
	for _, bad := range []struct{ method, path, code string }{
		{"GET", "/v1/inbox?person=wang", "bad_person"},
		{"GET", "/v1/inbox?person=zhang&before=x", "bad_before"},
		{"POST", "/v1/inbox/999/read", "message_not_found"},
		{"POST", "/v1/inbox/x/read", "bad_id"},
		{"POST", "/v1/inbox/read-all", "bad_person"},
	} {
		if _, out := call(t, bad.method, srv.URL+bad.path, "", ""); out["code"] != bad.code {
			t.Errorf("%s %s: %v, want code %s", bad.method, bad.path, out, bad.code)
		}
	}
}

func TestPeopleNeedAToken(t *testing.T) {
	srv, _ := newPeopleServer(t, []config.APIToken{{Name: "ops", Token: config.Secret("s3cret")}})
	if status, _ := call(t, "PUT", srv.URL+"/v1/people/zhang/preferences", `{"only":"sms"}`, ""); status != http.StatusUnauthorized {
		t.Errorf("PUT without a token: %d", status)
	}
	if status, _ := call(t, "PUT", srv.URL+"/v1/people/zhang/preferences", `{"only":"sms"}`, "s3cret"); status != http.StatusOK {
		t.Errorf("PUT with the token: %d", status)
	}
}
