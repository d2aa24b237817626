package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// PullRefusal is a pulled document that could not be turned into an order.
// It waits in pull_refusals for a person to fix the document at the source;
// the pull that next converts it (the fixed version, or a backfill) removes
// it.
type PullRefusal struct {
	Source string `json:"source"`
	// DocNo is the document's own number (a key made from its text when
	// even that could not be read).
	DocNo    string    `json:"doc_no"`
	Modified time.Time `json:"modified,omitzero"`
	// Field and Value are what failed; Reason what is wrong; Hint what to
	// do, in Chinese.
	Field  string `json:"field,omitempty"`
	Value  string `json:"value,omitempty"`
	Reason string `json:"reason"`
	Hint   string `json:"hint,omitempty"`
	// Raw is the document as pulled.
	Raw string `json:"raw,omitempty"`
	// WindowFrom and WindowTo are the window it was last read in.
	WindowFrom time.Time `json:"window_from,omitzero"`
	WindowTo   time.Time `json:"window_to,omitzero"`
	// FirstAt and LastAt are when it was first and last refused; Times
	// how often (every overlap re-read of it counts).
	FirstAt time.Time `json:"first_at"`
	LastAt  time.Time `json:"last_at"`
	Times   int64     `json:"times"`
}

// RecordPullRefusals keeps refused documents inside tx, the transaction
// that stores the rest of their window. A document refused before is
// updated with what failed this time.
func (s *Store) RecordPullRefusals(ctx context.Context, tx *sql.Tx, rs []PullRefusal) error {
	for _, r := range rs {
		_, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO pull_refusals (source, doc_no, modified, field, value, reason, hint, raw,
				window_from, window_to, first_at, last_at, times) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
			ON CONFLICT (source, doc_no) DO UPDATE SET modified = excluded.modified, field = excluded.field, value = excluded.value,
				reason = excluded.reason, hint = excluded.hint, raw = excluded.raw, window_from = excluded.window_from,
				window_to = excluded.window_to, last_at = excluded.last_at, times = pull_refusals.times + 1`),
			r.Source, r.DocNo, unmicros(r.Modified), r.Field, r.Value, r.Reason, r.Hint, r.Raw,
			unmicros(r.WindowFrom), unmicros(r.WindowTo), unmicros(r.FirstAt), unmicros(r.LastAt))
		if err != nil {
			return fmt.Errorf("store: recording refused document %s of %s: %w", r.DocNo, r.Source, err)
		}
	}
	return nil
}

// ClearPullRefusals removes, inside tx, the refusals of source's documents
// among docNos: they were converted and stored in that transaction. It
// reads the source's refusals first, so a window without any costs one
// small query.
func (s *Store) ClearPullRefusals(ctx context.Context, tx *sql.Tx, source string, docNos []string) error {
	rows, err := tx.QueryContext(ctx, s.rebind(`SELECT doc_no FROM pull_refusals WHERE source = ?`), source)
	if err != nil {
		return fmt.Errorf("store: reading refused documents of %s: %w", source, err)
	}
	refused := map[string]bool{}
	for rows.Next() {
		var no string
		if err := rows.Scan(&no); err != nil {
			rows.Close()
			return fmt.Errorf("store: reading refused documents of %s: %w", source, err)
		}
		refused[no] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: reading refused documents of %s: %w", source, err)
	}
	if len(refused) == 0 {
		return nil
	}
	for _, no := range docNos {
		if !refused[no] {
			continue
		}
		if _, err := tx.ExecContext(ctx, s.rebind(`DELETE FROM pull_refusals WHERE source = ? AND doc_no = ?`), source, no); err != nil {
			return fmt.Errorf("store: clearing refused document %s of %s: %w", no, source, err)
		}
	}
	return nil
}

// PullRefusals lists the documents of source waiting as refused, the most
// recently refused first, at most limit of them (0: all), and how many
// there are in all.
func (s *Store) PullRefusals(ctx context.Context, source string, limit int) ([]PullRefusal, int, error) {
	var total int
	if err := s.read.QueryRowContext(ctx, s.rebind(`SELECT COUNT(*) FROM pull_refusals WHERE source = ?`), source).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: counting refused documents of %s: %w", source, err)
	}
	if total == 0 {
		return nil, 0, nil
	}
	q := `SELECT source, doc_no, modified, field, value, reason, hint, raw, window_from, window_to, first_at, last_at, times
		FROM pull_refusals WHERE source = ? ORDER BY last_at DESC, doc_no`
	args := []any{source}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := s.read.QueryContext(ctx, s.rebind(q), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: reading refused documents of %s: %w", source, err)
	}
	defer rows.Close()
	var out []PullRefusal
	for rows.Next() {
		var r PullRefusal
		var modified, from, to, first, last int64
		if err := rows.Scan(&r.Source, &r.DocNo, &modified, &r.Field, &r.Value, &r.Reason, &r.Hint, &r.Raw,
			&from, &to, &first, &last, &r.Times); err != nil {
			return nil, 0, fmt.Errorf("store: reading refused documents of %s: %w", source, err)
		}
		r.Modified, r.WindowFrom, r.WindowTo = microsOrZero(modified), microsOrZero(from), microsOrZero(to)
		r.FirstAt, r.LastAt = micros(first), micros(last)
		out = append(out, r)
	}
	return out, total, rows.Err()
}
