package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"orderhub/internal/order"
	"orderhub/internal/store"
)

func search(t testing.TB, s *store.Store, f store.SearchFilter) ([]string, store.SearchPage) {
	t.Helper()
	p, err := s.SearchOrders(context.Background(), f)
	if err != nil {
		t.Fatalf("SearchOrders(%+v): %v", f, err)
	}
	return orderNos(p.Records), p
}

func testSearchOrders(t *testing.T, s *store.Store) {
	// Six orders arriving one second apart (S-1 first); S-3 and S-5 have
	// the same number from two sources, S-2 and S-6 the same buyer.
	type fixture struct {
		source, no, phone string
		status            order.Status
	}
	fixtures := []fixture{
		{"shop", "S-1", "13800000001", order.StatusPaid},
		{"shop", "S-2", "13800000002", order.StatusShipped},
		{"shop", "S-3", "13800000003", order.StatusPaid},
		{"mall", "S-4", "13800000004", order.StatusCreated},
		{"mall", "S-3", "13800000005", order.StatusPaid},
		{"mall", "S-6", "13800000002", order.StatusShipped},
	}
	for i, f := range fixtures {
		o := newOrder(f.no, f.status, "10.00", base)
		o.Source, o.Buyer.Phone = f.source, f.phone
		apply(t, s, incoming(t, o, received(i)))
	}
	tests := []struct {
		name string
		f    store.SearchFilter
		want []string
	}{
		{"everything, newest first", store.SearchFilter{}, []string{"mall/S-6", "mall/S-3", "mall/S-4", "shop/S-3", "shop/S-2", "shop/S-1"}},
		{"order number from every source", store.SearchFilter{OrderNo: "S-3"}, []string{"mall/S-3", "shop/S-3"}},
		{"order number and source", store.SearchFilter{OrderNo: "S-3", Source: "shop"}, []string{"shop/S-3"}},
		{"order number matched whole", store.SearchFilter{OrderNo: "S-"}, nil},
		{"phone", store.SearchFilter{Phone: "13800000002"}, []string{"mall/S-6", "shop/S-2"}},
		{"phone matched whole", store.SearchFilter{Phone: "1380000000"}, nil},
		{"masked phone finds nothing", store.SearchFilter{Phone: "138****0002"}, nil},
		{"status", store.SearchFilter{Status: order.StatusPaid}, []string{"mall/S-3", "shop/S-3", "shop/S-1"}},
		{"source and status", store.SearchFilter{Source: "mall", Status: order.StatusShipped}, []string{"mall/S-6"}},
		{"from included", store.SearchFilter{From: received(4)}, []string{"mall/S-6", "mall/S-3"}},
		{"to excluded", store.SearchFilter{To: received(1)}, []string{"shop/S-1"}},
		{"range and status", store.SearchFilter{From: received(1), To: received(5), Status: order.StatusPaid}, []string{"mall/S-3", "shop/S-3"}},
		{"nothing matches", store.SearchFilter{Source: "nowhere"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, p := search(t, s, tt.f)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("SearchOrders(%+v) = %v, want %v", tt.f, got, tt.want)
			}
			if p.More || p.NextBefore != "" {
				t.Fatalf("one page holds it all, but More = %v, NextBefore = %q", p.More, p.NextBefore)
			}
		})
	}

	// Paging by four: 4 then 2, the second page older than the first, the
	// filters kept.
	first, p := search(t, s, store.SearchFilter{Limit: 4})
	if len(first) != 4 || !p.More || p.NextBefore == "" {
		t.Fatalf("first page: %v, more %v, next %q; want 4 orders and more", first, p.More, p.NextBefore)
	}
	second, p2 := search(t, s, store.SearchFilter{Limit: 4, Before: p.NextBefore})
	if !slices.Equal(second, []string{"shop/S-2", "shop/S-1"}) || p2.More || p2.NextBefore != "" {
		t.Fatalf("second page: %v, more %v, next %q; want [S-2 S-1] and no more", second, p2.More, p2.NextBefore)
	}
	paid, p := search(t, s, store.SearchFilter{Status: order.StatusPaid, Limit: 2})
	if !slices.Equal(paid, []string{"mall/S-3", "shop/S-3"}) || !p.More {
		t.Fatalf("paid, first page: %v more %v", paid, p.More)
	}
	if rest, _ := search(t, s, store.SearchFilter{Status: order.StatusPaid, Limit: 2, Before: p.NextBefore}); !slices.Equal(rest, []string{"shop/S-1"}) {
		t.Fatalf("paid, second page: %v, want [S-1]", rest)
	}
	if _, err := s.SearchOrders(context.Background(), store.SearchFilter{Before: "not-a-cursor!"}); !errors.Is(err, store.ErrBadCursor) {
		t.Fatalf("SearchOrders with a made-up cursor: %v, want ErrBadCursor", err)
	}
	// The found record is the stored order, phone unmasked (masking is the
	// reader's business).
	_, p = search(t, s, store.SearchFilter{OrderNo: "S-4"})
	if len(p.Records) != 1 || p.Records[0].Order.Buyer.Phone != "13800000004" || !p.Records[0].FirstSeenAt.Equal(received(3)) {
		t.Fatalf("S-4 = %+v, want the stored order first seen at %v", p.Records, received(3))
	}
}

// testSearchIndexes checks that the database plans every search filter
// through an index (migration 0009), none by reading the whole table.
func testSearchIndexes(t *testing.T, s *store.Store) {
	// On a few test rows the planner may take another index on the
	// filtered column (a list's index in updated_at order, then a sort);
	// what must not happen is reading the whole table.
	tests := []struct {
		name    string
		f       store.SearchFilter
		indexes []string // one of them must serve it
	}{
		{"order number", store.SearchFilter{OrderNo: "A1"}, []string{"orders_by_no"}},
		{"phone", store.SearchFilter{Phone: "13800000001"}, []string{"orders_by_phone"}},
		{"status", store.SearchFilter{Status: order.StatusPaid}, []string{"orders_by_status_arrival", "orders_by_status"}},
		{"source", store.SearchFilter{Source: "shop"}, []string{"orders_by_source_arrival", "orders_by_source", "sqlite_autoindex_orders_1", "orders_source_order_no_key"}},
		{"time range", store.SearchFilter{From: received(0), To: received(9)}, []string{"orders_by_arrival"}},
		{"everything", store.SearchFilter{}, []string{"orders_by_arrival_id"}},
		{"next page", store.SearchFilter{Before: nextBefore(t, s)}, []string{"orders_by_arrival"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := s.ExplainSearch(context.Background(), tt.f)
			if err != nil {
				t.Fatalf("ExplainSearch: %v", err)
			}
			// SQLite: "SCAN orders" without an index; PostgreSQL: "Seq Scan on orders".
			for _, line := range strings.Split(plan, "\n") {
				if (strings.Contains(line, "SCAN orders") && !strings.Contains(line, "INDEX")) || strings.Contains(line, "Seq Scan") {
					t.Fatalf("search %+v reads the whole table:\n%s", tt.f, plan)
				}
			}
			if !slices.ContainsFunc(tt.indexes, func(ix string) bool { return strings.Contains(plan, ix) }) {
				t.Fatalf("search %+v is served by none of %v:\n%s", tt.f, tt.indexes, plan)
			}
		})
	}
}

// nextBefore makes a valid paging cursor: two orders, a page of one.
func nextBefore(t *testing.T, s *store.Store) string {
	t.Helper()
	for i := range 2 {
		apply(t, s, incoming(t, newOrder(fmt.Sprintf("P-%d", i), order.StatusPaid, "1.00", base), received(i)))
	}
	_, p := search(t, s, store.SearchFilter{Limit: 1})
	if p.NextBefore == "" {
		t.Fatal("a page of one of two orders gave no NextBefore")
	}
	return p.NextBefore
}

func testLatestVersion(t *testing.T, s *store.Store) {
	ctx := context.Background()
	o := newOrder("V-1", order.StatusPaid, "10.00", base)
	first := incoming(t, o, received(0))
	out := apply(t, s, first)
	v, err := s.LatestVersion(ctx, out[0].OrderID)
	if err != nil || v.Version != 1 || string(v.Raw) != string(first.Raw) || !v.ReceivedAt.Equal(received(0)) {
		t.Fatalf("after one version: LatestVersion = %d %q at %v, %v; want 1, the payload as sent, at %v", v.Version, v.Raw, v.ReceivedAt, err, received(0))
	}
	o.Status, o.UpdatedAt = order.StatusShipped, base.Add(time.Hour)
	second := incoming(t, o, received(1))
	apply(t, s, second)
	// A stale push (an older document) adds no version.
	o.Status, o.UpdatedAt = order.StatusCreated, base.Add(-time.Hour)
	apply(t, s, incoming(t, o, received(2)))
	v, err = s.LatestVersion(ctx, out[0].OrderID)
	if err != nil || v.Version != 2 || string(v.Raw) != string(second.Raw) || !v.ReceivedAt.Equal(received(1)) {
		t.Fatalf("after two versions and a stale push: LatestVersion = %d %q at %v, %v; want version 2 at %v", v.Version, v.Raw, v.ReceivedAt, err, received(1))
	}
	if _, err := s.LatestVersion(ctx, out[0].OrderID+1000); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("LatestVersion of no order: %v, want ErrNotFound", err)
	}
}
