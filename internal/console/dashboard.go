package console

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"time"

	"orderhub/internal/auth"
	"orderhub/internal/order"
	"orderhub/internal/problem"
	"orderhub/internal/store"
)

// RegisterDashboard adds GET /v1/stats/dashboard to mux: what the
// console's dashboard draws, over a period cut into buckets, with the
// numbers a person checks first on top.
func (a *API) RegisterDashboard(mux *http.ServeMux) {
	a.handle(mux, "GET /v1/stats/dashboard", auth.RoleViewer, a.dashboard)
}

// Dashboard is the answer of GET /v1/stats/dashboard. Every series has one
// value per bucket, in the order of Buckets, ready for a chart.
type Dashboard struct {
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Bucket string    `json:"bucket"`
	Zone   string    `json:"zone"`
	// Buckets are the start of each bucket, in the configured zone.
	Buckets []time.Time `json:"buckets"`
	Today   Today       `json:"today"`
	// Orders are per source: how many orders were first seen, and their
	// total in yuan.
	Orders []OrderSeries `json:"orders"`
	// Flows are per flow: bills written and documents that became
	// exceptions, and what waits now.
	Flows []FlowSeries `json:"flows"`
	// Deliveries are per channel endpoint: messages queued in the period
	// by where they stand, and what waits now.
	Deliveries []DeliverySeries `json:"deliveries"`
}

// Today are the figures at the top of the dashboard: since midnight in the
// configured zone, and what a person must look at now.
type Today struct {
	Orders           int    `json:"orders"`
	GMV              string `json:"gmv"`
	OpenExceptions   int    `json:"open_exceptions"`
	FailedDeliveries int    `json:"failed_deliveries"`
}

// OrderSeries is one source's orders per bucket.
type OrderSeries struct {
	Source string   `json:"source"`
	Orders []int    `json:"orders"`
	Total  []string `json:"total"`
}

// FlowSeries is one flow's writes per bucket and its backlog.
type FlowSeries struct {
	Flow       string `json:"flow"`
	Written    []int  `json:"written"`
	Exceptions []int  `json:"exceptions"`
	Waiting    int    `json:"waiting"`
	Open       int    `json:"open_exceptions"`
}

// DeliverySeries is one endpoint's messages of the period by state, and
// its backlog now.
type DeliverySeries struct {
	System  string         `json:"system"`
	States  map[string]int `json:"states"`
	Waiting int            `json:"waiting"`
	Failed  int            `json:"failed"`
}

// bucketWidths are the widths a dashboard may be cut into; each divides a
// day, so buckets start on the clock in the configured zone.
var bucketWidths = map[string]time.Duration{
	"15m": 15 * time.Minute, "30m": 30 * time.Minute, "1h": time.Hour,
	"3h": 3 * time.Hour, "6h": 6 * time.Hour, "12h": 12 * time.Hour, "1d": 24 * time.Hour,
}

// settleMargin is how long after an hour ends its orders are taken as
// counted for good: a document is stamped when it is received and stored
// within the same call, which a slow pull page stretches to minutes at
// most.
const settleMargin = 10 * time.Minute

// maxBuckets bounds one answer: a chart cannot show more, and the
// queries' work grows with it.
const maxBuckets = 2000

func (a *API) dashboard(w http.ResponseWriter, r *http.Request) {
	d, prob, err := BuildDashboard(r.Context(), a.store, a.loc, r.URL.Query(), time.Now())
	switch {
	case prob != nil:
		prob.Write(w)
	case err != nil:
		a.storeFailed(w, err)
	default:
		writeJSON(w, http.StatusOK, d)
	}
}

// BuildDashboard computes the dashboard for the period q asks for (from,
// to, bucket; a day by the hour when it says nothing) in loc. A problem is
// the caller's mistake in q; an error the store's.
func BuildDashboard(ctx context.Context, st *store.Store, loc *time.Location, q url.Values, now time.Time) (*Dashboard, *problem.Problem, error) {
	if loc == nil {
		loc = time.UTC
	}
	now = now.In(loc)
	from, to, prob := parsePeriod(q, loc, now.Add(-24*time.Hour), now)
	if prob != nil {
		return nil, prob, nil
	}
	name := q.Get("bucket")
	if name == "" {
		name = "1h"
		if to.Sub(from) > 72*time.Hour {
			name = "1d"
		}
	}
	width, ok := bucketWidths[name]
	if !ok {
		return nil, problem.New(http.StatusBadRequest, "bad_bucket", fmt.Sprintf("bucket=%q is not a bucket width", name),
			"use 15m, 30m, 1h, 3h, 6h, 12h or 1d"), nil
	}
	b := store.Buckets{From: alignInDay(from, width, loc), To: to, Width: width, Settled: now.Add(-settleMargin)}
	if n := b.Len(); n > maxBuckets {
		return nil, problem.New(http.StatusBadRequest, "too_many_buckets", fmt.Sprintf("the period cut into %s buckets makes %d, more than %d", name, n, maxBuckets),
			"choose a wider bucket (bucket=1d) or a shorter period"), nil
	}
	d, err := dashboardOf(ctx, st, loc, b, name, now)
	return d, nil, err
}

func dashboardOf(ctx context.Context, st *store.Store, loc *time.Location, b store.Buckets, name string, now time.Time) (*Dashboard, error) {
	n := b.Len()
	out := &Dashboard{From: b.From, To: b.To, Bucket: name, Zone: loc.String(), Buckets: make([]time.Time, n),
		Orders: []OrderSeries{}, Flows: []FlowSeries{}, Deliveries: []DeliverySeries{}}
	for i := range n {
		out.Buckets[i] = b.From.Add(time.Duration(i) * b.Width).In(loc)
	}
	obs, err := st.OrdersByBucket(ctx, b)
	if err != nil {
		return nil, err
	}
	fen := map[string][]int64{}
	for _, ob := range obs {
		if len(out.Orders) == 0 || out.Orders[len(out.Orders)-1].Source != ob.Source {
			out.Orders = append(out.Orders, OrderSeries{Source: ob.Source, Orders: make([]int, n)})
			fen[ob.Source] = make([]int64, n)
		}
		s := &out.Orders[len(out.Orders)-1]
		s.Orders[ob.Bucket] = ob.Orders
		fen[ob.Source][ob.Bucket] = ob.TotalFen
	}
	for i := range out.Orders {
		s := &out.Orders[i]
		s.Total = make([]string, n)
		for j, f := range fen[s.Source] {
			s.Total[j] = order.Money(f).String()
		}
	}

	fbs, err := st.FlowsByBucket(ctx, b)
	if err != nil {
		return nil, err
	}
	backlog, err := st.Backlogs(ctx)
	if err != nil {
		return nil, err
	}
	flows := map[string]*FlowSeries{}
	flow := func(name string) *FlowSeries {
		if f, ok := flows[name]; ok {
			return f
		}
		f := &FlowSeries{Flow: name, Written: make([]int, n), Exceptions: make([]int, n)}
		flows[name] = f
		return f
	}
	for _, fb := range fbs {
		f := flow(fb.Flow)
		f.Written[fb.Bucket] += fb.Written
		f.Exceptions[fb.Bucket] += fb.Exceptions
	}
	for name, fl := range backlog.Flows {
		f := flow(name)
		f.Waiting, f.Open = fl.Waiting, fl.Exceptions
		out.Today.OpenExceptions += fl.Exceptions
	}
	for _, name := range slices.Sorted(maps.Keys(flows)) {
		out.Flows = append(out.Flows, *flows[name])
	}

	ds, err := st.DeliveryStats(ctx, b.From, b.To)
	if err != nil {
		return nil, err
	}
	chans := map[string]*DeliverySeries{}
	channel := func(name string) *DeliverySeries {
		if c, ok := chans[name]; ok {
			return c
		}
		c := &DeliverySeries{System: name, States: map[string]int{}}
		chans[name] = c
		return c
	}
	for _, d := range ds {
		channel(d.System).States[string(d.State)] += d.Count
	}
	for name, cb := range backlog.Channels {
		c := channel(name)
		c.Waiting, c.Failed = cb.Waiting, cb.Failed
		out.Today.FailedDeliveries += cb.Failed
	}
	for _, name := range slices.Sorted(maps.Keys(chans)) {
		out.Deliveries = append(out.Deliveries, *chans[name])
	}

	y, m, d := now.Date()
	midnight := time.Date(y, m, d, 0, 0, 0, 0, loc)
	today, err := st.OrdersByBucket(ctx, store.Buckets{From: midnight, To: now.Add(time.Microsecond), Width: 24 * time.Hour, Settled: now.Add(-settleMargin)})
	if err != nil {
		return nil, err
	}
	var gmv int64
	for _, ob := range today {
		out.Today.Orders += ob.Orders
		gmv += ob.TotalFen
	}
	out.Today.GMV = order.Money(gmv).String()
	return out, nil
}

// parsePeriod reads from= and to= (a date, midnight in loc, or RFC 3339),
// each defaulting as given; from must come first.
func parsePeriod(q url.Values, loc *time.Location, from, to time.Time) (time.Time, time.Time, *problem.Problem) {
	for _, p := range []struct {
		key string
		dst *time.Time
	}{{"from", &from}, {"to", &to}} {
		v := q.Get(p.key)
		if v == "" {
			continue
		}
		t, err := parseWhen(v, loc)
		if err != nil {
			return from, to, problem.New(http.StatusBadRequest, "bad_"+p.key, fmt.Sprintf("%s=%q is not a date or a time", p.key, v),
				"write 2026-12-01 (midnight in the configured zone) or RFC 3339, 2026-12-01T09:00:00+08:00")
		}
		*p.dst = t
	}
	if !from.Before(to) {
		return from, to, problem.New(http.StatusBadRequest, "bad_period", "from must be before to", "swap them")
	}
	return from, to, nil
}

// alignInDay moves t back to the start of its bucket, buckets of width
// counted from midnight in loc.
func alignInDay(t time.Time, width time.Duration, loc *time.Location) time.Time {
	t = t.In(loc)
	y, m, d := t.Date()
	midnight := time.Date(y, m, d, 0, 0, 0, 0, loc)
	return midnight.Add(t.Sub(midnight) / width * width)
}
