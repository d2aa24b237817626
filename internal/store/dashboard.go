package store

import (
	"context"
	"fmt"
	"time"
)

// Buckets splits [From, To) into equal spans of Width, counted from From:
// bucket i holds what happened in [From+i·Width, From+(i+1)·Width). The
// caller aligns From to the clock (a whole hour or midnight in its zone).
type Buckets struct {
	From, To time.Time
	Width    time.Duration
}

// Len is how many buckets there are (the last may be cut short by To).
func (b Buckets) Len() int {
	if b.Width <= 0 || !b.From.Before(b.To) {
		return 0
	}
	return int((b.To.Sub(b.From) + b.Width - 1) / b.Width)
}

// args are the query arguments for a bucket expression `(col - ?) / ?` and
// a range `col >= ? AND col < ?`, in that order.
func (b Buckets) args() []any {
	from := b.From.UnixMicro()
	return []any{from, b.Width.Microseconds(), from, b.To.UnixMicro()}
}

// OrderBucket counts the orders one source first saw in one bucket, and
// their total in fen.
type OrderBucket struct {
	Source   string
	Bucket   int
	Orders   int
	TotalFen int64
}

// OrdersByBucket counts orders by source and bucket of their first
// arrival. It reads through orders_by_arrival alone.
func (s *Store) OrdersByBucket(ctx context.Context, b Buckets) ([]OrderBucket, error) {
	if b.Len() == 0 {
		return nil, nil
	}
	rows, err := s.read.QueryContext(ctx, s.rebind(`SELECT source, (first_seen_at - ?) / ? AS b, count(*), coalesce(sum(total_fen), 0)
		FROM orders WHERE first_seen_at >= ? AND first_seen_at < ? GROUP BY source, b ORDER BY source, b`), b.args()...)
	if err != nil {
		return nil, fmt.Errorf("store: counting orders by hour: %w", err)
	}
	defer rows.Close()
	var out []OrderBucket
	for rows.Next() {
		var ob OrderBucket
		if err := rows.Scan(&ob.Source, &ob.Bucket, &ob.Orders, &ob.TotalFen); err != nil {
			return nil, fmt.Errorf("store: counting orders by hour: %w", err)
		}
		out = append(out, ob)
	}
	return out, rows.Err()
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
