package auth_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"orderhub/internal/auth"
	"orderhub/internal/config"
	"orderhub/internal/problem"
	"orderhub/internal/store"
	"orderhub/internal/testutil/fakeclock"
	"orderhub/internal/testutil/pgtest"
)

// cheap are hashing costs that keep the tests quick; the encoded hash
// carries them, so the code paths are the real ones.
var cheap = auth.Params{Memory: 64, Time: 1, Threads: 1}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// stores runs fn on SQLite and on PostgreSQL.
func stores(t *testing.T, fn func(t *testing.T, open func(t *testing.T) *store.Store)) {
	for _, db := range []struct {
		name string
		url  func(t *testing.T) string
	}{
		{"sqlite", func(t *testing.T) string { return "sqlite://" + filepath.Join(t.TempDir(), "hub.db") }},
		{"postgres", func(t *testing.T) string { return pgtest.URL(t) }},
	} {
		t.Run(db.name, func(t *testing.T) {
			fn(t, func(t *testing.T) *store.Store {
				st, err := store.Open(context.Background(), db.url(t), store.Options{})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
				return st
			})
		})
	}
}

type hub struct {
	srv   *httptest.Server
	st    *store.Store
	clock *fakeclock.Clock
	acted atomic.Int64 // how many times POST /act ran
}

type hubOpts struct {
	limits   auth.Limits
	insecure bool
	idle     time.Duration
	maxAge   time.Duration
}

// newHub serves the sign-in routes and three protected ones: GET /read
// (viewer), POST /act (operator) and GET /page (viewer, a page), for
// users ann (admin), otto (operator), vic (viewer) and dora (disabled).
func newHub(t *testing.T, st *store.Store, o hubOpts) *hub {
	t.Helper()
	if o.limits == (auth.Limits{}) {
		o.limits = auth.DefaultLimits
	}
	h := &hub{st: st, clock: fakeclock.New(t0)}
	ctx := context.Background()
	for _, u := range []struct {
		name string
		role auth.Role
	}{{"ann", auth.RoleAdmin}, {"otto", auth.RoleOperator}, {"vic", auth.RoleViewer}, {"dora", auth.RoleViewer}} {
		hash, err := auth.HashPassword(u.name+"-password", cheap)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateUser(ctx, u.name, string(u.role), hash, t0); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.SetDisabled(ctx, "dora", true, t0); err != nil {
		t.Fatal(err)
	}
	au, err := auth.New(auth.Options{Store: st, Params: cheap, Throttle: auth.NewThrottle(o.limits), Now: h.clock.Now,
		MaxAge: o.maxAge, Idle: o.idle, InsecureCookie: o.insecure,
		Tokens: []config.APIToken{{Name: "script", Token: "script-token-0123456789"}, {Name: "reader", Token: "reader-token-0123456789", Role: "viewer"}}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	au.Register(mux)
	mux.Handle("GET /read", au.Middleware(auth.Require(auth.RoleViewer)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, _ := auth.FromContext(r.Context())
		json.NewEncoder(w).Encode(v)
	}))))
	mux.Handle("POST /act", au.Middleware(auth.Require(auth.RoleOperator)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.acted.Add(1)
		io.WriteString(w, "done")
	}))))
	mux.Handle("GET /page", au.Middleware(auth.RequirePage(auth.RoleViewer)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "<p>page</p>")
	}))))
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)
	return h
}

// client is one browser: a cookie jar, redirects not followed.
type client struct {
	h    *hub
	http *http.Client
	csrf string
}

func (h *hub) browser(t *testing.T) *client {
	jar, _ := cookiejar.New(nil)
	return &client{h: h, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type answer struct {
	status int
	header http.Header
	body   string
}

func (a answer) problem(t *testing.T) problem.Problem {
	t.Helper()
	var p problem.Problem
	if err := json.Unmarshal([]byte(a.body), &p); err != nil {
		t.Fatalf("not a problem: %d %s", a.status, a.body)
	}
	return p
}

func (c *client) do(t *testing.T, method, path string, form url.Values, header map[string]string) answer {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, c.h.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, string(b)}
}

func (c *client) login(t *testing.T, name, password string) answer {
	t.Helper()
	return c.do(t, http.MethodPost, "/login", url.Values{"name": {name}, "password": {password}, "next": {"/page"}}, nil)
}

// signIn signs in and keeps the session's CSRF token from GET /read.
func (c *client) signIn(t *testing.T, name string) {
	t.Helper()
	if a := c.login(t, name, name+"-password"); a.status != http.StatusSeeOther {
		t.Fatalf("sign-in as %s: %d %s", name, a.status, a.body)
	}
	a := c.do(t, http.MethodGet, "/read", nil, nil)
	var v auth.Viewer
	if err := json.Unmarshal([]byte(a.body), &v); err != nil || v.Name != name || v.CSRF == "" {
		t.Fatalf("GET /read after signing in as %s: %d %s", name, a.status, a.body)
	}
	c.csrf = v.CSRF
}

func (c *client) cookie(t *testing.T) *http.Cookie {
	u, _ := url.Parse(c.h.srv.URL)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == auth.CookieName {
			return ck
		}
	}
	return nil
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestSignIn(t *testing.T) {
	stores(t, func(t *testing.T, open func(t *testing.T) *store.Store) {
		for _, tc := range []struct {
			name, user, password string
			form                 url.Values // instead of user and password
			header               map[string]string
			status               int
			location             string
			signedIn             bool
		}{
			{name: "right password", user: "otto", password: "otto-password", status: 303, location: "/page", signedIn: true},
			{name: "wrong password", user: "otto", password: "otto-passw0rd", status: 401},
			{name: "unknown user", user: "nobody", password: "otto-password", status: 401},
			{name: "disabled user, right password", user: "dora", password: "dora-password", status: 401},
			{name: "empty password", user: "otto", password: "", status: 400},
			{name: "next elsewhere is refused", form: url.Values{"name": {"vic"}, "password": {"vic-password"}, "next": {"//evil.example/x"}}, status: 303, location: "/", signedIn: true},
			{name: "next as a URL is refused", form: url.Values{"name": {"vic"}, "password": {"vic-password"}, "next": {"https://evil.example/"}}, status: 303, location: "/", signedIn: true},
			{name: "posted from another site", user: "otto", password: "otto-password", header: map[string]string{"Origin": "https://evil.example"}, status: 403},
		} {
			t.Run(tc.name, func(t *testing.T) {
				h := newHub(t, open(t), hubOpts{})
				c := h.browser(t)
				form := tc.form
				if form == nil {
					form = url.Values{"name": {tc.user}, "password": {tc.password}, "next": {"/page"}}
				}
				a := c.do(t, http.MethodPost, "/login", form, tc.header)
				if a.status != tc.status {
					t.Fatalf("POST /login: %d, want %d: %s", a.status, tc.status, a.body)
				}
				if tc.location != "" && a.header.Get("Location") != tc.location {
					t.Fatalf("Location %q, want %q", a.header.Get("Location"), tc.location)
				}
				if tc.status == 401 && !strings.Contains(a.body, "用户名或密码错误") {
					t.Fatalf("refusal page: %s", a.body)
				}
				ck := c.cookie(t)
				if !tc.signedIn {
					if ck != nil {
						t.Fatalf("a refused sign-in set a cookie: %+v", ck)
					}
					if r := c.do(t, http.MethodGet, "/read", nil, nil); r.status != 401 {
						t.Fatalf("GET /read after a refused sign-in: %d", r.status)
					}
					return
				}
				raw := a.header.Get("Set-Cookie")
				for _, want := range []string{"HttpOnly", "SameSite=Lax", "Secure", "Path=/", "Max-Age=43200"} {
					if !strings.Contains(raw, want) {
						t.Errorf("Set-Cookie %q lacks %s", raw, want)
					}
				}
				// The store keeps the id's hash, not the id.
				if _, err := h.st.GetSession(context.Background(), sha(ck.Value)); err != nil {
					t.Errorf("no session under the cookie's hash: %v", err)
				}
				if _, err := h.st.GetSession(context.Background(), ck.Value); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("the store has the cookie's value itself: %v", err)
				}
			})
		}
	})
}

// The login page is zh-CN, escapes what it echoes and may not be framed.
func TestLoginPage(t *testing.T) {
	h := newHub(t, openSQLite(t), hubOpts{})
	c := h.browser(t)
	a := c.do(t, http.MethodGet, "/login?next=%2Fpage%22%3E%3Cscript%3E", nil, nil)
	if a.status != 200 || !strings.Contains(a.body, `lang="zh-CN"`) || !strings.Contains(a.body, "登录") || strings.Contains(a.body, "<script>") ||
		a.header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("GET /login: %d %v %s", a.status, a.header, a.body)
	}
	// A page without a session sends the browser to sign in and back.
	if a := c.do(t, http.MethodGet, "/page?x=1", nil, nil); a.status != 303 || a.header.Get("Location") != "/login?next=%2Fpage%3Fx%3D1" {
		t.Fatalf("GET /page signed out: %d %q", a.status, a.header.Get("Location"))
	}
	c.signIn(t, "vic")
	if a := c.do(t, http.MethodGet, "/page", nil, nil); a.status != 200 {
		t.Fatalf("GET /page signed in: %d", a.status)
	}
	// Signed in, the login page goes on to next.
	if a := c.do(t, http.MethodGet, "/login?next=/page", nil, nil); a.status != 303 || a.header.Get("Location") != "/page" {
		t.Fatalf("GET /login signed in: %d %q", a.status, a.header.Get("Location"))
	}
}

func openSQLite(t *testing.T) *store.Store {
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "hub.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestInsecureCookie(t *testing.T) {
	h := newHub(t, openSQLite(t), hubOpts{insecure: true})
	a := h.browser(t).login(t, "vic", "vic-password")
	if raw := a.header.Get("Set-Cookie"); a.status != 303 || strings.Contains(raw, "Secure") || !strings.Contains(raw, "HttpOnly") {
		t.Fatalf("Set-Cookie %q", raw)
	}
}

// A state-changing request with a session cookie needs the session's CSRF
// token; one without it changes nothing. Tokens need none.
func TestCSRF(t *testing.T) {
	h := newHub(t, openSQLite(t), hubOpts{})
	c := h.browser(t)
	c.signIn(t, "otto")
	other := h.browser(t)
	other.signIn(t, "ann")
	for _, tc := range []struct {
		name   string
		form   url.Values
		header map[string]string
		status int
		code   string
	}{
		{name: "no token", status: 403, code: "csrf_failed"},
		{name: "empty form, no token", form: url.Values{"x": {"1"}}, status: 403, code: "csrf_failed"},
		{name: "wrong token", header: map[string]string{auth.CSRFHeader: "not-the-token"}, status: 403, code: "csrf_failed"},
		{name: "another session's token", header: map[string]string{auth.CSRFHeader: other.csrf}, status: 403, code: "csrf_failed"},
		{name: "wrong form field", form: url.Values{auth.CSRFField: {other.csrf}}, status: 403, code: "csrf_failed"},
		{name: "header", header: map[string]string{auth.CSRFHeader: c.csrf}, status: 200},
		{name: "form field", form: url.Values{auth.CSRFField: {c.csrf}}, status: 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := h.acted.Load()
			a := c.do(t, http.MethodPost, "/act", tc.form, tc.header)
			if a.status != tc.status {
				t.Fatalf("%d, want %d: %s", a.status, tc.status, a.body)
			}
			changed := h.acted.Load() - before
			if tc.code != "" {
				if p := a.problem(t); p.Code != tc.code {
					t.Fatalf("code %q, want %q", p.Code, tc.code)
				}
				if changed != 0 {
					t.Fatal("a refused request ran the handler")
				}
			} else if changed != 1 {
				t.Fatalf("the handler ran %d times", changed)
			}
		})
	}
	// A bearer token needs no CSRF token; a cookie beside a token is not
	// looked at.
	tok := h.browser(t)
	if a := tok.do(t, http.MethodPost, "/act", nil, map[string]string{"Authorization": "Bearer script-token-0123456789"}); a.status != 200 {
		t.Fatalf("POST /act with a token: %d %s", a.status, a.body)
	}
	if a := c.do(t, http.MethodPost, "/act", nil, map[string]string{"Authorization": "Bearer wrong"}); a.status != 401 {
		t.Fatalf("POST /act with a session and a wrong token: %d %s", a.status, a.body)
	}
}

func TestRoles(t *testing.T) {
	h := newHub(t, openSQLite(t), hubOpts{})
	sessions := map[string]*client{}
	for _, name := range []string{"ann", "otto", "vic"} {
		sessions[name] = h.browser(t)
		sessions[name].signIn(t, name)
	}
	for _, tc := range []struct {
		who, method, path string
		status            int
		code              string
	}{
		{"nobody", "GET", "/read", 401, "sign_in_required"},
		{"nobody", "POST", "/act", 401, "sign_in_required"},
		{"vic", "GET", "/read", 200, ""},
		{"vic", "POST", "/act", 403, "forbidden_role"},
		{"otto", "POST", "/act", 200, ""},
		{"ann", "POST", "/act", 200, ""},
		{"token script (admin when no role)", "POST", "/act", 200, ""},
		{"token reader (viewer)", "GET", "/read", 200, ""},
		{"token reader (viewer)", "POST", "/act", 403, "forbidden_role"},
		{"token wrong", "GET", "/read", 401, "bad_token"},
	} {
		t.Run(tc.who+" "+tc.method+" "+tc.path, func(t *testing.T) {
			c, header := h.browser(t), map[string]string{}
			switch {
			case strings.HasPrefix(tc.who, "token "):
				header["Authorization"] = "Bearer " + strings.Fields(tc.who)[1] + "-token-0123456789"
			case tc.who != "nobody":
				c = sessions[tc.who]
				header[auth.CSRFHeader] = c.csrf
			}
			before := h.acted.Load()
			a := c.do(t, tc.method, tc.path, nil, header)
			if a.status != tc.status {
				t.Fatalf("%d, want %d: %s", a.status, tc.status, a.body)
			}
			if tc.code != "" {
				if p := a.problem(t); p.Code != tc.code {
					t.Fatalf("code %q, want %q", p.Code, tc.code)
				}
				if h.acted.Load() != before {
					t.Fatal("a refused request ran the handler")
				}
			}
		})
	}
}

// After N wrong passwords for a name, or M from one address, sign-in
// answers 429 with Retry-After, even with the right password, until the
// budget refills.
func TestThrottle(t *testing.T) {
	stores(t, func(t *testing.T, open func(t *testing.T) *store.Store) {
		h := newHub(t, open(t), hubOpts{limits: auth.Limits{User: auth.Limit{Failures: 3, Every: time.Minute}, IP: auth.Limit{Failures: 6, Every: 10 * time.Second}}})
		c := h.browser(t)
		for i := range 3 {
			if a := c.login(t, "otto", "wrong"); a.status != 401 {
				t.Fatalf("failure %d: %d", i+1, a.status)
			}
		}
		a := c.login(t, "otto", "otto-password")
		if a.status != 429 || a.header.Get("Retry-After") != "60" || a.problem(t).Code != "too_many_sign_ins" {
			t.Fatalf("after 3 failures: %d Retry-After %q %s", a.status, a.header.Get("Retry-After"), a.body)
		}
		if c.cookie(t) != nil {
			t.Fatal("a throttled sign-in set a cookie")
		}
		// A browser gets the page, in Chinese, with the same status.
		b := c.do(t, http.MethodPost, "/login", url.Values{"name": {"otto"}, "password": {"otto-password"}}, map[string]string{"Accept": "text/html"})
		if b.status != 429 || !strings.Contains(b.body, "登录失败次数过多") || b.header.Get("Retry-After") == "" {
			t.Fatalf("throttled page: %d %s", b.status, b.body)
		}
		// Other names are not held back by otto's failures.
		if a := c.login(t, "vic", "vic-password"); a.status != 303 {
			t.Fatalf("vic while otto is throttled: %d", a.status)
		}
		h.clock.Add(time.Minute)
		if a := c.login(t, "otto", "otto-password"); a.status != 303 {
			t.Fatalf("a minute later: %d %s", a.status, a.body)
		}
		// The address: its budget refilled in that minute; 6 failures on
		// other names spend it.
		for _, name := range []string{"x1", "x2", "x3", "x4", "x5", "x6"} {
			if a := c.login(t, name, "wrong"); a.status != 401 {
				t.Fatalf("%s: %d", name, a.status)
			}
		}
		if a := c.login(t, "ann", "ann-password"); a.status != 429 || a.header.Get("Retry-After") != "10" {
			t.Fatalf("from a throttled address: %d %q", a.status, a.header.Get("Retry-After"))
		}
	})
}

// A session unused for the idle time ends; one in use ends at its max
// age; each answer is 401 and the row goes.
func TestSessionExpiry(t *testing.T) {
	stores(t, func(t *testing.T, open func(t *testing.T) *store.Store) {
		h := newHub(t, open(t), hubOpts{idle: 30 * time.Minute, maxAge: 2 * time.Hour})
		ctx := context.Background()
		c := h.browser(t)
		c.signIn(t, "vic")
		idHash := sha(c.cookie(t).Value)
		for _, step := range []struct {
			after  time.Duration
			status int
		}{
			{20 * time.Minute, 200}, // seen at 0:20
			{25 * time.Minute, 200}, // 0:45, 25 min after the last use
			{29 * time.Minute, 200}, // 1:14
			{31 * time.Minute, 401}, // 1:45, 31 min unused
		} {
			h.clock.Add(step.after)
			if a := c.do(t, http.MethodGet, "/read", nil, nil); a.status != step.status {
				t.Fatalf("at %s: %d, want %d", h.clock.Now().Sub(t0), a.status, step.status)
			}
		}
		if _, err := h.st.GetSession(ctx, idHash); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("an idle session's row stays: %v", err)
		}
		if c.cookie(t) != nil {
			t.Fatal("the ended session's cookie was not cleared")
		}
		// In use every 20 minutes, it still ends 2 hours after sign-in.
		c.signIn(t, "vic")
		start := h.clock.Now()
		for h.clock.Now().Sub(start) < 2*time.Hour-20*time.Minute {
			h.clock.Add(20 * time.Minute)
			if a := c.do(t, http.MethodGet, "/read", nil, nil); a.status != 200 {
				t.Fatalf("at %s after sign-in: %d", h.clock.Now().Sub(start), a.status)
			}
		}
		h.clock.Add(20 * time.Minute)
		if a := c.do(t, http.MethodGet, "/read", nil, nil); a.status != 401 || a.problem(t).Code != "session_ended" {
			t.Fatalf("at max age: %d %s", a.status, a.body)
		}
	})
}

// Disabling, removing or giving a user a new password ends the user's
// sessions at once.
func TestUserChangesEndSessions(t *testing.T) {
	stores(t, func(t *testing.T, open func(t *testing.T) *store.Store) {
		for _, tc := range []struct {
			name   string
			change func(ctx context.Context, st *store.Store) error
		}{
			{"disabled", func(ctx context.Context, st *store.Store) error {
				_, err := st.SetDisabled(ctx, "otto", true, t0)
				return err
			}},
			{"removed", func(ctx context.Context, st *store.Store) error { _, err := st.RemoveUser(ctx, "otto"); return err }},
			{"new password", func(ctx context.Context, st *store.Store) error {
				_, err := auth.SetPassword(ctx, st, "otto", "a new password", t0)
				return err
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				h := newHub(t, open(t), hubOpts{})
				c := h.browser(t)
				c.signIn(t, "otto")
				if err := tc.change(context.Background(), h.st); err != nil {
					t.Fatal(err)
				}
				if a := c.do(t, http.MethodPost, "/act", nil, map[string]string{auth.CSRFHeader: c.csrf}); a.status != 401 || h.acted.Load() != 0 {
					t.Fatalf("after the user was %s: %d, acted %d", tc.name, a.status, h.acted.Load())
				}
			})
		}
	})
}

func TestLogout(t *testing.T) {
	h := newHub(t, openSQLite(t), hubOpts{})
	c := h.browser(t)
	c.signIn(t, "vic")
	id := c.cookie(t).Value
	// Without the CSRF token a third-party page cannot sign anyone out.
	if a := c.do(t, http.MethodPost, "/logout", url.Values{}, nil); a.status != 403 {
		t.Fatalf("logout without CSRF: %d", a.status)
	}
	if a := c.do(t, http.MethodPost, "/logout", url.Values{auth.CSRFField: {c.csrf}}, nil); a.status != 303 || a.header.Get("Location") != "/login" {
		t.Fatalf("logout: %d %q", a.status, a.header.Get("Location"))
	}
	if _, err := h.st.GetSession(context.Background(), sha(id)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the session stays after logout: %v", err)
	}
	// Signing in again ends the session the browser had.
	c.signIn(t, "vic")
	first := c.cookie(t).Value
	c.signIn(t, "vic")
	if _, err := h.st.GetSession(context.Background(), sha(first)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the earlier session stays after signing in again: %v", err)
	}
	// The old cookie, replayed, is no session.
	replay := h.browser(t)
	u, _ := url.Parse(h.srv.URL)
	replay.http.Jar.SetCookies(u, []*http.Cookie{{Name: auth.CookieName, Value: id}})
	if a := replay.do(t, http.MethodGet, "/read", nil, nil); a.status != 401 {
		t.Fatalf("the old cookie after logout: %d", a.status)
	}
}

// A hash made with other costs is redone at sign-in, and the session
// survives it.
func TestRehashAtSignIn(t *testing.T) {
	st := openSQLite(t)
	h := newHub(t, st, hubOpts{})
	old, _ := auth.HashPassword("otto-password", auth.Params{Memory: 32, Time: 1, Threads: 1})
	if _, err := st.SetPassword(context.Background(), "otto", old, t0); err != nil {
		t.Fatal(err)
	}
	c := h.browser(t)
	c.signIn(t, "otto")
	u, _ := st.GetUser(context.Background(), "otto")
	if u.PasswordHash == old || !strings.Contains(u.PasswordHash, "m=64,t=1,p=1") {
		t.Fatalf("hash not redone: %s", u.PasswordHash)
	}
	if a := c.do(t, http.MethodGet, "/read", nil, nil); a.status != 200 {
		t.Fatalf("after the rehash: %d", a.status)
	}
}
