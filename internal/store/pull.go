package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// PullState is how far a pull source has synced, and how its last run went.
type PullState struct {
	Source string `json:"source"`
	// SyncedTo: every document modified up to here is stored.
	SyncedTo time.Time `json:"synced_to"`
	// LastFrom and LastTo are the last window read.
	LastFrom  time.Time `json:"last_window_from,omitzero"`
	LastTo    time.Time `json:"last_window_to,omitzero"`
	LastDocs  int64     `json:"last_window_docs"`
	DocsTotal int64     `json:"docs_total"`
	LastRunAt time.Time `json:"last_run_at,omitzero"`
	// LastError is the last failed run's error, cleared by a good one.
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
}

func unmicros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func microsOrZero(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return micros(v)
}

const pullCols = `source, synced_to, last_from, last_to, last_docs, docs_total, last_run_at, last_error, last_error_at`

func scanPull(scan func(...any) error) (PullState, error) {
	var p PullState
	var synced, from, to, run, errAt int64
	err := scan(&p.Source, &synced, &from, &to, &p.LastDocs, &p.DocsTotal, &run, &p.LastError, &errAt)
	p.SyncedTo, p.LastFrom, p.LastTo, p.LastRunAt, p.LastErrorAt = micros(synced), microsOrZero(from), microsOrZero(to), microsOrZero(run), microsOrZero(errAt)
	return p, err
}

// PullStateOf reads a source's sync state; found is false before its first
// window.
func (s *Store) PullStateOf(ctx context.Context, q Querier, source string) (p PullState, found bool, err error) {
	p, err = scanPull(q.QueryRowContext(ctx, s.rebind(`SELECT `+pullCols+` FROM pull_state WHERE source = ?`), source).Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return PullState{Source: source}, false, nil
	}
	if err != nil {
		return p, false, fmt.Errorf("store: reading the sync state of %s: %w", source, err)
	}
	return p, true, nil
}

// PullStates lists every pull source's state.
func (s *Store) PullStates(ctx context.Context) ([]PullState, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+pullCols+` FROM pull_state ORDER BY source`)
	if err != nil {
		return nil, fmt.Errorf("store: reading sync states: %w", err)
	}
	defer rows.Close()
	var out []PullState
	for rows.Next() {
		p, err := scanPull(rows.Scan)
		if err != nil {
			return nil, fmt.Errorf("store: reading sync states: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// AdvancePull moves a source's sync time inside tx, the transaction that
// stores the window's documents, from the value the window was planned
// from (expect; found false when there was no state yet) to next.SyncedTo.
// It reports false, changing nothing, when another puller moved it first.
func (s *Store) AdvancePull(ctx context.Context, tx *sql.Tx, expect PullState, found bool, next PullState) (bool, error) {
	var res sql.Result
	var err error
	if !found {
		res, err = tx.ExecContext(ctx, s.rebind(`INSERT INTO pull_state (`+pullCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, '', 0)
			ON CONFLICT (source) DO NOTHING`),
			next.Source, unmicros(next.SyncedTo), unmicros(next.LastFrom), unmicros(next.LastTo), next.LastDocs, next.LastDocs, unmicros(next.LastRunAt))
	} else {
		res, err = tx.ExecContext(ctx, s.rebind(`UPDATE pull_state SET synced_to = ?, last_from = ?, last_to = ?, last_docs = ?,
			docs_total = docs_total + ?, last_run_at = ?, last_error = '', last_error_at = 0
			WHERE source = ? AND synced_to = ?`),
			unmicros(next.SyncedTo), unmicros(next.LastFrom), unmicros(next.LastTo), next.LastDocs, next.LastDocs, unmicros(next.LastRunAt),
			next.Source, unmicros(expect.SyncedTo))
	}
	if err != nil {
		return false, fmt.Errorf("store: moving the sync time of %s: %w", next.Source, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: moving the sync time of %s: %w", next.Source, err)
	}
	return n == 1, nil
}

// RecordPullError keeps a failed run's error on the source's state, where
// the console and GET /v1/flows show it. The sync time does not move.
func (s *Store) RecordPullError(ctx context.Context, source string, at time.Time, msg string) error {
	_, err := s.write.ExecContext(ctx, s.rebind(`INSERT INTO pull_state (source, synced_to, last_run_at, last_error, last_error_at) VALUES (?, 0, ?, ?, ?)
		ON CONFLICT (source) DO UPDATE SET last_run_at = excluded.last_run_at, last_error = excluded.last_error, last_error_at = excluded.last_error_at`),
		source, unmicros(at), msg, unmicros(at))
	if err != nil {
		return fmt.Errorf("store: recording the pull error of %s: %w", source, err)
	}
	return nil
}

// ResetPull removes a source's sync state, so its next run starts again at
// the configured start (a replay; dedupe drops what is unchanged).
func (s *Store) ResetPull(ctx context.Context, source string) error {
	if _, err := s.write.ExecContext(ctx, s.rebind(`DELETE FROM pull_state WHERE source = ?`), source); err != nil {
		return fmt.Errorf("store: resetting the sync state of %s: %w", source, err)
	}
	return nil
}

// Backfill is a past range of a pull source being pulled again.
type Backfill struct {
	ID         int64     `json:"id"`
	Source     string    `json:"source"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	DoneTo     time.Time `json:"done_to"`
	Docs       int64     `json:"docs"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
}

// Done reports whether the whole range is pulled.
func (b Backfill) Done() bool { return !b.DoneTo.Before(b.To) }

// StartBackfill returns the backfill of this exact range, creating it when
// new: running the same backfill again resumes it.
func (s *Store) StartBackfill(ctx context.Context, source string, from, to, now time.Time) (Backfill, error) {
	_, err := s.write.ExecContext(ctx, s.rebind(`INSERT INTO backfills (source, range_from, range_to, done_to, started_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (source, range_from, range_to) DO NOTHING`), source, unmicros(from), unmicros(to), unmicros(from), unmicros(now))
	if err != nil {
		return Backfill{}, fmt.Errorf("store: starting the backfill of %s: %w", source, err)
	}
	var b Backfill
	var f, t, d, st, fin int64
	err = s.write.QueryRowContext(ctx, s.rebind(`SELECT id, source, range_from, range_to, done_to, docs, started_at, finished_at FROM backfills
		WHERE source = ? AND range_from = ? AND range_to = ?`), source, unmicros(from), unmicros(to)).Scan(&b.ID, &b.Source, &f, &t, &d, &b.Docs, &st, &fin)
	if err != nil {
		return Backfill{}, fmt.Errorf("store: reading the backfill of %s: %w", source, err)
	}
	b.From, b.To, b.DoneTo, b.StartedAt, b.FinishedAt = micros(f), micros(t), micros(d), micros(st), microsOrZero(fin)
	return b, nil
}

// AdvanceBackfill moves a backfill's progress inside the transaction that
// stores the window's documents; false when it was not at expect.
func (s *Store) AdvanceBackfill(ctx context.Context, tx *sql.Tx, id int64, expect, doneTo time.Time, docs int64, finished time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, s.rebind(`UPDATE backfills SET done_to = ?, docs = docs + ?, finished_at = ? WHERE id = ? AND done_to = ?`),
		unmicros(doneTo), docs, unmicros(finished), id, unmicros(expect))
	if err != nil {
		return false, fmt.Errorf("store: moving backfill %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: moving backfill %d: %w", id, err)
	}
	return n == 1, nil
}

// TimelineStep is one step a stage took on an order.
type TimelineStep struct {
	OrderID int64
	At      time.Time
	Stage   string // pulled, mapped, written, refused, retried, skipped, …
	Detail  any    // encoded as JSON
}

// AppendTimeline records steps inside tx, with the work they describe.
func (s *Store) AppendTimeline(ctx context.Context, tx *sql.Tx, steps []TimelineStep) error {
	if len(steps) == 0 {
		return nil
	}
	details := make([]string, len(steps))
	for i, step := range steps {
		detail, err := json.Marshal(step.Detail)
		if err != nil {
			return fmt.Errorf("store: encoding a %s step: %w", step.Stage, err)
		}
		details[i] = string(detail)
	}
	// In statements prepared once for many rows (batchsql.go), not one
	// statement a step: a sender records a step for every message.
	if err := s.chunks(ctx, tx, qInsertTimeline, len(steps), func(i int, a []any) []any {
		return append(a, steps[i].OrderID, steps[i].At.UnixMicro(), steps[i].Stage, details[i])
	}, nil); err != nil {
		return fmt.Errorf("store: appending %d steps to the timeline (the first: %s for order %d): %w", len(steps), steps[0].Stage, steps[0].OrderID, err)
	}
	return nil
}
