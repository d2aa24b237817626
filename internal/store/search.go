package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"orderhub/internal/order"
)

// SearchFilter selects orders for SearchOrders, the console's search. Every
// field that is set must match; the results come newest arrival first.
type SearchFilter struct {
	// OrderNo and Phone match whole: an order number from any source, the
	// buyer's phone as the canonical order holds it.
	OrderNo string
	Phone   string
	Source  string
	Status  order.Status
	// From and To bound when the hub first received the order: From
	// included, To excluded; zero is unbounded.
	From, To time.Time
	// Before is the NextBefore of the previous page; "" for the first.
	Before string
	// Limit is 1..500, default 50.
	Limit int
}

// SearchPage is one page of SearchOrders.
type SearchPage struct {
	Records []Record
	// NextBefore leads to the next (older) page when More is true.
	NextBefore string
	More       bool
}

// phoneExpr is the buyer's phone inside the canonical JSON, written exactly
// as migration 0009 indexes it, so the planner can use the index.
func (s *Store) phoneExpr() string {
	if s.dialect == Postgres {
		return `((canonical::jsonb) -> 'buyer' ->> 'phone')`
	}
	return `json_extract(canonical, '$.buyer.phone')`
}

func (s *Store) searchQuery(f SearchFilter) (string, []any, error) {
	var where []string
	var args []any
	if f.OrderNo != "" {
		where, args = append(where, "order_no = ?"), append(args, f.OrderNo)
	}
	if f.Phone != "" {
		where, args = append(where, s.phoneExpr()+" = ?"), append(args, f.Phone)
	}
	if f.Source != "" {
		where, args = append(where, "source = ?"), append(args, f.Source)
	}
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, string(f.Status))
	}
	if !f.From.IsZero() {
		where, args = append(where, "first_seen_at >= ?"), append(args, f.From.UnixMicro())
	}
	if !f.To.IsZero() {
		where, args = append(where, "first_seen_at < ?"), append(args, f.To.UnixMicro())
	}
	if f.Before != "" {
		at, id, err := decodeCursor(f.Before)
		if err != nil {
			return "", nil, err
		}
		where, args = append(where, "(first_seen_at < ? OR (first_seen_at = ? AND id < ?))"), append(args, at, at, id)
	}
	q := `SELECT id, version, first_seen_at, updated_at, canonical FROM orders`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY first_seen_at DESC, id DESC LIMIT ?"
	args = append(args, f.Limit+1)
	return s.rebind(q), args, nil
}

func searchLimit(f SearchFilter) SearchFilter {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, 500)
	return f
}

// SearchOrders returns one page of the orders f selects, newest arrival
// first. A Before this store did not make is ErrBadCursor.
func (s *Store) SearchOrders(ctx context.Context, f SearchFilter) (SearchPage, error) {
	f = searchLimit(f)
	q, args, err := s.searchQuery(f)
	if err != nil {
		return SearchPage{}, err
	}
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return SearchPage{}, fmt.Errorf("store: searching orders: %w", err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		r, err := scanRecord(rows.Scan)
		if err != nil {
			return SearchPage{}, fmt.Errorf("store: searching orders: %w", err)
		}
		out = append(out, *r)
	}
	if err := rows.Err(); err != nil {
		return SearchPage{}, fmt.Errorf("store: searching orders: %w", err)
	}
	p := SearchPage{Records: out}
	if len(out) > f.Limit {
		p.Records, p.More = out[:f.Limit], true
		last := p.Records[f.Limit-1]
		p.NextBefore = encodeCursor(last.FirstSeenAt.UnixMicro(), last.ID)
	}
	return p, nil
}

// ExplainSearch returns the database's plan for SearchOrders(f), one line
// per step, so tests and benchmarks can show that an index serves each
// search. On PostgreSQL sequential scans are switched off for the one
// statement, so that a table of a few test rows shows the plan a large one
// would get, or a sequential scan when no index can serve.
func (s *Store) ExplainSearch(ctx context.Context, f SearchFilter) (string, error) {
	f = searchLimit(f)
	q, args, err := s.searchQuery(f)
	if err != nil {
		return "", err
	}
	tx, err := s.read.BeginTx(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("store: explaining the search: %w", err)
	}
	defer tx.Rollback()
	if s.dialect == Postgres {
		if _, err := tx.ExecContext(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
			return "", fmt.Errorf("store: explaining the search: %w", err)
		}
		q = "EXPLAIN " + q
	} else {
		q = "EXPLAIN QUERY PLAN " + q
	}
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return "", fmt.Errorf("store: explaining the search: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", fmt.Errorf("store: explaining the search: %w", err)
	}
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", fmt.Errorf("store: explaining the search: %w", err)
		}
		// SQLite's detail is the last column, PostgreSQL's plan line the only one.
		fmt.Fprintf(&b, "%v\n", vals[len(vals)-1])
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("store: explaining the search: %w", err)
	}
	return b.String(), nil
}

// LatestVersion reads an order's newest stored payload (its primary key
// serves it), for a page that shows what the source last sent without
// reading every version. An order with no version is ErrNotFound.
func (s *Store) LatestVersion(ctx context.Context, orderID int64) (Version, error) {
	var v Version
	var at int64
	err := s.read.QueryRowContext(ctx, s.rebind(`SELECT version, received_at, raw FROM order_versions WHERE order_id = ? ORDER BY version DESC LIMIT 1`), orderID).
		Scan(&v.Version, &at, &v.Raw)
	if errors.Is(err, sql.ErrNoRows) {
		return v, ErrNotFound
	}
	if err != nil {
		return v, fmt.Errorf("store: reading the latest version of order %d: %w", orderID, err)
	}
	v.ReceivedAt = micros(at)
	return v, nil
}
