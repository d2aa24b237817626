// Package storetest is the store's conformance suite: one set of tests that
// every database behind store.Store (SQLite, PostgreSQL) must pass, in the
// way River's riverdrivertest checks its drivers.
//
//	func TestSQLiteConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) *store.Store { … })
//	}
package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"orderhub/internal/order"
	"orderhub/internal/store"
)

// Run runs every conformance test against stores made by open. open must
// return a fresh, empty, migrated store for each call and register its Close
// with t.Cleanup. Subtests run in parallel, each with its own store.
func Run(t *testing.T, open func(t *testing.T) *store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s *store.Store)
	}{
		{"Create", testCreate},
		{"GetOrderNotFound", testNotFound},
		{"EmptyBatch", testEmptyBatch},
		{"Duplicate", testDuplicate},
		{"Transitions", testTransitions},
		{"Stale", testStale},
		{"Warnings", testWarnings},
		{"SameOrderInOneBatch", testSameOrderInOneBatch},
		{"ManyOrdersInOneBatch", testManyOrders},
		{"RawBytesExact", testRawBytesExact},
		{"Hook", testHook},
		{"ListOrders", testListOrders},
		{"SearchOrders", testSearchOrders},
		{"SearchOrdersUseIndexes", testSearchIndexes},
		{"LatestVersion", testLatestVersion},
		{"EventsAfterAndCursor", testEventsAfterAndCursor},
		{"MoveCursor", testMoveCursor},
		{"ConcurrentApply", testConcurrentApply},
		{"PullState", testPullState},
		{"BackfillState", testBackfillState},
		{"PullRefusals", testPullRefusals},
		{"FlowItems", testFlowItems},
		{"WantFlows", testWantFlows},
		{"QueueDeliveries", testQueueDeliveries},
		{"DeliveryAttempts", testDeliveryAttempts},
		{"RequeueStale", testRequeueStale},
		{"Digests", testDigests},
		{"Resend", testResend},
		{"HasDue", testHasDue},
		{"ListDeliveries", testListDeliveries},
		{"ListDeliveriesLimit", testListDeliveriesLimit},
		{"LockEndpointWaits", testLockEndpointWaits},
		{"Dashboard", testDashboard},
		{"UpdatePrefs", testUpdatePrefs},
		{"Users", testUsers},
		{"Sessions", testSessions},
		{"StaleSessions", testStaleSessions},
		{"LinkSecret", testLinkSecret},
		{"EmailTracking", testEmailTracking},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			if s == nil {
				t.Fatal("open returned a nil store")
			}
			tt.fn(t, s)
		})
	}
}

// Reopen checks that a store's data survives Close and Open and that opening
// an existing database does not run its migrations again. Each call of open
// must open the same database (the first call may create it); as with Run,
// open registers the store's Close with t.Cleanup (closing twice is harmless).
func Reopen(t *testing.T, open func(t *testing.T) *store.Store) {
	s := open(t)
	want := newOrder("R-1", order.StatusPaid, "12.30", base)
	in := incoming(t, want, received(0))
	out := apply(t, s, in)
	wantOutcomes(t, out, outcome{store.ResultCreated, 1, evs(order.EventCreated, order.EventPaid)})
	migrations := countRows(t, s, "orderhub_migrations")
	if migrations < 1 {
		t.Fatalf("orderhub_migrations has %d rows after the first Open, want at least 1", migrations)
	}
	firstApplied := appliedAt(t, s)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	for round := 1; round <= 2; round++ {
		s = open(t)
		rec := getOrder(t, s, "shop", "R-1")
		if rec.ID != out[0].OrderID || rec.Version != int64(round) {
			t.Fatalf("round %d: after reopening, order id/version = %d/%d, want %d/%d", round, rec.ID, rec.Version, out[0].OrderID, round)
		}
		equalOrder(t, rec.Order, want)
		if got := countRows(t, s, "orderhub_migrations"); got != migrations {
			t.Fatalf("round %d: orderhub_migrations has %d rows after reopening, want %d (a migration ran again?)", round, got, migrations)
		}
		if got := appliedAt(t, s); !reflect.DeepEqual(got, firstApplied) {
			t.Fatalf("round %d: migrations' applied_at changed on reopening: %v, was %v", round, got, firstApplied)
		}
		if c := count(t, s); c != (store.Counts{Orders: 1, Versions: int64(round), Events: int64(2 + round - 1)}) {
			t.Fatalf("round %d: Count after reopening = %+v", round, c)
		}
		// The stored hash is what duplicates are told by: the same bytes
		// again are a duplicate, also after a restart.
		wantOutcomes(t, apply(t, s, in), outcome{store.ResultDuplicate, int64(round), nil})
		// and the store still takes new versions.
		want.Total = money(t, fmt.Sprintf("%d.00", 20+round))
		want.UpdatedAt = base.Add(time.Duration(round) * time.Hour)
		in = incoming(t, want, received(round))
		got := apply(t, s, in)
		wantOutcomes(t, got, outcome{store.ResultUpdated, int64(round + 1), evs(order.EventChanged)})
		if got[0].OrderID != out[0].OrderID {
			t.Fatalf("round %d: OrderID = %d after reopening, want %d", round, got[0].OrderID, out[0].OrderID)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("round %d: Close: %v", round, err)
		}
	}
}

func appliedAt(t *testing.T, s *store.Store) map[int64]int64 {
	t.Helper()
	rows, err := s.DB().QueryContext(context.Background(), `SELECT version, applied_at FROM orderhub_migrations`)
	if err != nil {
		t.Fatalf("reading orderhub_migrations: %v", err)
	}
	defer rows.Close()
	m := map[int64]int64{}
	for rows.Next() {
		var v, at int64
		if err := rows.Scan(&v, &at); err != nil {
			t.Fatalf("reading orderhub_migrations: %v", err)
		}
		m[v] = at
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("reading orderhub_migrations: %v", err)
	}
	return m
}

// ---------------------------------------------------------------------------
// Fixtures and helpers.

// base is when the test orders were placed; a fixed zone checks that times
// keep their instant through the canonical JSON.
var base = time.Date(2025, 3, 1, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))

// received returns the i-th arrival time (microsecond precision, as stored).
func received(i int) time.Time {
	return time.Date(2025, 3, 2, 9, 0, 0, 0, time.UTC).Add(time.Duration(i)*time.Second + 123*time.Microsecond)
}

func money(t testing.TB, s string) order.Money {
	t.Helper()
	m, err := order.ParseMoney(s)
	if err != nil {
		t.Fatalf("ParseMoney(%q): %v", s, err)
	}
	return m
}

// newOrder builds a shop order with one line of two T-shirts.
func newOrder(no string, status order.Status, total string, updated time.Time) order.Order {
	tot, err := order.ParseMoney(total)
	if err != nil {
		panic(err)
	}
	return order.Order{
		Source:   "shop",
		OrderNo:  no,
		Status:   status,
		Currency: "CNY",
		Total:    tot,
		Goods:    tot,
		Buyer:    order.Buyer{ID: "u-42", Name: "张三", Phone: "13800138000", Address: "上海市浦东新区世纪大道 100 号"},
		Items: []order.Item{
			{SKU: "TS-BLK-M", Name: "T 恤", Spec: "颜色:黑色", Quantity: 2, UnitPrice: tot / 2, Total: tot},
		},
		CreatedAt: base,
		PaidAt:    base.Add(time.Minute),
		UpdatedAt: updated,
	}
}

// incoming wraps an order as a source's payload: its JSON with a trailing
// newline, so the raw bytes are not the canonical form.
func incoming(t testing.TB, o order.Order, at time.Time) store.Incoming {
	t.Helper()
	raw, err := json.Marshal(o)
	if err != nil {
		t.Fatalf("encoding order %s: %v", o.OrderNo, err)
	}
	return store.Incoming{Order: o, Raw: append(raw, '\n'), ReceivedAt: at}
}

func evs(e ...order.EventType) []order.EventType { return e }

type outcome struct {
	result  store.Result
	version int64
	events  []order.EventType
}

func apply(t testing.TB, s *store.Store, in ...store.Incoming) []store.Outcome {
	t.Helper()
	out, err := s.Apply(context.Background(), in, nil)
	if err != nil {
		t.Fatalf("Apply(%d documents): %v", len(in), err)
	}
	if len(out) != len(in) {
		t.Fatalf("Apply(%d documents) returned %d outcomes", len(in), len(out))
	}
	return out
}

// wantOutcomes compares results, versions and events exactly and checks that
// every outcome names an order.
func wantOutcomes(t testing.TB, got []store.Outcome, want ...outcome) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d outcomes, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Result != w.result || g.Version != w.version || !slices.Equal(g.Events, w.events) {
			t.Errorf("outcome %d = {%s v%d %v}, want {%s v%d %v}", i, g.Result, g.Version, g.Events, w.result, w.version, w.events)
		}
		if g.OrderID <= 0 {
			t.Errorf("outcome %d: OrderID = %d, want > 0", i, g.OrderID)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

func getOrder(t testing.TB, s *store.Store, source, no string) *store.Record {
	t.Helper()
	r, err := s.GetOrder(context.Background(), source, no)
	if err != nil {
		t.Fatalf("GetOrder(%s, %s): %v", source, no, err)
	}
	return r
}

func count(t testing.TB, s *store.Store) store.Counts {
	t.Helper()
	c, err := s.Count(context.Background())
	if err != nil {
		t.Fatalf("Count: %v", err)
	}
	return c
}

func countRows(t testing.TB, s *store.Store, table string) int64 {
	t.Helper()
	var n int64
	if err := s.DB().QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		t.Fatalf("counting %s: %v", table, err)
	}
	return n
}

func events(t testing.TB, s *store.Store, orderID int64) []store.Event {
	t.Helper()
	e, err := s.Events(context.Background(), orderID)
	if err != nil {
		t.Fatalf("Events(%d): %v", orderID, err)
	}
	return e
}

func timeline(t testing.TB, s *store.Store, orderID int64) []store.TimelineEntry {
	t.Helper()
	tl, err := s.Timeline(context.Background(), orderID)
	if err != nil {
		t.Fatalf("Timeline(%d): %v", orderID, err)
	}
	return tl
}

func versions(t testing.TB, s *store.Store, orderID int64) []store.Version {
	t.Helper()
	v, err := s.Versions(context.Background(), orderID)
	if err != nil {
		t.Fatalf("Versions(%d): %v", orderID, err)
	}
	return v
}

// equalOrder compares two canonical orders: times by instant (the zone's name
// does not survive JSON), everything else exactly.
func equalOrder(t testing.TB, got, want order.Order) {
	t.Helper()
	times := func(o *order.Order) []*time.Time {
		return []*time.Time{&o.CreatedAt, &o.PaidAt, &o.ShippedAt, &o.CompletedAt, &o.CancelledAt, &o.UpdatedAt}
	}
	names := []string{"CreatedAt", "PaidAt", "ShippedAt", "CompletedAt", "CancelledAt", "UpdatedAt"}
	gt, wt := times(&got), times(&want)
	for i := range gt {
		if !gt[i].Equal(*wt[i]) {
			t.Errorf("order %s: %s = %v, want %v", want.OrderNo, names[i], *gt[i], *wt[i])
		}
		*gt[i], *wt[i] = time.Time{}, time.Time{}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("order %s:\n got %+v\nwant %+v", want.OrderNo, got, want)
	}
	if t.Failed() {
		t.FailNow()
	}
}

type stageDetail struct {
	Result  store.Result      `json:"result"`
	Version int64             `json:"version"`
	Events  []order.EventType `json:"events"`
}

// wantTimeline checks an order's timeline: one "received" entry per document,
// at its arrival time, with the outcome in its detail.
func wantTimeline(t testing.TB, s *store.Store, orderID int64, at []time.Time, want ...outcome) {
	t.Helper()
	tl := timeline(t, s, orderID)
	if len(tl) != len(want) {
		t.Fatalf("order %d: %d timeline entries, want %d: %+v", orderID, len(tl), len(want), tl)
	}
	for i, w := range want {
		e := tl[i]
		var d stageDetail
		if err := json.Unmarshal(e.Detail, &d); err != nil {
			t.Fatalf("order %d: timeline entry %d: detail %s: %v", orderID, i, e.Detail, err)
		}
		if e.Stage != "received" || !e.At.Equal(at[i]) || d.Result != w.result || d.Version != w.version || !slices.Equal(d.Events, w.events) {
			t.Errorf("order %d: timeline entry %d = %s at %v %s, want received at %v {%s v%d %v}",
				orderID, i, e.Stage, e.At, e.Detail, at[i], w.result, w.version, w.events)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}
