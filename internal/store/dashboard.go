package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Buckets splits [From, To) into equal spans of Width, counted from From:
// bucket i holds what happened in [From+i·Width, From+(i+1)·Width). The
// caller aligns From to the clock (a whole hour or midnight in its zone).
type Buckets struct {
	From, To time.Time
	Width    time.Duration
	// Settled, when set, is a time before which no order can still arrive
	// with an earlier first-arrival time (now less the longest a received
	// document can take to be committed): hours ended by then are counted
	// once and kept in order_hours. Zero counts every order each time.
	Settled time.Time
}

// Len is how many buckets there are (the last may be cut short by To).
func (b Buckets) Len() int {
	if b.Width <= 0 || !b.From.Before(b.To) {
		return 0
	}
	return int((b.To.Sub(b.From) + b.Width - 1) / b.Width)
}

// OrderBucket counts the orders one source first saw in one bucket, and
// their total in fen.
type OrderBucket struct {
	Source   string
	Bucket   int
	Orders   int
	TotalFen int64
}

const hourUS = int64(time.Hour / time.Microsecond)

// clockSkewUS is how far one node's clock may be behind another's: an order
// stamped first seen by one node and changed by another may carry an
// updated_at that much earlier.
const clockSkewUS = int64(10 * time.Minute / time.Microsecond)

// OrdersByBucket counts orders by source and bucket of their first
// arrival, sorted by source and bucket. Hours that ended before b.Settled
// are read from order_hours (and counted into it the first time); the rest
// are counted from the orders.
func (s *Store) OrdersByBucket(ctx context.Context, b Buckets) ([]OrderBucket, error) {
	if b.Len() == 0 {
		return nil, nil
	}
	acc := map[[2]any]*OrderBucket{}
	add := func(source string, at int64, n int, fen int64) {
		i := int((at - b.From.UnixMicro()) / b.Width.Microseconds())
		k := [2]any{source, i}
		ob := acc[k]
		if ob == nil {
			ob = &OrderBucket{Source: source, Bucket: i}
			acc[k] = ob
		}
		ob.Orders += n
		ob.TotalFen += fen
	}
	lo, hi := b.From.UnixMicro(), b.To.UnixMicro()
	// Hours are kept by their start in Unix time, so buckets can be made
	// of them when they start on an hour and are whole hours wide (every
	// zone but a few with half-hour offsets).
	rolled := lo
	if !b.Settled.IsZero() && b.Width%time.Hour == 0 && lo%hourUS == 0 {
		end := min(hi, b.Settled.UnixMicro()) / hourUS * hourUS
		if end > lo {
			if err := s.countHours(ctx, lo, end); err != nil {
				return nil, fmt.Errorf("store: counting orders by hour: %w", err)
			}
			rows, err := s.read.QueryContext(ctx, s.rebind(`SELECT hour, source, orders, total_fen FROM order_hours WHERE hour >= ? AND hour < ?`), lo, end)
			if err != nil {
				return nil, fmt.Errorf("store: reading orders by hour: %w", err)
			}
			for rows.Next() {
				var hour, fen int64
				var source string
				var n int
				if err := rows.Scan(&hour, &source, &n, &fen); err != nil {
					rows.Close()
					return nil, fmt.Errorf("store: reading orders by hour: %w", err)
				}
				add(source, hour, n, fen)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, fmt.Errorf("store: reading orders by hour: %w", err)
			}
			rolled = end
		}
	}
	if rolled < hi {
		width := b.Width.Microseconds()
		err := s.countOrders(ctx, lo, width, rolled, hi, func(source string, bucket int64, n int, fen int64) {
			add(source, lo+bucket*width, n, fen)
		})
		if err != nil {
			return nil, fmt.Errorf("store: counting orders by hour: %w", err)
		}
	}
	out := make([]OrderBucket, 0, len(acc))
	for _, ob := range acc {
		out = append(out, *ob)
	}
	slices.SortFunc(out, func(a, b OrderBucket) int {
		return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.Bucket, b.Bucket))
	})
	return out, nil
}

// countOrders counts the orders first seen in [lo, hi) by source and
// bucket of width counted from origin. It reads the orders changed since lo
// through orders_by_update, which holds every order first seen since then:
// the hub changes an order no earlier than it first saw it (give or take
// the nodes' clocks).
func (s *Store) countOrders(ctx context.Context, origin, width, lo, hi int64, fn func(source string, bucket int64, n int, fen int64)) error {
	// SQLite would rather walk the whole (source, order_no) index to group
	// without sorting; a recent range is far less.
	from := "orders"
	if s.dialect == SQLite {
		from = "orders INDEXED BY orders_by_update"
	}
	rows, err := s.read.QueryContext(ctx, s.rebind(`SELECT source, (first_seen_at - ?) / ? AS b, count(*), coalesce(sum(total_fen), 0)
		FROM `+from+` WHERE updated_at >= ? AND first_seen_at >= ? AND first_seen_at < ? GROUP BY source, b`), origin, width, lo-clockSkewUS, lo, hi)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var source string
		var bucket, fen int64
		var n int
		if err := rows.Scan(&source, &bucket, &n, &fen); err != nil {
			return err
		}
		fn(source, bucket, n, fen)
	}
	return rows.Err()
}

// countHours makes order_hours hold every hour in [lo, hi) (both on the
// hour): the hours not counted yet are counted from orders, in runs of
// consecutive hours, and written with the hours' done marks. Hours before
// the first order ever stored need no counting: they stay empty. Two nodes
// counting the same hour write the same rows; the second's are ignored.
func (s *Store) countHours(ctx context.Context, lo, hi int64) error {
	// The first order stored was first seen at about the earliest time any
	// was (ids follow commits, and a document is committed moments after
	// it is stamped; a day covers any delay): hours before that are empty.
	var first int64
	err := s.read.QueryRowContext(ctx, `SELECT first_seen_at FROM orders ORDER BY id LIMIT 1`).Scan(&first)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	lo = max(lo, (first-24*hourUS)/hourUS*hourUS)
	if lo >= hi {
		return nil
	}
	done := map[int64]bool{}
	rows, err := s.read.QueryContext(ctx, s.rebind(`SELECT hour FROM order_hours_done WHERE hour >= ? AND hour < ?`), lo, hi)
	if err != nil {
		return err
	}
	for rows.Next() {
		var h int64
		if err := rows.Scan(&h); err != nil {
			rows.Close()
			return err
		}
		done[h] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for h := lo; h < hi; {
		if done[h] {
			h += hourUS
			continue
		}
		end := h
		for end < hi && !done[end] {
			end += hourUS
		}
		if err := s.countRun(ctx, h, end); err != nil {
			return err
		}
		h = end
	}
	return nil
}

// countRun counts the hours [lo, hi) into order_hours.
func (s *Store) countRun(ctx context.Context, lo, hi int64) error {
	type row struct {
		source string
		hour   int64
		n      int
		fen    int64
	}
	var counted []row
	err := s.countOrders(ctx, lo, hourUS, lo, hi, func(source string, bucket int64, n int, fen int64) {
		counted = append(counted, row{source, lo + bucket*hourUS, n, fen})
	})
	if err != nil {
		return err
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ins, err := tx.PrepareContext(ctx, s.rebind(`INSERT INTO order_hours (hour, source, orders, total_fen) VALUES (?, ?, ?, ?) ON CONFLICT (hour, source) DO NOTHING`))
	if err != nil {
		return err
	}
	defer ins.Close()
	for _, r := range counted {
		if _, err := ins.ExecContext(ctx, r.hour, r.source, r.n, r.fen); err != nil {
			return err
		}
	}
	mark, err := tx.PrepareContext(ctx, s.rebind(`INSERT INTO order_hours_done (hour) VALUES (?) ON CONFLICT (hour) DO NOTHING`))
	if err != nil {
		return err
	}
	defer mark.Close()
	for h := lo; h < hi; h += hourUS {
		if _, err := mark.ExecContext(ctx, h); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// args are the query arguments for a bucket expression `(col - ?) / ?` and
// a range `col >= ? AND col < ?`, in that order.
func (b Buckets) args() []any {
	from := b.From.UnixMicro()
	return []any{from, b.Width.Microseconds(), from, b.To.UnixMicro()}
}

// FlowBucket counts one flow's bills written, and the documents that
// became exceptions, in one bucket.
type FlowBucket struct {
	Flow       string
	Bucket     int
	Written    int
	Exceptions int
}

// FlowsByBucket counts bills written (by when they were written) and
// exceptions (items standing in exception, by when they became one) per
// flow and bucket.
func (s *Store) FlowsByBucket(ctx context.Context, b Buckets) ([]FlowBucket, error) {
	if b.Len() == 0 {
		return nil, nil
	}
	byKey := map[[2]any]*FlowBucket{}
	var out []*FlowBucket
	add := func(flow string, bucket int) *FlowBucket {
		k := [2]any{flow, bucket}
		if fb, ok := byKey[k]; ok {
			return fb
		}
		fb := &FlowBucket{Flow: flow, Bucket: bucket}
		byKey[k] = fb
		out = append(out, fb)
		return fb
	}
	for _, q := range []struct {
		sql   string
		count func(*FlowBucket, int)
	}{
		{`SELECT flow, (written_at - ?) / ? AS b, count(*) FROM flow_items
			WHERE written_at >= ? AND written_at < ? AND written_at > 0 GROUP BY flow, b`, func(fb *FlowBucket, n int) { fb.Written = n }},
		{`SELECT flow, (updated_at - ?) / ? AS b, count(*) FROM flow_items
			WHERE state = 'exception' AND updated_at >= ? AND updated_at < ? GROUP BY flow, b`, func(fb *FlowBucket, n int) { fb.Exceptions = n }},
	} {
		if err := s.eachCount(ctx, q.sql, b.args(), func(flow string, bucket, n int) { q.count(add(flow, bucket), n) }); err != nil {
			return nil, fmt.Errorf("store: counting flow writes by hour: %w", err)
		}
	}
	res := make([]FlowBucket, len(out))
	for i, fb := range out {
		res[i] = *fb
	}
	return res, nil
}

// eachCount runs a query of (name, bucket, count) rows.
func (s *Store) eachCount(ctx context.Context, q string, args []any, fn func(name string, bucket, n int)) error {
	rows, err := s.read.QueryContext(ctx, s.rebind(q), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var bucket, n int
		if err := rows.Scan(&name, &bucket, &n); err != nil {
			return err
		}
		fn(name, bucket, n)
	}
	return rows.Err()
}

// Backlog is what waits now: per flow, documents not yet written (pending
// or being verified) and exceptions a person must look at; per channel
// endpoint, messages queued, collected for a digest or quiet hours, or in
// flight, and those that failed for good.
type Backlog struct {
	Flows    map[string]FlowBacklog
	Channels map[string]ChannelBacklog
}

// FlowBacklog is one flow's backlog.
type FlowBacklog struct{ Waiting, Exceptions int }

// ChannelBacklog is one endpoint's backlog.
type ChannelBacklog struct{ Waiting, Failed int }

// Backlogs reads what waits, through the flows' and endpoints' queue
// indexes.
func (s *Store) Backlogs(ctx context.Context) (Backlog, error) {
	out := Backlog{Flows: map[string]FlowBacklog{}, Channels: map[string]ChannelBacklog{}}
	err := s.eachState(ctx, `SELECT flow, state, count(*) FROM flow_items WHERE state IN ('pending', 'verify', 'exception') GROUP BY flow, state`,
		func(flow, state string, n int) {
			fb := out.Flows[flow]
			if state == string(FlowException) {
				fb.Exceptions += n
			} else {
				fb.Waiting += n
			}
			out.Flows[flow] = fb
		})
	if err != nil {
		return Backlog{}, fmt.Errorf("store: reading the flows' backlog: %w", err)
	}
	err = s.eachState(ctx, `SELECT system, state, count(*) FROM deliveries WHERE state IN ('queued', 'collecting', 'sending', 'failed') GROUP BY system, state`,
		func(system, state string, n int) {
			cb := out.Channels[system]
			if state == string(DeliveryFailed) {
				cb.Failed += n
			} else {
				cb.Waiting += n
			}
			out.Channels[system] = cb
		})
	if err != nil {
		return Backlog{}, fmt.Errorf("store: reading the channels' backlog: %w", err)
	}
	return out, nil
}

func (s *Store) eachState(ctx context.Context, q string, fn func(name, state string, n int)) error {
	rows, err := s.read.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var name, state string
		var n int
		if err := rows.Scan(&name, &state, &n); err != nil {
			return err
		}
		fn(name, state, n)
	}
	return rows.Err()
}
