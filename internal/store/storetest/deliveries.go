package storetest

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"orderhub/internal/store"
)

// t0 is when the delivery tests' first message is queued (a whole
// microsecond, as stored).
var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// msg is a queued message of rule for key to system; its body names key, so
// that a message's body tells which queueing wrote it.
func msg(system, rule, key string) store.NewDelivery {
	return store.NewDelivery{System: system, Rule: rule, Key: key, Kind: store.KindMessage, Source: "shop", OrderNo: key,
		Event: "created", Total: "12.30", Status: "paid", Lang: "zh-CN", Priority: 1, State: store.DeliveryQueued,
		Message: []byte(`{"title":"新订单 ` + key + `","markdown":"**` + key + `**"}`)}
}

func queue(t testing.TB, s *store.Store, now time.Time, ds ...store.NewDelivery) int {
	t.Helper()
	var n int
	inTx(t, s, func(tx *sql.Tx) (err error) { n, err = s.QueueDeliveries(context.Background(), tx, ds, now); return })
	return n
}

func listed(t testing.TB, s *store.Store, f store.DeliveryFilter) []store.Delivery {
	t.Helper()
	ds, err := s.ListDeliveries(context.Background(), f)
	if err != nil {
		t.Fatalf("ListDeliveries(%+v): %v", f, err)
	}
	return ds
}

func idsOf(ds []store.Delivery) []int64 {
	out := make([]int64, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

// byKey finds the listed delivery of key to system.
func byKey(t testing.TB, s *store.Store, system, key string) store.Delivery {
	t.Helper()
	for _, d := range listed(t, s, store.DeliveryFilter{System: system, Limit: 1000}) {
		if d.Key == key {
			return d
		}
	}
	t.Fatalf("no delivery of %s to %s", key, system)
	return store.Delivery{}
}

func getDelivery(t testing.TB, s *store.Store, id int64) (store.Delivery, []store.Attempt) {
	t.Helper()
	d, as, err := s.GetDelivery(context.Background(), id)
	if err != nil {
		t.Fatalf("GetDelivery(%d): %v", id, err)
	}
	return d, as
}

func start(t testing.TB, s *store.Store, system string, now time.Time, starts ...store.AttemptStart) {
	t.Helper()
	inTx(t, s, func(tx *sql.Tx) error { return s.StartAttempts(context.Background(), tx, system, starts, now) })
}

func finish(t testing.TB, s *store.Store, now time.Time, outs ...store.AttemptOutcome) {
	t.Helper()
	inTx(t, s, func(tx *sql.Tx) error { return s.FinishAttempts(context.Background(), tx, outs, now) })
}

// testQueueDeliveries: one message per (key, system), however often it is
// queued, within one call, across calls and across statement chunks; only
// new rows are counted, and a message queued again leaves the first as it
// was.
func testQueueDeliveries(t *testing.T, s *store.Store) {
	first := msg("ops_ding", "new_order", "new_order/shop/Q-1/created")
	for _, tc := range []struct {
		name string
		ds   []store.NewDelivery
		want int
	}{
		{"new", []store.NewDelivery{first, msg("ops_feishu", "new_order", first.Key), msg("ops_ding", "new_order", "new_order/shop/Q-2/created")}, 3},
		{"again", []store.NewDelivery{first}, 0},
		{"again with another body", []store.NewDelivery{func() store.NewDelivery { d := first; d.Message = []byte(`{"title":"second"}`); return d }()}, 0},
		{"one new beside an old one", []store.NewDelivery{first, msg("ops_ding", "new_order", "new_order/shop/Q-3/created")}, 1},
		{"twice in one call", []store.NewDelivery{msg("ops_ding", "big_order", "big_order/shop/Q-1/paid"), msg("ops_ding", "big_order", "big_order/shop/Q-1/paid")}, 1},
		{"nothing", nil, 0},
		{"across chunks", func() []store.NewDelivery {
			// 250 messages of which the first 50 are queued already: more
			// than two statements' worth.
			var ds []store.NewDelivery
			for i := range 250 {
				ds = append(ds, msg("ops_wecom", "new_order", fmt.Sprintf("new_order/shop/C-%03d/created", i)))
			}
			queue(t, s, t0, ds[:50]...)
			return ds
		}(), 200},
	} {
		if got := queue(t, s, t0, tc.ds...); got != tc.want {
			t.Errorf("%s: QueueDeliveries added %d, want %d", tc.name, got, tc.want)
		}
	}
	if n := len(listed(t, s, store.DeliveryFilter{System: "ops_wecom", Limit: 1000})); n != 250 {
		t.Errorf("ops_wecom has %d deliveries, want 250", n)
	}
	// The first queueing is what is kept, field by field.
	d := byKey(t, s, "ops_ding", first.Key)
	want := store.Delivery{ID: d.ID, System: "ops_ding", Rule: "new_order", Key: first.Key, Kind: store.KindMessage, Source: "shop",
		OrderNo: first.Key, Event: "created", Total: "12.30", Status: "paid", Lang: "zh-CN", Priority: 1, State: store.DeliveryQueued,
		Message: first.Message, DueAt: t0, CreatedAt: t0, UpdatedAt: t0}
	if !equalDelivery(d, want) {
		t.Errorf("queued:\n got %+v\nwant %+v", d, want)
	}
	// A collecting message keeps its clock time.
	due := t0.Add(time.Hour)
	c := msg("ops_ding", "hourly", "hourly/shop/Q-1/created")
	c.State, c.DueAt, c.Wait = store.DeliveryCollecting, due, "digest"
	queue(t, s, t0, c)
	if got := byKey(t, s, "ops_ding", c.Key); got.State != store.DeliveryCollecting || !got.DueAt.Equal(due) || got.Wait != "digest" {
		t.Errorf("collecting: %+v", got)
	}
}

// equalDelivery compares deliveries with times by instant and messages as
// JSON.
func equalDelivery(got, want store.Delivery) bool {
	if !got.DueAt.Equal(want.DueAt) || !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) || !got.SentAt.Equal(want.SentAt) {
		return false
	}
	var gm, wm any
	if json.Unmarshal(got.Message, &gm) != nil || json.Unmarshal(want.Message, &wm) != nil || fmt.Sprint(gm) != fmt.Sprint(wm) {
		return false
	}
	got.DueAt, got.CreatedAt, got.UpdatedAt, got.SentAt, got.Message = time.Time{}, time.Time{}, time.Time{}, time.Time{}, nil
	want.DueAt, want.CreatedAt, want.UpdatedAt, want.SentAt, want.Message = time.Time{}, time.Time{}, time.Time{}, time.Time{}, nil
	return fmt.Sprintf("%+v", got) == fmt.Sprintf("%+v", want)
}

// testDeliveryAttempts: an endpoint's standing is kept; calls are counted
// from their starts; answers settle deliveries and their attempts, and an
// attempt given back (throttled, not made) is not spent and its record is
// kept beside the next one's.
func testDeliveryAttempts(t *testing.T, s *store.Store) {
	ctx := context.Background()
	queue(t, s, t0, msg("ops_ding", "r", "a"), msg("ops_ding", "r", "b"), msg("ops_ding", "r", "c"), msg("ops_feishu", "r", "a"))
	a, b, c := byKey(t, s, "ops_ding", "a"), byKey(t, s, "ops_ding", "b"), byKey(t, s, "ops_ding", "c")

	var e store.Endpoint
	inTx(t, s, func(tx *sql.Tx) (err error) { e, err = s.LockEndpoint(ctx, tx, "ops_ding"); return })
	if e != (store.Endpoint{System: "ops_ding"}) {
		t.Fatalf("a new endpoint: %+v", e)
	}
	paused := store.Endpoint{System: "ops_ding", PausedUntil: t0.Add(time.Minute), PauseReason: "throttled: 130101", Failures: 2}
	inTx(t, s, func(tx *sql.Tx) error { return s.SetEndpoint(ctx, tx, paused) })
	inTx(t, s, func(tx *sql.Tx) (err error) { e, err = s.LockEndpoint(ctx, tx, "ops_ding"); return })
	if !e.PausedUntil.Equal(paused.PausedUntil) || e.PauseReason != paused.PauseReason || e.Failures != 2 {
		t.Fatalf("after SetEndpoint: %+v, want %+v", e, paused)
	}
	inTx(t, s, func(tx *sql.Tx) error { return s.SetEndpoint(ctx, tx, store.Endpoint{System: "ops_ding"}) })
	inTx(t, s, func(tx *sql.Tx) (err error) { _, err = s.LockEndpoint(ctx, tx, "ops_feishu"); return })
	eps, err := s.Endpoints(ctx)
	if err != nil || len(eps) != 2 || eps[0] != (store.Endpoint{System: "ops_ding"}) || eps[1] != (store.Endpoint{System: "ops_feishu"}) {
		t.Fatalf("Endpoints = %+v, %v", eps, err)
	}

	t1, t2 := t0.Add(10*time.Second), t0.Add(20*time.Second)
	start(t, s, "ops_ding", t0, store.AttemptStart{DeliveryID: a.ID, Attempt: 1}, store.AttemptStart{DeliveryID: b.ID, Attempt: 1})
	start(t, s, "ops_ding", t1, store.AttemptStart{DeliveryID: c.ID, Attempt: 1})
	recent := func(system string, since time.Time, limit int) []time.Time {
		t.Helper()
		var out []time.Time
		inTx(t, s, func(tx *sql.Tx) (err error) { out, err = s.RecentCalls(ctx, tx, system, since, limit); return })
		return out
	}
	for _, tc := range []struct {
		system string
		since  time.Time
		limit  int
		want   []time.Time
	}{
		{"ops_ding", t0.Add(-time.Minute), 10, []time.Time{t1, t0, t0}},
		{"ops_ding", t0.Add(-time.Minute), 2, []time.Time{t1, t0}},
		{"ops_ding", t0, 10, []time.Time{t1}}, // after since, not at it
		{"ops_ding", t1, 10, nil},
		{"ops_feishu", t0.Add(-time.Minute), 10, nil},
	} {
		got := recent(tc.system, tc.since, tc.limit)
		if !slices.EqualFunc(got, tc.want, time.Time.Equal) {
			t.Errorf("RecentCalls(%s, %v, %d) = %v, want %v", tc.system, tc.since, tc.limit, got, tc.want)
		}
	}
	for _, d := range []store.Delivery{a, b, c} {
		if got, as := getDelivery(t, s, d.ID); got.State != store.DeliverySending || got.Attempts != 1 || len(as) != 1 || as[0].Outcome != "in_flight" {
			t.Fatalf("started %s: %+v, attempts %+v", d.Key, got, as)
		}
	}

	// a is taken; b is throttled (the attempt is given back); c fails in
	// transport and waits for a retry.
	throttled := store.DeliveryError{Class: "slow_down", Code: "130101", Message: "send too fast", Hint: "稍后重试"}
	finish(t, s, t2,
		store.AttemptOutcome{DeliveryID: a.ID, Attempt: 1, State: store.DeliverySent, Outcome: "sent", Code: "0", MessageID: "msg-a", Cut: true},
		store.AttemptOutcome{DeliveryID: b.ID, Attempt: 1, State: store.DeliveryQueued, Outcome: "slow_down", Code: "130101", Wait: "throttled",
			Error: throttled, SpendNoAttempt: true},
		store.AttemptOutcome{DeliveryID: c.ID, Attempt: 1, State: store.DeliveryQueued, Outcome: "retry", Wait: "retry",
			Error: store.DeliveryError{Class: "retry", Message: "connection refused"}})
	got, as := getDelivery(t, s, a.ID)
	if got.State != store.DeliverySent || !got.SentAt.Equal(t2) || got.Code != "0" || got.MessageID != "msg-a" || !got.Cut || got.Attempts != 1 ||
		!got.UpdatedAt.Equal(t2) || got.Error != (store.DeliveryError{}) {
		t.Errorf("sent: %+v", got)
	}
	wantAttempt := store.Attempt{Attempt: 1, At: t0, DoneAt: t2, Outcome: "sent", Code: "0", MessageID: "msg-a"}
	if len(as) != 1 || !equalAttempt(as[0], wantAttempt) {
		t.Errorf("sent: attempts %+v, want %+v", as, wantAttempt)
	}
	got, _ = getDelivery(t, s, b.ID)
	if got.State != store.DeliveryQueued || got.Attempts != 0 || got.Wait != "throttled" || got.Code != "130101" || got.Error != throttled || !got.SentAt.IsZero() {
		t.Errorf("throttled: %+v", got)
	}

	// b goes again as attempt 1 and is taken: both calls stay on record.
	t3 := t2.Add(time.Minute)
	start(t, s, "ops_ding", t3, store.AttemptStart{DeliveryID: b.ID, Attempt: got.Attempts + 1})
	finish(t, s, t3.Add(time.Second), store.AttemptOutcome{DeliveryID: b.ID, Attempt: 1, State: store.DeliverySent, Outcome: "sent", Code: "0"})
	got, as = getDelivery(t, s, b.ID)
	wantAttempts := []store.Attempt{
		{Attempt: 1, At: t0, DoneAt: t2, Outcome: "slow_down", Code: "130101", Message: "send too fast"},
		{Attempt: 1, At: t3, DoneAt: t3.Add(time.Second), Outcome: "sent", Code: "0"},
	}
	if got.State != store.DeliverySent || got.Attempts != 1 || !slices.EqualFunc(as, wantAttempts, equalAttempt) {
		t.Errorf("throttled, then sent: %+v\nattempts %+v\nwant     %+v", got, as, wantAttempts)
	}

	// c's retry fails for good; an answer without a wait or a message id
	// keeps the ones before.
	got, _ = getDelivery(t, s, c.ID)
	if got.State != store.DeliveryQueued || got.Attempts != 1 || got.Wait != "retry" || got.Error.Message != "connection refused" {
		t.Errorf("to retry: %+v", got)
	}
	start(t, s, "ops_ding", t3, store.AttemptStart{DeliveryID: c.ID, Attempt: 2})
	refused := store.DeliveryError{Class: "permanent", Code: "300001", Message: "token is not exist", Hint: "检查机器人的 Webhook 地址"}
	finish(t, s, t3, store.AttemptOutcome{DeliveryID: c.ID, Attempt: 2, State: store.DeliveryFailed, Outcome: "permanent", Code: "300001", Error: refused})
	got, as = getDelivery(t, s, c.ID)
	if got.State != store.DeliveryFailed || got.Attempts != 2 || got.Wait != "retry" || got.Code != "300001" || got.Error != refused || !got.SentAt.IsZero() {
		t.Errorf("failed: %+v", got)
	}
	if len(as) != 2 || as[0].Outcome != "retry" || as[0].Message != "connection refused" || as[1].Outcome != "permanent" || as[1].Code != "300001" {
		t.Errorf("failed: attempts %+v", as)
	}
	if calls := recent("ops_ding", t0.Add(-time.Minute), 10); len(calls) != 5 {
		t.Errorf("%d calls counted, want 5 (every start, throttled or not)", len(calls))
	}
	if err := s.FinishAttempts(ctx, nil, nil, t3); err != nil {
		t.Errorf("FinishAttempts of nothing: %v", err)
	}
}

func equalAttempt(a, b store.Attempt) bool {
	return a.Attempt == b.Attempt && a.At.Equal(b.At) && a.DoneAt.Equal(b.DoneAt) && a.Outcome == b.Outcome && a.Code == b.Code &&
		a.Message == b.Message && a.MessageID == b.MessageID
}

// testRequeueStale: a delivery left sending since before the cut-off goes
// back to the queue and its call is closed as of unknown outcome; a recent
// one is left alone, as are other endpoints'.
func testRequeueStale(t *testing.T, s *store.Store) {
	ctx := context.Background()
	queue(t, s, t0, msg("ops_ding", "r", "old"), msg("ops_ding", "r", "new"), msg("ops_feishu", "r", "old"))
	old, young, other := byKey(t, s, "ops_ding", "old"), byKey(t, s, "ops_ding", "new"), byKey(t, s, "ops_feishu", "old")
	start(t, s, "ops_ding", t0, store.AttemptStart{DeliveryID: old.ID, Attempt: 1})
	start(t, s, "ops_feishu", t0, store.AttemptStart{DeliveryID: other.ID, Attempt: 1})
	start(t, s, "ops_ding", t0.Add(10*time.Minute), store.AttemptStart{DeliveryID: young.ID, Attempt: 1})
	cut, now := t0.Add(5*time.Minute), t0.Add(11*time.Minute)
	var stale []store.Delivery
	inTx(t, s, func(tx *sql.Tx) (err error) { stale, err = s.RequeueStale(ctx, tx, "ops_ding", cut, now); return })
	if !slices.Equal(idsOf(stale), []int64{old.ID}) {
		t.Fatalf("RequeueStale = %v, want [%d]", idsOf(stale), old.ID)
	}
	got, as := getDelivery(t, s, old.ID)
	if got.State != store.DeliveryQueued || got.Wait != "retry" || !got.UpdatedAt.Equal(now) || got.Attempts != 1 {
		t.Errorf("requeued: %+v", got)
	}
	if len(as) != 1 || as[0].Outcome != "unknown" || !as[0].DoneAt.Equal(now) || as[0].Message == "" {
		t.Errorf("requeued: attempts %+v", as)
	}
	for _, d := range []store.Delivery{young, other} {
		if got, as := getDelivery(t, s, d.ID); got.State != store.DeliverySending || as[0].Outcome != "in_flight" {
			t.Errorf("%s to %s: %+v %+v", d.Key, d.System, got, as)
		}
	}
	inTx(t, s, func(tx *sql.Tx) (err error) { stale, err = s.RequeueStale(ctx, tx, "ops_ding", cut, now); return })
	if len(stale) != 0 {
		t.Errorf("requeued twice: %v", idsOf(stale))
	}
}

// testDigests: collected messages come due at their clock time, a digest
// merges them, and they list under it.
func testDigests(t *testing.T, s *store.Store) {
	ctx := context.Background()
	due := t0.Add(time.Hour)
	var ds []store.NewDelivery
	for i, rule := range []string{"hourly", "hourly", "daily", "hourly", "hourly"} {
		d := msg("ops_ding", rule, fmt.Sprintf("%s/shop/D-%d/created", rule, i))
		d.State, d.DueAt, d.Wait = store.DeliveryCollecting, due, "digest"
		if i == 4 {
			d.DueAt = due.Add(time.Hour) // the next window's
		}
		ds = append(ds, d)
	}
	queue(t, s, t0, ds...)
	queue(t, s, t0, msg("ops_ding", "hourly", "now"))
	collected := func(now time.Time, limit int) []store.Delivery {
		t.Helper()
		var out []store.Delivery
		inTx(t, s, func(tx *sql.Tx) (err error) { out, err = s.DueCollected(ctx, tx, "ops_ding", now, limit); return })
		return out
	}
	counted := func(rule string, now time.Time) int {
		t.Helper()
		var n int
		inTx(t, s, func(tx *sql.Tx) (err error) { n, err = s.CollectedCount(ctx, tx, "ops_ding", rule, now); return })
		return n
	}
	if got := collected(due.Add(-time.Second), 10); len(got) != 0 || counted("hourly", due.Add(-time.Second)) != 0 {
		t.Fatalf("due before the clock time: %v", idsOf(got))
	}
	got := collected(due, 10)
	var keys []string
	for _, d := range got {
		keys = append(keys, d.Key)
	}
	// By rule, then in order.
	if want := []string{ds[2].Key, ds[0].Key, ds[1].Key, ds[3].Key}; !slices.Equal(keys, want) {
		t.Fatalf("DueCollected = %v, want %v", keys, want)
	}
	if n := counted("hourly", due); n != 3 {
		t.Fatalf("CollectedCount(hourly) = %d, want 3", n)
	}
	if short := collected(due, 2); len(short) != 2 {
		t.Fatalf("DueCollected with limit 2: %d", len(short))
	}
	members := idsOf(got[1:3])
	var id int64
	nd := store.NewDelivery{System: "ops_ding", Rule: "hourly", Key: fmt.Sprintf("digest/%d", members[0]), Lang: "zh-CN", Priority: 2, Wait: "digest"}
	now := due.Add(time.Second)
	inTx(t, s, func(tx *sql.Tx) (err error) {
		if id, err = s.NewDigest(ctx, tx, nd, members, now); err != nil {
			return err
		}
		return s.SetMessage(ctx, tx, id, []byte(fmt.Sprintf(`{"title":"另有 2 笔新订单","link":"/v1/deliveries/%d"}`, id)))
	})
	dg, as := getDelivery(t, s, id)
	want := store.Delivery{ID: id, System: "ops_ding", Rule: "hourly", Key: nd.Key, Kind: store.KindDigest, Lang: "zh-CN", Priority: 2,
		State: store.DeliverySending, Message: []byte(fmt.Sprintf(`{"title":"另有 2 笔新订单","link":"/v1/deliveries/%d"}`, id)), Merged: 2,
		Wait: "digest", DueAt: now, CreatedAt: now, UpdatedAt: now}
	if !equalDelivery(dg, want) || len(as) != 0 {
		t.Errorf("digest:\n got %+v %+v\nwant %+v", dg, as, want)
	}
	carried := listed(t, s, store.DeliveryFilter{Digest: id})
	if !slices.Equal(idsOf(carried), []int64{members[1], members[0]}) {
		t.Fatalf("DeliveryFilter{Digest} = %v, want %v newest first", idsOf(carried), members)
	}
	for _, m := range carried {
		if m.State != store.DeliveryMerged || m.DigestID != id || !m.UpdatedAt.Equal(now) {
			t.Errorf("merged: %+v", m)
		}
	}
	if n := counted("hourly", due); n != 1 {
		t.Errorf("CollectedCount(hourly) after the digest = %d, want 1", n)
	}
	if n := counted("hourly", due.Add(time.Hour)); n != 2 {
		t.Errorf("CollectedCount(hourly) in the next window = %d, want 2", n)
	}
	// The digest is sent like any message.
	start(t, s, "ops_ding", now, store.AttemptStart{DeliveryID: id, Attempt: 1})
	finish(t, s, now, store.AttemptOutcome{DeliveryID: id, Attempt: 1, State: store.DeliverySent, Outcome: "sent", Code: "0"})
	if dg, as = getDelivery(t, s, id); dg.State != store.DeliverySent || dg.Merged != 2 || len(as) != 1 {
		t.Errorf("digest sent: %+v %+v", dg, as)
	}
}

// testResend: only a failed delivery goes back to the queue, with its
// attempts counted afresh.
func testResend(t *testing.T, s *store.Store) {
	ctx := context.Background()
	queue(t, s, t0, msg("ops_ding", "r", "failed"), msg("ops_ding", "r", "sent"), msg("ops_ding", "r", "queued"))
	failed, sent, queued := byKey(t, s, "ops_ding", "failed"), byKey(t, s, "ops_ding", "sent"), byKey(t, s, "ops_ding", "queued")
	start(t, s, "ops_ding", t0, store.AttemptStart{DeliveryID: failed.ID, Attempt: 1}, store.AttemptStart{DeliveryID: sent.ID, Attempt: 1})
	finish(t, s, t0,
		store.AttemptOutcome{DeliveryID: failed.ID, Attempt: 1, State: store.DeliveryFailed, Outcome: "permanent", Code: "310000",
			Error: store.DeliveryError{Class: "permanent", Code: "310000", Message: "keywords not in content"}},
		store.AttemptOutcome{DeliveryID: sent.ID, Attempt: 1, State: store.DeliverySent, Outcome: "sent", Code: "0"})
	resend := func(id int64) bool {
		t.Helper()
		var ok bool
		inTx(t, s, func(tx *sql.Tx) (err error) { ok, err = s.Resend(ctx, tx, id, t0.Add(time.Hour)); return })
		return ok
	}
	for _, tc := range []struct {
		name string
		id   int64
		want bool
	}{
		{"failed", failed.ID, true},
		{"failed, resent already", failed.ID, false},
		{"sent", sent.ID, false},
		{"queued", queued.ID, false},
		{"unknown", failed.ID + 1000, false},
	} {
		if got := resend(tc.id); got != tc.want {
			t.Errorf("Resend(%s) = %v, want %v", tc.name, got, tc.want)
		}
	}
	got, as := getDelivery(t, s, failed.ID)
	if got.State != store.DeliveryQueued || got.Attempts != 0 || got.Wait != "resend" || !got.UpdatedAt.Equal(t0.Add(time.Hour)) || len(as) != 1 {
		t.Errorf("resent: %+v %+v", got, as)
	}
	if got, _ := getDelivery(t, s, sent.ID); got.State != store.DeliverySent {
		t.Errorf("a sent delivery was changed: %+v", got)
	}
	if _, _, err := s.GetDelivery(ctx, failed.ID+1000); !errors.Is(err, store.ErrNoDelivery) {
		t.Errorf("GetDelivery of an unknown id: %v, want ErrNoDelivery", err)
	}
}

// testHasDue: a sender has work when messages are queued, collected ones
// came due, or a call was left in flight since before the cut-off.
func testHasDue(t *testing.T, s *store.Store) {
	ctx := context.Background()
	due := func(system string, now, stale time.Time) bool {
		t.Helper()
		ok, err := s.HasDue(ctx, system, now, stale)
		if err != nil {
			t.Fatalf("HasDue(%s): %v", system, err)
		}
		return ok
	}
	later := t0.Add(time.Hour)
	c := msg("collect", "hourly", "c")
	c.State, c.DueAt = store.DeliveryCollecting, later
	queue(t, s, t0, msg("queue", "r", "q"), c, msg("sending", "r", "s"), msg("done", "r", "d"))
	start(t, s, "sending", t0, store.AttemptStart{DeliveryID: byKey(t, s, "sending", "s").ID, Attempt: 1})
	sent := byKey(t, s, "done", "d").ID
	start(t, s, "done", t0, store.AttemptStart{DeliveryID: sent, Attempt: 1})
	finish(t, s, t0, store.AttemptOutcome{DeliveryID: sent, Attempt: 1, State: store.DeliverySent, Outcome: "sent"})
	for _, tc := range []struct {
		name, system string
		now, stale   time.Time
		want         bool
	}{
		{"queued", "queue", t0, t0, true},
		{"collecting, before its time", "collect", later.Add(-time.Second), t0, false},
		{"collecting, at its time", "collect", later, t0, true},
		{"sending, recent", "sending", t0, t0, false},
		{"sending, stale", "sending", t0, t0.Add(time.Second), true},
		{"sent", "done", later, later, false},
		{"nothing at all", "nobody", later, later, false},
	} {
		if got := due(tc.system, tc.now, tc.stale); got != tc.want {
			t.Errorf("%s: HasDue = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// testListDeliveries: the filters, alone and together, newest first; paging
// back with Before; and the counts by system and state.
func testListDeliveries(t *testing.T, s *store.Store) {
	ctx := context.Background()
	o1 := apply(t, s, incoming(t, newOrder("LD-1", "paid", "10.00", base), received(0)))[0].OrderID
	o2 := apply(t, s, incoming(t, newOrder("LD-2", "paid", "10.00", base), received(1)))[0].OrderID
	type row struct {
		system, rule string
		order        int64
		state        store.DeliveryState
	}
	rows := []row{
		{"ops_ding", "new_order", o1, store.DeliveryQueued},
		{"ops_feishu", "new_order", o1, store.DeliverySent},
		{"ops_ding", "big_order", o1, store.DeliveryFailed},
		{"ops_ding", "new_order", o2, store.DeliverySent},
		{"ops_wecom", "new_order", o2, store.DeliveryQueued},
		{"ops_ding", "big_order", o2, store.DeliverySent},
		{"ops_ding", "new_order", 0, store.DeliveryFailed},
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		d := msg(r.system, r.rule, fmt.Sprintf("%s/%d/%d", r.rule, r.order, i))
		d.OrderID = r.order
		queue(t, s, t0, d)
		ids[i] = byKey(t, s, r.system, d.Key).ID
		if r.state == store.DeliveryQueued {
			continue
		}
		start(t, s, r.system, t0, store.AttemptStart{DeliveryID: ids[i], Attempt: 1})
		finish(t, s, t0, store.AttemptOutcome{DeliveryID: ids[i], Attempt: 1, State: r.state, Outcome: string(r.state)})
	}
	// pick returns the ids of rows i…, newest first.
	pick := func(is ...int) []int64 {
		out := make([]int64, len(is))
		for k, i := range is {
			out[len(is)-1-k] = ids[i]
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    store.DeliveryFilter
		want []int64
	}{
		{"all", store.DeliveryFilter{}, pick(0, 1, 2, 3, 4, 5, 6)},
		{"rule", store.DeliveryFilter{Rule: "big_order"}, pick(2, 5)},
		{"system", store.DeliveryFilter{System: "ops_ding"}, pick(0, 2, 3, 5, 6)},
		{"state", store.DeliveryFilter{State: store.DeliveryFailed}, pick(2, 6)},
		{"order", store.DeliveryFilter{OrderID: o2}, pick(3, 4, 5)},
		{"system and rule", store.DeliveryFilter{System: "ops_ding", Rule: "new_order"}, pick(0, 3, 6)},
		{"system, state and order", store.DeliveryFilter{System: "ops_ding", State: store.DeliverySent, OrderID: o2}, pick(3, 5)},
		{"before", store.DeliveryFilter{Before: ids[3]}, pick(0, 1, 2)},
		{"before and system", store.DeliveryFilter{System: "ops_ding", Before: ids[3]}, pick(0, 2)},
		{"limit", store.DeliveryFilter{Limit: 2}, pick(5, 6)},
		{"none match", store.DeliveryFilter{Rule: "nobody"}, nil},
		{"digest of nothing", store.DeliveryFilter{Digest: ids[0]}, nil},
	} {
		if got := idsOf(listed(t, s, tc.f)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	// Paging back through a filter sees each once, in order.
	for _, limit := range []int{1, 2, 3, 5} {
		var got []int64
		f := store.DeliveryFilter{System: "ops_ding", Limit: limit}
		for range len(rows) + 1 {
			page := listed(t, s, f)
			if len(page) > limit {
				t.Fatalf("limit %d: a page of %d", limit, len(page))
			}
			if len(page) == 0 {
				break
			}
			got = append(got, idsOf(page)...)
			f.Before = page[len(page)-1].ID
		}
		if want := pick(0, 2, 3, 5, 6); !slices.Equal(got, want) {
			t.Errorf("paging by %d: %v, want %v", limit, got, want)
		}
	}
	counts, err := s.DeliveryCounts(ctx)
	want := map[string]map[store.DeliveryState]int{
		"ops_ding":   {store.DeliveryQueued: 1, store.DeliveryFailed: 2, store.DeliverySent: 2},
		"ops_feishu": {store.DeliverySent: 1},
		"ops_wecom":  {store.DeliveryQueued: 1},
	}
	if err != nil || fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("DeliveryCounts = %v, %v; want %v", counts, err, want)
	}
}

// testListDeliveriesLimit: a page is at most the largest the store gives,
// and a larger limit is cut to it rather than replaced by the default.
func testListDeliveriesLimit(t *testing.T, s *store.Store) {
	var ds []store.NewDelivery
	for i := range store.MaxDeliveryPage + 5 {
		ds = append(ds, msg("ops_ding", "r", fmt.Sprintf("k-%04d", i)))
	}
	queue(t, s, t0, ds...)
	for _, tc := range []struct{ limit, want int }{
		{0, 100}, {-1, 100}, {7, 7}, {store.MaxDeliveryPage, store.MaxDeliveryPage}, {store.MaxDeliveryPage + 1, store.MaxDeliveryPage},
	} {
		if got := len(listed(t, s, store.DeliveryFilter{Limit: tc.limit})); got != tc.want {
			t.Errorf("Limit %d: %d deliveries, want %d", tc.limit, got, tc.want)
		}
	}
}

// testLockEndpointWaits: while one transaction holds an endpoint, a second
// that asks for it waits, and once the first commits it reads what the
// first wrote; so two senders, on one node or several, never count the
// same free slots. It holds for an endpoint seen before and for one locked
// for the first time by both at once.
func testLockEndpointWaits(t *testing.T, s *store.Store) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, system string
		seen         bool
	}{{"seen before", "ops_ding", true}, {"new", "ops_feishu", false}} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.seen {
				inTx(t, s, func(tx *sql.Tx) (err error) { _, err = s.LockEndpoint(ctx, tx, tc.system); return })
			}
			first, err := s.DB().BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer first.Rollback()
			if _, err := s.LockEndpoint(ctx, first, tc.system); err != nil {
				t.Fatal(err)
			}
			mark := blockedMark(s)
			type locked struct {
				tx  *sql.Tx
				e   store.Endpoint
				err error
			}
			second := make(chan locked, 1)
			go func() {
				tx, err := s.DB().BeginTx(ctx, nil)
				if err != nil {
					second <- locked{err: err}
					return
				}
				e, err := s.LockEndpoint(ctx, tx, tc.system)
				second <- locked{tx, e, err}
			}()
			waitBlocked(t, s, mark)
			select {
			case got := <-second:
				if got.tx != nil {
					got.tx.Rollback()
				}
				t.Fatalf("the second transaction got the endpoint while the first held it: %+v, %v", got.e, got.err)
			default:
			}
			if err := s.SetEndpoint(ctx, first, store.Endpoint{System: tc.system, Failures: 7, PauseReason: "retry: timeout"}); err != nil {
				t.Fatal(err)
			}
			if err := first.Commit(); err != nil {
				t.Fatal(err)
			}
			var got locked
			select {
			case got = <-second:
			case <-time.After(time.Minute):
				t.Fatal("the second transaction still waits a minute after the first committed")
			}
			if got.err != nil {
				t.Fatalf("the second LockEndpoint: %v", got.err)
			}
			defer got.tx.Rollback()
			if got.e.Failures != 7 || got.e.PauseReason != "retry: timeout" {
				t.Errorf("the second transaction read %+v, not what the first committed", got.e)
			}
			if err := got.tx.Commit(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// blockedMark is how many waits the store has seen so far (SQLite: for its
// one writing connection); see waitBlocked.
func blockedMark(s *store.Store) int64 {
	if s.Dialect() == store.Postgres {
		return 0
	}
	return s.DB().Stats().WaitCount
}

// waitBlocked returns once another transaction is seen waiting: on
// PostgreSQL a session of this database waiting for a lock, on SQLite a
// transaction waiting for the writing connection since mark.
func waitBlocked(t *testing.T, s *store.Store, mark int64) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(time.Minute)
	for {
		var waiting int64
		if s.Dialect() == store.Postgres {
			err := s.Reader().QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity
				WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`).Scan(&waiting)
			if err != nil {
				t.Fatalf("reading pg_stat_activity: %v", err)
			}
		} else {
			waiting = s.DB().Stats().WaitCount - mark
		}
		if waiting > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("after a minute no second transaction waits for the endpoint")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
