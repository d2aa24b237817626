package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// FlowState is where a flow item stands.
type FlowState string

// Flow item states.
const (
	// FlowPending: the target does not yet reflect want_version.
	FlowPending FlowState = "pending"
	// FlowVerify: a write's outcome is unknown; ask the target before
	// writing again.
	FlowVerify FlowState = "verify"
	// FlowDone: the target reflects want_version.
	FlowDone FlowState = "done"
	// FlowException: the target refused the bill for a reason a person must
	// fix, or retries are spent; waits for retry or skip.
	FlowException FlowState = "exception"
	// FlowSkipped: a person chose not to write this version.
	FlowSkipped FlowState = "skipped"
	// FlowFiltered: the flow's when: condition left the document out.
	FlowFiltered FlowState = "filtered"
)

// FlowItem is one order's standing in one flow: the target must reflect
// the order at WantVersion.
type FlowItem struct {
	ID          int64     `json:"id"`
	Flow        string    `json:"flow"`
	OrderID     int64     `json:"-"`
	Source      string    `json:"source"`
	OrderNo     string    `json:"order_no"`
	WantVersion int64     `json:"want_version"`
	DoneVersion int64     `json:"done_version"`
	State       FlowState `json:"state"`
	Attempts    int       `json:"attempts"`
	NextAt      time.Time `json:"next_at,omitzero"`
	BillNo      string    `json:"bill_no,omitempty"`
	TargetID    string    `json:"target_id,omitempty"`
	Error       FlowError `json:"error,omitzero"`
	// Request is the last request sent for this item (JSON), kept for a
	// person looking at an exception.
	Request   string    `json:"request,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	WrittenAt time.Time `json:"written_at,omitzero"`
}

// FlowError is the last error of an item.
type FlowError struct {
	Class   string `json:"class,omitempty"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	Field   string `json:"field,omitempty"`
	Hint    string `json:"hint,omitempty"`
}

// WantFlow records, inside tx, that flow must write the order at version
// (or later). A newer version than the item had puts it back to pending,
// whatever it was, since new data may be what a person fixed; only an item
// whose last write's outcome is unknown stays in verify, so that it is
// looked up before anything is written again.
func (s *Store) WantFlow(ctx context.Context, tx *sql.Tx, flow string, orderID, version int64, now time.Time) error {
	n := now.UnixMicro()
	_, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO flow_items (flow, order_id, want_version, state, next_at, created_at, updated_at)
		VALUES (?, ?, ?, 'pending', ?, ?, ?)
		ON CONFLICT (flow, order_id) DO UPDATE SET want_version = excluded.want_version,
			state = CASE WHEN flow_items.state = 'verify' THEN 'verify' ELSE 'pending' END, attempts = 0,
			next_at = excluded.next_at, updated_at = excluded.updated_at
		WHERE flow_items.want_version < excluded.want_version`), flow, orderID, version, n, n, n)
	if err != nil {
		return fmt.Errorf("store: queueing order %d for flow %s: %w", orderID, flow, err)
	}
	return nil
}

// FlowWant is one item for WantFlows: flow must write the order at
// Version or later.
type FlowWant struct {
	Flow    string
	OrderID int64
	Version int64
}

// wantFlowsChunk is the most rows one WantFlows statement carries.
const wantFlowsChunk = 200

// WantFlows is WantFlow for many items, in one statement per
// wantFlowsChunk items rather than one per item. Each (flow, order) may
// appear once: PostgreSQL refuses a statement that updates a row twice.
func (s *Store) WantFlows(ctx context.Context, tx *sql.Tx, wants []FlowWant, now time.Time) error {
	n := now.UnixMicro()
	args := make([]any, 0, min(len(wants), wantFlowsChunk)*6)
	var q strings.Builder
	for start := 0; start < len(wants); start += wantFlowsChunk {
		chunk := wants[start:min(start+wantFlowsChunk, len(wants))]
		q.Reset()
		args = args[:0]
		q.WriteString(`INSERT INTO flow_items (flow, order_id, want_version, state, next_at, created_at, updated_at) VALUES `)
		for i, w := range chunk {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString(`(?, ?, ?, 'pending', ?, ?, ?)`)
			args = append(args, w.Flow, w.OrderID, w.Version, n, n, n)
		}
		q.WriteString(`
		ON CONFLICT (flow, order_id) DO UPDATE SET want_version = excluded.want_version, state = 'pending', attempts = 0,
			next_at = excluded.next_at, updated_at = excluded.updated_at
		WHERE flow_items.want_version < excluded.want_version`)
		if _, err := tx.ExecContext(ctx, s.rebind(q.String()), args...); err != nil {
			return fmt.Errorf("store: queueing %d orders for flows (the first: order %d for %s): %w", len(chunk), chunk[0].OrderID, chunk[0].Flow, err)
		}
	}
	return nil
}

const flowCols = `f.id, f.flow, f.order_id, o.source, o.order_no, f.want_version, f.done_version, f.state, f.attempts, f.next_at,
	f.bill_no, f.target_id, f.error_class, f.error_code, f.error_message, f.error_field, f.error_hint, f.request,
	f.created_at, f.updated_at, f.written_at`

func scanFlowItem(scan func(...any) error) (FlowItem, error) {
	var it FlowItem
	var next, created, updated, written int64
	err := scan(&it.ID, &it.Flow, &it.OrderID, &it.Source, &it.OrderNo, &it.WantVersion, &it.DoneVersion, &it.State, &it.Attempts, &next,
		&it.BillNo, &it.TargetID, &it.Error.Class, &it.Error.Code, &it.Error.Message, &it.Error.Field, &it.Error.Hint, &it.Request,
		&created, &updated, &written)
	it.NextAt, it.CreatedAt, it.UpdatedAt, it.WrittenAt = microsOrZero(next), micros(created), micros(updated), microsOrZero(written)
	return it, err
}

// DueItem is a flow item ready to be written, with the order's current
// version: the writer writes the latest, whatever version the item wanted.
type DueItem struct {
	FlowItem
	Version   int64
	Canonical []byte // the canonical order at Version
	Raw       []byte // the source document at Version
}

// DueFlowItems reads up to limit items of flow waiting to be written (or
// verified) whose time has come, oldest first.
func (s *Store) DueFlowItems(ctx context.Context, flow string, now time.Time, limit int) ([]DueItem, error) {
	// The due ids are picked from the index alone, each state's range read
	// in index order up to the limit, and only those rows are joined with
	// their documents: a single range over both states would read, join
	// and sort every waiting item for each batch.
	at := now.UnixMicro()
	rows, err := s.read.QueryContext(ctx, s.rebind(`SELECT `+flowCols+`, o.version, o.canonical, v.raw
		FROM (SELECT id, next_at FROM (SELECT id, next_at FROM flow_items WHERE flow = ? AND state = 'pending' AND next_at <= ? ORDER BY next_at, id LIMIT ?) p
			UNION ALL SELECT id, next_at FROM (SELECT id, next_at FROM flow_items WHERE flow = ? AND state = 'verify' AND next_at <= ? ORDER BY next_at, id LIMIT ?) q
			ORDER BY next_at, id LIMIT ?) d
		JOIN flow_items f ON f.id = d.id JOIN orders o ON o.id = f.order_id JOIN order_versions v ON v.order_id = o.id AND v.version = o.version
		ORDER BY f.next_at, f.id`), flow, at, limit, flow, at, limit, limit)
	if err != nil {
		return nil, fmt.Errorf("store: reading due items of flow %s: %w", flow, err)
	}
	defer rows.Close()
	var out []DueItem
	for rows.Next() {
		var d DueItem
		var canonical string
		d.FlowItem, err = scanFlowItem(func(dst ...any) error {
			return rows.Scan(append(dst, &d.Version, &canonical, &d.Raw)...)
		})
		if err != nil {
			return nil, fmt.Errorf("store: reading due items of flow %s: %w", flow, err)
		}
		d.Canonical = []byte(canonical)
		out = append(out, d)
	}
	return out, rows.Err()
}

// NextDue is when flow's next waiting item comes due; zero when none waits.
func (s *Store) NextDue(ctx context.Context, flow string) (time.Time, error) {
	var at sql.NullInt64
	err := s.read.QueryRowContext(ctx, s.rebind(`SELECT MIN(next_at) FROM flow_items WHERE flow = ? AND state IN ('pending', 'verify')`), flow).Scan(&at)
	if err != nil {
		return time.Time{}, fmt.Errorf("store: reading the next due item of flow %s: %w", flow, err)
	}
	if !at.Valid {
		return time.Time{}, nil
	}
	return micros(at.Int64), nil
}

// FlowUpdate is what a writer learned about one item.
type FlowUpdate struct {
	ID int64
	// Version is the order version the write was for.
	Version  int64
	State    FlowState // done, verify, pending (retry later), exception, filtered
	Attempts int
	NextAt   time.Time
	BillNo   string
	TargetID string
	Error    FlowError
	Request  string
	At       time.Time
}

// UpdateFlowItems records writers' outcomes inside tx. An item marked done
// or filtered for a version older than it now wants goes back to pending,
// so a version that arrived during the write is written next.
func (s *Store) UpdateFlowItems(ctx context.Context, tx *sql.Tx, ups []FlowUpdate) error {
	if len(ups) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, s.rebind(`UPDATE flow_items SET
		state = CASE WHEN ? IN ('done', 'filtered') AND want_version > ? THEN 'pending' ELSE ? END,
		done_version = CASE WHEN ? IN ('done', 'filtered') THEN ? ELSE done_version END,
		attempts = ?, next_at = ?, bill_no = CASE WHEN ? = '' THEN bill_no ELSE ? END,
		target_id = CASE WHEN ? = '' THEN target_id ELSE ? END,
		error_class = ?, error_code = ?, error_message = ?, error_field = ?, error_hint = ?,
		request = CASE WHEN ? = '' THEN request ELSE ? END, updated_at = ?,
		written_at = CASE WHEN ? = 'done' THEN ? ELSE written_at END
		WHERE id = ?`))
	if err != nil {
		return fmt.Errorf("store: updating flow items: %w", err)
	}
	defer st.Close()
	for _, u := range ups {
		state, at := string(u.State), u.At.UnixMicro()
		if _, err := st.ExecContext(ctx, state, u.Version, state, state, u.Version, u.Attempts, unmicros(u.NextAt),
			u.BillNo, u.BillNo, u.TargetID, u.TargetID,
			u.Error.Class, u.Error.Code, u.Error.Message, u.Error.Field, u.Error.Hint,
			u.Request, u.Request, at, state, at, u.ID); err != nil {
			return fmt.Errorf("store: updating flow item %d: %w", u.ID, err)
		}
	}
	return nil
}

// FlowFilter selects flow items for lists.
type FlowFilter struct {
	Flow   string
	States []FlowState
	// Source and OrderNo select one order's items.
	Source, OrderNo string
	// After is the last id of the previous page.
	After int64
	Limit int
}

// ListFlowItems lists items by id.
func (s *Store) ListFlowItems(ctx context.Context, f FlowFilter) ([]FlowItem, error) {
	q := `SELECT ` + flowCols + ` FROM flow_items f JOIN orders o ON o.id = f.order_id WHERE f.id > ?`
	args := []any{f.After}
	if f.Flow != "" {
		q += ` AND f.flow = ?`
		args = append(args, f.Flow)
	}
	if len(f.States) > 0 {
		q += ` AND f.state IN (?` + strings.Repeat(", ?", len(f.States)-1) + `)`
		for _, st := range f.States {
			args = append(args, string(st))
		}
	}
	if f.Source != "" {
		q += ` AND o.source = ? AND o.order_no = ?`
		args = append(args, f.Source, f.OrderNo)
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	q += ` ORDER BY f.id LIMIT ?`
	args = append(args, f.Limit)
	rows, err := s.read.QueryContext(ctx, s.rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("store: listing flow items: %w", err)
	}
	defer rows.Close()
	var out []FlowItem
	for rows.Next() {
		it, err := scanFlowItem(rows.Scan)
		if err != nil {
			return nil, fmt.Errorf("store: listing flow items: %w", err)
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// GetFlowItem reads one item.
func (s *Store) GetFlowItem(ctx context.Context, id int64) (FlowItem, error) {
	it, err := scanFlowItem(s.read.QueryRowContext(ctx, s.rebind(`SELECT `+flowCols+` FROM flow_items f JOIN orders o ON o.id = f.order_id WHERE f.id = ?`), id).Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return it, ErrNotFound
	}
	if err != nil {
		return it, fmt.Errorf("store: reading flow item %d: %w", id, err)
	}
	return it, nil
}

// ResolveException puts an exception back to pending (retry) or to
// skipped, inside tx. It reports false when the item is not an exception.
func (s *Store) ResolveException(ctx context.Context, tx *sql.Tx, id int64, to FlowState, now time.Time) (bool, error) {
	if to != FlowPending && to != FlowSkipped {
		return false, fmt.Errorf("store: an exception can be retried or skipped, not moved to %s", to)
	}
	res, err := tx.ExecContext(ctx, s.rebind(`UPDATE flow_items SET state = ?, attempts = 0, next_at = ?, updated_at = ?
		WHERE id = ? AND state = 'exception'`), string(to), now.UnixMicro(), now.UnixMicro(), id)
	if err != nil {
		return false, fmt.Errorf("store: resolving exception %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: resolving exception %d: %w", id, err)
	}
	return n == 1, nil
}

// FlowStats is one flow's standing.
type FlowStats struct {
	Flow        string    `json:"-"` // the API shows it as the flow's name
	Backlog     int64     `json:"backlog"`
	Exceptions  int64     `json:"exceptions"`
	Written     int64     `json:"written"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	LastError   FlowError `json:"last_error,omitzero"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
}

// FlowStatsOf summarises one flow.
func (s *Store) FlowStatsOf(ctx context.Context, flow string) (FlowStats, error) {
	st := FlowStats{Flow: flow}
	var last sql.NullInt64
	err := s.read.QueryRowContext(ctx, s.rebind(`SELECT
		COALESCE(SUM(CASE WHEN state IN ('pending', 'verify') THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN state = 'exception' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN written_at > 0 THEN 1 ELSE 0 END), 0),
		MAX(written_at) FROM flow_items WHERE flow = ?`), flow).Scan(&st.Backlog, &st.Exceptions, &st.Written, &last)
	if err != nil {
		return st, fmt.Errorf("store: summarising flow %s: %w", flow, err)
	}
	if last.Valid && last.Int64 > 0 {
		st.LastSuccess = micros(last.Int64)
	}
	var at int64
	err = s.read.QueryRowContext(ctx, s.rebind(`SELECT error_class, error_code, error_message, error_field, error_hint, updated_at
		FROM flow_items WHERE flow = ? AND error_message <> '' ORDER BY updated_at DESC LIMIT 1`), flow).
		Scan(&st.LastError.Class, &st.LastError.Code, &st.LastError.Message, &st.LastError.Field, &st.LastError.Hint, &at)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return st, fmt.Errorf("store: reading the last error of flow %s: %w", flow, err)
	}
	if at > 0 {
		st.LastErrorAt = micros(at)
	}
	return st, nil
}
