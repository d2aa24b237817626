package storetest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"orderhub/internal/order"
	"orderhub/internal/store"
)

// orderNos lists the order numbers of records.
func orderNos(rs []store.Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Order.Source + "/" + r.Order.OrderNo
	}
	return out
}

// list returns a page's order numbers, its cursor and whether more follow.
func list(t testing.TB, s *store.Store, f store.ListFilter) ([]string, string, bool) {
	t.Helper()
	p, err := s.ListOrders(context.Background(), f)
	if err != nil {
		t.Fatalf("ListOrders(%+v): %v", f, err)
	}
	return orderNos(p.Records), p.Cursor, p.More
}

// waitClockTick makes sure the wall clock has moved on by more than the
// stored resolution (a microsecond), so that "changed since" is unambiguous.
func waitClockTick() { time.Sleep(2 * time.Millisecond) }

func testListOrders(t *testing.T, s *store.Store) {
	// Seven orders, changed (by the hub) in this order: four in one batch,
	// then three one by one.
	type fixture struct {
		source string
		status order.Status
	}
	fixtures := []fixture{
		{"shop", order.StatusPaid}, {"shop", order.StatusShipped}, {"mall", order.StatusPaid}, {"shop", order.StatusCreated},
		{"mall", order.StatusShipped}, {"shop", order.StatusPaid}, {"shop", order.StatusShipped},
	}
	all := make([]string, len(fixtures))
	in := make([]store.Incoming, len(fixtures))
	for i, f := range fixtures {
		o := newOrder(fmt.Sprintf("L-%d", i+1), f.status, "10.00", base)
		o.Source = f.source
		in[i] = incoming(t, o, received(i))
		all[i] = f.source + "/" + o.OrderNo
	}
	apply(t, s, in[:4]...)
	waitClockTick()
	since := time.Now()
	waitClockTick()
	for i := 4; i < len(in); i++ {
		apply(t, s, in[i])
	}

	// Paging by three: 3, 3, 1, each page's cursor leading to the next.
	var got []string
	var cursors []string
	cursor := ""
	for page, wantLen := range []int{3, 3, 1} {
		nos, next, more := list(t, s, store.ListFilter{Limit: 3, Cursor: cursor})
		if len(nos) != wantLen {
			t.Fatalf("page %d: %v, want %d orders", page, nos, wantLen)
		}
		if last := page == 2; more == last || next == "" || next == cursor {
			t.Fatalf("page %d: cursor %q after %q, more %v (last page: %v)", page, next, cursor, more, last)
		}
		got = append(got, nos...)
		cursors = append(cursors, next)
		cursor = next
	}
	// Past the end: nothing, no more, and the same position to come back to.
	if nos, next, more := list(t, s, store.ListFilter{Limit: 3, Cursor: cursor}); len(nos) != 0 || more || next != cursor {
		t.Fatalf("past the last page: %v, cursor %q, more %v; want nothing and cursor %q", nos, next, more, cursor)
	}
	if !slices.Equal(got, all) {
		t.Fatalf("paging by 3 gave %v, want every order once, in the order changed: %v", got, all)
	}
	// Records carry the stored state.
	p, err := s.ListOrders(context.Background(), store.ListFilter{Limit: 1})
	rs := p.Records
	if err != nil || len(rs) != 1 {
		t.Fatalf("ListOrders(Limit 1) = %d records, %v", len(rs), err)
	}
	first := getOrder(t, s, "shop", "L-1")
	if rs[0].ID != first.ID || rs[0].Version != 1 || !rs[0].UpdatedAt.Equal(first.UpdatedAt) || !rs[0].FirstSeenAt.Equal(received(0)) {
		t.Fatalf("ListOrders record = %+v, want %+v", rs[0], *first)
	}
	equalOrder(t, rs[0].Order, in[0].Order)

	tests := []struct {
		name string
		f    store.ListFilter
		want []int // indexes into all
	}{
		{"no filter, default limit", store.ListFilter{}, []int{0, 1, 2, 3, 4, 5, 6}},
		{"limit exactly the count", store.ListFilter{Limit: 7}, []int{0, 1, 2, 3, 4, 5, 6}},
		{"source", store.ListFilter{Source: "mall"}, []int{2, 4}},
		{"status", store.ListFilter{Status: order.StatusShipped}, []int{1, 4, 6}},
		{"source and status", store.ListFilter{Source: "shop", Status: order.StatusPaid}, []int{0, 5}},
		{"unknown source", store.ListFilter{Source: "nobody"}, nil},
		{"since", store.ListFilter{Since: since}, []int{4, 5, 6}},
		{"since and source", store.ListFilter{Since: since, Source: "shop"}, []int{5, 6}},
		{"since, in the future", store.ListFilter{Since: time.Now().Add(time.Hour)}, nil},
		{"cursor", store.ListFilter{Cursor: cursors[0]}, []int{3, 4, 5, 6}},
		{"cursor and status", store.ListFilter{Cursor: cursors[0], Status: order.StatusPaid}, []int{5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := []string{}
			for _, i := range tt.want {
				want = append(want, all[i])
			}
			nos, _, more := list(t, s, tt.f)
			if !slices.Equal(nos, want) || more {
				t.Fatalf("got %v more %v, want %v and no more", nos, more, want)
			}
		})
	}

	t.Run("filtered pages", func(t *testing.T) {
		f := store.ListFilter{Source: "shop", Limit: 2}
		var got []string
		for page := 0; ; page++ {
			nos, next, more := list(t, s, f)
			got = append(got, nos...)
			if !more {
				break
			}
			if page > 5 {
				t.Fatal("paging does not end")
			}
			f.Cursor = next
		}
		want := []string{all[0], all[1], all[3], all[5], all[6]}
		if !slices.Equal(got, want) {
			t.Fatalf("shop orders by 2: %v, want %v", got, want)
		}
	})

	t.Run("bad cursor", func(t *testing.T) {
		enc := base64.RawURLEncoding.EncodeToString
		for _, c := range []string{"!!!", "bm9wZQ==", enc([]byte("nope")), enc([]byte("12.x")), enc([]byte("x.12")), enc([]byte("."))} {
			p, err := s.ListOrders(context.Background(), store.ListFilter{Cursor: c})
			if !errors.Is(err, store.ErrBadCursor) || p.Records != nil || p.Cursor != "" {
				t.Errorf("cursor %q: %d records, cursor %q, err %v; want ErrBadCursor", c, len(p.Records), p.Cursor, err)
			}
		}
	})

	// Last: it changes an order. A client that paged to the end asks again
	// from the last cursor it got and sees exactly what changed.
	t.Run("changed after the last page", func(t *testing.T) {
		last := cursors[len(cursors)-1]
		if nos, _, more := list(t, s, store.ListFilter{Limit: 3, Cursor: last}); len(nos) != 0 || more {
			t.Fatalf("from the last cursor: %v more %v, want nothing yet", nos, more)
		}
		waitClockTick()
		o := in[1].Order
		o.Status, o.UpdatedAt = order.StatusCompleted, base.Add(time.Hour)
		wantOutcomes(t, apply(t, s, incoming(t, o, received(10))), outcome{store.ResultUpdated, 2, evs(order.EventCompleted)})

		nos, _, more := list(t, s, store.ListFilter{Limit: 3, Cursor: last})
		if want := []string{all[1]}; !slices.Equal(nos, want) || more {
			t.Fatalf("from the last cursor after changing %s: %v more %v, want %v", all[1], nos, more, want)
		}
		// And it has moved to the end of the full list.
		nos, _, _ = list(t, s, store.ListFilter{})
		if want := []string{all[0], all[2], all[3], all[4], all[5], all[6], all[1]}; !slices.Equal(nos, want) {
			t.Fatalf("after changing %s: %v, want %v", all[1], nos, want)
		}
		p, err := s.ListOrders(context.Background(), store.ListFilter{Limit: 2, Cursor: cursors[1]})
		rs := p.Records
		if err != nil || len(rs) != 2 || rs[0].Order.OrderNo != in[6].Order.OrderNo || rs[1].Version != 2 || rs[1].Order.Status != order.StatusCompleted {
			t.Fatalf("the changed order listed as %+v, %v; want version 2, completed", rs, err)
		}
	})
}

func testEventsAfterAndCursor(t *testing.T, s *store.Store) {
	ctx := context.Background()
	a := newOrder("E-A", order.StatusPaid, "1.00", base)
	b := newOrder("E-B", order.StatusCreated, "2.00", base)
	out := apply(t, s, incoming(t, a, received(0)), incoming(t, b, received(1)))
	a.Status, a.UpdatedAt = order.StatusShipped, base.Add(time.Minute)
	out2 := apply(t, s, incoming(t, a, received(2)))
	idA, idB := out[0].OrderID, out[1].OrderID
	if out2[0].OrderID != idA {
		t.Fatalf("E-A's id changed: %d, was %d", out2[0].OrderID, idA)
	}
	want := []store.Event{
		{OrderID: idA, Source: "shop", OrderNo: "E-A", Version: 1, Type: order.EventCreated, StatusTo: order.StatusPaid, At: received(0)},
		{OrderID: idA, Source: "shop", OrderNo: "E-A", Version: 1, Type: order.EventPaid, StatusTo: order.StatusPaid, At: received(0)},
		{OrderID: idB, Source: "shop", OrderNo: "E-B", Version: 1, Type: order.EventCreated, StatusTo: order.StatusCreated, At: received(1)},
		{OrderID: idA, Source: "shop", OrderNo: "E-A", Version: 2, Type: order.EventShipped, StatusFrom: order.StatusPaid, StatusTo: order.StatusShipped, At: received(2)},
	}

	// On PostgreSQL events become readable once every transaction older
	// than theirs has ended, anywhere in the cluster (other tests run
	// beside this one); after that they stay readable.
	waitFinal(t, s, len(want))
	tx, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	// Positions are (transaction, id); these tests name them by event id.
	var got []store.Event
	posOf := func(id int64) store.EventPosition {
		for _, e := range got {
			if e.ID == id {
				return e.Position()
			}
		}
		if id == 0 {
			return store.EventPosition{}
		}
		return store.EventPosition{XID: got[len(got)-1].XID, ID: id}
	}
	eventsAfter := func(after int64, limit int) []store.Event {
		t.Helper()
		e, err := s.EventsAfter(ctx, tx, posOf(after), limit)
		if err != nil {
			t.Fatalf("EventsAfter(%d, %d): %v", after, limit, err)
		}
		return e
	}
	got = eventsAfter(0, 100)
	compareEvents(t, got, want)
	ids := make([]int64, len(got))
	for i, e := range got {
		ids[i] = e.ID
		want[i].ID = e.ID
	}
	if e := events(t, s, idA); len(e) != 3 || e[0].ID != ids[0] || e[1].ID != ids[1] || e[2].ID != ids[3] {
		t.Fatalf("Events(E-A) = %+v, want the ids %d %d %d", e, ids[0], ids[1], ids[3])
	}

	tests := []struct {
		after int64
		limit int
		want  []store.Event
	}{
		{0, 2, want[:2]},
		{0, 1, want[:1]},
		{ids[1], 10, want[2:]},
		{ids[1], 1, want[2:3]},
		{ids[0], 2, want[1:3]},
		{ids[3], 10, nil},
		{ids[3] + 1000, 10, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("after %d limit %d", tt.after, tt.limit), func(t *testing.T) {
			got := eventsAfter(tt.after, tt.limit)
			if len(got) != len(tt.want) {
				t.Fatalf("%d events, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if got[i].ID != tt.want[i].ID || got[i].Type != tt.want[i].Type || got[i].OrderNo != tt.want[i].OrderNo {
					t.Fatalf("event %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}

	cur := func(consumer string) int64 {
		t.Helper()
		n, err := s.Cursor(ctx, tx, consumer)
		if err != nil {
			t.Fatalf("Cursor(%s): %v", consumer, err)
		}
		return n.ID
	}
	if n := cur("mailer"); n != 0 {
		t.Fatalf("Cursor of a new consumer = %d, want 0", n)
	}
	if err := s.SetCursor(ctx, tx, "mailer", posOf(ids[1])); err != nil {
		t.Fatal(err)
	}
	if n := cur("mailer"); n != ids[1] {
		t.Fatalf("Cursor in the same transaction = %d, want %d", n, ids[1])
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}

	// Committed: the next transaction reads on from there.
	tx, err = s.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := cur("mailer"); n != ids[1] {
		t.Fatalf("Cursor after commit = %d, want %d", n, ids[1])
	}
	if n := cur("nobody"); n != 0 {
		t.Fatalf("Cursor of an unknown consumer = %d, want 0", n)
	}
	rest := eventsAfter(cur("mailer"), 10)
	if len(rest) != 2 || rest[0].ID != ids[2] || rest[1].ID != ids[3] {
		t.Fatalf("events after the cursor = %+v", rest)
	}
	if err := s.SetCursor(ctx, tx, "mailer", posOf(ids[3])); err != nil {
		t.Fatal(err)
	}
	if err := s.SetCursor(ctx, tx, "audit", posOf(ids[0])); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}

	// Rolled back: unchanged.
	tx, err = s.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := cur("mailer"); n != ids[1] {
		t.Fatalf("Cursor after a rolled back move = %d, want %d", n, ids[1])
	}
	if n := cur("audit"); n != 0 {
		t.Fatalf("Cursor of a consumer set in a rolled back transaction = %d, want 0", n)
	}
	if err := s.SetCursor(ctx, tx, "mailer", posOf(ids[3])); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	tx, err = s.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := cur("mailer"); n != ids[3] {
		t.Fatalf("Cursor after a second move = %d, want %d", n, ids[3])
	}
	if e := eventsAfter(ids[3], 10); len(e) != 0 {
		t.Fatalf("events after the last one: %+v", e)
	}
}

func testConcurrentApply(t *testing.T, s *store.Store) {
	const (
		writers = 8
		rounds  = 3
		orders  = 50
	)
	type result struct {
		no  string
		out store.Outcome
	}
	results := make(chan []result, writers*rounds)
	errs := make(chan error, writers*rounds)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for r := range rounds {
				in := make([]store.Incoming, orders)
				for i := range in {
					// Every writer and round sends a different payload with
					// the same updated_at: none is stale, each is a version.
					o := newOrder(fmt.Sprintf("CC-%02d", i), order.StatusPaid, "12.30", base)
					o.Remark = fmt.Sprintf("writer %d round %d", w, r)
					raw := fmt.Appendf(nil, `{"order_no":%q,"remark":%q}`, o.OrderNo, o.Remark)
					in[i] = store.Incoming{Order: o, Raw: raw, ReceivedAt: received(w*rounds + r)}
				}
				out, err := s.Apply(context.Background(), in, nil)
				if err != nil {
					errs <- fmt.Errorf("writer %d round %d: %w", w, r, err)
					return
				}
				rs := make([]result, len(out))
				for i, o := range out {
					rs[i] = result{in[i].Order.OrderNo, o}
				}
				results <- rs
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	close(results)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}

	const perOrder = writers * rounds
	byOrder := map[string][]store.Outcome{}
	eventsTotal := 0
	for rs := range results {
		for _, r := range rs {
			byOrder[r.no] = append(byOrder[r.no], r.out)
			eventsTotal += len(r.out.Events)
		}
	}
	if len(byOrder) != orders {
		t.Fatalf("outcomes for %d orders, want %d", len(byOrder), orders)
	}
	for no, outs := range byOrder {
		if len(outs) != perOrder {
			t.Fatalf("%s: %d outcomes, want %d", no, len(outs), perOrder)
		}
		// Versions 1..24, each given out once: one created, the rest updated.
		seen := make([]bool, perOrder+1)
		created, eventsOfOrder := 0, 0
		for _, o := range outs {
			if o.Version < 1 || o.Version > perOrder || seen[o.Version] {
				t.Fatalf("%s: version %d given twice or out of range: %+v", no, o.Version, outs)
			}
			seen[o.Version] = true
			if o.OrderID != outs[0].OrderID {
				t.Fatalf("%s: two ids, %d and %d", no, o.OrderID, outs[0].OrderID)
			}
			switch {
			case o.Result == store.ResultCreated && o.Version == 1 && slices.Equal(o.Events, evs(order.EventCreated, order.EventPaid)):
				created++
			case o.Result == store.ResultUpdated && o.Version > 1 && slices.Equal(o.Events, evs(order.EventChanged)):
			default:
				t.Fatalf("%s: outcome %+v, want created v1 [created paid] or updated [changed]", no, o)
			}
			eventsOfOrder += len(o.Events)
		}
		if created != 1 {
			t.Fatalf("%s: created %d times", no, created)
		}
		rec := getOrder(t, s, "shop", no)
		if rec.ID != outs[0].OrderID || rec.Version != perOrder {
			t.Fatalf("%s: stored id %d version %d, want %d %d", no, rec.ID, rec.Version, outs[0].OrderID, perOrder)
		}
		vs := versions(t, s, rec.ID)
		if len(vs) != perOrder {
			t.Fatalf("%s: %d versions stored, want %d", no, len(vs), perOrder)
		}
		// The stored order is the last version's document.
		last := string(vs[perOrder-1].Raw)
		if want := fmt.Sprintf(`{"order_no":%q,"remark":%q}`, no, rec.Order.Remark); last != want {
			t.Fatalf("%s: stored order has remark %q, last version is %s", no, rec.Order.Remark, last)
		}
		if n := len(events(t, s, rec.ID)); n != eventsOfOrder {
			t.Fatalf("%s: %d events stored, outcomes reported %d", no, n, eventsOfOrder)
		}
		if n := len(timeline(t, s, rec.ID)); n != perOrder {
			t.Fatalf("%s: %d timeline entries, want %d", no, n, perOrder)
		}
	}
	want := store.Counts{Orders: orders, Versions: orders * perOrder, Events: int64(eventsTotal)}
	if c := count(t, s); c != want || eventsTotal != orders*(2+perOrder-1) {
		t.Fatalf("Count = %+v, want %+v (%d events reported, %d expected)", c, want, eventsTotal, orders*(2+perOrder-1))
	}
	// Events come in the order of each order's versions.
	waitFinal(t, s, eventsTotal)
	tx, err := s.DB().BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	all, err := s.EventsAfter(context.Background(), tx, store.EventPosition{}, 100000)
	if err != nil {
		t.Fatal(err)
	}
	lastVersion := map[int64]int64{}
	for _, e := range all {
		if e.Version < lastVersion[e.OrderID] {
			t.Fatalf("event %d of order %d is of version %d, after one of version %d", e.ID, e.OrderID, e.Version, lastVersion[e.OrderID])
		}
		lastVersion[e.OrderID] = e.Version
	}
}

// testMoveCursor: a cursor moves only from where the mover read it, so two
// dispatchers never both hand over the same events.
func testMoveCursor(t *testing.T, s *store.Store) {
	ctx := context.Background()
	move := func(from, to int64) bool {
		t.Helper()
		tx, err := s.DB().BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		ok, err := s.MoveCursor(ctx, tx, "mover", store.EventPosition{ID: from}, store.EventPosition{ID: to})
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	at := func() int64 {
		t.Helper()
		n, err := s.Cursor(ctx, s.Reader(), "mover")
		if err != nil {
			t.Fatal(err)
		}
		return n.ID
	}
	steps := []struct {
		from, to int64
		want     bool
		then     int64
	}{
		{0, 5, true, 5},   // first move creates the cursor
		{0, 7, false, 5},  // a second "first" move finds it taken
		{3, 9, false, 5},  // from a position it is not at
		{5, 9, true, 9},   // from where it is
		{5, 12, false, 9}, // the same move again: already done
		{9, 12, true, 12}, // and on
	}
	for i, st := range steps {
		if got := move(st.from, st.to); got != st.want || at() != st.then {
			t.Fatalf("step %d: MoveCursor(%d→%d) = %v, cursor %d; want %v, cursor %d", i, st.from, st.to, got, at(), st.want, st.then)
		}
	}
}

// waitFinal waits until EventsAfter returns n events from the start.
func waitFinal(t *testing.T, s *store.Store, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		evs, err := s.EventsAfter(context.Background(), s.Reader(), store.EventPosition{}, n+1)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d events readable after 10s", len(evs), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
