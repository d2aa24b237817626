// Package web serves the console's pages: server-rendered HTML over the same
// store and actions as the REST API of internal/console, zh-CN first, with
// every asset embedded in the binary.
//
// Who is looking comes from the request's context (WithViewer), which the
// sign-in middleware sets; this package renders for that viewer (their name,
// their role's buttons, their CSRF token in every form) and refuses an
// action the role may not take or a form without the viewer's token.
package web

import (
	"context"
	"crypto/subtle"
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"orderhub/internal/store"
)

// Roles a viewer may have. Admins and operators act on exceptions and
// deliveries; viewers only read.
const (
	RoleAdmin    = "admin"
	RoleOperator = "operator"
	RoleViewer   = "viewer"
)

// Viewer is the person a page is rendered for.
type Viewer struct {
	Name, Role string
	// CSRF is the token of the viewer's session: every form carries it as
	// csrf_token and every page as <meta name="csrf-token">; a POST
	// without it changes nothing.
	CSRF string
	// Lang is the viewer's language, zh-CN or en; the orderhub_lang cookie
	// (set by the language switch) takes precedence.
	Lang string
	// PII: the viewer may see buyers' data unmasked.
	PII bool
}

// CanAct reports whether the viewer may retry, skip and resend.
func (v Viewer) CanAct() bool { return v.Role == RoleAdmin || v.Role == RoleOperator }

type viewerKey struct{}

// WithViewer returns ctx carrying v, for the pages of the request.
func WithViewer(ctx context.Context, v Viewer) context.Context {
	return context.WithValue(ctx, viewerKey{}, v)
}

// ViewerFrom returns the viewer ctx carries. Without one, the request is
// shown read-only to an anonymous viewer.
func ViewerFrom(ctx context.Context) (Viewer, bool) {
	v, ok := ctx.Value(viewerKey{}).(Viewer)
	return v, ok
}

// Flows are the actions on exceptions, the same the REST API's POST
// /v1/exceptions/{id}/retry and /skip call.
type Flows interface {
	Retry(ctx context.Context, id int64) error
	Skip(ctx context.Context, id int64) error
}

// Deliveries resends a failed delivery, as POST /v1/deliveries/{id}/resend.
type Deliveries interface {
	Resend(ctx context.Context, id int64) error
}

// RuleInfo is what the rules page shows of one configured rule.
type RuleInfo struct {
	Name     string
	On       []string
	When     string
	Channels []string
	Template string
	Priority string
}

// Deps is what the pages read and act through.
type Deps struct {
	Store      *store.Store
	Flows      Flows
	Deliveries Deliveries
	// Rules are the configured notification rules, sorted by name.
	Rules []RuleInfo
	// Location is the configured time zone; every time is shown in it.
	Location *time.Location
	Log      *slog.Logger
}

//go:embed templates assets
var files embed.FS

// routes are the console's patterns. Patterns lists them for the server's
// mux; Handler routes them again inside, so that a middleware wraps the
// pages once.
var routes = []string{
	"GET /{$}",
	"GET /orders",
	"GET /orders/{source}/{order_no}",
	"GET /exceptions",
	"POST /exceptions/{id}/retry",
	"POST /exceptions/{id}/skip",
	"POST /exceptions/bulk",
	"GET /deliveries",
	"GET /deliveries/{id}",
	"POST /deliveries/{id}/resend",
	"GET /syncs",
	"GET /rules",
	"POST /lang",
	AssetsPattern,
}

// AssetsPattern serves the embedded stylesheet and script, which hold
// nothing private.
const AssetsPattern = "GET /assets/"

// Patterns are the mux patterns the console answers, to be routed to
// Handler's handler.
func Patterns() []string { return append([]string(nil), routes...) }

type pages struct {
	Deps
	tmpl map[string]*page
}

// Handler returns the console's pages and assets. Store, Flows and
// Deliveries are required.
func Handler(d Deps) http.Handler {
	if d.Store == nil || d.Flows == nil || d.Deliveries == nil {
		panic("web.Handler: Deps.Store, Flows and Deliveries are required")
	}
	if d.Location == nil {
		d.Location = time.UTC
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	c := &pages{Deps: d, tmpl: parsePages()}
	mux := http.NewServeMux()
	handlers := []http.HandlerFunc{
		c.dashboard, c.orders, c.order, c.exceptions, c.resolve(d.Flows.Retry, "retried"), c.resolve(d.Flows.Skip, "skipped"), c.bulk,
		c.deliveries, c.delivery, c.resend, c.syncs, c.rules, c.lang, assets(),
	}
	for i, p := range routes {
		mux.HandleFunc(p, handlers[i])
	}
	return secureHeaders(mux)
}

func assets() http.HandlerFunc {
	sub, err := fs.Sub(files, "assets")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	fsrv := http.StripPrefix("/assets/", http.FileServerFS(sub))
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		fsrv.ServeHTTP(w, r)
	}
}

// secureHeaders keeps pages out of frames and scripts to our own.
func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// viewer is the request's viewer, or an anonymous read-only one.
func viewer(r *http.Request) (Viewer, bool) {
	v, ok := ViewerFrom(r.Context())
	if !ok {
		return Viewer{Role: RoleViewer}, false
	}
	return v, true
}

// csrfOK reports whether a POST carries the viewer's token, as the form
// field csrf_token or, from a fetch call, the X-CSRF-Token header.
func csrfOK(r *http.Request, v Viewer) bool {
	got := r.PostFormValue("csrf_token")
	if got == "" {
		got = r.Header.Get("X-CSRF-Token")
	}
	return v.CSRF != "" && subtle.ConstantTimeCompare([]byte(got), []byte(v.CSRF)) == 1
}
