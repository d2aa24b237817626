package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"orderhub/internal/auth"
	"orderhub/internal/notify"
	"orderhub/internal/order"
	"orderhub/internal/problem"
	"orderhub/internal/store"
)

// Deliveries is what the deliveries API needs of the running hub: the
// endpoints the configuration sends to, and resending a failed delivery
// (queued again and its endpoint's sender woken). *notify.Stage is one.
type Deliveries interface {
	Setup() *notify.Setup
	Resend(ctx context.Context, id int64) error
}

// RegisterDeliveries adds /v1/deliveries and /v1/endpoints to mux.
func (a *API) RegisterDeliveries(mux *http.ServeMux, d Deliveries) {
	h := &deliveriesAPI{API: a, d: d}
	a.handle(mux, "GET /v1/deliveries", auth.RoleViewer, h.list)
	a.handle(mux, "GET /v1/deliveries/{id}", auth.RoleViewer, h.get)
	a.handle(mux, "POST /v1/deliveries/{id}/resend", auth.RoleOperator, h.resend)
	a.handle(mux, "GET /v1/endpoints", auth.RoleViewer, h.endpoints)
}

type deliveriesAPI struct {
	*API
	d Deliveries
}

// deliveryStates are the values status= takes, in the order a message
// goes through them.
var deliveryStates = []store.DeliveryState{store.DeliveryCollecting, store.DeliveryQueued, store.DeliverySending,
	store.DeliverySent, store.DeliveryMerged, store.DeliveryFailed}

func stateNames() string {
	names := make([]string, len(deliveryStates))
	for i, s := range deliveryStates {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// maxDeliveriesPage is the largest limit= of GET /v1/deliveries, and the
// most messages of a digest GET /v1/deliveries/{id} shows.
const maxDeliveriesPage = 500

func (h *deliveriesAPI) list(w http.ResponseWriter, r *http.Request) {
	pii, ok := h.caller(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	f := store.DeliveryFilter{Rule: q.Get("rule"), System: q.Get("system"), Limit: 50}
	if v := q.Get("status"); v != "" {
		f.State = store.DeliveryState(v)
		if !slices.Contains(deliveryStates, f.State) {
			bad(w, "status", fmt.Sprintf("status %q is not a delivery state", v), "use one of "+stateNames())
			return
		}
	}
	if v := q.Get("order"); v != "" {
		source, no, found := strings.Cut(v, "/")
		if !found || source == "" || no == "" {
			bad(w, "order", fmt.Sprintf("order %q is not <source>/<order_no>", v), "name the order by its source and number, e.g. order=shop_orders/A1001")
			return
		}
		rec, err := h.store.GetOrder(r.Context(), source, no)
		if errors.Is(err, store.ErrNotFound) {
			p := problem.New(http.StatusNotFound, "order_not_found", fmt.Sprintf("no order %q from source %q", no, source),
				"check the source name and order number; GET /v1/orders lists what is stored")
			p.Field = "order"
			p.Write(w)
			return
		}
		if err != nil {
			h.internal(w, err)
			return
		}
		f.OrderID = rec.ID
	}
	for _, p := range []struct {
		name string
		to   *int64
		what string
	}{{"digest", &f.Digest, "the id of a digest (a delivery of kind digest)"}, {"before", &f.Before, "the next_before of the previous page"}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			bad(w, p.name, fmt.Sprintf("%s %q is not a delivery id", p.name, v), "pass "+p.what)
			return
		}
		*p.to = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxDeliveriesPage {
			bad(w, "limit", fmt.Sprintf("limit %q is not a number from 1 to %d", v, maxDeliveriesPage),
				fmt.Sprintf("ask for at most %d deliveries a page", maxDeliveriesPage))
			return
		}
		f.Limit = n
	}
	// One more than asked tells whether another page follows.
	want := f.Limit
	f.Limit++
	ds, err := h.store.ListDeliveries(r.Context(), f)
	if err != nil {
		h.internal(w, err)
		return
	}
	more := len(ds) > want
	ds = ds[:min(len(ds), want)]
	// next_before is where this page ended: pass it as before= for the
	// next (older) page.
	out := struct {
		Deliveries []DeliveryView `json:"deliveries"`
		NextBefore int64          `json:"next_before,omitempty"`
		HasMore    bool           `json:"has_more"`
	}{Deliveries: make([]DeliveryView, 0, len(ds)), HasMore: more}
	for _, d := range ds {
		out.Deliveries = append(out.Deliveries, h.view(d, pii))
	}
	if more {
		out.NextBefore = ds[len(ds)-1].ID
	}
	writeJSON(w, http.StatusOK, out)
}

// DeliveryView is a delivery as the API shows it: the store's record with
// its times in the configured zone.
type DeliveryView struct {
	store.Delivery
}

func (h *deliveriesAPI) in(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.In(h.loc)
}

// view zones a delivery's times and, unless the caller may see PII, masks
// the contact data its message carries (see maskContacts).
func (h *deliveriesAPI) view(d store.Delivery, pii bool) DeliveryView {
	d.DueAt, d.CreatedAt, d.UpdatedAt, d.SentAt = h.in(d.DueAt), h.in(d.CreatedAt), h.in(d.UpdatedAt), h.in(d.SentAt)
	if !pii {
		d.Message = maskContacts(d.Message)
	}
	return DeliveryView{Delivery: d}
}

// MaskContacts is maskContacts, for the console's pages, which show a
// message as this API shows it to a caller that may not see PII.
func MaskContacts(msg json.RawMessage) json.RawMessage { return maskContacts(msg) }

// maskContacts masks what a message says of how to reach people, as the
// read API masks buyers: the mobiles it @mentions and, of its addressees
// (to), every mobile (138****1234) and email (z***@example.com), and the
// buyer's name (张**). The rendered text only ever carries masked buyer
// data, so it and everything else is shown as it was recorded, in its
// order.
func maskContacts(msg json.RawMessage) json.RawMessage {
	if !bytes.Contains(msg, []byte(`"at_mobiles"`)) && !bytes.Contains(msg, []byte(`"to"`)) {
		return msg
	}
	out, err := rewriteObject(msg, func(key string, v json.RawMessage) (json.RawMessage, error) {
		switch key {
		case "at_mobiles":
			var mobiles []string
			if err := json.Unmarshal(v, &mobiles); err != nil {
				return nil, err
			}
			for i, p := range mobiles {
				mobiles[i] = order.MaskPhone(p)
			}
			return json.Marshal(mobiles)
		case "to":
			var to []json.RawMessage
			if err := json.Unmarshal(v, &to); err != nil {
				return nil, err
			}
			for i, r := range to {
				var who struct{ Person string }
				if err := json.Unmarshal(r, &who); err != nil {
					return nil, err
				}
				masked, err := rewriteObject(r, func(key string, v json.RawMessage) (json.RawMessage, error) {
					var s string
					switch key {
					case "mobile":
						err := json.Unmarshal(v, &s)
						return jsonString(order.MaskPhone(s), err)
					case "email":
						err := json.Unmarshal(v, &s)
						return jsonString(maskEmail(s), err)
					case "name":
						if who.Person == "buyer" {
							err := json.Unmarshal(v, &s)
							return jsonString(order.MaskName(s), err)
						}
					}
					return v, nil
				})
				if err != nil {
					return nil, err
				}
				to[i] = masked
			}
			return json.Marshal(to)
		}
		return v, nil
	})
	if err != nil {
		// Not the JSON the rules consumer writes: nothing to tell apart,
		// so nothing of it is shown.
		return json.RawMessage(`{}`)
	}
	return out
}

func jsonString(s string, err error) (json.RawMessage, error) {
	if err != nil {
		return nil, err
	}
	return json.Marshal(s)
}

// maskEmail keeps an address's first character and its domain:
// zhang.san@example.com → z***@example.com.
func maskEmail(e string) string {
	local, domain, ok := strings.Cut(e, "@")
	if !ok || local == "" {
		return order.MaskPhone(e)
	}
	r := []rune(local)
	return string(r[:1]) + "***@" + domain
}

// rewriteObject passes each member of the JSON object raw through fn and
// writes them back in their order, the values fn leaves byte for byte.
func rewriteObject(raw json.RawMessage, fn func(key string, v json.RawMessage) (json.RawMessage, error)) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object")
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if v, err = fn(key, v); err != nil {
			return nil, err
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(key)
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// id reads the delivery id of the path, answering a bad one itself.
func (h *deliveriesAPI) id(w http.ResponseWriter, r *http.Request) (int64, bool) {
	v := r.PathValue("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 {
		p := problem.New(http.StatusBadRequest, "bad_id", fmt.Sprintf("%q is not a delivery id", v), "use the id from GET /v1/deliveries")
		p.Field = "id"
		p.Write(w)
		return 0, false
	}
	return id, true
}

func notFound(w http.ResponseWriter, id int64) {
	problem.New(http.StatusNotFound, "delivery_not_found", fmt.Sprintf("no delivery %d", id), "list them with GET /v1/deliveries").Write(w)
}

func (h *deliveriesAPI) get(w http.ResponseWriter, r *http.Request) {
	pii, ok := h.caller(w, r)
	if !ok {
		return
	}
	id, ok := h.id(w, r)
	if !ok {
		return
	}
	d, attempts, err := h.store.GetDelivery(r.Context(), id)
	if errors.Is(err, store.ErrNoDelivery) {
		notFound(w, id)
		return
	}
	if err != nil {
		h.internal(w, err)
		return
	}
	out := struct {
		DeliveryView
		Attempts []store.Attempt `json:"attempts"`
		// Messages are those a digest carried, newest first; MessagesMore
		// says more are listed by GET /v1/deliveries?digest=.
		Messages     []DeliveryView `json:"messages,omitempty"`
		MessagesMore bool           `json:"messages_more,omitempty"`
	}{DeliveryView: h.view(d, pii), Attempts: make([]store.Attempt, 0, len(attempts))}
	for _, a := range attempts {
		a.At, a.DoneAt = h.in(a.At), h.in(a.DoneAt)
		out.Attempts = append(out.Attempts, a)
	}
	if d.Kind == store.KindDigest {
		ms, err := h.store.ListDeliveries(r.Context(), store.DeliveryFilter{Digest: id, Limit: maxDeliveriesPage + 1})
		if err != nil {
			h.internal(w, err)
			return
		}
		out.MessagesMore = len(ms) > maxDeliveriesPage
		out.Messages = make([]DeliveryView, 0, min(len(ms), maxDeliveriesPage))
		for _, m := range ms[:min(len(ms), maxDeliveriesPage)] {
			out.Messages = append(out.Messages, h.view(m, pii))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *deliveriesAPI) resend(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.caller(w, r); !ok {
		return
	}
	id, ok := h.id(w, r)
	if !ok {
		return
	}
	err := h.d.Resend(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNoDelivery):
		notFound(w, id)
		return
	case errors.Is(err, notify.ErrNotFailed):
		problem.New(http.StatusConflict, "not_failed", err.Error(),
			fmt.Sprintf("one queued or sending goes out by itself, one sent or merged was delivered; GET /v1/deliveries/%d shows its attempts", id)).Write(w)
		return
	case err != nil:
		h.log.Error("deliveries API: resending", "id", id, "err", err)
		problem.New(http.StatusInternalServerError, "internal", fmt.Sprintf("delivery %d could not be queued again", id), "try again; see the server log").Write(w)
		return
	}
	h.log.Info("delivery resent", "id", id, "remote", r.RemoteAddr)
	writeJSON(w, http.StatusAccepted, map[string]any{"id": id, "result": "queued"})
}

// EndpointView is one sending system's standing.
type EndpointView struct {
	System string `json:"system"`
	Kind   string `json:"kind,omitempty"`
	// Configured is false for a system no longer in the configuration
	// whose deliveries are still recorded (its queue waits).
	Configured bool `json:"configured"`
	PerMinute  int  `json:"per_minute,omitempty"`
	PerSecond  int  `json:"per_second,omitempty"`
	// Paused: no call is made before PausedUntil, for PauseReason (the
	// last pause's reason is kept after it ends).
	Paused      bool      `json:"paused"`
	PausedUntil time.Time `json:"paused_until,omitzero"`
	PauseReason string    `json:"pause_reason,omitempty"`
	// Failures is how many calls in a row failed in transport.
	Failures int `json:"failures"`
	// Deliveries counts its deliveries by state, every state named.
	Deliveries map[store.DeliveryState]int `json:"deliveries"`
}

func (h *deliveriesAPI) endpoints(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.caller(w, r); !ok {
		return
	}
	standing, err := h.store.Endpoints(r.Context())
	if err != nil {
		h.internal(w, err)
		return
	}
	counts, err := h.store.DeliveryCounts(r.Context())
	if err != nil {
		h.internal(w, err)
		return
	}
	views := map[string]*EndpointView{}
	get := func(sys string) *EndpointView {
		v, ok := views[sys]
		if !ok {
			v = &EndpointView{System: sys, Deliveries: make(map[store.DeliveryState]int, len(deliveryStates))}
			for _, s := range deliveryStates {
				v.Deliveries[s] = 0
			}
			views[sys] = v
		}
		return v
	}
	if su := h.d.Setup(); su != nil {
		for sys, ep := range su.Endpoints {
			v := get(sys)
			v.Configured, v.Kind, v.PerMinute, v.PerSecond = true, ep.Kind, ep.Limits.PerMinute, ep.Limits.PerSecond
		}
	}
	now := time.Now()
	for _, e := range standing {
		v := get(e.System)
		v.Paused, v.PausedUntil, v.PauseReason, v.Failures = e.PausedUntil.After(now), h.in(e.PausedUntil), e.PauseReason, e.Failures
	}
	for sys, byState := range counts {
		v := get(sys)
		for s, n := range byState {
			v.Deliveries[s] = n
		}
	}
	out := make([]*EndpointView, 0, len(views))
	for _, v := range views {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b *EndpointView) int { return strings.Compare(a.System, b.System) })
	writeJSON(w, http.StatusOK, map[string]any{"endpoints": out})
}

func (h *deliveriesAPI) internal(w http.ResponseWriter, err error) {
	h.log.Error("deliveries API", "err", err)
	problem.New(http.StatusInternalServerError, "internal", "the store could not be read", "try again; see the server log").Write(w)
}
