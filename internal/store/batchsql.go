package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// A batchQuery is a statement over a list of rows: head, then one
// parenthesised group of cols placeholders per row, then tail.
//
// Statements with a row count fixed by the batch would be parsed and planned
// anew for every transaction, which on SQLite cost a fifth of the ingest
// time. Instead each batch query is prepared once, at open, for a few row
// counts (chunkSizes), and a batch of n rows runs as the fewest such chunks.
//
// On PostgreSQL a round trip costs more than parsing, so there each query is
// one statement over arrays, one per column (pg, with its columns' types in
// pgTypes), whatever the number of rows: unnest turns them back into rows.
type batchQuery struct {
	name, head, tail string
	cols             int
	returns          bool // tail has RETURNING: run as a query
	pg               string
	pgTypes          []string
}

var (
	qLoadCurrent = &batchQuery{name: "load current orders", cols: 2, returns: true,
		// A join with a VALUES list rather than (source, order_no) IN ((?,?),…):
		// PostgreSQL turns such an IN list into OR clauses nested one per key
		// and runs out of stack at some thousands of keys. VALUES columns are
		// column1, column2 in both databases.
		head: `SELECT o.id, o.source, o.order_no, o.version, o.payload_hash, o.doc_updated_at, o.first_seen_at, o.canonical FROM orders o JOIN (VALUES `,
		tail: `) AS k ON o.source = k.column1 AND o.order_no = k.column2`,
		pg: `SELECT o.id, o.source, o.order_no, o.version, o.payload_hash, o.doc_updated_at, o.first_seen_at, o.canonical
			FROM orders o JOIN unnest($1::text[], $2::text[]) AS k (source, order_no) ON o.source = k.source AND o.order_no = k.order_no`,
		pgTypes: []string{"text", "text"}}
	qUpsertOrders = &batchQuery{name: "upsert orders", cols: 10, returns: true,
		head:    `INSERT INTO orders (source, order_no, version, status, total_fen, payload_hash, doc_updated_at, first_seen_at, updated_at, canonical) VALUES `,
		tail:    upsertOrdersTail,
		pgTypes: []string{"text", "text", "bigint", "text", "bigint", "bytea", "bigint", "bigint", "bigint", "text"}}
	qInsertVersions = &batchQuery{name: "insert versions", cols: 5,
		head:    `INSERT INTO order_versions (order_id, version, received_at, payload_hash, raw) VALUES `,
		pgTypes: []string{"bigint", "bigint", "bigint", "bytea", "bytea"}}
	qInsertEvents = &batchQuery{name: "insert events", cols: 6,
		head:    `INSERT INTO order_events (order_id, version, type, status_from, status_to, at) VALUES `,
		pgTypes: []string{"bigint", "bigint", "text", "text", "text", "bigint"}}
	qInsertTimeline = &batchQuery{name: "insert timeline", cols: 4,
		head:    `INSERT INTO order_timeline (order_id, at, stage, detail) VALUES `,
		pgTypes: []string{"bigint", "bigint", "text", "text"}}

	// A delivery already recorded is left out and returns no row; the rows
	// returned tell which messages to write (qInsertMessages).
	qQueueDeliveries = &batchQuery{name: "queue deliveries", cols: 19, returns: true,
		head: `INSERT INTO deliveries (system, rule, dedupe_key, kind, order_id, source, order_no, event, total, status, lang,
			priority, state, wait, due_at, created_at, updated_at, fallback, escalate_after) VALUES `,
		tail: ` ON CONFLICT (dedupe_key, system) DO NOTHING RETURNING id, dedupe_key, system`,
		pgTypes: []string{"text", "text", "text", "text", "bigint", "text", "text", "text", "text", "text", "text",
			"bigint", "text", "text", "bigint", "bigint", "bigint", "text", "bigint"}}
	qInsertMessages = &batchQuery{name: "insert messages", cols: 2,
		head:    `INSERT INTO delivery_messages (delivery_id, message) VALUES `,
		pgTypes: []string{"bigint", "text"}}
	// The deliveries whose calls begin, joined with a list of (id, time)
	// rather than named in an IN list: a statement with a step's ids
	// written in it was parsed anew for every step.
	qMarkSending = &batchQuery{name: "mark sending", cols: 2,
		head: `UPDATE deliveries SET state = 'sending', attempts = attempts + 1, updated_at = v.column2 FROM (VALUES `,
		tail: `) AS v WHERE deliveries.id = v.column1`,
		pg: `UPDATE deliveries SET state = 'sending', attempts = attempts + 1, updated_at = v.at
			FROM unnest($1::bigint[], $2::bigint[]) AS v (id, at) WHERE deliveries.id = v.id`,
		pgTypes: []string{"bigint", "bigint"}}
	qStartAttempts = &batchQuery{name: "start attempts", cols: 4,
		head:    `INSERT INTO delivery_attempts (delivery_id, system, attempt, at) VALUES `,
		pgTypes: []string{"bigint", "text", "bigint", "bigint"}}

	batchQueries = []*batchQuery{qLoadCurrent, qUpsertOrders, qInsertVersions, qInsertEvents, qInsertTimeline,
		qQueueDeliveries, qInsertMessages, qMarkSending, qStartAttempts}
)

const upsertOrdersTail = ` ON CONFLICT (source, order_no) DO UPDATE SET version = excluded.version, status = excluded.status,
	total_fen = excluded.total_fen, payload_hash = excluded.payload_hash, doc_updated_at = excluded.doc_updated_at,
	updated_at = excluded.updated_at, canonical = excluded.canonical
	RETURNING id, source, order_no`

// pgSQL is the query's PostgreSQL form: the insert's head with its VALUES
// list replaced by a SELECT over unnest of one array per column.
func (q *batchQuery) pgSQL() string {
	if q.pg != "" {
		return q.pg
	}
	var b strings.Builder
	b.WriteString(strings.TrimSuffix(q.head, "VALUES "))
	b.WriteString("SELECT * FROM unnest(")
	for i, t := range q.pgTypes {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d::%s[]", i+1, t)
	}
	b.WriteString(")")
	b.WriteString(q.tail)
	return b.String()
}

// chunkSizes are the row counts each batch query is prepared for, largest
// first; every n is a sum of them, and a batch of up to 256 documents needs
// at most a dozen statements per query.
var chunkSizes = []int{256, 64, 16, 4, 1}

type stmtKey struct {
	q    *batchQuery
	rows int
}

// prepareBatchQueries prepares every batch query for every chunk size. It
// runs at open, before any transaction: on SQLite the pool's one connection
// is held by a transaction while it runs, so preparing later would wait
// for itself.
func (s *Store) prepareBatchQueries(ctx context.Context) error {
	s.stmts = map[stmtKey]*sql.Stmt{}
	if s.dialect == Postgres {
		for _, q := range batchQueries {
			st, err := s.write.PrepareContext(ctx, q.pgSQL())
			if err != nil {
				return fmt.Errorf("store: preparing %s: %w", q.name, err)
			}
			s.stmts[stmtKey{q, 0}] = st
		}
		return nil
	}
	for _, q := range batchQueries {
		for _, n := range chunkSizes {
			st, err := s.write.PrepareContext(ctx, s.rebind(q.sql(n)))
			if err != nil {
				return fmt.Errorf("store: preparing %s for %d rows: %w", q.name, n, err)
			}
			s.stmts[stmtKey{q, n}] = st
		}
	}
	return nil
}

func (q *batchQuery) sql(rows int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", q.cols), ",") + ")"
	var b strings.Builder
	b.Grow(len(q.head) + len(q.tail) + rows*(len(one)+1))
	b.WriteString(q.head)
	for i := 0; i < rows; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(one)
	}
	b.WriteString(q.tail)
	return b.String()
}

// chunks runs q over n rows in tx, in as few prepared chunks as the sizes
// allow. row appends row i's arguments; scan, for queries that return rows,
// reads each one.
func (s *Store) chunks(ctx context.Context, tx *sql.Tx, q *batchQuery, n int, row func(i int, args []any) []any, scan func(*sql.Rows) error) error {
	_, err := s.runChunks(ctx, tx, q, n, row, scan)
	return err
}

// runChunks is chunks that also returns how many rows a statement that
// returns none changed (an insert that skips conflicts: how many it added).
func (s *Store) runChunks(ctx context.Context, tx *sql.Tx, q *batchQuery, n int, row func(i int, args []any) []any, scan func(*sql.Rows) error) (int64, error) {
	if n == 0 {
		return 0, nil
	}
	if s.dialect == Postgres {
		return s.arrays(ctx, tx, q, n, row, scan)
	}
	var affected int64
	args := make([]any, 0, min(n, chunkSizes[0])*q.cols)
	for start := 0; start < n; {
		size := chunkSizes[len(chunkSizes)-1]
		for _, c := range chunkSizes {
			if c <= n-start {
				size = c
				break
			}
		}
		args = args[:0]
		for i := start; i < start+size; i++ {
			args = row(i, args)
		}
		st := tx.StmtContext(ctx, s.stmts[stmtKey{q, size}])
		if !q.returns {
			res, err := st.ExecContext(ctx, args...)
			if err != nil {
				return affected, err
			}
			if k, err := res.RowsAffected(); err == nil {
				affected += k
			}
		} else if err := scanAll(ctx, st, args, scan); err != nil {
			return affected, err
		}
		start += size
	}
	return affected, nil
}

func scanAll(ctx context.Context, st *sql.Stmt, args []any, scan func(*sql.Rows) error) error {
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// arrays runs q over n rows as one PostgreSQL statement: the rows' values
// go in as one array per column.
func (s *Store) arrays(ctx context.Context, tx *sql.Tx, q *batchQuery, n int, row func(i int, args []any) []any, scan func(*sql.Rows) error) (int64, error) {
	flat := make([]any, 0, n*q.cols)
	for i := 0; i < n; i++ {
		flat = row(i, flat)
	}
	cols := make([]any, q.cols)
	for c := range cols {
		switch flat[c].(type) {
		case int64:
			v := make([]int64, n)
			for r := range v {
				v[r] = flat[r*q.cols+c].(int64)
			}
			cols[c] = v
		case string:
			v := make([]string, n)
			for r := range v {
				v[r] = flat[r*q.cols+c].(string)
			}
			cols[c] = v
		case []byte:
			v := make([][]byte, n)
			for r := range v {
				v[r] = flat[r*q.cols+c].([]byte)
			}
			cols[c] = v
		default:
			return 0, fmt.Errorf("store: %s: column %d has values of type %T", q.name, c, flat[c])
		}
	}
	st := tx.StmtContext(ctx, s.stmts[stmtKey{q, 0}])
	if !q.returns {
		res, err := st.ExecContext(ctx, cols...)
		if err != nil {
			return 0, err
		}
		k, _ := res.RowsAffected()
		return k, nil
	}
	return 0, scanAll(ctx, st, cols, scan)
}
