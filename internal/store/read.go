package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"orderhub/internal/order"
)

// ErrNotFound is returned when an order does not exist.
var ErrNotFound = errors.New("not found")

// Record is an order as stored: its current canonical snapshot and
// bookkeeping.
type Record struct {
	ID          int64
	Order       order.Order
	Version     int64
	FirstSeenAt time.Time
	UpdatedAt   time.Time // when the hub last changed it
}

// Event is one stored order event.
type Event struct {
	ID         int64
	XID        int64 // the writing transaction (PostgreSQL), 0 on SQLite
	OrderID    int64
	Source     string
	OrderNo    string
	Version    int64
	Type       order.EventType
	StatusFrom order.Status
	StatusTo   order.Status
	At         time.Time
}

// TimelineEntry is one step taken on an order.
type TimelineEntry struct {
	At     time.Time
	Stage  string
	Detail json.RawMessage
}

// Version is one stored version's payload.
type Version struct {
	Version    int64
	ReceivedAt time.Time
	Raw        []byte
}

func micros(v int64) time.Time { return time.UnixMicro(v).UTC() }

// GetOrder reads one order by source and number.
func (s *Store) GetOrder(ctx context.Context, source, orderNo string) (*Record, error) {
	row := s.read.QueryRowContext(ctx, s.rebind(`SELECT id, version, first_seen_at, updated_at, canonical FROM orders WHERE source = ? AND order_no = ?`), source, orderNo)
	r, err := scanRecord(row.Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: reading order %s/%s: %w", source, orderNo, err)
	}
	return r, nil
}

func scanRecord(scan func(...any) error) (*Record, error) {
	var r Record
	var first, updated int64
	var canonical []byte
	if err := scan(&r.ID, &r.Version, &first, &updated, &canonical); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(canonical, &r.Order); err != nil {
		return nil, fmt.Errorf("decoding the stored order: %w", err)
	}
	r.FirstSeenAt, r.UpdatedAt = micros(first), micros(updated)
	return &r, nil
}

// Events lists an order's events, oldest first.
func (s *Store) Events(ctx context.Context, orderID int64) ([]Event, error) {
	rows, err := s.read.QueryContext(ctx, s.rebind(`SELECT e.id, e.xid, e.order_id, o.source, o.order_no, e.version, e.type, e.status_from, e.status_to, e.at
		FROM order_events e JOIN orders o ON o.id = e.order_id WHERE e.order_id = ? ORDER BY e.id`), orderID)
	if err != nil {
		return nil, fmt.Errorf("store: reading events: %w", err)
	}
	return scanEvents(rows)
}

// Querier runs reads: a transaction, or the store's Reader.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Reader is the pool for reads outside a transaction; on SQLite it reads
// beside the writer instead of waiting for it.
func (s *Store) Reader() Querier { return s.read }

// EventPosition is a place in order_events. Consumers read events in
// position order, (XID, ID); see the PostgreSQL migration 0002 for why.
type EventPosition struct{ XID, ID int64 }

// Position is where the event stands.
func (e Event) Position() EventPosition { return EventPosition{e.XID, e.ID} }

// EventsAfter lists, in position order, at most limit events after `after`
// that are final: on PostgreSQL only those below the oldest transaction
// still running, so that no event can later commit behind what was read.
func (s *Store) EventsAfter(ctx context.Context, q Querier, after EventPosition, limit int) ([]Event, error) {
	const cols = `SELECT e.id, e.xid, e.order_id, o.source, o.order_no, e.version, e.type, e.status_from, e.status_to, e.at
		FROM order_events e JOIN orders o ON o.id = e.order_id `
	var rows *sql.Rows
	var err error
	if s.dialect == Postgres {
		rows, err = q.QueryContext(ctx, cols+`WHERE (e.xid, e.id) > ($1, $2) AND e.xid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
			ORDER BY e.xid, e.id LIMIT $3`, after.XID, after.ID, limit)
	} else {
		// One writer: xid is always 0 and ids are the order (and the index).
		rows, err = q.QueryContext(ctx, cols+`WHERE e.id > ? ORDER BY e.id LIMIT ?`, after.ID, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("store: reading events after %v: %w", after, err)
	}
	return scanEvents(rows)
}

func scanEvents(rows *sql.Rows) ([]Event, error) {
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var at int64
		var typ, from, to string
		if err := rows.Scan(&e.ID, &e.XID, &e.OrderID, &e.Source, &e.OrderNo, &e.Version, &typ, &from, &to, &at); err != nil {
			return nil, fmt.Errorf("store: reading events: %w", err)
		}
		e.Type, e.StatusFrom, e.StatusTo, e.At = order.EventType(typ), order.Status(from), order.Status(to), micros(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: reading events: %w", err)
	}
	return out, nil
}

// Timeline lists every step taken on an order, oldest first. Each accepted
// version is a "received" step, read from order_versions and order_events
// rather than written a second time on the ingest path; every other step
// (a stale push, and what later stages do) is a row of order_timeline.
func (s *Store) Timeline(ctx context.Context, orderID int64) ([]TimelineEntry, error) {
	evs, err := s.Events(ctx, orderID)
	if err != nil {
		return nil, err
	}
	byVersion := map[int64][]order.EventType{}
	for _, e := range evs {
		byVersion[e.Version] = append(byVersion[e.Version], e.Type)
	}
	var out []TimelineEntry
	rows, err := s.read.QueryContext(ctx, s.rebind(`SELECT version, received_at FROM order_versions WHERE order_id = ? ORDER BY version`), orderID)
	if err != nil {
		return nil, fmt.Errorf("store: reading the timeline: %w", err)
	}
	for rows.Next() {
		var v, at int64
		if err := rows.Scan(&v, &at); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: reading the timeline: %w", err)
		}
		r := ResultUpdated
		if v == 1 {
			r = ResultCreated
		}
		out = append(out, TimelineEntry{At: micros(at), Stage: "received", Detail: stageDetail(r, v, byVersion[v])})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: reading the timeline: %w", err)
	}
	received := len(out)
	rows, err = s.read.QueryContext(ctx, s.rebind(`SELECT at, stage, detail FROM order_timeline WHERE order_id = ? ORDER BY id`), orderID)
	if err != nil {
		return nil, fmt.Errorf("store: reading the timeline: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var t TimelineEntry
		var at int64
		var detail string
		if err := rows.Scan(&at, &t.Stage, &detail); err != nil {
			return nil, fmt.Errorf("store: reading the timeline: %w", err)
		}
		t.At, t.Detail = micros(at), json.RawMessage(detail)
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: reading the timeline: %w", err)
	}
	// Both parts are in time order; a stable sort keeps a version ahead of
	// a step recorded in the same microsecond.
	if received > 0 && received < len(out) {
		sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	}
	return out, nil
}

// Versions lists an order's stored payloads, oldest first.
func (s *Store) Versions(ctx context.Context, orderID int64) ([]Version, error) {
	rows, err := s.read.QueryContext(ctx, s.rebind(`SELECT version, received_at, raw FROM order_versions WHERE order_id = ? ORDER BY version`), orderID)
	if err != nil {
		return nil, fmt.Errorf("store: reading versions: %w", err)
	}
	defer rows.Close()
	var out []Version
	for rows.Next() {
		var v Version
		var at int64
		if err := rows.Scan(&v.Version, &at, &v.Raw); err != nil {
			return nil, fmt.Errorf("store: reading versions: %w", err)
		}
		v.ReceivedAt = micros(at)
		out = append(out, v)
	}
	return out, rows.Err()
}

// ListFilter selects orders for ListOrders. Orders come in the order the hub
// last changed them, so a client that keeps the cursor of its last page and
// asks again later sees exactly the orders changed since.
type ListFilter struct {
	Source string
	Status order.Status
	Since  time.Time // changed at or after
	Cursor string    // from a previous page; "" for the first
	Limit  int       // 1..500, default 50
}

// Page is one page of ListOrders.
type Page struct {
	Records []Record
	// Cursor is the position after this page's last order: pass it to get
	// the next page now, or the orders changed since, later. A page with no
	// orders gives back the cursor it was asked with.
	Cursor string
	// More is true when more orders follow this page already.
	More bool
}

// ErrBadCursor is returned for a cursor this store did not make.
var ErrBadCursor = errors.New("the cursor is not one this server returned; start again without it")

// ListOrders returns one page of orders.
func (s *Store) ListOrders(ctx context.Context, f ListFilter) (Page, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, 500)
	var where []string
	var args []any
	if f.Source != "" {
		// SQLite would read a source's orders through the unique index on
		// (source, order_no) and sort them all; the unary plus keeps that
		// index out, so a page is read in order through orders_by_update
		// (or orders_by_status).
		col := "source"
		if s.dialect == SQLite {
			col = "+source"
		}
		where, args = append(where, col+" = ?"), append(args, f.Source)
	}
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, string(f.Status))
	}
	if !f.Since.IsZero() {
		where, args = append(where, "updated_at >= ?"), append(args, f.Since.UnixMicro())
	}
	if f.Cursor != "" {
		at, id, err := decodeCursor(f.Cursor)
		if err != nil {
			return Page{}, err
		}
		where, args = append(where, "(updated_at > ? OR (updated_at = ? AND id > ?))"), append(args, at, at, id)
	}
	q := `SELECT id, version, first_seen_at, updated_at, canonical FROM orders`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY updated_at, id LIMIT ?"
	args = append(args, f.Limit+1)
	rows, err := s.read.QueryContext(ctx, s.rebind(q), args...)
	if err != nil {
		return Page{}, fmt.Errorf("store: listing orders: %w", err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		r, err := scanRecord(rows.Scan)
		if err != nil {
			return Page{}, fmt.Errorf("store: listing orders: %w", err)
		}
		out = append(out, *r)
	}
	if err := rows.Err(); err != nil {
		return Page{}, fmt.Errorf("store: listing orders: %w", err)
	}
	p := Page{Records: out, Cursor: f.Cursor}
	if len(out) > f.Limit {
		p.Records, p.More = out[:f.Limit], true
	}
	if n := len(p.Records); n > 0 {
		last := p.Records[n-1]
		p.Cursor = encodeCursor(last.UpdatedAt.UnixMicro(), last.ID)
	}
	return p, nil
}

func encodeCursor(at, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at, 10) + "." + strconv.FormatInt(id, 10)))
}

func decodeCursor(c string) (at, id int64, err error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, 0, ErrBadCursor
	}
	a, i, ok := strings.Cut(string(b), ".")
	if !ok {
		return 0, 0, ErrBadCursor
	}
	if at, err = strconv.ParseInt(a, 10, 64); err != nil {
		return 0, 0, ErrBadCursor
	}
	if id, err = strconv.ParseInt(i, 10, 64); err != nil {
		return 0, 0, ErrBadCursor
	}
	return at, id, nil
}

// Counts are totals for health and metrics.
type Counts struct {
	Orders, Versions, Events int64
	Steps                    int64 // order_timeline rows: stale pushes, warnings, later stages
}

// Count returns row totals.
func (s *Store) Count(ctx context.Context) (Counts, error) {
	var c Counts
	err := s.read.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM orders), (SELECT COUNT(*) FROM order_versions), (SELECT COUNT(*) FROM order_events), (SELECT COUNT(*) FROM order_timeline)`).
		Scan(&c.Orders, &c.Versions, &c.Events, &c.Steps)
	if err != nil {
		return c, fmt.Errorf("store: counting: %w", err)
	}
	return c, nil
}

// Cursor reads a consumer's position in order_events.
func (s *Store) Cursor(ctx context.Context, q Querier, consumer string) (EventPosition, error) {
	var p EventPosition
	err := q.QueryRowContext(ctx, s.rebind(`SELECT last_xid, last_id FROM event_cursors WHERE consumer = ?`), consumer).Scan(&p.XID, &p.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return EventPosition{}, nil
	}
	if err != nil {
		return p, fmt.Errorf("store: reading cursor of %s: %w", consumer, err)
	}
	return p, nil
}

// StartCursorAtEnd gives a consumer that has no position yet one after
// the last final event, and reports whether it did.
func (s *Store) StartCursorAtEnd(ctx context.Context, consumer string) (bool, error) {
	q := `INSERT INTO event_cursors (consumer, last_xid, last_id)
		SELECT ?, 0, COALESCE(MAX(id), 0) FROM order_events WHERE true ON CONFLICT (consumer) DO NOTHING`
	if s.dialect == Postgres {
		q = `INSERT INTO event_cursors (consumer, last_xid, last_id)
			SELECT $1, COALESCE(MAX(xid), 0), COALESCE(MAX(id), 0) FROM (SELECT xid, id FROM order_events
				WHERE xid < pg_snapshot_xmin(pg_current_snapshot())::text::bigint ORDER BY xid DESC, id DESC LIMIT 1) e
			ON CONFLICT (consumer) DO NOTHING`
	}
	res, err := s.write.ExecContext(ctx, q, consumer)
	if err != nil {
		return false, fmt.Errorf("store: starting the cursor of %s: %w", consumer, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SetCursor puts a consumer's position inside tx, wherever it was.
func (s *Store) SetCursor(ctx context.Context, tx *sql.Tx, consumer string, p EventPosition) error {
	_, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO event_cursors (consumer, last_xid, last_id) VALUES (?, ?, ?)
		ON CONFLICT (consumer) DO UPDATE SET last_xid = excluded.last_xid, last_id = excluded.last_id`), consumer, p.XID, p.ID)
	if err != nil {
		return fmt.Errorf("store: moving cursor of %s: %w", consumer, err)
	}
	return nil
}

// MoveCursor moves a consumer's position from `from` to `to` inside tx, and
// reports false, moving nothing, when the position is no longer `from`
// (another dispatcher got there first). On PostgreSQL the row stays locked
// to the commit, so a second dispatcher waits and then finds it moved.
func (s *Store) MoveCursor(ctx context.Context, tx *sql.Tx, consumer string, from, to EventPosition) (bool, error) {
	var res sql.Result
	var err error
	if from == (EventPosition{}) {
		res, err = tx.ExecContext(ctx, s.rebind(`INSERT INTO event_cursors (consumer, last_xid, last_id) VALUES (?, ?, ?)
			ON CONFLICT (consumer) DO UPDATE SET last_xid = excluded.last_xid, last_id = excluded.last_id
			WHERE event_cursors.last_xid = 0 AND event_cursors.last_id = 0`), consumer, to.XID, to.ID)
	} else {
		res, err = tx.ExecContext(ctx, s.rebind(`UPDATE event_cursors SET last_xid = ?, last_id = ?
			WHERE consumer = ? AND last_xid = ? AND last_id = ?`), to.XID, to.ID, consumer, from.XID, from.ID)
	}
	if err != nil {
		return false, fmt.Errorf("store: moving cursor of %s: %w", consumer, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: moving cursor of %s: %w", consumer, err)
	}
	return n == 1, nil
}
