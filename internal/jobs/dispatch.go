package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"orderhub/internal/store"
)

// Consumer is a stage that reacts to order events: flows, rules, risk. It
// receives events in id order, at least once, inside the transaction that
// moves its cursor, so whatever it writes there commits exactly with its
// progress.
type Consumer interface {
	// Name identifies the consumer's cursor; never rename a deployed one.
	Name() string
	Consume(ctx context.Context, tx *sql.Tx, events []store.Event) error
}

// FromNow is a Consumer that, the first time it runs on a store, starts
// after the events already there rather than at the first: rules tell of
// what happens from now on, not of every order a store already holds.
type FromNow interface {
	Consumer
	StartsFromNow() bool
}

// startCursors places the cursor of each new FromNow consumer after the
// events already stored.
func (d *Dispatcher) startCursors(ctx context.Context) error {
	for _, c := range d.consumers {
		if fn, ok := c.(FromNow); ok && fn.StartsFromNow() {
			if _, err := d.store.StartCursorAtEnd(ctx, c.Name()); err != nil {
				return err
			}
		}
	}
	return nil
}

// AfterCommitter is a Consumer told when a batch it consumed has
// committed, so that it can wake work in this process that reads what it
// wrote there (the flows consumer wakes its writers).
type AfterCommitter interface {
	AfterCommit()
}

// Dispatcher hands order_events to every consumer.
type Dispatcher struct {
	store     *store.Store
	consumers []Consumer
	batch     int
	pace      time.Duration // pause after a pass that caught up (dispatchPace)
	maxRun    time.Duration // longest one Drain runs
	linger    time.Duration // how long a drain that found nothing waits for more (Linger)
	idlePoll  time.Duration // how often it reads meanwhile (IdlePoll)
	delivered *prometheus.CounterVec
	// wake has one signal per consumer, given when events commit in this
	// process; stopping closes when the runner stops.
	wake     map[string]chan struct{}
	stopping <-chan struct{}
}

const (
	// dispatchPace is how long a caught-up drain waits before it reads
	// again; events reach consumers up to this much later.
	dispatchPace = 50 * time.Millisecond
	// dispatchMaxRun bounds one drain (River's job timeout is a minute).
	dispatchMaxRun = 10 * time.Second
)

// Linger is how long a drainer (a consumer's dispatch, a flow's writer)
// that has run out of work stays to wait for more before its job ends, and
// IdlePoll how often it looks meanwhile. Work committed in this process
// wakes it at once. Without it, each hand-over waits for River to fetch a
// newly queued job: on SQLite, which has no LISTEN, that is its fetch poll,
// up to a tenth of a second per stage. IdlePoll is that poll's interval, so
// work queued by another node is found as soon as River would find it.
const (
	Linger   = time.Second
	IdlePoll = 100 * time.Millisecond
)

// NewDispatcher returns a dispatcher feeding consumers from s. reg may be nil.
func NewDispatcher(s *store.Store, reg prometheus.Registerer, consumers ...Consumer) *Dispatcher {
	d := &Dispatcher{store: s, consumers: consumers, batch: 2000, pace: dispatchPace, maxRun: dispatchMaxRun, linger: Linger, idlePoll: IdlePoll,
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orderhub_events_dispatched_total", Help: "Order events handed to each consumer.",
		}, []string{"consumer"}),
		wake: make(map[string]chan struct{}, len(consumers)),
	}
	for _, c := range consumers {
		d.wake[c.Name()] = make(chan struct{}, 1)
	}
	if reg != nil {
		reg.MustRegister(d.delivered)
	}
	s.OnEventsCommitted(d.notify)
	return d
}

// notify wakes every consumer's drain that waits for events.
func (d *Dispatcher) notify() {
	for _, ch := range d.wake {
		select {
		case ch <- struct{}{}:
		default: // already woken
		}
	}
}

// Drain feeds every consumer until none has events left. A consumer that
// fails does not hold the others back; the errors are returned together.
func (d *Dispatcher) Drain(ctx context.Context) error {
	var errs []error
	for _, c := range d.consumers {
		if err := d.drain(ctx, c, 0); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// DrainConsumer feeds one consumer until it has had no events for Linger
// (its dispatch job's run). Reading until empty, and then waiting a while
// for more, narrows the moment in which an ingest commit finds this job
// still running and so queues no new one; the periodic sweep picks up what
// lands in that moment.
func (d *Dispatcher) DrainConsumer(ctx context.Context, name string) error {
	for _, c := range d.consumers {
		if c.Name() == name {
			return d.drain(ctx, c, d.linger)
		}
	}
	// A consumer removed from the configuration: its queued job has nothing
	// to do.
	return nil
}

// drain feeds one consumer, pausing briefly after a pass that caught up
// (so a trickle of events is read in batches, not one by one, and the write
// connection is left to ingest), until passes have found nothing for
// linger (0: until one finds nothing), and for at most maxRun: what is
// left waits for the next run. While it finds nothing it waits for events
// committed in this process, and reads every IdlePoll for those of other
// nodes.
func (d *Dispatcher) drain(ctx context.Context, c Consumer, linger time.Duration) error {
	start := time.Now()
	var idleSince time.Time
	for {
		n, err := d.step(ctx, c)
		if err != nil && ctx.Err() != nil {
			return nil // cancelled mid-step: rolled back, the events wait for the next run
		}
		if err != nil {
			return fmt.Errorf("dispatching events to %s: %w", c.Name(), err)
		}
		if time.Since(start) >= d.maxRun {
			return nil
		}
		var wake <-chan struct{}
		wait := d.pace
		switch {
		case n >= d.batch:
			continue
		case n > 0:
			idleSince = time.Time{}
		default:
			if idleSince.IsZero() {
				idleSince = time.Now()
			}
			if time.Since(idleSince) >= linger {
				return nil
			}
			wake, wait = d.wake[c.Name()], d.idlePoll
		}
		if wait <= 0 {
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil // what is left waits in its table for the next run
		case <-d.stopping:
			t.Stop()
			return nil // the runner stops; the next start resumes from the cursor
		case <-wake:
			t.Stop()
		case <-t.C:
		}
	}
}

func (d *Dispatcher) dispatchArgs() []river.InsertManyParams {
	out := make([]river.InsertManyParams, len(d.consumers))
	for i, c := range d.consumers {
		out[i] = river.InsertManyParams{Args: DispatchArgs{Consumer: c.Name()}}
	}
	return out
}

// step gives one consumer one batch and moves its cursor. The events are
// read outside the transaction (on SQLite, beside the writer rather than
// holding its one connection), and the transaction holds only the
// consumer's own writes and the cursor's move, which succeeds only from the
// position the batch was read at.
func (d *Dispatcher) step(ctx context.Context, c Consumer) (int, error) {
	last, err := d.store.Cursor(ctx, d.store.Reader(), c.Name())
	if err != nil {
		return 0, err
	}
	evs, err := d.store.EventsAfter(ctx, d.store.Reader(), last, d.batch)
	if err != nil || len(evs) == 0 {
		return 0, err
	}
	tx, err := d.store.DB().BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	moved, err := d.store.MoveCursor(ctx, tx, c.Name(), last, evs[len(evs)-1].Position())
	if err != nil {
		return 0, err
	}
	if !moved {
		// Another dispatcher handed these over meanwhile; read again.
		return len(evs), nil
	}
	if err := c.Consume(ctx, tx, evs); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	if ac, ok := c.(AfterCommitter); ok {
		ac.AfterCommit()
	}
	d.delivered.WithLabelValues(c.Name()).Add(float64(len(evs)))
	return len(evs), nil
}

// EventLog is a consumer that writes every order event to the log as one
// structured line, without buyer data, at debug level: with log.level
// debug it is a stream an operator can ship to log search. At info it is
// silent; a line per event costs about a tenth of ingest's CPU under load.
type EventLog struct{ Log *slog.Logger }

// Name implements Consumer.
func (EventLog) Name() string { return "event_log" }

// Consume implements Consumer.
func (l EventLog) Consume(ctx context.Context, _ *sql.Tx, evs []store.Event) error {
	for _, e := range evs {
		l.Log.LogAttrs(ctx, slog.LevelDebug, "order event",
			slog.Int64("event_id", e.ID), slog.String("source", e.Source), slog.String("order_no", e.OrderNo),
			slog.String("type", string(e.Type)), slog.String("from", string(e.StatusFrom)), slog.String("to", string(e.StatusTo)),
			slog.Int64("version", e.Version))
	}
	return nil
}
