// Package jobs runs orderhub's background work on River, in the same database
// as the orders, so that work is queued in the same transaction as the change
// that causes it.
//
// Per-order work does not get a River job each: River does a few thousand
// jobs a second on SQLite, ingest many more orders. Stages hand work over in
// tables (order_events) and River only triggers and retries the drainers:
// one unique dispatch job, queued by every ingest transaction that recorded
// events, and a periodic one as a safety net.
package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"orderhub/internal/store"
)

// DispatchArgs triggers the event dispatcher. It is unique while waiting or
// running, so a burst of ingest transactions queues it once.
type DispatchArgs struct{}

// Kind implements river.JobArgs.
func (DispatchArgs) Kind() string { return "orderhub.dispatch_events" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (DispatchArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		MaxAttempts: 25,
		UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
			rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
			rivertype.JobStateRunning, rivertype.JobStateScheduled,
		}},
	}
}

// Runner owns the River client.
type Runner struct {
	client *river.Client[*sql.Tx]
	log    *slog.Logger
	// queuedAt is when this node last queued a dispatch job that has not
	// started here since (Unix nanoseconds; 0 for none).
	queuedAt *atomic.Int64
}

// Options configure the runner.
type Options struct {
	Log *slog.Logger
	// SweepEvery is how often the dispatcher runs even without a trigger; it
	// catches an event committed while the dispatcher was finishing.
	SweepEvery time.Duration
	// Workers is how many jobs run at once.
	Workers int
}

// Driver returns River's driver for the store: its SQLite driver, or for
// PostgreSQL the database/sql driver with a pgx listener, so both share the
// store's *sql.Tx.
func Driver(s *store.Store) riverdriver.Driver[*sql.Tx] {
	if s.Dialect() == store.Postgres {
		return riverdatabasesql.NewWithPgxListener(s.DB(), s.PgxPool())
	}
	return riversqlite.New(s.DB())
}

// Migrate brings River's tables up to date.
func Migrate(ctx context.Context, s *store.Store) error {
	m, err := rivermigrate.New(Driver(s), nil)
	if err != nil {
		return fmt.Errorf("jobs: preparing River migrations: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("jobs: migrating River's tables: %w", err)
	}
	return nil
}

// New builds the runner with the dispatcher d. Call Start to work jobs.
func New(s *store.Store, d *Dispatcher, o Options) (*Runner, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.SweepEvery <= 0 {
		o.SweepEvery = time.Second
	}
	if o.Workers <= 0 {
		o.Workers = 2
	}
	queuedAt := new(atomic.Int64)
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &dispatchWorker{d: d, queuedAt: queuedAt}); err != nil {
		return nil, fmt.Errorf("jobs: registering the dispatcher: %w", err)
	}
	client, err := river.NewClient(Driver(s), &river.Config{
		Logger:  o.Log.With("component", "river"),
		Queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: o.Workers}},
		Workers: workers,
		PeriodicJobs: []*river.PeriodicJob{
			river.NewPeriodicJob(river.PeriodicInterval(o.SweepEvery), func() (river.JobArgs, *river.InsertOpts) {
				return DispatchArgs{}, nil
			}, &river.PeriodicJobOpts{RunOnStart: true}),
		},
		// Jobs here are triggers; a fast poll keeps dispatch latency low
		// on SQLite, which has no LISTEN/NOTIFY.
		FetchCooldown:     20 * time.Millisecond,
		FetchPollInterval: 100 * time.Millisecond,
		// SQLite has no LISTEN: River's listener there polls a table 20
		// times a second, on the one write connection ingest commits
		// through. The fetch poll above finds new jobs all the same.
		PollOnly: s.Dialect() == store.SQLite,
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: creating the River client: %w", err)
	}
	return &Runner{client: client, log: o.Log, queuedAt: queuedAt}, nil
}

// Start begins working jobs.
func (r *Runner) Start(ctx context.Context) error {
	if err := r.client.Start(ctx); err != nil {
		return fmt.Errorf("jobs: starting River: %w", err)
	}
	return nil
}

// Stop finishes running jobs and stops.
func (r *Runner) Stop(ctx context.Context) error {
	return r.client.Stop(ctx)
}

// QueueDispatch is a store.ApplyHook: when a batch recorded events, it queues
// the dispatcher in the batch's own transaction.
//
// While a dispatch job this node queued moments ago has not yet started, a
// further one would be refused as a duplicate anyway; skipping the insert
// saves a query in every ingest transaction under load. The job clears the
// mark when it starts, before it reads any event, so events committed after
// that queue a new job. The mark lapses after queuedFor, because the job
// may have been started by another node, or the transaction that queued it
// rolled back; a needless insert then costs one refused duplicate.
func (r *Runner) QueueDispatch(ctx context.Context, tx *sql.Tx, _ []store.Incoming, out []store.Outcome) error {
	for _, o := range out {
		if len(o.Events) > 0 {
			now := time.Now().UnixNano()
			if at := r.queuedAt.Load(); at != 0 && now-at < int64(queuedFor) {
				return nil
			}
			if _, err := r.client.InsertTx(ctx, tx, DispatchArgs{}, nil); err != nil {
				return err
			}
			r.queuedAt.Store(now)
			return nil
		}
	}
	return nil
}

// queuedFor is how long a queued dispatch job is trusted to start on its own.
const queuedFor = 250 * time.Millisecond

type dispatchWorker struct {
	river.WorkerDefaults[DispatchArgs]
	d        *Dispatcher
	queuedAt *atomic.Int64
}

func (w *dispatchWorker) Work(ctx context.Context, _ *river.Job[DispatchArgs]) error {
	w.queuedAt.Store(0)
	return w.d.Drain(ctx)
}

// NextRetry retries a failed drain soon: 250ms doubling up to 30s. The
// events wait in their table either way, and what failed (a consumer's
// target, a busy database) is usually back within seconds; River's default
// of attempt⁴ seconds would hold every later event back for minutes.
func (w *dispatchWorker) NextRetry(job *river.Job[DispatchArgs]) time.Time {
	d := 250 * time.Millisecond << min(job.Attempt-1, 7)
	return time.Now().Add(min(d, 30*time.Second))
}
