// Package jobs runs orderhub's background work on River, in the same database
// as the orders, so that work is queued in the same transaction as the change
// that causes it.
//
// Per-order work does not get a River job each: River does a few thousand
// jobs a second on SQLite, ingest many more orders. Stages hand work over in
// tables (order_events, flow_items) and River only triggers and retries the
// drainers: one unique dispatch job per event consumer, queued by every
// ingest transaction that recorded events, and a periodic one per consumer
// as a safety net. Each consumer has its own job, so one that fails retries
// alone while the others go on.
//
// Stages (pull sources, flows) register their own workers and clocks as a
// Stage.
package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
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

// DispatchArgs triggers the dispatch of events to one consumer. It is
// unique per consumer while waiting or running, so a burst of ingest
// transactions queues it once.
type DispatchArgs struct {
	Consumer string `json:"consumer"`
}

// Kind implements river.JobArgs.
func (DispatchArgs) Kind() string { return "orderhub.dispatch_events" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (DispatchArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 25, UniqueOpts: Unique}
}

// Unique makes a trigger job unique by its arguments while it waits, runs
// or waits to retry: a trigger queued again meanwhile would find nothing
// more to do. Stages use it for their own drainers.
var Unique = river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled,
}}

// JobTimeout bounds one run of any job; RescueAfter is when a job still
// marked running is taken to belong to a node that died, and runs again.
// Drainers stop after Budget and snooze to go on, well inside JobTimeout.
const (
	JobTimeout  = 30 * time.Second
	RescueAfter = 45 * time.Second
	Budget      = 10 * time.Second
)

// Stage is a part of the hub with background work of its own: it adds its
// River workers and its clocks to the runner.
type Stage interface {
	AddWorkers(w *river.Workers) error
	PeriodicJobs() []*river.PeriodicJob
}

// Starter is a Stage with jobs to queue the moment the runner starts.
// River queues periodic jobs, RunOnStart ones too, only once its
// maintenance services are up, a second or so after start; a node that
// has just started should not wait that long for its first pull. The jobs
// queued with River's start are fetched by its first fetch; a job a clock
// queues later waits for the next fetch poll.
type Starter interface {
	StartJobs(ctx context.Context) ([]river.JobArgs, error)
}

// Runner owns the River client.
type Runner struct {
	client     *river.Client[*sql.Tx]
	dispatcher *Dispatcher
	log        *slog.Logger
	// queuedAt is when this node last queued dispatch jobs that have not
	// started here since (Unix nanoseconds; 0 for none).
	queuedAt *atomic.Int64
	// dispatch is one job per consumer, queued together.
	dispatch []river.InsertManyParams
	// start is queued by Start with the stages' start jobs: every
	// consumer's dispatch.
	start    []river.InsertManyParams
	starters []Starter
	// stopping closes when Stop begins, so that drainers waiting for work
	// end instead of holding the stop up.
	stopping chan struct{}
	stopOnce sync.Once
}

// Options configure the runner.
type Options struct {
	// Log gets the dispatcher's lines and River's warnings and errors; River's
	// routine below warn only when Log is enabled at debug.
	Log *slog.Logger
	// SweepEvery is how often the dispatcher runs even without a trigger; it
	// catches an event committed while the dispatcher was finishing.
	SweepEvery time.Duration
	// Workers is how many jobs run at once (32). Every long-running job is
	// unique per thing it drains (a consumer's dispatch, a source's pull, a
	// flow's writer), and each must find a free slot while the others run:
	// with too few slots a pull holds back the writers that would empty
	// its queue, and stages stall each other.
	Workers int
	// Stages add their workers and periodic jobs.
	Stages []Stage
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
		o.Workers = 32
	}
	queuedAt := new(atomic.Int64)
	workers := river.NewWorkers()
	w := &dispatchWorker{d: d, queuedAt: queuedAt, log: o.Log.With("component", "dispatch")}
	if err := river.AddWorkerSafely(workers, w); err != nil {
		return nil, fmt.Errorf("jobs: registering the dispatcher: %w", err)
	}
	var periodic []*river.PeriodicJob
	for _, c := range d.consumers {
		args := DispatchArgs{Consumer: c.Name()}
		periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(o.SweepEvery), func() (river.JobArgs, *river.InsertOpts) {
			return args, nil
		}, &river.PeriodicJobOpts{RunOnStart: true}))
	}
	for _, st := range o.Stages {
		if err := st.AddWorkers(workers); err != nil {
			return nil, fmt.Errorf("jobs: registering a stage's workers: %w", err)
		}
		periodic = append(periodic, st.PeriodicJobs()...)
	}
	start := d.dispatchArgs()
	var starters []Starter
	for _, st := range o.Stages {
		if sj, ok := st.(Starter); ok {
			starters = append(starters, sj)
		}
	}
	client, err := river.NewClient(Driver(s), &river.Config{
		Logger:       riverLogger(o.Log),
		Queues:       map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: o.Workers}},
		Workers:      workers,
		PeriodicJobs: periodic,
		// Jobs here are triggers; a fast poll keeps dispatch latency low
		// on SQLite, which has no LISTEN/NOTIFY.
		FetchCooldown:     20 * time.Millisecond,
		FetchPollInterval: 100 * time.Millisecond,
		// Trigger jobs are unique while running, so a job left "running"
		// by a node that died (kill -9, power loss) would hold its stage
		// back until River rescues it. Every job here ends within
		// JobTimeout (drainers stop after a budget and snooze to go on), so
		// a job still running past RescueAfter is one whose node is gone.
		JobTimeout:           JobTimeout,
		RescueStuckJobsAfter: RescueAfter,
		// SQLite has no LISTEN: River's listener there polls a table 20
		// times a second, on the one write connection ingest commits
		// through. The fetch poll above finds new jobs all the same.
		PollOnly: s.Dialect() == store.SQLite,
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: creating the River client: %w", err)
	}
	stopping := make(chan struct{})
	d.stopping = stopping
	return &Runner{client: client, dispatcher: d, log: o.Log, queuedAt: queuedAt, dispatch: d.dispatchArgs(), start: start,
		starters: starters, stopping: stopping}, nil
}

// Stopping is closed when the runner begins to stop: a job waiting for work
// returns.
func (r *Runner) Stopping() <-chan struct{} { return r.stopping }

// InsertTx queues a job inside tx, the transaction whose work causes it.
func (r *Runner) InsertTx(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) error {
	if _, err := r.client.InsertTx(ctx, tx, args, opts); err != nil {
		return fmt.Errorf("jobs: queueing %s: %w", args.Kind(), err)
	}
	return nil
}

// Insert queues a job on its own.
func (r *Runner) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error {
	if _, err := r.client.Insert(ctx, args, opts); err != nil {
		return fmt.Errorf("jobs: queueing %s: %w", args.Kind(), err)
	}
	return nil
}

// Start begins working jobs.
func (r *Runner) Start(ctx context.Context) error {
	if err := r.dispatcher.startCursors(ctx); err != nil {
		return err
	}
	if err := r.client.Start(ctx); err != nil {
		return fmt.Errorf("jobs: starting River: %w", err)
	}
	start := r.start
	for _, st := range r.starters {
		args, err := st.StartJobs(ctx)
		if err != nil {
			r.log.Warn("a stage's first runs could not be listed at start; its clock queues them shortly", "err", err)
		}
		for _, a := range args {
			start = append(start, river.InsertManyParams{Args: a})
		}
	}
	if len(start) > 0 {
		// The periodic jobs queue the same a moment later, so a failure
		// here only delays the first run.
		if _, err := r.client.InsertMany(ctx, start); err != nil {
			r.log.Warn("queueing the first runs at start failed; the clocks queue them shortly", "err", err)
		}
	}
	return nil
}

// Stop finishes running jobs and stops. Drainers waiting for work end at
// once; one in the middle of its work finishes the step it is in.
func (r *Runner) Stop(ctx context.Context) error {
	r.stopOnce.Do(func() { close(r.stopping) })
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
			if len(r.dispatch) == 0 {
				return nil
			}
			if _, err := r.client.InsertManyTx(ctx, tx, r.dispatch); err != nil {
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
	log      *slog.Logger
}

// Work drains the events. A failure is logged here at warn: River reports a
// failed job only at info, which riverLogger drops, and an operator should
// see a consumer that keeps failing (a panic River reports at error itself).
// A drain cut short by shutdown is not a failure; the next start resumes
// from the cursor.
func (w *dispatchWorker) Work(ctx context.Context, job *river.Job[DispatchArgs]) error {
	w.queuedAt.Store(0)
	err := w.d.DrainConsumer(ctx, job.Args.Consumer)
	if err != nil && ctx.Err() == nil {
		w.log.WarnContext(ctx, "dispatching events failed; retrying", "error", err,
			"attempt", job.Attempt, "retry_in", time.Until(w.NextRetry(job)).Round(time.Millisecond).String())
	}
	return err
}

// NextRetry retries a failed drain soon: 250ms doubling up to 30s. The
// events wait in their table either way, and what failed (a consumer's
// target, a busy database) is usually back within seconds; River's default
// of attempt⁴ seconds would hold every later event back for minutes.
func (w *dispatchWorker) NextRetry(job *river.Job[DispatchArgs]) time.Time {
	d := 250 * time.Millisecond << min(job.Attempt-1, 7)
	return time.Now().Add(min(d, 30*time.Second))
}
