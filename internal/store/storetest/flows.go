package storetest

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"orderhub/internal/order"
	"orderhub/internal/store"
)

func inTx(t testing.TB, s *store.Store, fn func(tx *sql.Tx) error) {
	t.Helper()
	tx, err := s.DB().BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// testPullState: the sync time moves compare-and-set, never from a value
// it no longer has; errors are kept without moving it.
func testPullState(t *testing.T, s *store.Store) {
	ctx := context.Background()
	st, found, err := s.PullStateOf(ctx, s.Reader(), "wdt_trades")
	if err != nil || found {
		t.Fatalf("before the first window: %+v, found %v, %v", st, found, err)
	}
	t1 := base.Add(time.Hour)
	next := store.PullState{Source: "wdt_trades", SyncedTo: t1, LastFrom: base, LastTo: t1, LastDocs: 7, LastRunAt: t1}
	var ok bool
	inTx(t, s, func(tx *sql.Tx) (err error) { ok, err = s.AdvancePull(ctx, tx, st, false, next); return })
	if !ok {
		t.Fatal("the first advance was refused")
	}
	inTx(t, s, func(tx *sql.Tx) (err error) { ok, err = s.AdvancePull(ctx, tx, st, false, next); return })
	if ok {
		t.Fatal("a second first advance (another puller) was taken")
	}
	got, found, err := s.PullStateOf(ctx, s.Reader(), "wdt_trades")
	if err != nil || !found || !got.SyncedTo.Equal(t1) || got.DocsTotal != 7 || got.LastDocs != 7 {
		t.Fatalf("after the first window: %+v, %v, %v", got, found, err)
	}
	t2 := t1.Add(time.Hour)
	later := store.PullState{Source: "wdt_trades", SyncedTo: t2, LastFrom: t1, LastTo: t2, LastDocs: 3, LastRunAt: t2}
	inTx(t, s, func(tx *sql.Tx) (err error) { ok, err = s.AdvancePull(ctx, tx, st, true, later); return })
	if ok {
		t.Fatal("an advance from a stale sync time was taken")
	}
	inTx(t, s, func(tx *sql.Tx) (err error) { ok, err = s.AdvancePull(ctx, tx, got, true, later); return })
	if !ok {
		t.Fatal("an advance from the current sync time was refused")
	}
	if err := s.RecordPullError(ctx, "wdt_trades", t2.Add(time.Minute), "throttled"); err != nil {
		t.Fatal(err)
	}
	got, _, _ = s.PullStateOf(ctx, s.Reader(), "wdt_trades")
	if !got.SyncedTo.Equal(t2) || got.DocsTotal != 10 || got.LastError != "throttled" {
		t.Fatalf("after an error: %+v", got)
	}
	states, err := s.PullStates(ctx)
	if err != nil || len(states) != 1 {
		t.Fatalf("PullStates = %+v, %v", states, err)
	}
	// A good window clears the error.
	t3 := t2.Add(time.Hour)
	inTx(t, s, func(tx *sql.Tx) (err error) {
		ok, err = s.AdvancePull(ctx, tx, got, true, store.PullState{Source: "wdt_trades", SyncedTo: t3, LastRunAt: t3})
		return
	})
	if got, _, _ = s.PullStateOf(ctx, s.Reader(), "wdt_trades"); !ok || got.LastError != "" {
		t.Fatalf("after a good window: %+v", got)
	}
}

func testBackfillState(t *testing.T, s *store.Store) {
	ctx := context.Background()
	from, to := base, base.Add(48*time.Hour)
	bf, err := s.StartBackfill(ctx, "wdt_trades", from, to, base)
	if err != nil || bf.Done() || !bf.DoneTo.Equal(from) {
		t.Fatalf("a new backfill: %+v, %v", bf, err)
	}
	var ok bool
	inTx(t, s, func(tx *sql.Tx) (err error) {
		ok, err = s.AdvanceBackfill(ctx, tx, bf.ID, from, from.Add(time.Hour), 5, time.Time{})
		return
	})
	if !ok {
		t.Fatal("advancing the backfill was refused")
	}
	again, err := s.StartBackfill(ctx, "wdt_trades", from, to, base.Add(time.Hour))
	if err != nil || again.ID != bf.ID || !again.DoneTo.Equal(from.Add(time.Hour)) || again.Docs != 5 {
		t.Fatalf("the same range again resumes: %+v, %v", again, err)
	}
	inTx(t, s, func(tx *sql.Tx) (err error) {
		ok, err = s.AdvanceBackfill(ctx, tx, bf.ID, from, to, 1, to)
		return
	})
	if ok {
		t.Fatal("an advance from where the backfill no longer is was taken")
	}
}

// testFlowItems: wanting a version raises an item, a write settles it, a
// newer version during the write puts it back to pending, exceptions are
// retried or skipped, and due items come with the order's latest version.
func testFlowItems(t *testing.T, s *store.Store) {
	ctx := context.Background()
	o := newOrder("F-1", order.StatusPaid, "10.00", base)
	out := apply(t, s, incoming(t, o, received(0)))
	id := out[0].OrderID
	now := base.Add(time.Minute)
	inTx(t, s, func(tx *sql.Tx) error { return s.WantFlow(ctx, tx, "f", id, 1, now) })
	inTx(t, s, func(tx *sql.Tx) error { return s.WantFlow(ctx, tx, "f", id, 1, now) }) // again: one item
	due, err := s.DueFlowItems(ctx, "f", now, 10)
	if err != nil || len(due) != 1 || due[0].Version != 1 || due[0].State != store.FlowPending || due[0].OrderNo != "F-1" || len(due[0].Raw) == 0 {
		t.Fatalf("due = %+v, %v", due, err)
	}
	if at, err := s.NextDue(ctx, "f"); err != nil || !at.Equal(now) {
		t.Fatalf("NextDue = %v, %v", at, err)
	}
	// A newer version arrives while version 1 is being written.
	o.Total = money(t, "12.00")
	o.UpdatedAt = base.Add(time.Hour)
	apply(t, s, incoming(t, o, received(1)))
	inTx(t, s, func(tx *sql.Tx) error { return s.WantFlow(ctx, tx, "f", id, 2, now) })
	inTx(t, s, func(tx *sql.Tx) error {
		return s.UpdateFlowItems(ctx, tx, []store.FlowUpdate{{ID: due[0].ID, Version: 1, State: store.FlowDone, BillNo: "F-1", TargetID: "T-9", Request: `{"a":1}`, At: now}})
	})
	it, err := s.GetFlowItem(ctx, due[0].ID)
	if err != nil || it.State != store.FlowPending || it.DoneVersion != 1 || it.TargetID != "T-9" || it.WrittenAt.IsZero() {
		t.Fatalf("written at 1 while 2 is wanted: %+v, %v", it, err)
	}
	due, _ = s.DueFlowItems(ctx, "f", now, 10)
	if len(due) != 1 || due[0].Version != 2 {
		t.Fatalf("due after the newer version: %+v", due)
	}
	// Version 2 is refused: an exception; retried; skipped.
	inTx(t, s, func(tx *sql.Tx) error {
		return s.UpdateFlowItems(ctx, tx, []store.FlowUpdate{{ID: it.ID, Version: 2, State: store.FlowException, At: now,
			Error: store.FlowError{Class: "permanent", Code: "11", Message: "物料不存在", Field: "FMaterialId", Hint: "新增物料"}}})
	})
	if due, _ = s.DueFlowItems(ctx, "f", now, 10); len(due) != 0 {
		t.Fatalf("an exception is due: %+v", due)
	}
	exc, err := s.ListFlowItems(ctx, store.FlowFilter{Flow: "f", States: []store.FlowState{store.FlowException}})
	if err != nil || len(exc) != 1 || exc[0].Error.Message != "物料不存在" || exc[0].TargetID != "T-9" || exc[0].Request != `{"a":1}` {
		t.Fatalf("exceptions = %+v, %v", exc, err)
	}
	stats, err := s.FlowStatsOf(ctx, "f")
	if err != nil || stats.Exceptions != 1 || stats.Backlog != 0 || stats.Written != 1 || stats.LastError.Code != "11" {
		t.Fatalf("stats = %+v, %v", stats, err)
	}
	var ok bool
	inTx(t, s, func(tx *sql.Tx) (err error) {
		ok, err = s.ResolveException(ctx, tx, it.ID, store.FlowPending, now)
		return
	})
	if !ok {
		t.Fatal("retrying the exception was refused")
	}
	inTx(t, s, func(tx *sql.Tx) (err error) {
		ok, err = s.ResolveException(ctx, tx, it.ID, store.FlowSkipped, now)
		return
	})
	if ok {
		t.Fatal("a pending item was skipped as if it were an exception")
	}
	if due, _ = s.DueFlowItems(ctx, "f", now, 10); len(due) != 1 {
		t.Fatalf("the retried item is not due: %+v", due)
	}
	// Put off: not due before its time.
	inTx(t, s, func(tx *sql.Tx) error {
		return s.UpdateFlowItems(ctx, tx, []store.FlowUpdate{{ID: it.ID, Version: 2, State: store.FlowVerify, Attempts: 3, NextAt: now.Add(time.Minute), At: now}})
	})
	if due, _ = s.DueFlowItems(ctx, "f", now, 10); len(due) != 0 {
		t.Fatalf("an item put off is due early: %+v", due)
	}
	if due, _ = s.DueFlowItems(ctx, "f", now.Add(time.Minute), 10); len(due) != 1 || due[0].State != store.FlowVerify || due[0].Attempts != 3 {
		t.Fatalf("the item put off, when due: %+v", due)
	}
	// A newer version does not make an item whose write is in doubt
	// forget to look the bill up first.
	o.Total = money(t, "13.00")
	o.UpdatedAt = base.Add(2 * time.Hour)
	apply(t, s, incoming(t, o, received(2)))
	inTx(t, s, func(tx *sql.Tx) error { return s.WantFlow(ctx, tx, "f", id, 3, now) })
	if it, _ := s.GetFlowItem(ctx, it.ID); it.State != store.FlowVerify || it.WantVersion != 3 {
		t.Fatalf("a newer version for an item in verify: %+v", it)
	}
	steps := []store.TimelineStep{{OrderID: id, At: now, Stage: "written", Detail: map[string]any{"bill_no": "F-1"}}}
	inTx(t, s, func(tx *sql.Tx) error { return s.AppendTimeline(ctx, tx, steps) })
	var written bool
	for _, e := range timeline(t, s, id) {
		written = written || e.Stage == "written"
	}
	if !written {
		t.Fatal("an appended step is not on the timeline")
	}
}
