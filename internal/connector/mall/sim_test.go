package mall

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"orderhub/internal/order"
)

const genSign = "gen-sign-0123456789"

var genStart = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func TestGeneratorDocumentsPassReceive(t *testing.T) {
	loc := shanghai(t)
	g := NewGenerator(42, genSign, loc, "T")
	r := NewReceiver(genSign, loc)
	seenNo := map[string]bool{}
	seenBody := map[string]bool{}
	for i := range 200 {
		now := genStart.Add(time.Duration(i) * time.Second)
		d := g.New(now)
		body := Body(d)
		got, err := receive(t, r, body)
		if err != nil {
			t.Fatalf("document %d: Receive: %v\n%s", i, err, body)
		}
		if len(got.Warnings) > 0 {
			t.Fatalf("document %d: the simulator's totals draw warnings: %+v", i, got.Warnings)
		}
		o := got.Order
		if seenNo[o.OrderNo] {
			t.Fatalf("document %d: order_no %s repeats", i, o.OrderNo)
		}
		seenNo[o.OrderNo] = true
		if seenBody[string(body)] {
			t.Fatalf("document %d repeats an earlier body", i)
		}
		seenBody[string(body)] = true
		if o.Status != order.StatusCreated {
			t.Fatalf("document %d: a new order has status %q, want created", i, o.Status)
		}
		if !o.CreatedAt.Equal(now.Truncate(time.Second)) {
			t.Fatalf("document %d: created_at %v, want %v", i, o.CreatedAt, now)
		}
		if o.CreatedAt.Format("-07:00") != "+08:00" {
			t.Fatalf("document %d: created_at not in the shop's zone: %v", i, o.CreatedAt)
		}
		// The amounts add up the way the mall computes them.
		var goods order.Money
		for _, it := range o.Items {
			if it.Total != it.UnitPrice*order.Money(it.Quantity) {
				t.Fatalf("document %d: line %+v does not add up", i, it)
			}
			if it.SKU == "" || it.Name == "" || it.Spec == "" {
				t.Fatalf("document %d: line %+v lacks sku, name or spec", i, it)
			}
			goods += it.Total
		}
		if o.Goods != goods || o.Total != o.Goods+o.Freight-o.Discount {
			t.Fatalf("document %d: goods %s freight %s discount %s total %s do not add up (lines %s)", i, o.Goods, o.Freight, o.Discount, o.Total, goods)
		}
		if len(o.Buyer.Phone) != 11 || o.Buyer.Name == "" || o.Buyer.Address == "" {
			t.Fatalf("document %d: buyer %+v", i, o.Buyer)
		}
		if bytes.Contains(got.Raw, []byte(genSign)) {
			t.Fatalf("document %d: Raw keeps the sign", i)
		}
	}
	// A receiver with another sign refuses the generator's documents.
	if _, err := receive(t, NewReceiver("not-the-generators", loc), Body(g.New(genStart))); err == nil {
		t.Fatal("a document signed for another shop was accepted")
	}
}

func TestGeneratorAdvance(t *testing.T) {
	loc := shanghai(t)
	r := NewReceiver(genSign, loc)
	g := NewGenerator(7, genSign, loc, "A")
	next := map[order.Status][]order.Status{
		order.StatusCreated: {order.StatusPaid, order.StatusCancelled},
		order.StatusPaid:    {order.StatusShipped, order.StatusRefunded},
		order.StatusShipped: {order.StatusCompleted},
	}
	paths := map[string]int{}
	for i := range 300 {
		now := genStart.Add(time.Duration(i) * time.Minute)
		d := g.New(now)
		prev, err := receive(t, r, Body(d))
		if err != nil {
			t.Fatal(err)
		}
		path := []order.Status{prev.Order.Status}
		for step := 1; ; step++ {
			at := now.Add(time.Duration(step) * time.Hour)
			if !g.Advance(d, at) {
				break
			}
			if step > 3 {
				t.Fatalf("order %s advanced more than 3 times", d.OrderNo)
			}
			cur, err := receive(t, r, Body(d))
			if err != nil {
				t.Fatalf("order %s step %d: %v", d.OrderNo, step, err)
			}
			o := cur.Order
			if !slices.Contains(next[prev.Order.Status], o.Status) {
				t.Fatalf("order %s moved %s → %s", d.OrderNo, prev.Order.Status, o.Status)
			}
			if !o.UpdatedAt.Equal(at) {
				t.Fatalf("order %s: updated_at %v, want %v", d.OrderNo, o.UpdatedAt, at)
			}
			switch o.Status {
			case order.StatusPaid:
				if !o.PaidAt.Equal(at) {
					t.Fatalf("paid_at %v, want %v", o.PaidAt, at)
				}
			case order.StatusShipped:
				if !o.ShippedAt.Equal(at) || o.Shipping.TrackingNo == "" || o.Shipping.Company == "" {
					t.Fatalf("shipped without time or tracking: %+v %v", o.Shipping, o.ShippedAt)
				}
			case order.StatusCompleted:
				if !o.CompletedAt.Equal(at) {
					t.Fatalf("completed_at %v, want %v", o.CompletedAt, at)
				}
			case order.StatusCancelled:
				if !o.CancelledAt.Equal(at) {
					t.Fatalf("cancelled_at %v, want %v", o.CancelledAt, at)
				}
			case order.StatusRefunded:
				if o.Refunded != o.Total {
					t.Fatalf("refunded %s, want the total %s", o.Refunded, o.Total)
				}
			}
			// Each step is exactly the status event, never a "changed".
			evs := order.Transition(&prev.Order, &o)
			if len(evs) != 1 || evs[0] == order.EventChanged {
				t.Fatalf("order %s %s → %s gives events %v", d.OrderNo, prev.Order.Status, o.Status, evs)
			}
			path = append(path, o.Status)
			prev = cur
		}
		if g.Advance(d, now.Add(10*time.Hour)) {
			t.Fatalf("order %s advanced after reporting it was done", d.OrderNo)
		}
		paths[fmt.Sprint(path)]++
	}
	// With 300 orders, the normal path dominates and both branches occur.
	if paths["[created paid shipped completed]"] < 200 {
		t.Fatalf("paths: %v", paths)
	}
	for _, p := range []string{"[created cancelled]", "[created paid refunded]"} {
		if paths[p] == 0 {
			t.Fatalf("no order took path %s: %v", p, paths)
		}
	}
	if len(paths) != 3 {
		t.Fatalf("unexpected paths: %v", paths)
	}
}

func TestGeneratorDeterministic(t *testing.T) {
	loc := shanghai(t)
	run := func(seed uint64) [][]byte {
		g := NewGenerator(seed, genSign, loc, "D")
		var out [][]byte
		var live []*Order
		for i := range 50 {
			now := genStart.Add(time.Duration(i) * time.Second)
			if i%3 == 2 {
				o := live[i%len(live)]
				g.Advance(o, now)
				out = append(out, Body(o))
				continue
			}
			o := g.New(now)
			live = append(live, o)
			out = append(out, Body(o))
		}
		return out
	}
	a, b, c := run(1), run(1), run(2)
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			t.Fatalf("document %d differs between two runs with the same seed:\n%s\n%s", i, a[i], b[i])
		}
	}
	same := 0
	for i := range a {
		if bytes.Equal(a[i], c[i]) {
			same++
		}
	}
	if same == len(a) {
		t.Fatal("seeds 1 and 2 produced the same documents")
	}
}
