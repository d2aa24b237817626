package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"orderhub/internal/connector"
	"orderhub/internal/jobs"
	"orderhub/internal/order"
	"orderhub/internal/store"
)

// Endpoint is one system that sends: its sender and the limits the hub
// keeps it under.
type Endpoint struct {
	System string
	Kind   string
	Sender connector.Sender
	// Limits are the provider's, with the system's rate: applied. Zero
	// PerMinute and PerSecond: no pace.
	Limits connector.SendLimits
	// Provider and CodeName say how the provider's answer reads on the
	// timeline ("钉钉 errcode 0").
	Provider, CodeName string
}

// paced reports that the endpoint has a rate to keep; its calls are then
// made one at a time, in order.
func (e *Endpoint) paced() bool { return e.Limits.PerMinute > 0 || e.Limits.PerSecond > 0 }

// Setup is what a configuration gives the stage: the compiled rules and
// the endpoints they send to.
type Setup struct {
	Rules     *Rules
	Endpoints map[string]*Endpoint
}

// SendArgs sends the messages waiting for one endpoint. Unique while
// waiting or running: one sender per endpoint, on one node or several.
type SendArgs struct {
	System string `json:"system"`
}

// Kind implements river.JobArgs.
func (SendArgs) Kind() string { return "orderhub.notify_send" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (SendArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 10, UniqueOpts: jobs.Unique}
}

type clockArgs struct{}

func (clockArgs) Kind() string { return "orderhub.notify_clock" }
func (clockArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 1, UniqueOpts: jobs.Unique}
}

// Stage runs notifications: the event consumer that turns order events
// into messages (one per rule and endpoint, recorded once), a sender per
// endpoint that keeps the provider's pace and merges the overflow into
// digests, and a clock that wakes senders when digests and retries come
// due.
type Stage struct {
	store   *store.Store
	log     *slog.Logger
	now     func() time.Time
	sleep   func(ctx context.Context, d time.Duration) error
	setup   atomic.Pointer[Setup]
	jobs    atomic.Pointer[jobs.Runner]
	metrics *metrics

	keyMu   sync.Mutex
	linkKey []byte // the store's link secret, read once
}

// NewStage returns the notification stage; reg may be nil.
func NewStage(s *store.Store, log *slog.Logger, reg prometheus.Registerer) *Stage {
	if log == nil {
		log = slog.Default()
	}
	st := &Stage{store: s, log: log, now: time.Now, sleep: sleepCtx, metrics: newMetrics(reg)}
	st.setup.Store(&Setup{Endpoints: map[string]*Endpoint{}})
	return st
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// SetClock replaces the clock and the way the sender waits (tests: a
// controllable clock, whose sleep moves it).
func (st *Stage) SetClock(now func() time.Time, sleep func(ctx context.Context, d time.Duration) error) {
	st.now, st.sleep = now, sleep
}

// SetSetup swaps the rules and endpoints (a configuration reload).
func (st *Stage) SetSetup(s *Setup) {
	if s.Endpoints == nil {
		s.Endpoints = map[string]*Endpoint{}
	}
	st.setup.Store(s)
}

// Setup returns the rules and endpoints in effect.
func (st *Stage) Setup() *Setup { return st.setup.Load() }

// SetJobs gives the stage the runner it wakes senders with.
func (st *Stage) SetJobs(r *jobs.Runner) { st.jobs.Store(r) }

// Name implements jobs.Consumer. Never rename it: it names the cursor.
func (st *Stage) Name() string { return "rules" }

// priorities orders a rule's priority: the queue sends the most urgent
// first.
var priorities = map[string]int{"low": 0, "normal": 1, "high": 2, "critical": 3}

// Consume implements jobs.Consumer: every event a rule matches becomes one
// message per channel, recorded in the dispatcher's transaction (so an
// event dispatched twice makes no second message), and the endpoints'
// senders are woken.
func (st *Stage) Consume(ctx context.Context, tx *sql.Tx, evs []store.Event) error {
	su := st.setup.Load()
	if su.Rules == nil || len(su.Rules.rules) == 0 {
		return nil
	}
	wanted := map[order.EventType]bool{}
	for _, r := range su.Rules.rules {
		for _, on := range r.On {
			wanted[on] = true
		}
	}
	var ids []int64
	for _, e := range evs {
		if wanted[e.Type] {
			ids = append(ids, e.OrderID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	raw, err := st.store.CanonicalOrders(ctx, tx, ids)
	if err != nil {
		return err
	}
	orders := make(map[int64]*order.Order, len(raw))
	now := st.now()
	var prefs map[string]store.Prefs // read once, when a chain needs them
	var queue []store.NewDelivery
	var steps []store.TimelineStep
	for _, e := range evs {
		if !wanted[e.Type] {
			continue
		}
		o := orders[e.OrderID]
		if o == nil {
			o = new(order.Order)
			// jsonv2 decodes the stored order in half the time of
			// encoding/json, the same fields and the same values.
			if err := jsonv2.Unmarshal(raw[e.OrderID], o); err != nil {
				steps = append(steps, notMatched(e, now, "the stored order cannot be read: "+err.Error()))
				continue
			}
			orders[e.OrderID] = o
		}
		ev := Event{Type: e.Type, From: e.StatusFrom, To: e.StatusTo, Version: e.Version, At: e.At}
		matches, err := su.Rules.Match(*o, ev)
		if err != nil {
			// One order whose data a condition or template cannot take must
			// not hold back every event after it: it is put on the order's
			// timeline, where a person sees it, and counted.
			st.metrics.errors.Inc()
			steps = append(steps, notMatched(e, now, err.Error()))
			continue
		}
		for _, m := range matches {
			type start struct {
				cm       ChannelMessage
				fallback []string
			}
			var starts []start
			if m.Rule.Chain() {
				if prefs == nil {
					if prefs, err = st.store.AllPrefs(ctx, tx); err != nil {
						return err
					}
				}
				// A chain starts at its first channel (the first each
				// person allows); the others wait for it to fail or go
				// unread.
				for _, g := range chainStarts(m, prefs, e.Type) {
					starts = append(starts, start{g.ChannelMessage, m.Rule.Channels[g.index+1:]})
				}
			} else {
				for _, cm := range m.Messages {
					starts = append(starts, start{cm, nil})
				}
			}
			for _, sm := range starts {
				cm, fallback := sm.cm, sm.fallback
				due := now
				if g := m.Rule.digest; g != nil {
					due = NextClock(g, now, su.Rules.loc)
				}
				// People with their own quiet hours may be held while
				// the others are sent to, or the other way round: each
				// group is a delivery of its own.
				groups := su.Rules.splitQuiet(m.Rule, cm.Message.To, due)
				for _, g := range groups {
					msg := cm.Message
					if len(groups) > 1 {
						msg.To = g.to
						msg.Key += "~" + recipientsKey(g.to)
					}
					body, err := json.Marshal(msg)
					if err != nil {
						return fmt.Errorf("notify: encoding the message of rule %s: %w", m.Rule.Name, err)
					}
					d := store.NewDelivery{System: cm.Channel, Rule: m.Rule.Name, Key: msg.Key, Kind: store.KindMessage,
						OrderID: e.OrderID, Source: o.Source, OrderNo: o.OrderNo, Event: string(e.Type), Total: o.Total.String(),
						Status: string(o.Status), Lang: m.Rule.Language, Priority: priorities[m.Rule.Priority],
						State: store.DeliveryQueued, Message: body, DueAt: now, Fallback: fallback, EscalateAfter: m.Rule.escalate}
					switch {
					case m.Rule.digest != nil:
						d.State, d.Wait, d.DueAt = store.DeliveryCollecting, "digest", due
						if g.quiet {
							d.DueAt = g.until
						}
					case g.quiet:
						// Held until the quiet hours end, then sent with
						// the others held as one digest.
						d.State, d.Wait, d.DueAt = store.DeliveryCollecting, "quiet", g.until
					}
					queue = append(queue, d)
				}
			}
		}
	}
	if len(steps) > 0 {
		if err := st.store.AppendTimeline(ctx, tx, steps); err != nil {
			return err
		}
	}
	if len(queue) == 0 {
		return nil
	}
	if _, err := st.store.QueueDeliveries(ctx, tx, queue, now); err != nil {
		return err
	}
	r := st.jobs.Load()
	if r == nil {
		return nil // the clock wakes the senders
	}
	woken := map[string]bool{}
	for _, d := range queue {
		if d.State == store.DeliveryQueued && !woken[d.System] {
			woken[d.System] = true
			if err := r.InsertTx(ctx, tx, SendArgs{System: d.System}, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

func notMatched(e store.Event, at time.Time, why string) store.TimelineStep {
	return store.TimelineStep{OrderID: e.OrderID, At: at, Stage: "not_notified",
		Detail: map[string]any{"event": e.Type, "version": e.Version, "error": why}}
}

// AddWorkers implements jobs.Stage.
func (st *Stage) AddWorkers(w *river.Workers) error {
	if err := river.AddWorkerSafely(w, &sendWorker{st: st}); err != nil {
		return err
	}
	return river.AddWorkerSafely(w, &clockWorker{st: st})
}

// PeriodicJobs implements jobs.Stage: the clock looks every second for
// digests and retries that came due.
func (st *Stage) PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(time.Second), func() (river.JobArgs, *river.InsertOpts) {
		return clockArgs{}, nil
	}, &river.PeriodicJobOpts{RunOnStart: true})}
}

// StartJobs implements jobs.Starter: messages left waiting by the last run
// go out without waiting for the periodic clock.
func (st *Stage) StartJobs() []river.JobArgs { return []river.JobArgs{clockArgs{}} }

type clockWorker struct {
	river.WorkerDefaults[clockArgs]
	st *Stage
}

func (w *clockWorker) Work(ctx context.Context, _ *river.Job[clockArgs]) error {
	r := w.st.jobs.Load()
	if r == nil {
		return nil
	}
	if err := w.st.CheckReads(ctx); err != nil {
		return err
	}
	due, err := w.st.DueEndpoints(ctx)
	if err != nil {
		return err
	}
	for _, sys := range due {
		if err := r.Insert(ctx, SendArgs{System: sys}, nil); err != nil {
			return err
		}
	}
	return nil
}

// DueEndpoints lists the configured endpoints with work a sender could do
// now (a paused endpoint's sender finds it paused and waits).
func (st *Stage) DueEndpoints(ctx context.Context) ([]string, error) {
	now := st.now()
	var out []string
	for sys := range st.setup.Load().Endpoints {
		ok, err := st.store.HasDue(ctx, sys, now, now.Add(-staleAfter))
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, sys)
		}
	}
	slices.Sort(out)
	return out, nil
}

type sendWorker struct {
	river.WorkerDefaults[SendArgs]
	st *Stage
}

// inlineWait is the longest a sender waits for its endpoint's next slot
// within its run; a longer wait snoozes the job, which frees its worker.
const inlineWait = 3 * time.Second

func (w *sendWorker) Work(ctx context.Context, job *river.Job[SendArgs]) error {
	ep, ok := w.st.setup.Load().Endpoints[job.Args.System]
	if !ok {
		return nil // removed from the configuration; its queue waits
	}
	wait, err := w.st.SendFor(ctx, ep, jobs.Budget)
	if err != nil {
		return err
	}
	if wait > 0 {
		return river.JobSnooze(wait)
	}
	return nil
}

// NextRetry: a sender job fails only when the store does; try again soon.
func (w *sendWorker) NextRetry(job *river.Job[SendArgs]) time.Time {
	return time.Now().Add(min(time.Second<<min(job.Attempt-1, 5), 30*time.Second))
}

// Resend puts a failed delivery back in its endpoint's queue and wakes its
// sender.
func (st *Stage) Resend(ctx context.Context, id int64) error {
	d, _, err := st.store.GetDelivery(ctx, id)
	if err != nil {
		return err
	}
	now := st.now()
	tx, err := st.store.DB().BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delivery %d: %w", id, err)
	}
	defer tx.Rollback()
	ok, err := st.store.Resend(ctx, tx, id, now)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("delivery %d is %s: %w", id, d.State, ErrNotFailed)
	}
	if d.OrderID != 0 {
		if err := st.store.AppendTimeline(ctx, tx, []store.TimelineStep{{OrderID: d.OrderID, At: now, Stage: "resend",
			Detail: map[string]any{"rule": d.Rule, "system": d.System, "delivery": id}}}); err != nil {
			return err
		}
	}
	if r := st.jobs.Load(); r != nil {
		if err := r.InsertTx(ctx, tx, SendArgs{System: d.System}, nil); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("delivery %d: %w", id, err)
	}
	return nil
}

// ErrNotFailed is returned by Resend for a delivery that has not failed.
var ErrNotFailed = fmt.Errorf("only a failed delivery can be resent")

type metrics struct {
	sent, merged, throttled, failed, retried *prometheus.CounterVec
	errors                                   prometheus.Counter
	callTime                                 *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	counter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{"system"})
	}
	m := &metrics{
		sent:      counter("orderhub_notify_sent_total", "Messages the provider took, by system (a digest counts once)."),
		merged:    counter("orderhub_notify_merged_total", "Messages carried by a digest instead of sent alone, by system."),
		throttled: counter("orderhub_notify_throttled_total", "Calls the provider answered with a throttling code, by system; the message waits and is sent again."),
		failed:    counter("orderhub_notify_failed_total", "Messages that failed for good (a permanent refusal or attempts spent), by system."),
		retried:   counter("orderhub_notify_retried_total", "Calls that failed in transport and are tried again, by system."),
		errors: prometheus.NewCounter(prometheus.CounterOpts{Name: "orderhub_notify_rule_errors_total",
			Help: "Events a rule's condition or template could not take (on the order's timeline as not_notified)."}),
		callTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "orderhub_notify_call_seconds", Help: "Duration of one call to a channel endpoint.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"system"}),
	}
	if reg != nil {
		reg.MustRegister(m.sent, m.merged, m.throttled, m.failed, m.retried, m.errors, m.callTime)
	}
	return m
}

// StartsFromNow implements jobs.FromNow: enabling notifications on a store
// that already holds orders tells of what happens next, not of them all.
func (st *Stage) StartsFromNow() bool { return true }
