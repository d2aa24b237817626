package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"testing"
	"time"

	"orderhub/internal/order"
	"orderhub/internal/store"
)

// testDashboard: orders, bills and exceptions are counted into the bucket
// of their own time, per source and flow, with nothing outside the range;
// the backlog counts what waits now.
func testDashboard(t *testing.T, s *store.Store) {
	ctx := context.Background()
	from := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	b := store.Buckets{From: from, To: from.Add(3 * time.Hour), Width: time.Hour}
	if b.Len() != 3 {
		t.Fatalf("Len = %d, want 3", b.Len())
	}
	if n := (store.Buckets{From: from, To: from.Add(150 * time.Minute), Width: time.Hour}).Len(); n != 3 {
		t.Fatalf("a range ending mid-hour has %d buckets, want 3", n)
	}
	// Orders: "shop" at 00:10, 00:50, 02:59:59.999999 and one before and
	// one at the end of the range; "mall" at 01:30.
	arrive := func(source, no, total string, at time.Time) int64 {
		o := newOrder(no, order.StatusPaid, total, base)
		o.Source = source
		return apply(t, s, incoming(t, o, at))[0].OrderID
	}
	ids := map[string]int64{}
	for _, a := range []struct {
		source, no, total string
		at                time.Duration
	}{
		{"shop", "D-1", "10.00", 10 * time.Minute},
		{"shop", "D-2", "20.50", 50 * time.Minute},
		{"shop", "D-3", "1.00", 3*time.Hour - time.Microsecond},
		{"shop", "D-early", "99.00", -time.Microsecond},
		{"shop", "D-late", "99.00", 3 * time.Hour},
		{"mall", "M-1", "5999.00", 90 * time.Minute},
	} {
		ids[a.no] = arrive(a.source, a.no, a.total, from.Add(a.at))
	}
	obs, err := s.OrdersByBucket(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	wantOrders := []store.OrderBucket{
		{Source: "mall", Bucket: 1, Orders: 1, TotalFen: 599900},
		{Source: "shop", Bucket: 0, Orders: 2, TotalFen: 3050},
		{Source: "shop", Bucket: 2, Orders: 1, TotalFen: 100},
	}
	if !reflect.DeepEqual(obs, wantOrders) {
		t.Errorf("OrdersByBucket = %+v\nwant %+v", obs, wantOrders)
	}

	// Ended hours are counted once into order_hours and read from there;
	// the hour not yet settled is counted from the orders each time.
	rolled := b
	rolled.Settled = from.Add(150 * time.Minute)
	for round := range 2 {
		obs, err := s.OrdersByBucket(ctx, rolled)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(obs, wantOrders) {
			t.Errorf("round %d: OrdersByBucket with settled hours = %+v\nwant %+v", round, obs, wantOrders)
		}
		var done, kept int
		if err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM order_hours_done`).Scan(&done); err != nil {
			t.Fatal(err)
		}
		if err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM order_hours`).Scan(&kept); err != nil {
			t.Fatal(err)
		}
		if done != 2 || kept != 2 {
			t.Errorf("round %d: %d hours marked counted and %d rows kept, want 2 and 2 (00:00 shop, 01:00 mall)", round, done, kept)
		}
	}
	ids["D-4"] = arrive("shop", "D-4", "2.00", from.Add(130*time.Minute))
	wantOrders[2] = store.OrderBucket{Source: "shop", Bucket: 2, Orders: 2, TotalFen: 300}
	if obs, err := s.OrdersByBucket(ctx, rolled); err != nil || !reflect.DeepEqual(obs, wantOrders) {
		t.Errorf("after an order in the unsettled hour: %+v, %v\nwant %+v", obs, err, wantOrders)
	}
	// A day-wide bucket is made of the kept hours and the rest (D-late
	// included).
	day := store.Buckets{From: from, To: from.Add(24 * time.Hour), Width: 24 * time.Hour, Settled: from.Add(150 * time.Minute)}
	if obs, err := s.OrdersByBucket(ctx, day); err != nil || len(obs) != 2 || obs[1] != (store.OrderBucket{Source: "shop", Orders: 5, TotalFen: 3050 + 300 + 9900}) {
		t.Errorf("one day-wide bucket: %+v, %v", obs, err)
	}

	// Flows: D-1 written at 00:20 by f, D-2 at 02:00 by f and g; M-1 an
	// exception at 01:40 on f; D-3 waiting on f; D-early written before
	// the range.
	want := func(flow, no string) {
		inTx(t, s, func(tx *sql.Tx) error { return s.WantFlow(ctx, tx, flow, ids[no], 1, from) })
	}
	itemOf := func(flow, no string) int64 {
		items, err := s.ListFlowItems(ctx, store.FlowFilter{Flow: flow, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.OrderNo == no {
				return it.ID
			}
		}
		t.Fatalf("no item of %s on %s", no, flow)
		return 0
	}
	settle := func(flow, no string, state store.FlowState, at time.Duration) {
		want(flow, no)
		id := itemOf(flow, no)
		u := store.FlowUpdate{ID: id, Version: 1, State: state, At: from.Add(at), BillNo: no}
		if state == store.FlowException {
			u.BillNo = ""
			u.Error = store.FlowError{Class: "permanent", Code: "11", Message: "物料不存在"}
		}
		inTx(t, s, func(tx *sql.Tx) error { return s.UpdateFlowItems(ctx, tx, []store.FlowUpdate{u}) })
	}
	settle("f", "D-1", store.FlowDone, 20*time.Minute)
	settle("f", "D-2", store.FlowDone, 2*time.Hour)
	settle("g", "D-2", store.FlowDone, 2*time.Hour+time.Minute)
	settle("f", "M-1", store.FlowException, 100*time.Minute)
	settle("f", "D-early", store.FlowDone, -time.Minute)
	want("f", "D-3")
	fbs, err := s.FlowsByBucket(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]store.FlowBucket{}
	for _, fb := range fbs {
		got[fmt.Sprintf("%s/%d", fb.Flow, fb.Bucket)] = fb
	}
	wantFlows := map[string]store.FlowBucket{
		"f/0": {Flow: "f", Bucket: 0, Written: 1},
		"f/1": {Flow: "f", Bucket: 1, Exceptions: 1},
		"f/2": {Flow: "f", Bucket: 2, Written: 1},
		"g/2": {Flow: "g", Bucket: 2, Written: 1},
	}
	if !reflect.DeepEqual(got, wantFlows) {
		t.Errorf("FlowsByBucket = %+v\nwant %+v", got, wantFlows)
	}

	// Deliveries: two queued and one failed on ops_ding, one sent on mail.
	queue(t, s, from, msg("ops_ding", "r", "q1"), msg("ops_ding", "r", "q2"), msg("ops_ding", "r", "bad"), msg("mail", "r", "ok"))
	bad, ok := byKey(t, s, "ops_ding", "bad"), byKey(t, s, "mail", "ok")
	start(t, s, "ops_ding", from, store.AttemptStart{DeliveryID: bad.ID, Attempt: 1})
	start(t, s, "mail", from, store.AttemptStart{DeliveryID: ok.ID, Attempt: 1})
	finish(t, s, from,
		store.AttemptOutcome{DeliveryID: bad.ID, Attempt: 1, State: store.DeliveryFailed, Outcome: "permanent", Code: "310000",
			Error: store.DeliveryError{Class: "permanent", Code: "310000", Message: "keywords not in content"}},
		store.AttemptOutcome{DeliveryID: ok.ID, Attempt: 1, State: store.DeliverySent, Outcome: "sent", Code: "250"})
	bl, err := s.Backlogs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantBacklog := store.Backlog{
		Flows:    map[string]store.FlowBacklog{"f": {Waiting: 1, Exceptions: 1}},
		Channels: map[string]store.ChannelBacklog{"ops_ding": {Waiting: 2, Failed: 1}},
	}
	if !reflect.DeepEqual(bl, wantBacklog) {
		t.Errorf("Backlogs = %+v\nwant %+v", bl, wantBacklog)
	}
	if obs, err := s.OrdersByBucket(ctx, store.Buckets{From: from, To: from, Width: time.Hour}); err != nil || len(obs) != 0 {
		t.Errorf("an empty range: %+v, %v", obs, err)
	}
}
