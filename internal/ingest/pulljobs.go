package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"

	"orderhub/internal/connector"
	"orderhub/internal/jobs"
)

// PullArgs runs one pull source from its sync time to now. Unique per
// source while waiting or running, so a source never reads two windows at
// once, on one node or several.
type PullArgs struct {
	Source string `json:"source"`
}

// Kind implements river.JobArgs.
func (PullArgs) Kind() string { return "orderhub.pull" }

// InsertOpts implements river.JobArgsWithInsertOpts. A failed run retries a
// few times; after that the clock queues the next run at its time anyway.
func (PullArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 5, UniqueOpts: jobs.Unique}
}

// pullClockArgs is the once-a-second clock that queues the sources whose
// time has come.
type pullClockArgs struct{}

func (pullClockArgs) Kind() string { return "orderhub.pull_clock" }

func (pullClockArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 1, UniqueOpts: jobs.Unique}
}

// PullStage runs the pull sources on River: a clock that queues each
// source every `every`, by the last run recorded in the store (so several
// nodes poll a source once between them), and the worker that syncs it.
// The sources can be swapped while running (a configuration reload).
type PullStage struct {
	pulling *Pulling
	log     *slog.Logger
	sources atomic.Pointer[map[string]*PullSource]
	jobs    atomic.Pointer[jobs.Runner]
}

// NewPullStage returns the stage for sources.
func NewPullStage(p *Pulling, log *slog.Logger, sources []*PullSource) *PullStage {
	st := &PullStage{pulling: p, log: log}
	st.SetSources(sources)
	return st
}

// SetSources swaps the configured sources; a run in progress finishes
// with the source it started with.
func (st *PullStage) SetSources(sources []*PullSource) {
	m := make(map[string]*PullSource, len(sources))
	for _, s := range sources {
		m[s.Name] = s
	}
	st.sources.Store(&m)
}

// Source returns a configured source.
func (st *PullStage) Source(name string) (*PullSource, bool) {
	s, ok := (*st.sources.Load())[name]
	return s, ok
}

// SetJobs gives the stage the runner it queues runs with.
func (st *PullStage) SetJobs(r *jobs.Runner) { st.jobs.Store(r) }

// AddWorkers implements jobs.Stage.
func (st *PullStage) AddWorkers(w *river.Workers) error {
	if err := river.AddWorkerSafely(w, &pullWorker{st: st}); err != nil {
		return err
	}
	return river.AddWorkerSafely(w, &pullClockWorker{st: st})
}

// PeriodicJobs implements jobs.Stage.
func (st *PullStage) PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(time.Second), func() (river.JobArgs, *river.InsertOpts) {
		return pullClockArgs{}, nil
	}, &river.PeriodicJobOpts{RunOnStart: true})}
}

// StartJobs implements jobs.Starter: the sources due at start are pulled
// at once, without waiting for River's periodic jobs or for a fetch of the
// runs the clock would queue, and the clock runs at once as well.
func (st *PullStage) StartJobs(ctx context.Context) ([]river.JobArgs, error) {
	out := []river.JobArgs{pullClockArgs{}}
	due, err := st.Due(ctx, st.pulling.now())
	if err != nil {
		return out, err
	}
	slices.Sort(due)
	for _, name := range due {
		out = append(out, PullArgs{Source: name})
	}
	return out, nil
}

// Due lists the sources whose next run has come, by the runs the store
// recorded.
func (st *PullStage) Due(ctx context.Context, now time.Time) ([]string, error) {
	states, err := st.pulling.store.PullStates(ctx)
	if err != nil {
		return nil, err
	}
	last := make(map[string]time.Time, len(states))
	for _, s := range states {
		last[s.Source] = s.LastRunAt
	}
	var due []string
	for name, src := range *st.sources.Load() {
		every := src.Every
		if every <= 0 {
			every = time.Minute
		}
		if at, ok := last[name]; !ok || !now.Before(at.Add(every)) {
			due = append(due, name)
		}
	}
	return due, nil
}

type pullClockWorker struct {
	river.WorkerDefaults[pullClockArgs]
	st *PullStage
}

func (w *pullClockWorker) Work(ctx context.Context, _ *river.Job[pullClockArgs]) error {
	r := w.st.jobs.Load()
	if r == nil {
		return nil
	}
	due, err := w.st.Due(ctx, w.st.pulling.now())
	if err != nil {
		return err
	}
	for _, name := range due {
		if err := r.Insert(ctx, PullArgs{Source: name}, nil); err != nil {
			return err
		}
	}
	return nil
}

type pullWorker struct {
	river.WorkerDefaults[PullArgs]
	st *PullStage
}

func (w *pullWorker) Work(ctx context.Context, job *river.Job[PullArgs]) error {
	src, ok := w.st.Source(job.Args.Source)
	if !ok {
		return nil // removed from the configuration since it was queued
	}
	start := time.Now()
	windows, docs := 0, 0
	more, err := w.st.pulling.SyncFor(ctx, src, jobs.Budget, func(win Window) {
		windows++
		docs += win.Docs
	})
	if err == nil && more {
		// Catching up takes more than one run's budget: go on in a fresh
		// run, as the same unique job.
		return river.JobSnooze(time.Millisecond)
	}
	if ce, ok := connector.AsCallError(err); ok && ce.Class == connector.SlowDown {
		// Throttled: wait as long as the provider asked, without spending
		// an attempt. The windows stored so far stay stored.
		wait := ce.RetryAfter
		if wait <= 0 {
			wait = 30 * time.Second
		}
		w.st.log.Info("pull throttled by the provider; waiting", "source", src.Name, "wait", wait, "code", ce.Code)
		return river.JobSnooze(wait)
	}
	if err != nil {
		w.st.log.Warn("pull failed", "source", src.Name, "attempt", job.Attempt, "err", err)
		return fmt.Errorf("pull %s: %w", src.Name, err)
	}
	w.st.log.Debug("pulled", "source", src.Name, "windows", windows, "docs", docs, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// NextRetry backs a failed run off from 2 s up to 2 min: a throttled or
// unreachable provider is not hammered, and the clock queues a fresh run
// once the retries are spent.
func (w *pullWorker) NextRetry(job *river.Job[PullArgs]) time.Time {
	d := 2 * time.Second << min(job.Attempt-1, 6)
	return time.Now().Add(min(d, 2*time.Minute))
}
