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

// Dispatcher hands order_events to every consumer.
type Dispatcher struct {
	store     *store.Store
	consumers []Consumer
	batch     int
	pace      time.Duration // pause after a pass that caught up (dispatchPace)
	maxRun    time.Duration // longest one Drain runs
	delivered *prometheus.CounterVec
}

const (
	// dispatchPace is how long a caught-up drain waits before it reads
	// again; events reach consumers up to this much later.
	dispatchPace = 50 * time.Millisecond
	// dispatchMaxRun bounds one drain (River's job timeout is a minute).
	dispatchMaxRun = 10 * time.Second
)

// NewDispatcher returns a dispatcher feeding consumers from s. reg may be nil.
func NewDispatcher(s *store.Store, reg prometheus.Registerer, consumers ...Consumer) *Dispatcher {
	d := &Dispatcher{store: s, consumers: consumers, batch: 2000, pace: dispatchPace, maxRun: dispatchMaxRun,
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orderhub_events_dispatched_total", Help: "Order events handed to each consumer.",
		}, []string{"consumer"}),
	}
	if reg != nil {
		reg.MustRegister(d.delivered)
	}
	return d
}

// Drain feeds every consumer until none has events left. A consumer that
// fails does not hold the others back; the errors are returned together.
func (d *Dispatcher) Drain(ctx context.Context) error {
	var errs []error
	for _, c := range d.consumers {
		if err := d.drain(ctx, c); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// DrainConsumer feeds one consumer until it has no events left. Reading
// until empty, rather than until a short batch, narrows the moment in which
// an ingest commit finds this job still running and so queues no new one;
// the periodic sweep picks up what lands in that moment.
func (d *Dispatcher) DrainConsumer(ctx context.Context, name string) error {
	for _, c := range d.consumers {
		if c.Name() == name {
			return d.drain(ctx, c)
		}
	}
	// A consumer removed from the configuration: its queued job has nothing
	// to do.
	return nil
}

// drain feeds one consumer until a pass finds nothing, pausing briefly
// after a pass that caught up (so a trickle of events is read in batches,
// not one by one, and the write connection is left to ingest), and for at
// most maxRun: what is left waits for the next run.
func (d *Dispatcher) drain(ctx context.Context, c Consumer) error {
	start := time.Now()
	for {
		n, err := d.step(ctx, c)
		if err != nil {
			return fmt.Errorf("dispatching events to %s: %w", c.Name(), err)
		}
		if n == 0 || time.Since(start) >= d.maxRun {
			return nil
		}
		if n >= d.batch || d.pace <= 0 {
			continue
		}
		t := time.NewTimer(d.pace)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil // what is left waits in its table for the next run
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
