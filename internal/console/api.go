// Package console serves what people and programs read from orderhub: the
// REST API over orders, their events and timelines.
package console

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"orderhub/internal/config"
	"orderhub/internal/order"
	"orderhub/internal/problem"
	"orderhub/internal/store"
)

// API serves /v1/orders.
type API struct {
	store  *store.Store
	tokens []config.APIToken
	loc    *time.Location
	log    *slog.Logger
	// tracked are the systems whose messages report openings and clicks
	// (email), for the statistics' rates.
	tracked map[string]bool
}

// NewAPI returns the read API. With no tokens, reads are open and PII is
// always masked.
func NewAPI(s *store.Store, tokens []config.APIToken, loc *time.Location, log *slog.Logger) *API {
	if loc == nil {
		loc = time.UTC
	}
	return &API{store: s, tokens: tokens, loc: loc, log: log}
}

// Register adds the API's routes to mux.
func (a *API) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/orders/{source}/{order_no}", a.getOrder)
	mux.HandleFunc("GET /v1/orders", a.listOrders)
}

// caller works out who is asking and whether they may see PII. It answers
// the request itself (and returns ok false) when they may not read at all.
func (a *API) caller(w http.ResponseWriter, r *http.Request) (pii bool, ok bool) {
	wantPII := r.URL.Query().Get("pii") == "1" || r.URL.Query().Get("pii") == "true"
	if len(a.tokens) == 0 {
		if wantPII {
			problem.New(http.StatusForbidden, "pii_forbidden", "unmasked buyer data needs a token allowed to see it",
				"configure api.tokens with pii: true and send it as Authorization: Bearer <token>").Write(w)
			return false, false
		}
		return false, true
	}
	got, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !found || got == "" {
		problem.New(http.StatusUnauthorized, "missing_token", "this API needs a bearer token", "send Authorization: Bearer <token> with a token from api.tokens").Write(w)
		return false, false
	}
	for _, t := range a.tokens {
		if subtle.ConstantTimeCompare([]byte(got), []byte(t.Token.Reveal())) == 1 {
			if wantPII && !t.PII {
				problem.New(http.StatusForbidden, "pii_forbidden", fmt.Sprintf("token %q may not see unmasked buyer data", t.Name),
					"ask without pii=1, or use a token configured with pii: true").Write(w)
				return false, false
			}
			if wantPII {
				a.log.Info("PII read", "token", t.Name, "path", r.URL.Path)
			}
			return wantPII, true
		}
	}
	problem.New(http.StatusUnauthorized, "bad_token", "the bearer token is not one of api.tokens", "check the token").Write(w)
	return false, false
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
