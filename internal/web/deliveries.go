package web

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"orderhub/internal/store"
)

// deliveryStates are the states the list filters by, in the order a
// message goes through them.
var deliveryStates = []store.DeliveryState{store.DeliveryCollecting, store.DeliveryQueued, store.DeliverySending,
	store.DeliverySent, store.DeliveryMerged, store.DeliveryFailed}

type deliveriesData struct {
	State, System string
	States        []string
	Rows          []store.Delivery
	Next          template.URL // the next (older) page, built from url.Values
	CanAct        bool
}

const deliveriesPage = 50

func (c *pages) deliveries(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	vw, _ := viewer(r)
	d := &deliveriesData{State: q.Get("status"), System: q.Get("system"), CanAct: vw.CanAct()}
	for _, s := range deliveryStates {
		d.States = append(d.States, string(s))
	}
	f := store.DeliveryFilter{System: d.System, State: store.DeliveryState(d.State), Limit: deliveriesPage + 1}
	if f.State != "" && !slices.Contains(deliveryStates, f.State) {
		c.fail(w, r, http.StatusBadRequest, "error.bad_state", d.State)
		return
	}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			c.fail(w, r, http.StatusBadRequest, "error.bad_id", v)
			return
		}
		f.Before = n
	}
	ds, err := c.Store.ListDeliveries(r.Context(), f)
	if err != nil {
		c.internal(w, r, err)
		return
	}
	if len(ds) > deliveriesPage {
		ds = ds[:deliveriesPage]
		next := url.Values{"before": {strconv.FormatInt(ds[len(ds)-1].ID, 10)}}
		if d.State != "" {
			next.Set("status", d.State)
		}
		if d.System != "" {
			next.Set("system", d.System)
		}
		d.Next = template.URL("/deliveries?" + next.Encode())
	}
	d.Rows = ds
	c.render(w, http.StatusOK, "deliveries", c.newView(r, "deliveries", "deliveries.title", d))
}

type deliveryData struct {
	D        store.Delivery
	Message  string // masked as the REST API masks it
	Attempts []store.Attempt
	CanAct   bool
}

func (c *pages) delivery(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		c.fail(w, r, http.StatusBadRequest, "error.bad_id", r.PathValue("id"))
		return
	}
	dl, attempts, err := c.Store.GetDelivery(r.Context(), id)
	if errors.Is(err, store.ErrNoDelivery) {
		c.fail(w, r, http.StatusNotFound, "error.no_delivery", id)
		return
	}
	if err != nil {
		c.internal(w, r, err)
		return
	}
	vw, _ := viewer(r)
	d := &deliveryData{D: dl, Message: maskedMessage(dl.Message, vw.PII), Attempts: attempts, CanAct: vw.CanAct()}
	c.render(w, http.StatusOK, "delivery", c.newView(r, "deliveries", "delivery.title", d))
}

func (c *pages) syncs(w http.ResponseWriter, r *http.Request) {
	states, err := c.Store.PullStates(r.Context())
	if err != nil {
		c.internal(w, r, err)
		return
	}
	c.render(w, http.StatusOK, "syncs", c.newView(r, "syncs", "syncs.title", states))
}

func (c *pages) rules(w http.ResponseWriter, r *http.Request) {
	c.render(w, http.StatusOK, "rules", c.newView(r, "rules", "rules.title", c.Rules))
}
