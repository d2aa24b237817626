package storetest

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"orderhub/internal/order"
	"orderhub/internal/store"
)

func testCreate(t *testing.T, s *store.Store) {
	want := newOrder("C-1", order.StatusPaid, "12.30", base.Add(2*time.Minute))
	want.Freight = money(t, "0.30")
	want.Goods = money(t, "12.00")
	want.Discount = money(t, "0.00")
	want.Remark = "请尽快发货 \"快\""
	want.Items = append(want.Items, order.Item{SKU: "GIFT", Quantity: 1})
	in := incoming(t, want, received(0))

	before := time.Now()
	out := apply(t, s, in)
	after := time.Now()
	created := outcome{store.ResultCreated, 1, evs(order.EventCreated, order.EventPaid)}
	wantOutcomes(t, out, created)
	id := out[0].OrderID

	b, err := json.Marshal(out[0])
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"result":"created","version":1,"events":["created","paid"]}`; got != want {
		t.Errorf("Outcome as JSON = %s, want %s", got, want)
	}

	rec := getOrder(t, s, "shop", "C-1")
	if rec.ID != id || rec.Version != 1 {
		t.Errorf("GetOrder: ID %d Version %d, want %d 1", rec.ID, rec.Version, id)
	}
	if !rec.FirstSeenAt.Equal(received(0)) {
		t.Errorf("FirstSeenAt = %v, want the arrival time %v", rec.FirstSeenAt, received(0))
	}
	if rec.UpdatedAt.Before(before.Truncate(time.Microsecond)) || rec.UpdatedAt.After(after) {
		t.Errorf("UpdatedAt = %v, want the time of Apply, between %v and %v", rec.UpdatedAt, before, after)
	}
	equalOrder(t, rec.Order, want)

	gotEvents := events(t, s, id)
	wantEvents := []store.Event{
		{OrderID: id, Source: "shop", OrderNo: "C-1", Version: 1, Type: order.EventCreated, StatusFrom: "", StatusTo: order.StatusPaid, At: received(0)},
		{OrderID: id, Source: "shop", OrderNo: "C-1", Version: 1, Type: order.EventPaid, StatusFrom: "", StatusTo: order.StatusPaid, At: received(0)},
	}
	compareEvents(t, gotEvents, wantEvents)

	wantTimeline(t, s, id, []time.Time{received(0)}, created)
	tl := timeline(t, s, id)
	var detail map[string]any
	if err := json.Unmarshal(tl[0].Detail, &detail); err != nil {
		t.Fatal(err)
	}
	if detail["result"] != "created" || detail["version"] != 1.0 {
		t.Errorf("timeline detail = %s, want result created and version 1", tl[0].Detail)
	}

	vs := versions(t, s, id)
	if len(vs) != 1 || vs[0].Version != 1 || !vs[0].ReceivedAt.Equal(received(0)) || !bytes.Equal(vs[0].Raw, in.Raw) {
		t.Fatalf("Versions = %+v, want one version 1 received at %v with raw %q", vs, received(0), in.Raw)
	}
	if c := count(t, s); c != (store.Counts{Orders: 1, Versions: 1, Events: 2}) {
		t.Fatalf("Count = %+v, want 1 order, 1 version, 2 events", c)
	}

	// The same number from another source is another order.
	other := want
	other.Source = "mall"
	out2 := apply(t, s, incoming(t, other, received(1)))
	wantOutcomes(t, out2, created)
	if out2[0].OrderID == id {
		t.Fatalf("mall/C-1 got the id of shop/C-1 (%d)", id)
	}
	if rec := getOrder(t, s, "mall", "C-1"); rec.ID != out2[0].OrderID || rec.Order.Source != "mall" {
		t.Fatalf("GetOrder(mall, C-1) = id %d source %s, want %d mall", rec.ID, rec.Order.Source, out2[0].OrderID)
	}
	if rec := getOrder(t, s, "shop", "C-1"); rec.ID != id || rec.Version != 1 {
		t.Fatalf("shop/C-1 changed by mall/C-1: id %d version %d", rec.ID, rec.Version)
	}
}

func compareEvents(t testing.TB, got, want []store.Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d events, want %d:\n got %+v\nwant %+v", len(got), len(want), got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if i > 0 && g.ID <= got[i-1].ID {
			t.Errorf("event %d: id %d not above the previous %d", i, g.ID, got[i-1].ID)
		}
		if g.ID <= 0 {
			t.Errorf("event %d: id %d", i, g.ID)
		}
		w.ID, w.XID = g.ID, g.XID
		if i > 0 && (g.XID < got[i-1].XID) {
			t.Errorf("event %d: written by transaction %d, before the previous one's %d", i, g.XID, got[i-1].XID)
		}
		if !g.At.Equal(w.At) {
			t.Errorf("event %d: At = %v, want %v", i, g.At, w.At)
		}
		g.At, w.At = time.Time{}, time.Time{}
		if g != w {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

func testNotFound(t *testing.T, s *store.Store) {
	ctx := context.Background()
	r, err := s.GetOrder(ctx, "shop", "nope")
	if !errors.Is(err, store.ErrNotFound) || r != nil {
		t.Fatalf("GetOrder of a missing order = %v, %v; want nil, ErrNotFound", r, err)
	}
	apply(t, s, incoming(t, newOrder("N-1", order.StatusPaid, "1.00", base), received(0)))
	for _, k := range [][2]string{{"shop", "N-2"}, {"mall", "N-1"}, {"", ""}} {
		if r, err := s.GetOrder(ctx, k[0], k[1]); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetOrder(%q, %q) = %v, %v; want ErrNotFound", k[0], k[1], r, err)
		}
	}
	// Lists of an unknown order are empty, not errors.
	if e, err := s.Events(ctx, 1<<40); err != nil || len(e) != 0 {
		t.Errorf("Events(unknown) = %v, %v", e, err)
	}
	if tl, err := s.Timeline(ctx, 1<<40); err != nil || len(tl) != 0 {
		t.Errorf("Timeline(unknown) = %v, %v", tl, err)
	}
	if v, err := s.Versions(ctx, 1<<40); err != nil || len(v) != 0 {
		t.Errorf("Versions(unknown) = %v, %v", v, err)
	}
}

func testEmptyBatch(t *testing.T, s *store.Store) {
	called := false
	out, err := s.Apply(context.Background(), nil, func(context.Context, *sql.Tx, []store.Incoming, []store.Outcome) error {
		called = true
		return nil
	})
	if err != nil || len(out) != 0 {
		t.Fatalf("Apply(nil) = %v, %v; want no outcomes and no error", out, err)
	}
	if called {
		t.Error("Apply(nil) ran the hook")
	}
	if c := count(t, s); c != (store.Counts{}) {
		t.Fatalf("Count after Apply(nil) = %+v", c)
	}
}

func testDuplicate(t *testing.T, s *store.Store) {
	o := newOrder("D-1", order.StatusPaid, "12.30", base)
	in := incoming(t, o, received(0))
	first := apply(t, s, in)
	wantOutcomes(t, first, outcome{store.ResultCreated, 1, evs(order.EventCreated, order.EventPaid)})
	id := first[0].OrderID
	recBefore := getOrder(t, s, "shop", "D-1")
	countBefore := count(t, s)
	timelineBefore := countRows(t, s, "order_timeline")

	// Again, later, and again in a batch beside a new order: the payload is
	// the same bytes, so nothing is written for it.
	in.ReceivedAt = received(5)
	wantOutcomes(t, apply(t, s, in), outcome{store.ResultDuplicate, 1, nil})
	other := incoming(t, newOrder("D-2", order.StatusCreated, "3.00", base), received(6))
	out := apply(t, s, in, other)
	wantOutcomes(t, out, outcome{store.ResultDuplicate, 1, nil}, outcome{store.ResultCreated, 1, evs(order.EventCreated)})
	if out[0].OrderID != id || out[1].OrderID == id {
		t.Fatalf("OrderIDs = %d, %d; want %d and another", out[0].OrderID, out[1].OrderID, id)
	}

	if c, want := count(t, s), (store.Counts{Orders: countBefore.Orders + 1, Versions: countBefore.Versions + 1, Events: countBefore.Events + 1}); c != want {
		t.Fatalf("Count = %+v, want %+v (only D-2 added)", c, want)
	}
	// Accepted versions are their own timeline steps: no rows are added.
	if n := countRows(t, s, "order_timeline"); n != timelineBefore {
		t.Fatalf("order_timeline has %d rows, want %d (versions are not copied there)", n, timelineBefore)
	}
	if tl := timeline(t, s, out[1].OrderID); len(tl) != 1 || tl[0].Stage != "received" {
		t.Fatalf("D-2's timeline = %+v, want one received step", tl)
	}
	rec := getOrder(t, s, "shop", "D-1")
	if rec.Version != 1 || !rec.UpdatedAt.Equal(recBefore.UpdatedAt) {
		t.Fatalf("D-1 after duplicates: version %d updated %v; want 1 and %v", rec.Version, rec.UpdatedAt, recBefore.UpdatedAt)
	}
	if n := len(events(t, s, id)); n != 2 {
		t.Fatalf("D-1 has %d events, want 2", n)
	}
	wantTimeline(t, s, id, []time.Time{received(0)}, outcome{store.ResultCreated, 1, evs(order.EventCreated, order.EventPaid)})
}

// step is one document in a sequence applied to one order.
type step struct {
	change func(o *order.Order)
	want   outcome
}

func testTransitions(t *testing.T, s *store.Store) {
	status := func(st order.Status) func(*order.Order) { return func(o *order.Order) { o.Status = st } }
	tests := []struct {
		name  string
		first order.Status
		steps []step
	}{
		{"paid then shipped", order.StatusPaid, []step{
			{status(order.StatusShipped), outcome{store.ResultUpdated, 2, evs(order.EventShipped)}},
		}},
		{"total changed, same status", order.StatusPaid, []step{
			{func(o *order.Order) { o.Total = 1500 }, outcome{store.ResultUpdated, 2, evs(order.EventChanged)}},
		}},
		{"shipped and total changed", order.StatusPaid, []step{
			{func(o *order.Order) { o.Status, o.Total = order.StatusShipped, 999 }, outcome{store.ResultUpdated, 2, evs(order.EventShipped, order.EventChanged)}},
		}},
		{"shipped, then total changed", order.StatusPaid, []step{
			{status(order.StatusShipped), outcome{store.ResultUpdated, 2, evs(order.EventShipped)}},
			{func(o *order.Order) { o.Total = 1500 }, outcome{store.ResultUpdated, 3, evs(order.EventChanged)}},
		}},
		{"created then completed", order.StatusCreated, []step{
			{status(order.StatusCompleted), outcome{store.ResultUpdated, 2, evs(order.EventPaid, order.EventShipped, order.EventCompleted)}},
		}},
		{"paid then cancelled", order.StatusPaid, []step{
			{status(order.StatusCancelled), outcome{store.ResultUpdated, 2, evs(order.EventCancelled)}},
		}},
		{"shipped back to paid", order.StatusShipped, []step{
			{status(order.StatusPaid), outcome{store.ResultUpdated, 2, evs(order.EventChanged)}},
		}},
		{"only the source's time moved", order.StatusPaid, []step{
			{func(*order.Order) {}, outcome{store.ResultUpdated, 2, nil}},
		}},
		{"first tracking number, then another", order.StatusPaid, []step{
			{func(o *order.Order) { o.Status, o.Shipping.TrackingNo = order.StatusShipped, "SF1" }, outcome{store.ResultUpdated, 2, evs(order.EventShipped)}},
			{func(o *order.Order) { o.Shipping.TrackingNo = "SF2" }, outcome{store.ResultUpdated, 3, evs(order.EventChanged)}},
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			no := fmt.Sprintf("T-%d", i)
			o := newOrder(no, tt.first, "12.30", base)
			first := incoming(t, o, received(0))
			firstEvents := append(evs(order.EventCreated), map[order.Status][]order.EventType{
				order.StatusCreated: nil,
				order.StatusPaid:    evs(order.EventPaid),
				order.StatusShipped: evs(order.EventPaid, order.EventShipped),
			}[tt.first]...)
			out := apply(t, s, first)
			wantOutcomes(t, out, outcome{store.ResultCreated, 1, firstEvents})
			id := out[0].OrderID

			ins := []store.Incoming{first}
			outs := []outcome{{store.ResultCreated, 1, firstEvents}}
			var wantEvents []store.Event
			for _, e := range firstEvents {
				wantEvents = append(wantEvents, store.Event{OrderID: id, Source: "shop", OrderNo: no, Version: 1, Type: e, StatusTo: tt.first, At: received(0)})
			}
			for j, st := range tt.steps {
				prev := o.Status
				st.change(&o)
				o.UpdatedAt = base.Add(time.Duration(j+1) * time.Minute)
				in := incoming(t, o, received(j+1))
				got := apply(t, s, in)
				wantOutcomes(t, got, st.want)
				if got[0].OrderID != id {
					t.Fatalf("step %d: OrderID %d, want %d", j, got[0].OrderID, id)
				}
				ins, outs = append(ins, in), append(outs, st.want)
				for _, e := range st.want.events {
					wantEvents = append(wantEvents, store.Event{OrderID: id, Source: "shop", OrderNo: no, Version: st.want.version, Type: e, StatusFrom: prev, StatusTo: o.Status, At: received(j + 1)})
				}
			}

			rec := getOrder(t, s, "shop", no)
			if rec.ID != id || rec.Version != int64(len(ins)) {
				t.Fatalf("GetOrder: id %d version %d, want %d %d", rec.ID, rec.Version, id, len(ins))
			}
			equalOrder(t, rec.Order, o)
			compareEvents(t, events(t, s, id), wantEvents)
			at := make([]time.Time, len(ins))
			for j := range ins {
				at[j] = received(j)
			}
			wantTimeline(t, s, id, at, outs...)
			vs := versions(t, s, id)
			if len(vs) != len(ins) {
				t.Fatalf("%d versions, want %d", len(vs), len(ins))
			}
			for j, v := range vs {
				if v.Version != int64(j+1) || !v.ReceivedAt.Equal(received(j)) || !bytes.Equal(v.Raw, ins[j].Raw) {
					t.Errorf("version %d = %d at %v %q, want %d at %v %q", j, v.Version, v.ReceivedAt, v.Raw, j+1, received(j), ins[j].Raw)
				}
			}
		})
	}
}

func testStale(t *testing.T, s *store.Store) {
	t.Run("older document", func(t *testing.T) {
		v2 := newOrder("S-1", order.StatusShipped, "12.30", base.Add(10*time.Minute))
		out := apply(t, s, incoming(t, v2, received(0)))
		wantOutcomes(t, out, outcome{store.ResultCreated, 1, evs(order.EventCreated, order.EventPaid, order.EventShipped)})
		id := out[0].OrderID
		recBefore := getOrder(t, s, "shop", "S-1")
		countBefore := count(t, s)

		// An older document that arrives late, different in status and total.
		v1 := newOrder("S-1", order.StatusPaid, "99.00", base.Add(5*time.Minute))
		got := apply(t, s, incoming(t, v1, received(1)))
		wantOutcomes(t, got, outcome{store.ResultStale, 1, nil})
		if got[0].OrderID != id {
			t.Fatalf("stale OrderID = %d, want %d", got[0].OrderID, id)
		}
		rec := getOrder(t, s, "shop", "S-1")
		if rec.Version != 1 || !rec.UpdatedAt.Equal(recBefore.UpdatedAt) {
			t.Fatalf("after a stale document: version %d, updated %v; want 1, %v", rec.Version, rec.UpdatedAt, recBefore.UpdatedAt)
		}
		equalOrder(t, rec.Order, v2)
		// A stale document is one timeline step, nothing else.
		if c, want := count(t, s), (store.Counts{Orders: countBefore.Orders, Versions: countBefore.Versions, Events: countBefore.Events, Steps: countBefore.Steps + 1}); c != want {
			t.Fatalf("Count after a stale document = %+v, want %+v", c, want)
		}
		if n := len(versions(t, s, id)); n != 1 {
			t.Fatalf("%d versions after a stale document, want 1", n)
		}
		wantTimeline(t, s, id, []time.Time{received(0), received(1)},
			outcome{store.ResultCreated, 1, evs(order.EventCreated, order.EventPaid, order.EventShipped)},
			outcome{store.ResultStale, 1, nil})

		// Newer again: taken.
		v3 := v2
		v3.Status, v3.UpdatedAt = order.StatusCompleted, base.Add(20*time.Minute)
		wantOutcomes(t, apply(t, s, incoming(t, v3, received(2))), outcome{store.ResultUpdated, 2, evs(order.EventCompleted)})
	})

	// Whether a changed document is stale depends only on the source's
	// updated_at of it and of the stored version.
	tests := []struct {
		name            string
		stored, arrives time.Duration // offsets from base; -1 for no updated_at
		want            store.Result
	}{
		{"older", 10 * time.Minute, 9 * time.Minute, store.ResultStale},
		{"one microsecond older", 10 * time.Minute, 10*time.Minute - time.Microsecond, store.ResultStale},
		{"same time", 10 * time.Minute, 10 * time.Minute, store.ResultUpdated},
		{"newer", 10 * time.Minute, 11 * time.Minute, store.ResultUpdated},
		{"arrives without updated_at", 10 * time.Minute, -1, store.ResultUpdated},
		{"stored without updated_at", -1, 9 * time.Minute, store.ResultUpdated},
	}
	at := func(d time.Duration) time.Time {
		if d < 0 {
			return time.Time{}
		}
		return base.Add(d)
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			no := fmt.Sprintf("S-T%d", i)
			o := newOrder(no, order.StatusPaid, "1.00", at(tt.stored))
			wantOutcomes(t, apply(t, s, incoming(t, o, received(0))), outcome{store.ResultCreated, 1, evs(order.EventCreated, order.EventPaid)})
			o.Total, o.UpdatedAt = 200, at(tt.arrives)
			want := outcome{tt.want, 1, nil}
			if tt.want == store.ResultUpdated {
				want = outcome{tt.want, 2, evs(order.EventChanged)}
			}
			wantOutcomes(t, apply(t, s, incoming(t, o, received(1))), want)
			if rec := getOrder(t, s, "shop", no); rec.Version != want.version {
				t.Fatalf("stored version %d, want %d", rec.Version, want.version)
			}
		})
	}
}

func testSameOrderInOneBatch(t *testing.T, s *store.Store) {
	t.Run("v1, retry, v2", func(t *testing.T) {
		v1 := newOrder("B-1", order.StatusPaid, "12.30", base)
		v2 := v1
		v2.Status, v2.UpdatedAt = order.StatusShipped, base.Add(time.Minute)
		in1, in2 := incoming(t, v1, received(0)), incoming(t, v2, received(2))
		retry := in1
		retry.ReceivedAt = received(1)
		out := apply(t, s, in1, retry, in2)
		wantOutcomes(t, out,
			outcome{store.ResultCreated, 1, evs(order.EventCreated, order.EventPaid)},
			outcome{store.ResultDuplicate, 1, nil},
			outcome{store.ResultUpdated, 2, evs(order.EventShipped)})
		id := out[0].OrderID
		if out[1].OrderID != id || out[2].OrderID != id {
			t.Fatalf("OrderIDs %d %d %d, want all the same", out[0].OrderID, out[1].OrderID, out[2].OrderID)
		}
		rec := getOrder(t, s, "shop", "B-1")
		if rec.ID != id || rec.Version != 2 || !rec.FirstSeenAt.Equal(received(0)) {
			t.Fatalf("GetOrder: id %d version %d first seen %v; want %d 2 %v", rec.ID, rec.Version, rec.FirstSeenAt, id, received(0))
		}
		equalOrder(t, rec.Order, v2)
		if c := count(t, s); c != (store.Counts{Orders: 1, Versions: 2, Events: 3}) {
			t.Fatalf("Count = %+v, want 1 order, 2 versions, 3 events", c)
		}
		vs := versions(t, s, id)
		if len(vs) != 2 || !bytes.Equal(vs[0].Raw, in1.Raw) || !bytes.Equal(vs[1].Raw, in2.Raw) ||
			!vs[0].ReceivedAt.Equal(received(0)) || !vs[1].ReceivedAt.Equal(received(2)) {
			t.Fatalf("Versions = %+v", vs)
		}
		compareEvents(t, events(t, s, id), []store.Event{
			{OrderID: id, Source: "shop", OrderNo: "B-1", Version: 1, Type: order.EventCreated, StatusTo: order.StatusPaid, At: received(0)},
			{OrderID: id, Source: "shop", OrderNo: "B-1", Version: 1, Type: order.EventPaid, StatusTo: order.StatusPaid, At: received(0)},
			{OrderID: id, Source: "shop", OrderNo: "B-1", Version: 2, Type: order.EventShipped, StatusFrom: order.StatusPaid, StatusTo: order.StatusShipped, At: received(2)},
		})
		wantTimeline(t, s, id, []time.Time{received(0), received(2)},
			outcome{store.ResultCreated, 1, evs(order.EventCreated, order.EventPaid)},
			outcome{store.ResultUpdated, 2, evs(order.EventShipped)})
	})

	t.Run("stored order, several versions and a stale one", func(t *testing.T) {
		v1 := newOrder("B-2", order.StatusCreated, "5.00", base)
		wantOutcomes(t, apply(t, s, incoming(t, v1, received(0))), outcome{store.ResultCreated, 1, evs(order.EventCreated)})
		v2, v3, old := v1, v1, v1
		v2.Status, v2.UpdatedAt = order.StatusPaid, base.Add(2*time.Minute)
		v3.Status, v3.UpdatedAt = order.StatusShipped, base.Add(3*time.Minute)
		old.Remark, old.UpdatedAt = "late", base.Add(time.Minute)
		other := newOrder("B-3", order.StatusPaid, "1.00", base)
		out := apply(t, s, incoming(t, v2, received(1)), incoming(t, other, received(2)), incoming(t, old, received(3)), incoming(t, v3, received(4)), incoming(t, v2, received(5)))
		wantOutcomes(t, out,
			outcome{store.ResultUpdated, 2, evs(order.EventPaid)},
			outcome{store.ResultCreated, 1, evs(order.EventCreated, order.EventPaid)},
			outcome{store.ResultStale, 2, nil},
			outcome{store.ResultUpdated, 3, evs(order.EventShipped)},
			outcome{store.ResultStale, 3, nil})
		if id := out[0].OrderID; out[2].OrderID != id || out[3].OrderID != id || out[4].OrderID != id || out[1].OrderID == id {
			t.Fatalf("OrderIDs = %d %d %d %d %d", out[0].OrderID, out[1].OrderID, out[2].OrderID, out[3].OrderID, out[4].OrderID)
		}
		rec := getOrder(t, s, "shop", "B-2")
		if rec.Version != 3 || len(versions(t, s, rec.ID)) != 3 {
			t.Fatalf("B-2: version %d, %d versions; want 3, 3", rec.Version, len(versions(t, s, rec.ID)))
		}
		equalOrder(t, rec.Order, v3)
		wantTimeline(t, s, rec.ID, []time.Time{received(0), received(1), received(3), received(4), received(5)},
			outcome{store.ResultCreated, 1, evs(order.EventCreated)},
			outcome{store.ResultUpdated, 2, evs(order.EventPaid)},
			outcome{store.ResultStale, 2, nil},
			outcome{store.ResultUpdated, 3, evs(order.EventShipped)},
			outcome{store.ResultStale, 3, nil})
	})
}

func testManyOrders(t *testing.T, s *store.Store) {
	// 3000 orders take two upsert statements and three event inserts; 8100
	// also split the lookup of current orders.
	for _, n := range []int{600, 3000, 8100} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			prefix := fmt.Sprintf("M%d-", n)
			countBefore := count(t, s)
			in := make([]store.Incoming, n)
			for i := range in {
				in[i] = incoming(t, newOrder(fmt.Sprintf("%s%05d", prefix, i), order.StatusPaid, "12.30", base), received(i))
			}
			out := apply(t, s, in...)
			ids := make(map[int64]string, n)
			for i, o := range out {
				if o.Result != store.ResultCreated || o.Version != 1 || !reflect.DeepEqual(o.Events, evs(order.EventCreated, order.EventPaid)) {
					t.Fatalf("outcome %d = %+v, want created v1 [created paid]", i, o)
				}
				if prev, dup := ids[o.OrderID]; dup || o.OrderID <= 0 {
					t.Fatalf("outcome %d: OrderID %d (also %q)", i, o.OrderID, prev)
				}
				ids[o.OrderID] = in[i].Order.OrderNo
			}
			if c, want := count(t, s), (store.Counts{
				Orders:   countBefore.Orders + int64(n),
				Versions: countBefore.Versions + int64(n),
				Events:   countBefore.Events + 2*int64(n),
			}); c != want {
				t.Fatalf("Count = %+v, want %+v", c, want)
			}
			checkIDs(t, s, prefix, ids)

			// Every one again, shipped: loadCurrent finds them all and the
			// upsert updates them in place.
			for i := range in {
				in[i].Order.Status, in[i].Order.UpdatedAt = order.StatusShipped, base.Add(time.Hour)
				in[i] = incoming(t, in[i].Order, received(n+i))
			}
			out2 := apply(t, s, in...)
			for i, o := range out2 {
				if o.Result != store.ResultUpdated || o.Version != 2 || !reflect.DeepEqual(o.Events, evs(order.EventShipped)) || o.OrderID != out[i].OrderID {
					t.Fatalf("second pass, outcome %d = %+v, want updated v2 [shipped] id %d", i, o, out[i].OrderID)
				}
			}
			checkIDs(t, s, prefix, ids)
			var bad int64
			if err := s.DB().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM orders o WHERE o.order_no LIKE '`+prefix+`%' AND (o.version <> 2 OR o.status <> 'shipped'
				OR (SELECT COUNT(*) FROM order_versions v WHERE v.order_id = o.id) <> 2
				OR (SELECT COUNT(*) FROM order_events e WHERE e.order_id = o.id) <> 3
				OR (SELECT COUNT(*) FROM order_timeline l WHERE l.order_id = o.id) <> 0)`).Scan(&bad); err != nil {
				t.Fatal(err)
			}
			if bad != 0 {
				t.Fatalf("%d orders do not have version 2, status shipped, 2 versions, 3 events and no extra timeline rows", bad)
			}
			// Spot checks through the API.
			for _, i := range []int{0, n / 2, n - 1} {
				rec := getOrder(t, s, "shop", in[i].Order.OrderNo)
				if rec.ID != out[i].OrderID || rec.Version != 2 || rec.Order.Status != order.StatusShipped {
					t.Fatalf("GetOrder(%s) = id %d v%d %s", in[i].Order.OrderNo, rec.ID, rec.Version, rec.Order.Status)
				}
				if vs := versions(t, s, rec.ID); len(vs) != 2 || !bytes.Equal(vs[1].Raw, in[i].Raw) {
					t.Fatalf("Versions(%s) = %d versions or wrong raw", in[i].Order.OrderNo, len(vs))
				}
			}

			// More than 500 orders: a page holds at most 500.
			page, err := s.ListOrders(context.Background(), store.ListFilter{Limit: 1000})
			if err != nil || len(page.Records) != 500 || !page.More {
				t.Fatalf("ListOrders(Limit 1000) = %d orders, more %v, %v; want 500 and more", len(page.Records), page.More, err)
			}
		})
	}
}

// checkIDs compares the ids Apply reported with the ones in the table.
func checkIDs(t testing.TB, s *store.Store, prefix string, want map[int64]string) {
	t.Helper()
	rows, err := s.DB().QueryContext(context.Background(), `SELECT id, order_no FROM orders WHERE order_no LIKE '`+prefix+`%'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id int64
		var no string
		if err := rows.Scan(&id, &no); err != nil {
			t.Fatal(err)
		}
		if want[id] != no {
			t.Fatalf("order %s has id %d, but Apply reported that id for %q", no, id, want[id])
		}
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != len(want) {
		t.Fatalf("%d orders stored with prefix %s, want %d", n, prefix, len(want))
	}
}

func testRawBytesExact(t *testing.T, s *store.Store) {
	big := bytes.Repeat([]byte("0123456789abcdef\x00\xff"), 1<<16) // 1.1 MiB
	tests := []struct {
		name string
		raw  []byte
	}{
		{"binary", []byte{0, 1, 2, 0xff, 0xfe, '\'', '"', '\\', 0, '?', '$', '1'}},
		{"invalid UTF-8", []byte("caf\xc3(\xa0\xa1")},
		{"unicode", []byte(`{"买家":"张三","emoji":"🛒"}`)},
		{"empty", []byte{}},
		{"large", big},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := store.Incoming{Order: newOrder(fmt.Sprintf("RAW-%d", i), order.StatusPaid, "1.00", base), Raw: tt.raw, ReceivedAt: received(i)}
			out := apply(t, s, in)
			wantOutcomes(t, out, outcome{store.ResultCreated, 1, evs(order.EventCreated, order.EventPaid)})
			vs := versions(t, s, out[0].OrderID)
			if len(vs) != 1 || !bytes.Equal(vs[0].Raw, tt.raw) {
				var got []byte
				if len(vs) == 1 {
					got = vs[0].Raw
				}
				t.Fatalf("stored raw (%d bytes) differs from the %d bytes given: %.64q", len(got), len(tt.raw), got)
			}
			// The same bytes again are a duplicate.
			wantOutcomes(t, apply(t, s, in), outcome{store.ResultDuplicate, 1, nil})
		})
	}
}

func testHook(t *testing.T, s *store.Store) {
	ctx := context.Background()
	ph := "?"
	if s.Dialect() == store.Postgres {
		ph = "$1"
	}
	insertCursor := func(consumer string) func(ctx context.Context, tx *sql.Tx) error {
		return func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO event_cursors (consumer, last_id) VALUES ('`+consumer+`', `+ph+`)`, 1)
			return err
		}
	}
	cursor := func(consumer string) int64 {
		t.Helper()
		var n int64
		err := s.DB().QueryRowContext(ctx, strings.ReplaceAll(`SELECT COUNT(*) FROM event_cursors WHERE consumer = ?`, "?", ph), consumer).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	t.Run("sees the outcomes and writes in the transaction", func(t *testing.T) {
		stored := incoming(t, newOrder("H-0", order.StatusPaid, "1.00", base), received(0))
		apply(t, s, stored)
		changed := stored.Order
		changed.Status, changed.UpdatedAt = order.StatusShipped, base.Add(time.Minute)
		in := []store.Incoming{
			incoming(t, newOrder("H-1", order.StatusPaid, "1.00", base), received(1)),
			stored,
			incoming(t, changed, received(2)),
		}
		var seenIn []store.Incoming
		var seenOut []store.Outcome
		calls := 0
		out, err := s.Apply(ctx, in, func(ctx context.Context, tx *sql.Tx, in []store.Incoming, out []store.Outcome) error {
			calls++
			seenIn, seenOut = append([]store.Incoming(nil), in...), append([]store.Outcome(nil), out...)
			// The orders are written already, in this transaction.
			var n int64
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM orders WHERE order_no IN ('H-0', 'H-1')`).Scan(&n); err != nil {
				return err
			}
			if n != 2 {
				return fmt.Errorf("the hook sees %d of the batch's orders, want 2", n)
			}
			return insertCursor("hooktest")(ctx, tx)
		})
		if err != nil {
			t.Fatalf("Apply: %v", err)
		}
		wantOutcomes(t, out,
			outcome{store.ResultCreated, 1, evs(order.EventCreated, order.EventPaid)},
			outcome{store.ResultDuplicate, 1, nil},
			outcome{store.ResultUpdated, 2, evs(order.EventShipped)})
		if calls != 1 {
			t.Fatalf("hook ran %d times, want once", calls)
		}
		if !reflect.DeepEqual(seenOut, out) {
			t.Fatalf("hook saw outcomes %+v, Apply returned %+v", seenOut, out)
		}
		if len(seenIn) != len(in) || seenIn[0].Order.OrderNo != "H-1" || seenIn[2].Order.Status != order.StatusShipped {
			t.Fatalf("hook saw %d documents, not the batch", len(seenIn))
		}
		if n := cursor("hooktest"); n != 1 {
			t.Fatalf("the hook's row: %d, want 1 (committed with the batch)", n)
		}
	})

	t.Run("an error stores nothing", func(t *testing.T) {
		stored := incoming(t, newOrder("HE-0", order.StatusPaid, "1.00", base), received(0))
		first := apply(t, s, stored)
		id := first[0].OrderID
		countBefore := count(t, s)
		timelineBefore := countRows(t, s, "order_timeline")
		changed := stored.Order
		changed.Status, changed.UpdatedAt = order.StatusShipped, base.Add(time.Minute)
		stale := stored.Order
		stale.Remark, stale.UpdatedAt = "old", base.Add(-time.Minute)
		in := []store.Incoming{
			incoming(t, newOrder("HE-1", order.StatusPaid, "1.00", base), received(1)),
			incoming(t, changed, received(2)),
			incoming(t, stale, received(3)),
		}
		boom := errors.New("boom")
		out, err := s.Apply(ctx, in, func(ctx context.Context, tx *sql.Tx, _ []store.Incoming, _ []store.Outcome) error {
			if err := insertCursor("hookfail")(ctx, tx); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) || out != nil {
			t.Fatalf("Apply with a failing hook = %v, %v; want nil and an error wrapping the hook's", out, err)
		}
		if c := count(t, s); c != countBefore {
			t.Fatalf("Count after a failed Apply = %+v, want %+v", c, countBefore)
		}
		if n := countRows(t, s, "order_timeline"); n != timelineBefore {
			t.Fatalf("order_timeline has %d rows after a failed Apply, want %d", n, timelineBefore)
		}
		if _, err := s.GetOrder(ctx, "shop", "HE-1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("GetOrder of the failed batch's new order: %v, want ErrNotFound", err)
		}
		rec := getOrder(t, s, "shop", "HE-0")
		if rec.Version != 1 || rec.Order.Status != order.StatusPaid || len(versions(t, s, id)) != 1 || len(events(t, s, id)) != 2 {
			t.Fatalf("HE-0 changed by the failed batch: version %d status %s", rec.Version, rec.Order.Status)
		}
		if n := cursor("hookfail"); n != 0 {
			t.Fatalf("the failing hook's row was kept")
		}
		// Nothing half-done is left behind: the same batch goes in whole.
		wantOutcomes(t, apply(t, s, in...),
			outcome{store.ResultCreated, 1, evs(order.EventCreated, order.EventPaid)},
			outcome{store.ResultUpdated, 2, evs(order.EventShipped)},
			outcome{store.ResultStale, 2, nil})
	})
}

// A document accepted with warnings puts each on the timeline as a
// "warning" step beside its version, in the same transaction; a duplicate of
// it adds nothing, a later clean version adds no warning.
func testWarnings(t *testing.T, s *store.Store) {
	w := order.Warning{Code: order.WarnTotalsMismatch, Field: "total_goods_price", Message: "total_goods_price 9.00 differs from the sum of the lines' total_price, 7.00, by 2.00"}
	in := incoming(t, newOrder("W-1", order.StatusPaid, "9.00", base), received(0))
	in.Warnings = []order.Warning{w}
	out := apply(t, s, in)
	wantOutcomes(t, out, outcome{store.ResultCreated, 1, evs(order.EventCreated, order.EventPaid)})
	id := out[0].OrderID

	stages := func() []string {
		var st []string
		for _, e := range timeline(t, s, id) {
			st = append(st, e.Stage)
		}
		return st
	}
	tl := timeline(t, s, id)
	if got := stages(); len(got) != 2 || got[0] != "received" || got[1] != "warning" {
		t.Fatalf("timeline stages %v, want received, warning", got)
	}
	var got order.Warning
	if err := json.Unmarshal(tl[1].Detail, &got); err != nil || got != w {
		t.Fatalf("warning step detail %s (%v), want %+v", tl[1].Detail, err, w)
	}
	if !tl[1].At.Equal(received(0)) {
		t.Errorf("warning step at %v, want the push's %v", tl[1].At, received(0))
	}

	in.ReceivedAt = received(1)
	wantOutcomes(t, apply(t, s, in), outcome{store.ResultDuplicate, 1, nil})
	clean := incoming(t, newOrder("W-1", order.StatusShipped, "9.00", base.Add(time.Hour)), received(2))
	wantOutcomes(t, apply(t, s, clean), outcome{store.ResultUpdated, 2, evs(order.EventShipped)})
	if got := stages(); len(got) != 3 || got[2] != "received" {
		t.Fatalf("timeline stages %v, want received, warning, received", got)
	}
	if c := count(t, s); c.Steps != 1 {
		t.Fatalf("Count = %+v, want 1 timeline step", c)
	}
}
