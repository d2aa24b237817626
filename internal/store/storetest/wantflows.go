package storetest

import (
	"context"
	"fmt"
	"testing"

	"orderhub/internal/order"
	"orderhub/internal/store"
)

// testWantFlows: many items queued in one call (more than one statement's
// worth) each become one pending item; queueing again raises only the
// versions that are newer and leaves a done item at its version alone.
func testWantFlows(t *testing.T, s *store.Store) {
	ctx := context.Background()
	const n = 250
	in := make([]store.Incoming, n)
	for i := range in {
		in[i] = incoming(t, newOrder(fmt.Sprintf("WF-%03d", i), order.StatusPaid, "1.00", base), received(i))
	}
	out := apply(t, s, in...)
	want := func(wants []store.FlowWant) {
		t.Helper()
		tx, err := s.DB().BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if err := s.WantFlows(ctx, tx, wants, received(n)); err != nil {
			t.Fatalf("WantFlows: %v", err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	var wants []store.FlowWant
	for _, o := range out {
		wants = append(wants, store.FlowWant{Flow: "a", OrderID: o.OrderID, Version: 1})
	}
	want(wants)
	due, err := s.DueFlowItems(ctx, "a", received(n+1), 2*n)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != n {
		t.Fatalf("%d items due after queueing %d", len(due), n)
	}
	byOrder := map[int64]store.DueItem{}
	for _, d := range due {
		if d.State != store.FlowPending || d.WantVersion != 1 {
			t.Errorf("item of order %d: state %s, want version %d; want pending at 1", d.OrderID, d.State, d.WantVersion)
		}
		byOrder[d.OrderID] = d
	}
	if len(byOrder) != n {
		t.Fatalf("%d distinct orders among %d due items", len(byOrder), n)
	}
	done := byOrder[out[0].OrderID]
	tx, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateFlowItems(ctx, tx, []store.FlowUpdate{{ID: done.ID, Version: 1, State: store.FlowDone, At: received(n + 1)}}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	want([]store.FlowWant{{Flow: "a", OrderID: out[0].OrderID, Version: 1}, {Flow: "a", OrderID: out[1].OrderID, Version: 3}})
	due, err = s.DueFlowItems(ctx, "a", received(n+2), 2*n)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != n-1 {
		t.Fatalf("%d items due; want %d (one done)", len(due), n-1)
	}
	for _, d := range due {
		switch {
		case d.OrderID == out[0].OrderID:
			t.Errorf("the done item is due again after queueing the version it was written at")
		case d.OrderID == out[1].OrderID && d.WantVersion != 3:
			t.Errorf("item of order %d wants version %d; want 3", d.OrderID, d.WantVersion)
		}
	}
	if it, err := s.GetFlowItem(ctx, done.ID); err != nil || it.State != store.FlowDone || it.WantVersion != 1 {
		t.Errorf("done item: %+v, %v; want done at version 1", it, err)
	}
}
