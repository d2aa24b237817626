package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DeliveryState is where a delivery stands.
type DeliveryState string

// Delivery states.
const (
	// DeliveryQueued waits for its endpoint's pace.
	DeliveryQueued DeliveryState = "queued"
	// DeliveryCollecting is a digest rule's message waiting for its clock
	// time (DueAt).
	DeliveryCollecting DeliveryState = "collecting"
	// DeliverySending has a call in flight. One left so by a node that
	// died is sent again: robots offer no way to ask whether it arrived.
	DeliverySending DeliveryState = "sending"
	// DeliverySent: the provider took it.
	DeliverySent DeliveryState = "sent"
	// DeliveryMerged: carried by the digest DigestID.
	DeliveryMerged DeliveryState = "merged"
	// DeliveryFailed: refused for good (a bad token, a disabled robot) or
	// out of attempts; waits for a person to fix and resend.
	DeliveryFailed DeliveryState = "failed"
)

// Delivery kinds.
const (
	KindMessage = "message" // one rule's message for one event
	KindDigest  = "digest"  // several messages merged into one
)

// Delivery is one message to one channel endpoint.
type Delivery struct {
	ID     int64  `json:"id"`
	System string `json:"system"`
	Rule   string `json:"rule"`
	// Key is the dedupe key (rule, order, event); with System it is unique.
	Key     string `json:"key"`
	Kind    string `json:"kind"`
	OrderID int64  `json:"-"`
	Source  string `json:"source,omitempty"`
	OrderNo string `json:"order_no,omitempty"`
	Event   string `json:"event,omitempty"`
	// Total and Status are the order's, for the row a digest shows.
	Total    string        `json:"total,omitempty"`
	Status   string        `json:"status,omitempty"`
	Lang     string        `json:"lang,omitempty"`
	Priority int           `json:"priority"`
	State    DeliveryState `json:"state"`
	// Message is the rendered message, as JSON.
	Message json.RawMessage `json:"message"`
	// DigestID is the digest that carried a merged message; Merged is how
	// many messages a digest carries.
	DigestID int64 `json:"digest_id,omitempty"`
	Merged   int   `json:"merged,omitempty"`
	// Wait says why it waited: paced, digest, throttled, retry.
	Wait      string        `json:"wait,omitempty"`
	Attempts  int           `json:"attempts"`
	DueAt     time.Time     `json:"due_at"`
	CreatedAt time.Time     `json:"created_at"`
	UpdatedAt time.Time     `json:"updated_at"`
	SentAt    time.Time     `json:"sent_at,omitzero"`
	MessageID string        `json:"message_id,omitempty"`
	Code      string        `json:"code,omitempty"`
	Cut       bool          `json:"cut,omitempty"`
	Error     DeliveryError `json:"error,omitzero"`
	// Fallback are the channels left in the rule's chain, in order.
	Fallback []string `json:"fallback,omitempty"`
	// EscalateAfter is how long it may stay unread; CheckAt when its read
	// status is asked; ReadState read, unread, partial or escalated.
	EscalateAfter time.Duration `json:"escalate_after,omitempty"`
	CheckAt       time.Time     `json:"check_at,omitzero"`
	ReadState     string        `json:"read_state,omitempty"`
}

// DeliveryError is the last failure of a delivery.
type DeliveryError struct {
	Class   string `json:"class,omitempty"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	Hint    string `json:"hint,omitempty"`
}

// Attempt is one call made for a delivery.
type Attempt struct {
	Attempt   int       `json:"attempt"`
	At        time.Time `json:"at"`
	DoneAt    time.Time `json:"done_at,omitzero"`
	Outcome   string    `json:"outcome"`
	Code      string    `json:"code,omitempty"`
	Message   string    `json:"message,omitempty"`
	MessageID string    `json:"message_id,omitempty"`
}

// deliveryCols are read FROM deliveryRows: the message comes from its own
// table (a digest between NewDigest and SetMessage has none yet).
const deliveryCols = `id, system, rule, dedupe_key, kind, order_id, source, order_no, event, total, status, lang, priority, state,
	COALESCE(delivery_messages.message, '{}'), digest_id, merged, wait, attempts, due_at, created_at, updated_at, sent_at, message_id, code, cut,
	error_class, error_code, error_message, error_hint, fallback, escalate_after, check_at, read_state`

// deliveryRows is what deliveryCols are read from. Only the message is in
// delivery_messages, and its columns are named apart from the deliveries',
// so the conditions on deliveries need no table name.
const deliveryRows = `deliveries LEFT JOIN delivery_messages ON delivery_messages.delivery_id = deliveries.id`

func scanDelivery(scan func(...any) error) (Delivery, error) {
	var d Delivery
	var msg string
	var due, created, updated, sent, escalate, check int64
	var cut int
	var fallback string
	err := scan(&d.ID, &d.System, &d.Rule, &d.Key, &d.Kind, &d.OrderID, &d.Source, &d.OrderNo, &d.Event, &d.Total, &d.Status, &d.Lang,
		&d.Priority, &d.State, &msg, &d.DigestID, &d.Merged, &d.Wait, &d.Attempts, &due, &created, &updated, &sent, &d.MessageID,
		&d.Code, &cut, &d.Error.Class, &d.Error.Code, &d.Error.Message, &d.Error.Hint, &fallback, &escalate, &check, &d.ReadState)
	d.Message = json.RawMessage(msg)
	if fallback != "" {
		d.Fallback = strings.Split(fallback, ",")
	}
	d.EscalateAfter, d.CheckAt = time.Duration(escalate)*time.Microsecond, microsOrZero(check)
	d.DueAt, d.CreatedAt, d.UpdatedAt, d.SentAt = micros(due), micros(created), micros(updated), microsOrZero(sent)
	d.Cut = cut != 0
	return d, err
}

func (s *Store) queryDeliveries(ctx context.Context, q Querier, what, query string, args ...any) ([]Delivery, error) {
	rows, err := q.QueryContext(ctx, s.rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store: reading %s: %w", what, err)
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		d, err := scanDelivery(rows.Scan)
		if err != nil {
			return nil, fmt.Errorf("store: reading %s: %w", what, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: reading %s: %w", what, err)
	}
	return out, nil
}

// NewDelivery is a message to queue.
type NewDelivery struct {
	System, Rule, Key, Kind string
	OrderID                 int64
	Source, OrderNo, Event  string
	Total, Status, Lang     string
	Priority                int
	// State is queued, or collecting for a digest rule (until DueAt).
	State   DeliveryState
	Message []byte
	Wait    string
	DueAt   time.Time
	// Fallback are the channels left in the rule's chain.
	Fallback      []string
	EscalateAfter time.Duration
}

// QueueDeliveries records messages inside tx, each once: one whose
// (Key, System) is already recorded is left as it is, so an event
// dispatched again makes no second message. It returns how many were new.
// The rows go in statements prepared once (batchsql.go): parsing a
// statement of a hundred rows anew cost as much as running it.
func (s *Store) QueueDeliveries(ctx context.Context, tx *sql.Tx, ds []NewDelivery, now time.Time) (int, error) {
	if len(ds) == 0 {
		return 0, nil
	}
	n := now.UnixMicro()
	// The rows the insert returns are the new deliveries, each matched back
	// to its message. They come in the order given as a rule, so the search
	// for each starts after the last one found; the order is not promised,
	// so it goes round the whole list before giving up.
	type added struct {
		id int64
		i  int
	}
	var news []added
	next := 0
	err := s.chunks(ctx, tx, qQueueDeliveries, len(ds), func(i int, a []any) []any {
		d := &ds[i]
		due := d.DueAt.UnixMicro()
		if d.DueAt.IsZero() {
			due = n
		}
		return append(a, d.System, d.Rule, d.Key, d.Kind, d.OrderID, d.Source, d.OrderNo, d.Event, d.Total, d.Status, d.Lang,
			int64(d.Priority), string(d.State), d.Wait, due, n, n, strings.Join(d.Fallback, ","), d.EscalateAfter.Microseconds())
	}, func(rows *sql.Rows) error {
		var id int64
		var key, system string
		if err := rows.Scan(&id, &key, &system); err != nil {
			return err
		}
		for k := range len(ds) {
			j := (next + k) % len(ds)
			if ds[j].Key == key && ds[j].System == system {
				news = append(news, added{id, j})
				next = j + 1
				return nil
			}
		}
		return fmt.Errorf("the new delivery %d (%s to %s) is none of those queued", id, key, system)
	})
	if err == nil {
		err = s.chunks(ctx, tx, qInsertMessages, len(news), func(i int, a []any) []any {
			return append(a, news[i].id, string(ds[news[i].i].Message))
		}, nil)
	}
	if err != nil {
		return 0, fmt.Errorf("store: queueing %d messages (the first: %s to %s): %w", len(ds), ds[0].Key, ds[0].System, err)
	}
	return len(news), nil
}

// Endpoint is an endpoint's standing: paused after a throttling answer or
// a failed call, and how many calls in a row have failed.
type Endpoint struct {
	System      string    `json:"system"`
	PausedUntil time.Time `json:"paused_until,omitzero"`
	PauseReason string    `json:"pause_reason,omitempty"`
	Failures    int       `json:"failures"`
}

// LockEndpoint reads an endpoint's standing inside tx and holds it: on
// PostgreSQL the row is locked until tx ends, so that one sender at a time,
// on any node, counts the endpoint's recent calls and claims its next
// slots. (On SQLite one connection writes, which serializes them anyway.)
func (s *Store) LockEndpoint(ctx context.Context, tx *sql.Tx, system string) (Endpoint, error) {
	if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO endpoints (system) VALUES (?) ON CONFLICT (system) DO NOTHING`), system); err != nil {
		return Endpoint{}, fmt.Errorf("store: locking endpoint %s: %w", system, err)
	}
	q := `SELECT paused_until, pause_reason, failures FROM endpoints WHERE system = ?`
	if s.dialect == Postgres {
		q += ` FOR UPDATE`
	}
	e := Endpoint{System: system}
	var paused int64
	if err := tx.QueryRowContext(ctx, s.rebind(q), system).Scan(&paused, &e.PauseReason, &e.Failures); err != nil {
		return Endpoint{}, fmt.Errorf("store: locking endpoint %s: %w", system, err)
	}
	e.PausedUntil = microsOrZero(paused)
	return e, nil
}

// SetEndpoint records an endpoint's pause and failure count inside tx.
func (s *Store) SetEndpoint(ctx context.Context, tx *sql.Tx, e Endpoint) error {
	_, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO endpoints (system, paused_until, pause_reason, failures) VALUES (?, ?, ?, ?)
		ON CONFLICT (system) DO UPDATE SET paused_until = excluded.paused_until, pause_reason = excluded.pause_reason, failures = excluded.failures`),
		e.System, unmicros(e.PausedUntil), e.PauseReason, e.Failures)
	if err != nil {
		return fmt.Errorf("store: recording endpoint %s: %w", e.System, err)
	}
	return nil
}

// Endpoints reads every endpoint's standing.
func (s *Store) Endpoints(ctx context.Context) ([]Endpoint, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT system, paused_until, pause_reason, failures FROM endpoints ORDER BY system`)
	if err != nil {
		return nil, fmt.Errorf("store: reading endpoints: %w", err)
	}
	defer rows.Close()
	var out []Endpoint
	for rows.Next() {
		var e Endpoint
		var paused int64
		if err := rows.Scan(&e.System, &paused, &e.PauseReason, &e.Failures); err != nil {
			return nil, fmt.Errorf("store: reading endpoints: %w", err)
		}
		e.PausedUntil = microsOrZero(paused)
		out = append(out, e)
	}
	return out, rows.Err()
}

// RecentCalls returns the start times of the most recent calls to system
// that began after since, newest first, at most limit of them. An
// endpoint's pace is counted from them: they are written before each call
// (StartAttempts), so they hold across restarts and nodes.
func (s *Store) RecentCalls(ctx context.Context, tx *sql.Tx, system string, since time.Time, limit int) ([]time.Time, error) {
	rows, err := tx.QueryContext(ctx, s.rebind(`SELECT at FROM delivery_attempts WHERE system = ? AND at > ? ORDER BY at DESC LIMIT ?`),
		system, since.UnixMicro(), limit)
	if err != nil {
		return nil, fmt.Errorf("store: reading recent calls to %s: %w", system, err)
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var at int64
		if err := rows.Scan(&at); err != nil {
			return nil, fmt.Errorf("store: reading recent calls to %s: %w", system, err)
		}
		out = append(out, micros(at))
	}
	return out, rows.Err()
}

// RequeueStale puts back in the queue the deliveries of system left
// sending since before: their node died during the call. It returns them.
func (s *Store) RequeueStale(ctx context.Context, tx *sql.Tx, system string, before, now time.Time) ([]Delivery, error) {
	stale, err := s.queryDeliveries(ctx, tx, "stale deliveries", `SELECT `+deliveryCols+` FROM `+deliveryRows+`
		WHERE system = ? AND state = 'sending' AND updated_at < ? ORDER BY id`, system, before.UnixMicro())
	if err != nil || len(stale) == 0 {
		return nil, err
	}
	ids := make([]int64, len(stale))
	for i, d := range stale {
		ids[i] = d.ID
	}
	if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE deliveries SET state = 'queued', wait = 'retry', updated_at = ? WHERE id IN (`+idList(ids)+`) AND state = 'sending'`),
		now.UnixMicro()); err != nil {
		return nil, fmt.Errorf("store: requeueing %d stale deliveries of %s: %w", len(ids), system, err)
	}
	if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE delivery_attempts SET outcome = 'unknown', done_at = ?, message = 'the node sending it stopped during the call'
		WHERE delivery_id IN (`+idList(ids)+`) AND outcome = 'in_flight'`), now.UnixMicro()); err != nil {
		return nil, fmt.Errorf("store: closing %d stale attempts of %s: %w", len(ids), system, err)
	}
	return stale, nil
}

// idList writes ids as a SQL list; they are integers, never text from
// outside, so they need no placeholders.
func idList(ids []int64) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	return b.String()
}

// MarkWaiting records inside tx why system's queued messages that have no
// reason yet are waiting (paced: the provider's rate is spent for now).
func (s *Store) MarkWaiting(ctx context.Context, tx *sql.Tx, system, why string) error {
	if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE deliveries SET wait = ? WHERE system = ? AND state = 'queued' AND wait = ''`), why, system); err != nil {
		return fmt.Errorf("store: marking the queue of %s %s: %w", system, why, err)
	}
	return nil
}

// QueuedCount is how many messages wait in system's queue and may go at
// now (a message held for its recipients waits until its due_at).
func (s *Store) QueuedCount(ctx context.Context, tx *sql.Tx, system string, now time.Time) (int, error) {
	var n int
	if err := tx.QueryRowContext(ctx, s.rebind(`SELECT count(*) FROM deliveries WHERE system = ? AND state = 'queued' AND due_at <= ?`),
		system, now.UnixMicro()).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: counting the queue of %s: %w", system, err)
	}
	return n, nil
}

// Queued reads up to limit messages of system's queue that may go at now,
// the most urgent first and otherwise in the order they were queued.
func (s *Store) Queued(ctx context.Context, tx *sql.Tx, system string, now time.Time, limit int) ([]Delivery, error) {
	return s.queryDeliveries(ctx, tx, "the queue of "+system, `SELECT `+deliveryCols+` FROM `+deliveryRows+`
		WHERE system = ? AND state = 'queued' AND due_at <= ? ORDER BY priority DESC, id LIMIT ?`, system, now.UnixMicro(), limit)
}

// DueCollected reads up to limit messages digest rules collected for
// system whose clock time has come, by rule and in order.
func (s *Store) DueCollected(ctx context.Context, tx *sql.Tx, system string, now time.Time, limit int) ([]Delivery, error) {
	return s.queryDeliveries(ctx, tx, "the due digests of "+system, `SELECT `+deliveryCols+` FROM `+deliveryRows+`
		WHERE system = ? AND state = 'collecting' AND due_at <= ? ORDER BY rule, due_at, id LIMIT ?`, system, now.UnixMicro(), limit)
}

// CollectedCount is how many messages of rule wait collected for system
// whose clock time has come.
func (s *Store) CollectedCount(ctx context.Context, tx *sql.Tx, system, rule string, now time.Time) (int, error) {
	var n int
	if err := tx.QueryRowContext(ctx, s.rebind(`SELECT count(*) FROM deliveries WHERE system = ? AND state = 'collecting' AND due_at <= ? AND rule = ?`),
		system, now.UnixMicro(), rule).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: counting the digest of %s for %s: %w", rule, system, err)
	}
	return n, nil
}

// NewDigest records a digest inside tx, about to be sent, and merges the messages it carries
// into it; its message is set by SetMessage once its id is known (the
// digest links to itself). It returns the digest's id.
func (s *Store) NewDigest(ctx context.Context, tx *sql.Tx, d NewDelivery, members []int64, now time.Time) (int64, error) {
	n := now.UnixMicro()
	var id int64
	err := tx.QueryRowContext(ctx, s.rebind(`INSERT INTO deliveries (system, rule, dedupe_key, kind, lang, priority, state, merged, wait,
		due_at, created_at, updated_at) VALUES (?, ?, ?, 'digest', ?, ?, 'sending', ?, ?, ?, ?, ?) RETURNING id`),
		d.System, d.Rule, d.Key, d.Lang, d.Priority, len(members), d.Wait, n, n, n).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: recording a digest of %d messages for %s: %w", len(members), d.System, err)
	}
	for start := 0; start < len(members); start += 500 {
		chunk := members[start:min(start+500, len(members))]
		if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE deliveries SET state = 'merged', digest_id = ?, updated_at = ? WHERE id IN (`+idList(chunk)+`)`),
			id, n); err != nil {
			return 0, fmt.Errorf("store: merging %d messages into digest %d: %w", len(chunk), id, err)
		}
	}
	return id, nil
}

// SetMessage replaces a delivery's rendered message inside tx.
func (s *Store) SetMessage(ctx context.Context, tx *sql.Tx, id int64, msg []byte) error {
	if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO delivery_messages (delivery_id, message) VALUES (?, ?)
		ON CONFLICT (delivery_id) DO UPDATE SET message = excluded.message`), id, string(msg)); err != nil {
		return fmt.Errorf("store: recording the message of delivery %d: %w", id, err)
	}
	return nil
}

// AttemptStart is a call about to be made.
type AttemptStart struct {
	DeliveryID int64
	Attempt    int
}

// StartAttempts records, inside tx and before the calls are made, that
// they are being made: the deliveries are marked sending and each call's
// start is written where the endpoint's pace is counted from.
func (s *Store) StartAttempts(ctx context.Context, tx *sql.Tx, system string, starts []AttemptStart, now time.Time) error {
	if len(starts) == 0 {
		return nil
	}
	n := now.UnixMicro()
	if err := s.chunks(ctx, tx, qStartAttempts, len(starts), func(i int, a []any) []any {
		return append(a, starts[i].DeliveryID, system, int64(starts[i].Attempt), n)
	}, nil); err != nil {
		return fmt.Errorf("store: recording %d calls to %s: %w", len(starts), system, err)
	}
	if err := s.chunks(ctx, tx, qMarkSending, len(starts), func(i int, a []any) []any {
		return append(a, starts[i].DeliveryID, n)
	}, nil); err != nil {
		return fmt.Errorf("store: marking %d deliveries to %s sending: %w", len(starts), system, err)
	}
	return nil
}

// AttemptOutcome is what one call's answer settles.
type AttemptOutcome struct {
	DeliveryID int64
	Attempt    int
	// State is sent, queued (to be tried again) or failed.
	State DeliveryState
	// Outcome is the call's: sent, retry, slow_down, permanent, unknown.
	Outcome   string
	Code      string
	MessageID string
	Cut       bool
	Wait      string
	Error     DeliveryError
	// SpendNoAttempt gives the attempt back: the call was throttled or not
	// made, which is no failure of the message.
	SpendNoAttempt bool
	// HoldUntil, for a message queued again, is when it may go (its
	// recipients were throttled, not the endpoint).
	HoldUntil time.Time
}

// FinishAttempts records the answers of calls inside tx. Calls answered
// alike (most often: every call of a step sent, with the same code) are
// settled together, two statements for each chunk of them, rather than two
// a call.
func (s *Store) FinishAttempts(ctx context.Context, tx *sql.Tx, outs []AttemptOutcome, now time.Time) error {
	if len(outs) == 0 {
		return nil
	}
	n := now.UnixMicro()
	type answer struct {
		o  AttemptOutcome // without its DeliveryID
		id []int64
	}
	var answers []*answer
	byAnswer := make(map[AttemptOutcome]*answer)
	for _, o := range outs {
		id := o.DeliveryID
		o.DeliveryID = 0
		a := byAnswer[o]
		if a == nil {
			a = &answer{o: o}
			byAnswer[o] = a
			answers = append(answers, a)
		}
		a.id = append(a.id, id)
	}
	for _, a := range answers {
		o := a.o
		cut := 0
		if o.Cut {
			cut = 1
		}
		giveBack := 0
		if o.SpendNoAttempt {
			giveBack = 1
		}
		for start := 0; start < len(a.id); start += finishChunk {
			chunk := a.id[start:min(start+finishChunk, len(a.id))]
			ids := idList(chunk)
			if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE deliveries SET state = ?, code = ?, message_id = CASE WHEN ? = '' THEN message_id ELSE ? END,
				cut = ?, wait = CASE WHEN ? = '' THEN wait ELSE ? END, sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END,
				attempts = attempts - ?, due_at = CASE WHEN ? > 0 THEN ? ELSE due_at END, check_at = CASE WHEN ? = 'sent' AND escalate_after > 0 THEN ? + escalate_after ELSE check_at END,
				error_class = ?, error_code = ?, error_message = ?, error_hint = ?, updated_at = ? WHERE id IN (`+ids+`)`),
				string(o.State), o.Code, o.MessageID, o.MessageID, cut, o.Wait, o.Wait, string(o.State), n,
				giveBack, unmicros(o.HoldUntil), unmicros(o.HoldUntil), string(o.State), n, o.Error.Class, o.Error.Code, o.Error.Message, o.Error.Hint, n); err != nil {
				return fmt.Errorf("store: recording the answer for %d deliveries (the first: %d): %w", len(chunk), chunk[0], err)
			}
			// Only the call in flight is settled: an attempt given back
			// (SpendNoAttempt) or counted afresh by Resend makes the next
			// call reuse its number, and the earlier call's record must
			// keep its answer.
			if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE delivery_attempts SET done_at = ?, outcome = ?, code = ?, message = ?, message_id = ?
				WHERE delivery_id IN (`+ids+`) AND attempt = ? AND outcome = 'in_flight'`), n, o.Outcome, o.Code, o.Error.Message, o.MessageID, o.Attempt); err != nil {
				return fmt.Errorf("store: recording attempt %d of %d deliveries (the first: %d): %w", o.Attempt, len(chunk), chunk[0], err)
			}
		}
	}
	return nil
}

// finishChunk is the most deliveries one FinishAttempts statement settles.
const finishChunk = 500

// DueReadChecks reads up to limit sent deliveries whose read status is
// due to be asked, oldest first.
func (s *Store) DueReadChecks(ctx context.Context, now time.Time, limit int) ([]Delivery, error) {
	return s.queryDeliveries(ctx, s.read, "due read checks", `SELECT `+deliveryCols+` FROM `+deliveryRows+`
		WHERE check_at > 0 AND check_at <= ? ORDER BY check_at, id LIMIT ?`, now.UnixMicro(), limit)
}

// SetReadState records inside tx what a read check found; next is when to
// ask again (zero: not again).
func (s *Store) SetReadState(ctx context.Context, tx *sql.Tx, id int64, state string, next, now time.Time) error {
	if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE deliveries SET read_state = ?, check_at = ?, updated_at = ? WHERE id = ?`),
		state, unmicros(next), now.UnixMicro(), id); err != nil {
		return fmt.Errorf("store: recording the read state of delivery %d: %w", id, err)
	}
	return nil
}

// HasDue reports whether system has work a sender could do now: queued
// messages, collected ones whose time has come, or a call left in flight
// since before stale.
func (s *Store) HasDue(ctx context.Context, system string, now, stale time.Time) (bool, error) {
	var n int
	err := s.read.QueryRowContext(ctx, s.rebind(`SELECT
		(SELECT count(*) FROM (SELECT 1 FROM deliveries WHERE system = ? AND state = 'queued' AND due_at <= ? LIMIT 1) a) +
		(SELECT count(*) FROM (SELECT 1 FROM deliveries WHERE system = ? AND state = 'collecting' AND due_at <= ? LIMIT 1) b) +
		(SELECT count(*) FROM (SELECT 1 FROM deliveries WHERE system = ? AND state = 'sending' AND updated_at < ? LIMIT 1) c)`),
		system, now.UnixMicro(), system, now.UnixMicro(), system, stale.UnixMicro()).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: looking for due messages of %s: %w", system, err)
	}
	return n > 0, nil
}

// DeliveryFilter selects deliveries to list. Zero fields select all.
type DeliveryFilter struct {
	Rule    string
	System  string
	State   DeliveryState
	OrderID int64
	// Digest lists the messages one digest carried.
	Digest int64
	// Before pages back: ids below it.
	Before int64
	// Limit is the most to list; see ListDeliveries.
	Limit int
}

// MaxDeliveryPage is the most deliveries one ListDeliveries call returns;
// a larger Limit is cut to it.
const MaxDeliveryPage = 1000

// ListDeliveries lists deliveries, newest first: at most Limit of them
// (100 when Limit is zero, MaxDeliveryPage at the most).
func (s *Store) ListDeliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		where = append(where, cond)
		args = append(args, v)
	}
	if f.Rule != "" {
		add("rule = ?", f.Rule)
	}
	if f.System != "" {
		add("system = ?", f.System)
	}
	if f.State != "" {
		add("state = ?", string(f.State))
	}
	if f.OrderID != 0 {
		add("order_id = ?", f.OrderID)
	}
	if f.Digest != 0 {
		add("digest_id = ?", f.Digest)
		where = append(where, "digest_id <> 0") // the partial index deliveries_by_digest holds only these
	}
	if f.Before > 0 {
		add("id < ?", f.Before)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, MaxDeliveryPage)
	q := `SELECT ` + deliveryCols + ` FROM ` + deliveryRows
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY id DESC LIMIT ?`
	return s.queryDeliveries(ctx, s.read, "deliveries", q, append(args, limit)...)
}

// ErrNoDelivery is returned for a delivery id that does not exist.
var ErrNoDelivery = errors.New("no such delivery")

// GetDelivery reads one delivery and its attempts.
func (s *Store) GetDelivery(ctx context.Context, id int64) (Delivery, []Attempt, error) {
	ds, err := s.queryDeliveries(ctx, s.read, "delivery "+strconv.FormatInt(id, 10), `SELECT `+deliveryCols+` FROM `+deliveryRows+` WHERE id = ?`, id)
	if err != nil {
		return Delivery{}, nil, err
	}
	if len(ds) == 0 {
		return Delivery{}, nil, fmt.Errorf("delivery %d: %w", id, ErrNoDelivery)
	}
	rows, err := s.read.QueryContext(ctx, s.rebind(`SELECT attempt, at, done_at, outcome, code, message, message_id FROM delivery_attempts
		WHERE delivery_id = ? ORDER BY id`), id)
	if err != nil {
		return Delivery{}, nil, fmt.Errorf("store: reading the attempts of delivery %d: %w", id, err)
	}
	defer rows.Close()
	var out []Attempt
	for rows.Next() {
		var a Attempt
		var at, done int64
		if err := rows.Scan(&a.Attempt, &at, &done, &a.Outcome, &a.Code, &a.Message, &a.MessageID); err != nil {
			return Delivery{}, nil, fmt.Errorf("store: reading the attempts of delivery %d: %w", id, err)
		}
		a.At, a.DoneAt = micros(at), microsOrZero(done)
		out = append(out, a)
	}
	return ds[0], out, rows.Err()
}

// Resend puts a failed delivery back in its endpoint's queue inside tx,
// with its attempts counted afresh. It reports false when the delivery is
// not failed.
func (s *Store) Resend(ctx context.Context, tx *sql.Tx, id int64, now time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, s.rebind(`UPDATE deliveries SET state = 'queued', attempts = 0, wait = 'resend', due_at = ?, updated_at = ?
		WHERE id = ? AND state = 'failed'`), now.UnixMicro(), now.UnixMicro(), id)
	if err != nil {
		return false, fmt.Errorf("store: resending delivery %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// DeliveryCounts counts deliveries by system and state.
func (s *Store) DeliveryCounts(ctx context.Context) (map[string]map[DeliveryState]int, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT system, state, count(*) FROM deliveries GROUP BY system, state`)
	if err != nil {
		return nil, fmt.Errorf("store: counting deliveries: %w", err)
	}
	defer rows.Close()
	out := map[string]map[DeliveryState]int{}
	for rows.Next() {
		var sys string
		var st DeliveryState
		var n int
		if err := rows.Scan(&sys, &st, &n); err != nil {
			return nil, fmt.Errorf("store: counting deliveries: %w", err)
		}
		if out[sys] == nil {
			out[sys] = map[DeliveryState]int{}
		}
		out[sys][st] = n
	}
	return out, rows.Err()
}

// CanonicalOrders reads the current canonical snapshot of each order, as
// the read API's JSON, by id.
func (s *Store) CanonicalOrders(ctx context.Context, q Querier, ids []int64) (map[int64][]byte, error) {
	out := make(map[int64][]byte, len(ids))
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		rows, err := q.QueryContext(ctx, `SELECT id, canonical FROM orders WHERE id IN (`+idList(chunk)+`)`)
		if err != nil {
			return nil, fmt.Errorf("store: reading %d orders: %w", len(chunk), err)
		}
		for rows.Next() {
			var id int64
			var c string
			if err := rows.Scan(&id, &c); err != nil {
				rows.Close()
				return nil, fmt.Errorf("store: reading %d orders: %w", len(chunk), err)
			}
			out[id] = []byte(c)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("store: reading %d orders: %w", len(chunk), err)
		}
	}
	return out, nil
}

// DeliveryStat counts deliveries of one rule to one endpoint in one state
// (and read state).
type DeliveryStat struct {
	Rule, System string
	State        DeliveryState
	ReadState    string
	Kind         string
	Count        int
	// Opened and Clicked count those of them whose mail was opened, or a
	// link in it followed (email tracking).
	Opened, Clicked int
}

// DeliveryStats counts the deliveries created in [from, to) by rule,
// endpoint, state, read state and kind.
func (s *Store) DeliveryStats(ctx context.Context, from, to time.Time) ([]DeliveryStat, error) {
	rows, err := s.read.QueryContext(ctx, s.rebind(`SELECT rule, system, state, read_state, kind, count(*),
		sum(CASE WHEN opened_at > 0 THEN 1 ELSE 0 END), sum(CASE WHEN clicked_at > 0 THEN 1 ELSE 0 END) FROM deliveries
		WHERE created_at >= ? AND created_at < ? GROUP BY rule, system, state, read_state, kind ORDER BY rule, system`),
		from.UnixMicro(), to.UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("store: counting deliveries: %w", err)
	}
	defer rows.Close()
	var out []DeliveryStat
	for rows.Next() {
		var st DeliveryStat
		if err := rows.Scan(&st.Rule, &st.System, &st.State, &st.ReadState, &st.Kind, &st.Count, &st.Opened, &st.Clicked); err != nil {
			return nil, fmt.Errorf("store: counting deliveries: %w", err)
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// InboxStat counts one rule's inbox messages in [from, to) and how many
// were read (opened).
type InboxStat struct {
	Rule          string
	Count, Opened int
}

// InboxStats counts inbox messages by rule.
func (s *Store) InboxStats(ctx context.Context, from, to time.Time) ([]InboxStat, error) {
	rows, err := s.read.QueryContext(ctx, s.rebind(`SELECT rule, count(*), sum(CASE WHEN read_at > 0 THEN 1 ELSE 0 END) FROM inbox
		WHERE created_at >= ? AND created_at < ? GROUP BY rule ORDER BY rule`), from.UnixMicro(), to.UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("store: counting inbox messages: %w", err)
	}
	defer rows.Close()
	var out []InboxStat
	for rows.Next() {
		var st InboxStat
		if err := rows.Scan(&st.Rule, &st.Count, &st.Opened); err != nil {
			return nil, fmt.Errorf("store: counting inbox messages: %w", err)
		}
		out = append(out, st)
	}
	return out, rows.Err()
}
