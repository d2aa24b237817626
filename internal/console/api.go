// Package console serves what people and programs read from orderhub: the
// REST API over orders, their events and timelines.
package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"

	"orderhub/internal/auth"
	"orderhub/internal/config"
	"orderhub/internal/order"
	"orderhub/internal/problem"
	"orderhub/internal/store"
)

// API serves /v1: orders, flows, deliveries, people and statistics. Every
// route is registered with the role it needs (see handle), so none answers
// a caller who has not signed in or sent a token.
type API struct {
	store  *store.Store
	auth   *auth.Auth
	loc    *time.Location
	log    *slog.Logger
	routes []Route
	// public are the routes that take no session and no token: links in
	// messages, each carrying a signed token that is its own capability.
	public []string
	// tracked are the systems whose messages report openings and clicks
	// (email), for the statistics' rates.
	tracked map[string]bool
}

// Route is one registered /v1 route and the role it needs.
type Route struct {
	Pattern string
	Role    auth.Role
}

// NewAPI returns the API with the given tokens as its only credentials;
// WithAuth adds the console's sessions.
func NewAPI(s *store.Store, tokens []config.APIToken, loc *time.Location, log *slog.Logger) *API {
	if loc == nil {
		loc = time.UTC
	}
	return &API{store: s, auth: auth.TokensOnly(tokens), loc: loc, log: log}
}

// WithAuth makes au, which knows the console's sessions as well as the
// tokens, identify the API's callers.
func (a *API) WithAuth(au *auth.Auth) *API {
	a.auth = au
	return a
}

// Routes lists the routes registered so far with the role each needs.
func (a *API) Routes() []Route { return slices.Clone(a.routes) }

// handle registers h at pattern behind the role it needs. It is the only
// way the console adds a route, so none goes without a role check.
func (a *API) handle(mux *http.ServeMux, pattern string, need auth.Role, h http.HandlerFunc) {
	a.routes = append(a.routes, Route{Pattern: pattern, Role: need})
	mux.Handle(pattern, a.auth.Middleware(auth.Require(need)(h)))
}

// handlePublic registers h at pattern with no sign-in at all. Only the
// links messages carry use it: their signed token is the whole permission,
// and TestPublicRoutes lists every such route.
func (a *API) handlePublic(mux *http.ServeMux, pattern string, h http.HandlerFunc) {
	a.public = append(a.public, pattern)
	mux.HandleFunc(pattern, h)
}

// PublicRoutes lists the routes registered without a role.
func (a *API) PublicRoutes() []string { return slices.Clone(a.public) }

// Register adds the order routes, and GET /v1/me, to mux.
func (a *API) Register(mux *http.ServeMux) {
	a.handle(mux, "GET /v1/orders/{source}/{order_no}", auth.RoleViewer, a.getOrder)
	a.handle(mux, "GET /v1/orders", auth.RoleViewer, a.listOrders)
	a.handle(mux, "GET /v1/me", auth.RoleViewer, a.me)
	// Anyone signed in may choose their own language.
	a.handle(mux, "PUT /v1/me/lang", auth.RoleViewer, a.setLang)
	a.handle(mux, "GET /v1/users", auth.RoleAdmin, a.listUsers)
}

// UserView is a console user as admins see it; the password hash is never
// shown.
type UserView struct {
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	Disabled  bool      `json:"disabled"`
	Lang      string    `json:"lang"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) {
	us, err := a.store.ListUsers(r.Context())
	if err != nil {
		a.internal(w, err)
		return
	}
	out := struct {
		Users []UserView `json:"users"`
	}{Users: make([]UserView, 0, len(us))}
	for _, u := range us {
		out.Users = append(out.Users, UserView{Name: u.Name, Role: u.Role, Disabled: u.Disabled, Lang: u.Lang,
			CreatedAt: u.CreatedAt.In(a.loc), UpdatedAt: u.UpdatedAt.In(a.loc)})
	}
	writeJSON(w, http.StatusOK, out)
}

// me tells a page or a script who it is signed in as, and the CSRF token
// its state-changing requests must carry.
func (a *API) me(w http.ResponseWriter, r *http.Request) {
	v, _ := auth.FromContext(r.Context())
	writeJSON(w, http.StatusOK, struct {
		Name  string    `json:"name"`
		Role  auth.Role `json:"role"`
		Lang  string    `json:"lang"`
		CSRF  string    `json:"csrf_token,omitempty"`
		Token bool      `json:"token"`
	}{v.Name, v.Role, v.Lang, v.CSRF, v.Token})
}

// Langs are the console's languages.
var Langs = []string{"zh-CN", "en"}

// setLang records the signed-in user's language: {"lang": "en"}.
func (a *API) setLang(w http.ResponseWriter, r *http.Request) {
	v, _ := auth.FromContext(r.Context())
	if v.Token {
		problem.New(http.StatusConflict, "token_has_no_lang", "API tokens have no language", "sign in as a console user to choose one").Write(w)
		return
	}
	var body struct {
		Lang string `json:"lang"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&body); err != nil || !slices.Contains(Langs, body.Lang) {
		p := problem.New(http.StatusBadRequest, "bad_lang", fmt.Sprintf("语言 %q 不可用 (language %q is not offered)", body.Lang, body.Lang), `send {"lang": "zh-CN"} or {"lang": "en"}`)
		p.Field = "lang"
		p.Write(w)
		return
	}
	if err := a.store.SetUserLang(r.Context(), v.Name, body.Lang, time.Now()); err != nil {
		a.internal(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"lang": body.Lang})
}

// caller says whether the viewer (already let through by the route's role
// check) asked for unmasked buyer data and may see it. It answers the
// request itself, and returns ok false, when they asked and may not.
func (a *API) caller(w http.ResponseWriter, r *http.Request) (pii bool, ok bool) {
	v, found := auth.FromContext(r.Context())
	if !found {
		problem.New(http.StatusUnauthorized, "sign_in_required", "请先登录 (sign in, or send an API token)", "sign in at /login, or send Authorization: Bearer <token>").Write(w)
		return false, false
	}
	wantPII := r.URL.Query().Get("pii") == "1" || r.URL.Query().Get("pii") == "true"
	if !wantPII {
		return false, true
	}
	if !v.PII {
		problem.New(http.StatusForbidden, "pii_forbidden", fmt.Sprintf("%q may not see unmasked buyer data", v.Name),
			"ask without pii=1, or use a token configured with pii: true").Write(w)
		return false, false
	}
	if v.Token {
		a.log.Info("PII read", "token", v.Name, "path", r.URL.Path)
	} else {
		a.log.Info("PII read", "user", v.Name, "path", r.URL.Path)
	}
	return true, true
}

// OrderView is an order as the API shows it.
type OrderView struct {
	Order       order.Order `json:"order"`
	Version     int64       `json:"version"`
	FirstSeenAt time.Time   `json:"first_seen_at"`
	UpdatedAt   time.Time   `json:"updated_at"`
}

// EventView is one event as the API shows it.
type EventView struct {
	ID      int64           `json:"id"`
	Type    order.EventType `json:"type"`
	Version int64           `json:"version"`
	From    order.Status    `json:"from,omitempty"`
	To      order.Status    `json:"to"`
	At      time.Time       `json:"at"`
}

// TimelineView is one timeline entry.
type TimelineView struct {
	At     time.Time       `json:"at"`
	Stage  string          `json:"stage"`
	Detail json.RawMessage `json:"detail"`
}

func (a *API) view(r *store.Record, pii bool) OrderView {
	o := r.Order.In(a.loc)
	if !pii {
		o = o.Masked()
	}
	return OrderView{Order: o, Version: r.Version, FirstSeenAt: r.FirstSeenAt.In(a.loc), UpdatedAt: r.UpdatedAt.In(a.loc)}
}

func (a *API) getOrder(w http.ResponseWriter, r *http.Request) {
	pii, ok := a.caller(w, r)
	if !ok {
		return
	}
	source, no := r.PathValue("source"), r.PathValue("order_no")
	rec, err := a.store.GetOrder(r.Context(), source, no)
	if errors.Is(err, store.ErrNotFound) {
		problem.New(http.StatusNotFound, "order_not_found", fmt.Sprintf("no order %q from source %q", no, source),
			"check the source name and order number; GET /v1/orders lists what is stored").Write(w)
		return
	}
	if err != nil {
		a.internal(w, err)
		return
	}
	evs, err := a.store.Events(r.Context(), rec.ID)
	if err != nil {
		a.internal(w, err)
		return
	}
	tl, err := a.store.Timeline(r.Context(), rec.ID)
	if err != nil {
		a.internal(w, err)
		return
	}
	out := struct {
		OrderView
		Events   []EventView    `json:"events"`
		Timeline []TimelineView `json:"timeline"`
	}{OrderView: a.view(rec, pii), Events: make([]EventView, 0, len(evs)), Timeline: make([]TimelineView, 0, len(tl))}
	for _, e := range evs {
		out.Events = append(out.Events, EventView{ID: e.ID, Type: e.Type, Version: e.Version, From: e.StatusFrom, To: e.StatusTo, At: e.At.In(a.loc)})
	}
	for _, t := range tl {
		out.Timeline = append(out.Timeline, TimelineView{At: t.At.In(a.loc), Stage: t.Stage, Detail: t.Detail})
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *API) listOrders(w http.ResponseWriter, r *http.Request) {
	pii, ok := a.caller(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	f := store.ListFilter{Source: q.Get("source"), Status: order.Status(q.Get("status")), Cursor: q.Get("cursor")}
	if f.Status != "" && !f.Status.Valid() {
		bad(w, "status", fmt.Sprintf("status %q is not known", f.Status), "use one of created, paid, shipped, completed, cancelled, refunded")
		return
	}
	if s := q.Get("since"); s != "" {
		t, err := parseSince(s, a.loc)
		if err != nil {
			bad(w, "since", fmt.Sprintf("since %q is not a time", s), "write RFC 3339 (2026-11-25T08:00:00+08:00) or a date (2026-11-25)")
			return
		}
		f.Since = t
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 500 {
			bad(w, "limit", fmt.Sprintf("limit %q is not a number from 1 to 500", l), "ask for at most 500 orders a page")
			return
		}
		f.Limit = n
	}
	page, err := a.store.ListOrders(r.Context(), f)
	if errors.Is(err, store.ErrBadCursor) {
		bad(w, "cursor", err.Error(), "pass next_cursor from a previous answer unchanged")
		return
	}
	if err != nil {
		a.internal(w, err)
		return
	}
	// next_cursor is where this page ended: with has_more false, keep it and
	// ask again later to get exactly the orders changed since.
	out := struct {
		Orders     []OrderView `json:"orders"`
		NextCursor string      `json:"next_cursor,omitempty"`
		HasMore    bool        `json:"has_more"`
	}{Orders: make([]OrderView, 0, len(page.Records)), NextCursor: page.Cursor, HasMore: page.More}
	for i := range page.Records {
		out.Orders = append(out.Orders, a.view(&page.Records[i], pii))
	}
	writeJSON(w, http.StatusOK, out)
}

func parseSince(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.ParseInLocation("2006-01-02", s, loc)
}

func bad(w http.ResponseWriter, field, title, detail string) {
	p := problem.New(http.StatusBadRequest, "bad_query", title, detail)
	p.Field = field
	p.Write(w)
}

func (a *API) internal(w http.ResponseWriter, err error) {
	a.log.Error("API read failed", "err", err)
	problem.New(http.StatusInternalServerError, "internal", "the store could not be read", "retry; if it persists, see the server log").Write(w)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding the answer failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
