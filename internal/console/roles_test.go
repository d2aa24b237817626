package console

import (
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"orderhub/internal/auth"
	"orderhub/internal/config"
	"orderhub/internal/notify"
	"orderhub/internal/problem"
	"orderhub/internal/store"
)

// wantRoles is the role every /v1 route needs. A route added without a
// line here fails TestEveryRouteChecksItsRole.
var wantRoles = map[string]auth.Role{
	"GET /v1/orders/{source}/{order_no}": auth.RoleViewer,
	"GET /v1/orders":                     auth.RoleViewer,
	"GET /v1/me":                         auth.RoleViewer,
	"PUT /v1/me/lang":                    auth.RoleViewer,
	"GET /v1/users":                      auth.RoleAdmin,
	"GET /v1/flows":                      auth.RoleViewer,
	"GET /v1/exceptions":                 auth.RoleViewer,
	"GET /v1/exceptions/{id}":            auth.RoleViewer,
	"POST /v1/exceptions/{id}/retry":     auth.RoleOperator,
	"POST /v1/exceptions/{id}/skip":      auth.RoleOperator,
	"GET /v1/deliveries":                 auth.RoleViewer,
	"GET /v1/deliveries/{id}":            auth.RoleViewer,
	"POST /v1/deliveries/{id}/resend":    auth.RoleOperator,
	"GET /v1/endpoints":                  auth.RoleViewer,
	"GET /v1/people":                     auth.RoleViewer,
	"GET /v1/people/{id}/preferences":    auth.RoleViewer,
	"PUT /v1/people/{id}/preferences":    auth.RoleOperator,
	"GET /v1/inbox":                      auth.RoleViewer,
	"POST /v1/inbox/read-all":            auth.RoleOperator,
	"POST /v1/inbox/{id}/read":           auth.RoleOperator,
	"GET /v1/stats/notifications":        auth.RoleViewer,
	"GET /v1/stats/dashboard":            auth.RoleViewer,
}

// actions records the acting calls that reach the running hub.
type actions struct{ retried, skipped, resent atomic.Int64 }

func (*actions) FlowInfos() []FlowInfo                 { return nil }
func (*actions) PullSources() []string                 { return nil }
func (*actions) Setup() *notify.Setup                  { return &notify.Setup{} }
func (a *actions) Retry(context.Context, int64) error  { a.retried.Add(1); return nil }
func (a *actions) Skip(context.Context, int64) error   { a.skipped.Add(1); return nil }
func (a *actions) Resend(context.Context, int64) error { a.resent.Add(1); return nil }

type consoleHub struct {
	srv *httptest.Server
	api *API
	st  *store.Store
	act *actions
}

var cheapHash = auth.Params{Memory: 64, Time: 1, Threads: 1}

// newConsoleHub serves every /v1 route and the sign-in routes, with users
// ann (admin), otto (operator) and vic (viewer), and tokens for scripts.
func newConsoleHub(t *testing.T) *consoleHub {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "hub.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for name, role := range map[string]auth.Role{"ann": auth.RoleAdmin, "otto": auth.RoleOperator, "vic": auth.RoleViewer} {
		h, _ := auth.HashPassword(name+"-password", cheapHash)
		if _, err := st.CreateUser(ctx, name, string(role), h, placed); err != nil {
			t.Fatal(err)
		}
	}
	tokens := []config.APIToken{{Name: "script", Token: "script-token-0123456789"}, {Name: "reader", Token: "reader-token-0123456789", Role: "viewer"}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	au, err := auth.New(auth.Options{Store: st, Tokens: tokens, Params: cheapHash, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	seedException(t, st) // item 1
	act := &actions{}
	mux := http.NewServeMux()
	au.Register(mux)
	api := NewAPI(st, tokens, nil, log).WithAuth(au)
	api.Register(mux)
	api.RegisterFlows(mux, act)
	api.RegisterDeliveries(mux, act)
	api.RegisterPeople(mux, map[string]*config.Person{"zhang": {Name: "张三"}}, []string{"mail"})
	api.RegisterStats(mux, nil)
	api.RegisterDashboard(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &consoleHub{srv: srv, api: api, st: st, act: act}
}

// caller is a browser signed in as a user, a script with a token, or
// nobody.
type caller struct {
	name   string
	role   auth.Role // "" for nobody
	client *http.Client
	header http.Header
}

func (h *consoleHub) signIn(t *testing.T, name string, role auth.Role) caller {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(h.srv.URL+"/login", url.Values{"name": {name}, "password": {name + "-password"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("signing in as %s: %d", name, resp.StatusCode)
	}
	resp, err = c.Get(h.srv.URL + "/v1/me")
	if err != nil {
		t.Fatal(err)
	}
	var me struct {
		Name string `json:"name"`
		CSRF string `json:"csrf_token"`
	}
	json.NewDecoder(resp.Body).Decode(&me)
	resp.Body.Close()
	if me.Name != name || me.CSRF == "" {
		t.Fatalf("GET /v1/me as %s: %+v", name, me)
	}
	return caller{name: name, role: role, client: c, header: http.Header{auth.CSRFHeader: {me.CSRF}}}
}

func (h *consoleHub) callers(t *testing.T) []caller {
	plain := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return []caller{
		{name: "nobody", client: plain, header: http.Header{}},
		h.signIn(t, "vic", auth.RoleViewer),
		h.signIn(t, "otto", auth.RoleOperator),
		h.signIn(t, "ann", auth.RoleAdmin),
		{name: "token reader", role: auth.RoleViewer, client: plain, header: http.Header{"Authorization": {"Bearer reader-token-0123456789"}}},
		{name: "token script", role: auth.RoleAdmin, client: plain, header: http.Header{"Authorization": {"Bearer script-token-0123456789"}}},
	}
}

type reply2 struct {
	status int
	p      problem.Problem
}

func (c caller) do(t *testing.T, base, method, path, body string, withHeader bool) reply2 {
	t.Helper()
	req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
	if withHeader {
		for k, v := range c.header {
			req.Header[k] = v
		}
	} else if a := c.header.Get("Authorization"); a != "" {
		req.Header.Set("Authorization", a)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r reply2
	r.status = resp.StatusCode
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &r.p)
	return r
}

// concrete fills a pattern's wildcards.
func concrete(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	return method, strings.NewReplacer("{source}", "shop", "{order_no}", "A1", "{id}", "1").Replace(path)
}

// refusedByAuth reports whether an answer is the role check's, not the
// handler's.
func refusedByAuth(r reply2) bool {
	return r.status == http.StatusUnauthorized || (r.status == http.StatusForbidden && (r.p.Code == "forbidden_role" || r.p.Code == "csrf_failed"))
}

// Every registered /v1 route, as the API lists them, answers 401 to
// nobody, 403 to a role below the one it needs, and lets the rest through
// to its handler; a state-changing one also needs the session's CSRF
// token.
func TestEveryRouteChecksItsRole(t *testing.T) {
	h := newConsoleHub(t)
	routes := h.api.Routes()
	got := map[string]auth.Role{}
	for _, r := range routes {
		got[r.Pattern] = r.Role
	}
	for p, role := range got {
		if want, ok := wantRoles[p]; !ok || want != role {
			t.Errorf("route %s needs %q; wantRoles says %q (add the route there with the role it should need)", p, role, want)
		}
	}
	for p := range wantRoles {
		if _, ok := got[p]; !ok {
			t.Errorf("wantRoles has %s, which is not registered", p)
		}
	}
	callers := h.callers(t)
	for _, rt := range routes {
		method, path := concrete(rt.Pattern)
		for _, c := range callers {
			t.Run(rt.Pattern+" as "+c.name, func(t *testing.T) {
				body := ""
				if method == http.MethodPut {
					body = `{}`
				}
				r := c.do(t, h.srv.URL, method, path, body, true)
				switch {
				case c.role == "":
					if r.status != http.StatusUnauthorized {
						t.Fatalf("nobody: %d %+v, want 401", r.status, r.p)
					}
				case c.role.Allows(rt.Role):
					if refusedByAuth(r) {
						t.Fatalf("%s (%s) refused: %d %+v", c.name, c.role, r.status, r.p)
					}
				default:
					if r.status != http.StatusForbidden || r.p.Code != "forbidden_role" {
						t.Fatalf("%s (%s) on a route for %s: %d %+v, want 403 forbidden_role", c.name, c.role, rt.Role, r.status, r.p)
					}
				}
				if method != http.MethodGet && c.role != "" && !strings.HasPrefix(c.name, "token") {
					if r := c.do(t, h.srv.URL, method, path, body, false); r.status != http.StatusForbidden || r.p.Code != "csrf_failed" {
						t.Fatalf("without the CSRF token: %d %+v, want 403 csrf_failed", r.status, r.p)
					}
				}
			})
		}
	}
}

// A viewer cannot retry, skip or resend, nor can anyone without the CSRF
// token or without a session: none of those reach the hub.
func TestRefusedActionsChangeNothing(t *testing.T) {
	h := newConsoleHub(t)
	cs := h.callers(t)
	nobody, vic, otto, reader := cs[0], cs[1], cs[2], cs[4]
	for _, tc := range []struct {
		name       string
		who        caller
		withHeader bool
	}{
		{"viewer session", vic, true},
		{"viewer token", reader, true},
		{"operator session without its CSRF token", otto, false},
		{"no session", nobody, true},
	} {
		for _, path := range []string{"/v1/exceptions/1/retry", "/v1/exceptions/1/skip", "/v1/deliveries/1/resend"} {
			if r := tc.who.do(t, h.srv.URL, http.MethodPost, path, "", tc.withHeader); !refusedByAuth(r) {
				t.Errorf("%s: POST %s: %d %+v, want refused", tc.name, path, r.status, r.p)
			}
		}
	}
	if n := h.act.retried.Load() + h.act.skipped.Load() + h.act.resent.Load(); n != 0 {
		t.Fatalf("%d refused actions reached the hub", n)
	}
	// The operator with the token does reach it, once each.
	for _, path := range []string{"/v1/exceptions/1/retry", "/v1/exceptions/1/skip", "/v1/deliveries/1/resend"} {
		otto.do(t, h.srv.URL, http.MethodPost, path, "", true)
	}
	if h.act.retried.Load() != 1 || h.act.skipped.Load() != 1 || h.act.resent.Load() != 1 {
		t.Fatalf("operator actions: retried %d skipped %d resent %d", h.act.retried.Load(), h.act.skipped.Load(), h.act.resent.Load())
	}
}

// A user's language is kept and comes back with the session.
func TestSetLang(t *testing.T) {
	h := newConsoleHub(t)
	cs := h.callers(t)
	vic, script := cs[1], cs[5]
	for _, tc := range []struct {
		who    caller
		body   string
		status int
	}{
		{vic, `{"lang":"en"}`, 200},
		{vic, `{"lang":"fr"}`, 400},
		{vic, `not json`, 400},
		{script, `{"lang":"en"}`, 409},
	} {
		if r := tc.who.do(t, h.srv.URL, http.MethodPut, "/v1/me/lang", tc.body, true); r.status != tc.status {
			t.Errorf("%s %s: %d %+v, want %d", tc.who.name, tc.body, r.status, r.p, tc.status)
		}
	}
	resp, err := vic.client.Get(h.srv.URL + "/v1/me")
	if err != nil {
		t.Fatal(err)
	}
	var me struct{ Lang string }
	json.NewDecoder(resp.Body).Decode(&me)
	resp.Body.Close()
	if me.Lang != "en" {
		t.Fatalf("lang after choosing en: %q", me.Lang)
	}
}

// No session, no data: nothing of an order is in a refused answer.
func TestNoSessionNoData(t *testing.T) {
	h := newConsoleHub(t)
	if _, err := h.st.Apply(context.Background(), []store.Incoming{{Order: mkOrder("shop", "A1", "paid"), Raw: []byte(`{"secret":"A1"}`), ReceivedAt: placed}}, nil); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/v1/orders", "/v1/orders/shop/A1", "/v1/users"} {
		for _, auth := range []string{"", "Bearer wrong", "Basic YTpi"} {
			req, _ := http.NewRequest(http.MethodGet, h.srv.URL+path, nil)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			req.AddCookie(&http.Cookie{Name: "orderhub_session", Value: "made-up"})
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized || strings.Contains(string(b), "A1") || strings.Contains(string(b), "13800001234") {
				t.Errorf("GET %s with %q: %d %s", path, auth, resp.StatusCode, b)
			}
		}
	}
	// An admin sees the users, without their hashes.
	ann := h.callers(t)[3]
	req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/v1/users", nil)
	resp, err := ann.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"name":"otto","role":"operator"`) || strings.Contains(string(b), "argon2") {
		t.Fatalf("GET /v1/users as admin: %d %s", resp.StatusCode, b)
	}
}

// The only routes without a role are the links messages carry.
func TestPublicRoutes(t *testing.T) {
	a := NewAPI(nil, nil, nil, nil)
	a.RegisterLinks(http.NewServeMux(), nil, nil, nil, nil)
	want := []string{"GET /u/{token}", "POST /u/{token}", "GET /t/o/{file}", "GET /t/c/{token}"}
	if got := a.PublicRoutes(); !slices.Equal(got, want) {
		t.Errorf("public routes %v, want %v", got, want)
	}
	if len(a.Routes()) != 0 {
		t.Errorf("the links registered routes with a role: %v", a.Routes())
	}
}

// The console adds routes only through API.handle, which takes the role:
// a mux.Handle or mux.HandleFunc anywhere else in the package would be a
// route without a role check.
func TestRoutesOnlyThroughHandle(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi fs.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatal(err)
	}
	var bad []string
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
			for _, d := range f.Decls {
				fn, ok := d.(*ast.FuncDecl)
				if !ok || fn.Body == nil {
					continue
				}
				ast.Inspect(fn.Body, func(n ast.Node) bool {
					call, ok := n.(*ast.CallExpr)
					if !ok {
						return true
					}
					if sel, ok := call.Fun.(*ast.SelectorExpr); ok && (sel.Sel.Name == "Handle" || sel.Sel.Name == "HandleFunc") && fn.Name.Name != "handle" && fn.Name.Name != "handlePublic" {
						bad = append(bad, fset.Position(call.Pos()).String()+" in "+fn.Name.Name)
					}
					return true
				})
			}
		}
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		t.Fatalf("routes registered around API.handle (no role check): %v", bad)
	}
}
