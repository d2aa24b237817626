package console

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"orderhub/internal/config"
	"orderhub/internal/notify"
	"orderhub/internal/store"
)

// newLinksServer serves the people API and the public links, signed with
// the store's own link secret, as the hub does.
func newLinksServer(t *testing.T) (*httptest.Server, *store.Store, *notify.Links) {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "hub.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key, err := st.LinkSecret(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	people := map[string]*config.Person{
		"zhang": {Name: "张三", Email: "zhang@example.com"},
		"li":    {Name: "李四", Email: "li@example.com"},
	}
	mux := http.NewServeMux()
	// The test's token goes only to /v1: the links must work without one.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/") {
			withTestToken(mux, nil).ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	links := notify.NewLinks(key, srv.URL)
	api := NewAPI(st, orTestToken(nil), time.FixedZone("CST", 8*3600), slog.New(slog.NewTextHandler(io.Discard, nil)))
	channels := []string{"ding_app", "mail", "sms"}
	api.RegisterPeople(mux, people, channels)
	api.RegisterLinks(mux, links, people, channels, []string{"mail"})
	return srv, st, links
}

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func do(t *testing.T, method, u, body string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// tamper changes one character of the token's signed part.
func tamper(tok string) string {
	b := []byte(tok)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}

func TestUnsubscribeThroughHTTP(t *testing.T) {
	srv, st, links := newLinksServer(t)
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	good := links.UnsubscribeToken("zhang", "mail", at)
	// Signed by another hub's key: the same fields, a different secret.
	foreign := notify.NewLinks([]byte(strings.Repeat("k", 32)), srv.URL).UnsubscribeToken("zhang", "mail", at)
	oneClick := "List-Unsubscribe=One-Click"
	tests := []struct {
		name   string
		method string
		token  string
		status int
		page   string   // in the answer
		muted  []string // zhang's muted channels afterwards
	}{
		{"confirm page", "GET", good, 200, "确认退订", nil},
		{"tampered, shown", "GET", tamper(good), 400, "退订链接无效", nil},
		{"tampered", "POST", tamper(good), 400, "退订链接无效", nil},
		{"another hub's key", "POST", foreign, 400, "退订链接无效", nil},
		{"not a token", "POST", "zhang", 400, "退订链接无效", nil},
		{"an open pixel's token", "POST", strings.TrimSuffix(strings.TrimPrefix(links.OpenPixel(7), srv.URL+"/t/o/"), ".gif"), 400, "退订链接无效", nil},
		{"a channel no longer configured", "POST", links.UnsubscribeToken("zhang", "fax", at), 404, "已失效", nil},
		{"a person no longer configured", "POST", links.UnsubscribeToken("wang", "mail", at), 404, "已失效", nil},
		{"one click", "POST", good, 200, "已退订", []string{"mail"}},
		{"repeated", "POST", good, 200, "已退订", []string{"mail"}},
		{"another channel", "POST", links.UnsubscribeToken("zhang", "sms", at), 200, "已退订", []string{"mail", "sms"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := ""
			if tc.method == "POST" {
				body = oneClick
			}
			status, page, _ := do(t, tc.method, srv.URL+"/u/"+url.PathEscape(tc.token), body)
			if status != tc.status || !strings.Contains(page, tc.page) {
				t.Fatalf("%s /u/…: %d, want %d with %q:\n%s", tc.method, status, tc.status, tc.page, page)
			}
			prefs, err := st.AllPrefs(context.Background(), st.Reader())
			if err != nil {
				t.Fatal(err)
			}
			if got := prefs["zhang"].MutedChannels; !slices.Equal(nonNil(got), nonNil(tc.muted)) {
				t.Fatalf("zhang's muted channels %v, want %v", got, tc.muted)
			}
			if _, ok := prefs["li"]; ok {
				t.Fatalf("li's preferences changed: %+v", prefs["li"])
			}
		})
	}
	// What the REST API shows is what the link did.
	code, out := call(t, "GET", srv.URL+"/v1/people/zhang/preferences", "", "")
	if code != 200 || !strings.Contains(strings.Join(anyStrings(out["muted_channels"]), ","), "mail") {
		t.Fatalf("GET preferences: %d %v", code, out)
	}
}

func anyStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// An unsubscribe clears "only this channel" when it is the channel muted:
// the two cannot both hold, as PUT preferences refuses them together.
func TestUnsubscribeFromTheOnlyChannel(t *testing.T) {
	srv, st, links := newLinksServer(t)
	if code, out := call(t, "PUT", srv.URL+"/v1/people/li/preferences", `{"only":"mail"}`, ""); code != 200 {
		t.Fatalf("PUT: %d %v", code, out)
	}
	if status, page, _ := do(t, "POST", links.Unsubscribe("li", "mail", time.Now()), "List-Unsubscribe=One-Click"); status != 200 {
		t.Fatalf("POST: %d %s", status, page)
	}
	p, err := st.AllPrefs(context.Background(), st.Reader())
	if err != nil {
		t.Fatal(err)
	}
	if got := p["li"]; got.Only != "" || !slices.Equal(got.MutedChannels, []string{"mail"}) {
		t.Fatalf("li's preferences %+v, want mail muted and no only", got)
	}
}

// Two stores' first uses make two keys; one store's nodes all read the one
// it kept.
func TestLinkSecretIsTheStores(t *testing.T) {
	path := "sqlite://" + filepath.Join(t.TempDir(), "hub.db")
	a, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ka, err := a.LinkSecret(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	again, err := a.LinkSecret(context.Background())
	if err != nil || string(again) != string(ka) {
		t.Fatalf("second read: %x, %v; want %x", again, err, ka)
	}
	other, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "other.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ko, err := other.LinkSecret(context.Background())
	if err != nil || string(ko) == string(ka) || len(ko) != 32 {
		t.Fatalf("another store's key %x (%v): want 32 fresh bytes", ko, err)
	}
}
