// Package store keeps orderhub's durable state in SQL: SQLite embedded by
// default, PostgreSQL when several nodes share the work. Both are reached
// through database/sql, so one code path (and River's *sql.Tx drivers) serves
// both; the few differences live in Dialect.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "modernc.org/sqlite"             // database/sql driver "sqlite"
)

// Dialect names the SQL database behind a Store.
type Dialect string

// The supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Options tune how a store is opened.
type Options struct {
	// Synchronous is SQLite's synchronous pragma: FULL (default) makes every
	// commit survive power loss; NORMAL only process crashes.
	Synchronous string

	// restartFrames overrides the log length at which the writer helps the
	// log start over, and the spacing of background checkpoints (tests).
	restartFrames   int
	checkpointEvery time.Duration
}

// Store is an open database.
type Store struct {
	dialect Dialect
	// write is the pool every transaction that changes state uses. On SQLite
	// it has one connection: SQLite has one writer, and queueing for it in
	// the pool is cheaper than retrying on SQLITE_BUSY.
	write *sql.DB
	// read serves queries; on SQLite WAL lets it run beside the writer.
	read *sql.DB
	// pgx is PostgreSQL's native pool, used by River for LISTEN/NOTIFY.
	pgx *pgxpool.Pool
	// location is a redacted form of the URL, for logs and messages.
	location string
	// ckpt copies SQLite's log into the database beside the writer.
	ckpt *checkpointer
	// stmts are the ingest statements, prepared once (see batchsql.go).
	stmts map[stmtKey]*sql.Stmt
	// eventsCommitted is told after a commit that appended order events.
	eventsCommitted atomic.Pointer[func()]
}

// OnEventsCommitted makes f run after every commit of Apply that appended
// order events, so that a consumer waiting in this process reads them at
// once instead of at its next poll. f must not block. Consumers on other
// nodes learn of the events from the jobs queued in the same transaction.
func (s *Store) OnEventsCommitted(f func()) { s.eventsCommitted.Store(&f) }

// Open connects to the store named by a URL (sqlite://path or postgres://…)
// and brings its schema up to date.
func Open(ctx context.Context, rawURL string, opts Options) (*Store, error) {
	var s *Store
	var err error
	switch {
	case strings.HasPrefix(rawURL, "sqlite://"):
		s, err = openSQLite(strings.TrimPrefix(rawURL, "sqlite://"), opts)
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		s, err = openPostgres(ctx, rawURL)
	default:
		return nil, fmt.Errorf("store %q: unknown scheme; use sqlite://path/to/file.db or postgres://user@host:5432/db", Redact(rawURL))
	}
	if err != nil {
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.prepareBatchQueries(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func openSQLite(path string, opts Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("store: sqlite:// needs a file path, e.g. sqlite://data/orderhub.db")
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("store: creating the folder for %s: %w", path, err)
		}
	}
	sync := strings.ToUpper(opts.Synchronous)
	if sync == "" {
		sync = "FULL"
	}
	if sync != "FULL" && sync != "NORMAL" {
		return nil, fmt.Errorf("store: sqlite synchronous %q: use FULL or NORMAL", opts.Synchronous)
	}
	// journal_size_limit trims the log file back to 64 MiB after each
	// checkpoint, so a burst does not leave it large for good.
	base := "file:" + (&url.URL{Path: path}).EscapedPath() + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=journal_size_limit(67108864)"
	// BEGIN IMMEDIATE takes the write lock up front, so a transaction never
	// fails half-way when it upgrades from reading to writing.
	//
	// temp_store(MEMORY) keeps statement journals in memory: every
	// multi-row insert keeps one (to undo just that statement if it fails),
	// and past 64 KiB SQLite spilled it to a temporary file, created,
	// written and deleted in every ingest transaction. It holds only pages
	// this transaction already changed; durability comes from the log.
	write, err := sql.Open("sqlite", base+"&_pragma=synchronous("+sync+")&_pragma=wal_autocheckpoint(0)&_pragma=temp_store(MEMORY)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("store: opening %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetConnMaxIdleTime(0)
	write.SetConnMaxLifetime(0)
	if err := write.Ping(); err != nil {
		write.Close()
		return nil, fmt.Errorf("store: opening %s: %w", path, err)
	}
	read, err := sql.Open("sqlite", base+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("store: opening %s for reading: %w", path, err)
	}
	read.SetMaxOpenConns(4)
	restart := opts.restartFrames
	if restart <= 0 {
		restart = defaultRestartFrames
	}
	every := opts.checkpointEvery
	if every <= 0 {
		every = checkpointEvery
	}
	ckpt, err := startCheckpointer(base+"&_pragma=synchronous("+sync+")", restart, every)
	if err != nil {
		write.Close()
		read.Close()
		return nil, fmt.Errorf("store: opening %s for checkpoints: %w", path, err)
	}
	return &Store{dialect: SQLite, write: write, read: read, ckpt: ckpt, location: "sqlite://" + path}, nil
}

func openPostgres(ctx context.Context, rawURL string) (*Store, error) {
	db, err := sql.Open("pgx", rawURL)
	if err != nil {
		return nil, fmt.Errorf("store: opening %s: %w", Redact(rawURL), err)
	}
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(32)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connecting to %s: %w", Redact(rawURL), err)
	}
	pool, err := pgxpool.New(ctx, rawURL)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connecting to %s: %w", Redact(rawURL), err)
	}
	return &Store{dialect: Postgres, write: db, read: db, pgx: pool, location: Redact(rawURL)}, nil
}

// Redact hides the password in a database URL.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// Dialect reports which database this is.
func (s *Store) Dialect() Dialect { return s.dialect }

// DB is the pool for transactions that change state; River's driver uses it
// too, so that jobs are enqueued in the same transactions as the orders.
func (s *Store) DB() *sql.DB { return s.write }

// PgxPool is PostgreSQL's native pool (nil on SQLite).
func (s *Store) PgxPool() *pgxpool.Pool { return s.pgx }

// Location describes where the data lives, with no password in it.
func (s *Store) Location() string { return s.location }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return s.read.PingContext(ctx)
}

// Close releases the store's connections.
func (s *Store) Close() error {
	var errs []error
	if s.ckpt != nil {
		errs = append(errs, s.ckpt.close())
	}
	for _, st := range s.stmts {
		errs = append(errs, st.Close())
	}
	if s.pgx != nil {
		s.pgx.Close()
	}
	if s.read != s.write {
		errs = append(errs, s.read.Close())
	}
	errs = append(errs, s.write.Close())
	return errors.Join(errs...)
}

// rebind turns ? placeholders into $1, $2, … for PostgreSQL. Queries here
// never contain a literal question mark.
func (s *Store) rebind(q string) string {
	if s.dialect != Postgres {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}
