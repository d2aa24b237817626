// Package flow writes the documents of a source into a target system
// (集成方案): each order event of the source says "the target must reflect
// this order at version N" (a flow item), and a writer per flow drains the
// items in batches: map, write, record the target's bill id or its refusal.
//
// Effects happen once. The bill number comes from the source key, a
// "number exists" answer is confirmed with a lookup and counted as written,
// and after an unknown outcome (a timeout, a reset after the request was
// sent, a 5xx) the writer asks the target whether the bill exists before it
// writes again. A refusal for a business reason becomes an exception that
// waits for a person to fix the data and retry.
package flow

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

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"orderhub/internal/connector"
	"orderhub/internal/jobs"
	"orderhub/internal/order"
	"orderhub/internal/store"
)

// Mapper turns one source document into the bill for the target.
type Mapper interface {
	// Map returns the bill for a document; ok is false when the flow's
	// condition leaves the document out. A mapping error names the field,
	// the expression and the value that failed.
	Map(raw []byte, o *order.Order) (bill connector.Bill, ok bool, err error)
}

// OrderUser is a Mapper that can say it never reads the canonical order;
// the stored order is then not decoded for it.
type OrderUser interface {
	UsesOrder() bool
}

// Flow is one configured flow, ready to run.
type Flow struct {
	Name   string
	Source string
	// Target is the target system's name.
	Target string
	API    connector.WriteAPI
	Writer connector.Writer
	Mapper Mapper
	// Batch is how many bills one call carries (≤ API.MaxBatch).
	Batch int
	// Retry: from Initial doubling to Max, at most Attempts tries.
	Initial, Max time.Duration
	Attempts     int
}

func (f *Flow) batch() int {
	b := f.Batch
	if b <= 0 {
		b = f.API.Batch
	}
	if b <= 0 {
		b = 1
	}
	if f.API.MaxBatch > 0 && b > f.API.MaxBatch {
		b = f.API.MaxBatch
	}
	return b
}

// backoff is the wait before try attempt+1.
func (f *Flow) backoff(attempt int) time.Duration {
	initial, longest := f.Initial, f.Max
	if initial <= 0 {
		initial = time.Second
	}
	if longest <= 0 {
		longest = 10 * time.Minute
	}
	d := initial << min(max(attempt-1, 0), 30)
	if d <= 0 || d > longest {
		d = longest
	}
	return d
}

func (f *Flow) attempts() int {
	if f.Attempts <= 0 {
		return 20
	}
	return f.Attempts
}

// WriteArgs drains one flow's due items. Unique per flow while waiting or
// running: one writer per flow, on one node or several.
type WriteArgs struct {
	Flow string `json:"flow"`
}

// Kind implements river.JobArgs.
func (WriteArgs) Kind() string { return "orderhub.flow_write" }

// InsertOpts implements river.JobArgsWithInsertOpts.
func (WriteArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 10, UniqueOpts: jobs.Unique}
}

type clockArgs struct{}

func (clockArgs) Kind() string { return "orderhub.flow_clock" }
func (clockArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 1, UniqueOpts: jobs.Unique}
}

// Stage runs every flow: the event consumer that records what each flow
// must write, the writers, and a clock that wakes a writer when a retry
// comes due. Flows can be swapped while running (a configuration reload).
type Stage struct {
	store   *store.Store
	log     *slog.Logger
	now     func() time.Time
	flows   atomic.Pointer[map[string]*Flow]
	jobs    atomic.Pointer[jobs.Runner]
	metrics *metrics
	// linger is how long a writer that has run out of items waits for more
	// (jobs.Linger); wake holds a signal per flow for the writer waiting.
	linger, idlePoll time.Duration
	wakeMu           sync.Mutex
	wake             map[string]chan struct{}
}

// NewStage returns the stage for flows; reg may be nil.
func NewStage(s *store.Store, log *slog.Logger, reg prometheus.Registerer, flows []*Flow) *Stage {
	if log == nil {
		log = slog.Default()
	}
	st := &Stage{store: s, log: log, now: time.Now, metrics: newMetrics(reg), linger: jobs.Linger, idlePoll: jobs.IdlePoll, wake: map[string]chan struct{}{}}
	st.SetFlows(flows)
	return st
}

// SetClock replaces the clock (tests).
func (st *Stage) SetClock(now func() time.Time) { st.now = now }

// SetFlows swaps the configured flows.
func (st *Stage) SetFlows(flows []*Flow) {
	m := make(map[string]*Flow, len(flows))
	for _, f := range flows {
		m[f.Name] = f
	}
	st.flows.Store(&m)
}

// Flows returns the configured flows.
func (st *Stage) Flows() map[string]*Flow { return *st.flows.Load() }

// SetJobs gives the stage the runner it queues writers with.
func (st *Stage) SetJobs(r *jobs.Runner) { st.jobs.Store(r) }

// Name implements jobs.Consumer.
func (st *Stage) Name() string { return "flows" }

// Consume implements jobs.Consumer: every event of a flow's source raises
// the flow's item for that order to the event's version, and wakes the
// flow's writer, in the dispatcher's transaction.
func (st *Stage) Consume(ctx context.Context, tx *sql.Tx, evs []store.Event) error {
	bySource := map[string][]*Flow{}
	for _, f := range st.Flows() {
		bySource[f.Source] = append(bySource[f.Source], f)
	}
	if len(bySource) == 0 {
		return nil
	}
	now := st.now()
	woken := map[string]bool{}
	// One item per order and flow however many events the batch has: the
	// last version wins.
	type key struct {
		flow  string
		order int64
	}
	want := map[key]int64{}
	var order []key
	for _, e := range evs {
		for _, f := range bySource[e.Source] {
			k := key{f.Name, e.OrderID}
			if _, seen := want[k]; !seen {
				order = append(order, k)
			}
			want[k] = max(want[k], e.Version)
			woken[f.Name] = true
		}
	}
	wants := make([]store.FlowWant, len(order))
	for i, k := range order {
		wants[i] = store.FlowWant{Flow: k.flow, OrderID: k.order, Version: want[k]}
	}
	if err := st.store.WantFlows(ctx, tx, wants, now); err != nil {
		return err
	}
	r := st.jobs.Load()
	if r == nil {
		return nil // the clock wakes the writers
	}
	for name := range woken {
		if err := r.InsertTx(ctx, tx, WriteArgs{Flow: name}, nil); err != nil {
			return err
		}
	}
	return nil
}

// AfterCommit implements jobs.AfterCommitter: the items a batch of events
// queued are committed, so a writer of this process waiting for work takes
// them now. A writer on another node finds them at its next look.
func (st *Stage) AfterCommit() {
	for name := range st.Flows() {
		st.wakeWriter(name)
	}
}

// signal is the wake signal of a flow's writer.
func (st *Stage) signal(flow string) chan struct{} {
	st.wakeMu.Lock()
	defer st.wakeMu.Unlock()
	ch, ok := st.wake[flow]
	if !ok {
		ch = make(chan struct{}, 1)
		st.wake[flow] = ch
	}
	return ch
}

func (st *Stage) wakeWriter(flow string) {
	select {
	case st.signal(flow) <- struct{}{}:
	default: // already woken
	}
}

// waitForItems waits up to d for the flow's writer to be woken; false when
// the run is to end (the runner stops or the job is cancelled).
func (st *Stage) waitForItems(ctx context.Context, flow string, d time.Duration) bool {
	var stopping <-chan struct{}
	if r := st.jobs.Load(); r != nil {
		stopping = r.Stopping()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-stopping:
		return false
	case <-st.signal(flow):
	case <-t.C:
	}
	return true
}

// AddWorkers implements jobs.Stage.
func (st *Stage) AddWorkers(w *river.Workers) error {
	if err := river.AddWorkerSafely(w, &writeWorker{st: st}); err != nil {
		return err
	}
	return river.AddWorkerSafely(w, &clockWorker{st: st})
}

// PeriodicJobs implements jobs.Stage.
func (st *Stage) PeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(time.Second), func() (river.JobArgs, *river.InsertOpts) {
		return clockArgs{}, nil
	}, &river.PeriodicJobOpts{RunOnStart: true})}
}

// StartJobs implements jobs.Starter: every flow's writer starts with the
// runner, to write the items left due by the last run and to be waiting
// (for jobs.Linger) when the first pulls of this run queue items; and the
// clock runs at once.
func (st *Stage) StartJobs(context.Context) ([]river.JobArgs, error) {
	out := []river.JobArgs{clockArgs{}}
	names := make([]string, 0, len(st.Flows()))
	for name := range st.Flows() {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		out = append(out, WriteArgs{Flow: name})
	}
	return out, nil
}

type clockWorker struct {
	river.WorkerDefaults[clockArgs]
	st *Stage
}

func (w *clockWorker) Work(ctx context.Context, _ *river.Job[clockArgs]) error {
	r := w.st.jobs.Load()
	if r == nil {
		return nil
	}
	now := w.st.now()
	for name := range w.st.Flows() {
		at, err := w.st.store.NextDue(ctx, name)
		if err != nil {
			return err
		}
		if !at.IsZero() && !at.After(now) {
			if err := r.Insert(ctx, WriteArgs{Flow: name}, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

type writeWorker struct {
	river.WorkerDefaults[WriteArgs]
	st *Stage
}

func (w *writeWorker) Work(ctx context.Context, job *river.Job[WriteArgs]) error {
	f, ok := w.st.Flows()[job.Args.Flow]
	if !ok {
		return nil // removed from the configuration
	}
	// Drain, then wait for more for a while (woken by the flows consumer of
	// this process, or looking every jobs.IdlePoll for items queued by
	// another node): the job is unique while it runs, so what is queued
	// meanwhile is this run's to write.
	began := time.Now()
	idleSince := began
	for {
		n, more, err := w.st.DrainFor(ctx, f, max(jobs.Budget-time.Since(began), time.Nanosecond))
		if err != nil && ctx.Err() != nil {
			return nil // cancelled: the items wait in their table for the next run
		}
		if err != nil {
			return err
		}
		if more {
			// The budget is spent with items still due: go on in a fresh run
			// (a snooze keeps the job unique and spends no attempt).
			return river.JobSnooze(time.Millisecond)
		}
		if n > 0 {
			idleSince = time.Now()
		}
		if time.Since(idleSince) >= w.st.linger || time.Since(began) >= jobs.Budget {
			return nil
		}
		if !w.st.waitForItems(ctx, f.Name, w.st.idlePoll) {
			return nil
		}
		if f, ok = w.st.Flows()[job.Args.Flow]; !ok {
			return nil // removed by a reload meanwhile
		}
	}
}

// NextRetry: a writer job fails only when the store does; try again soon.
func (w *writeWorker) NextRetry(job *river.Job[WriteArgs]) time.Time {
	return time.Now().Add(min(time.Second<<min(job.Attempt-1, 5), 30*time.Second))
}

// Drain writes a flow's due items until none is due; it returns how many
// items it settled (written, refused, left out or put off).
func (st *Stage) Drain(ctx context.Context, f *Flow) (int, error) {
	n, _, err := st.DrainFor(ctx, f, 0)
	return n, err
}

// stepItems is how many due items one step takes: for an API of one bill a
// call, several calls share the step's two transactions.
const stepItems = 256

// DrainFor is Drain that stops between steps once budget (0: none) is
// spent; more reports that items were still due then.
func (st *Stage) DrainFor(ctx context.Context, f *Flow, budget time.Duration) (n int, more bool, err error) {
	began := time.Now()
	b := f.batch()
	limit := (stepItems + b - 1) / b * b // whole calls
	for {
		if budget > 0 && time.Since(began) > budget {
			return n, true, nil
		}
		due, err := st.store.DueFlowItems(ctx, f.Name, st.now(), limit)
		if err != nil {
			return n, false, err
		}
		if len(due) == 0 {
			return n, false, nil
		}
		if err := st.step(ctx, f, due); err != nil {
			return n, false, err
		}
		n += len(due)
	}
}

// work is one item through one step.
type work struct {
	item  store.DueItem
	bill  connector.Bill
	body  []byte
	up    store.FlowUpdate
	steps []store.TimelineStep
	send  bool
}

func (w *work) settle(state store.FlowState, at time.Time) {
	w.up.State, w.up.At = state, at
}

func (w *work) step(at time.Time, stage string, detail map[string]any) {
	w.steps = append(w.steps, store.TimelineStep{OrderID: w.item.OrderID, At: at, Stage: stage, Detail: detail})
}

// step takes one batch of due items through verify → map → write and
// records every outcome in one transaction.
func (st *Stage) step(ctx context.Context, f *Flow, due []store.DueItem) error {
	now := st.now()
	ws := make([]*work, len(due))
	for i, d := range due {
		w := &work{item: d}
		w.up = store.FlowUpdate{ID: d.ID, Version: d.Version, Attempts: d.Attempts, BillNo: d.BillNo, TargetID: d.TargetID, At: now}
		ws[i] = w
		st.prepare(ctx, f, w, now)
	}
	var send []*work
	for _, w := range ws {
		if w.send {
			send = append(send, w)
		}
	}
	if len(send) > 0 {
		// Write ahead: the items about to be sent are marked in flight
		// first, so that after a crash between the call and its record the
		// next run asks the target before writing again, even a target that
		// would take a second bill with the same number.
		if err := st.markInFlight(ctx, f, send, now); err != nil {
			return err
		}
		st.write(ctx, f, send)
	}
	// The calls are made: their outcomes are recorded even if the run is
	// being cancelled (a shutdown), or the next run would not know.
	return st.record(context.WithoutCancel(ctx), f, ws)
}

func (st *Stage) markInFlight(ctx context.Context, f *Flow, send []*work, now time.Time) error {
	ups := make([]store.FlowUpdate, len(send))
	for i, w := range send {
		ups[i] = store.FlowUpdate{ID: w.item.ID, Version: w.item.Version, State: store.FlowVerify, Attempts: w.item.Attempts,
			NextAt: now, BillNo: w.bill.No, TargetID: w.item.TargetID, Error: w.item.Error, At: now}
	}
	tx, err := st.store.DB().BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("flow %s: marking bills in flight: %w", f.Name, err)
	}
	defer tx.Rollback()
	if err := st.store.UpdateFlowItems(ctx, tx, ups); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("flow %s: marking bills in flight: %w", f.Name, err)
	}
	return nil
}

// prepare verifies an unknown outcome and maps the document; it leaves
// w.send set when the bill must be written.
func (st *Stage) prepare(ctx context.Context, f *Flow, w *work, now time.Time) {
	var o order.Order
	needOrder := true
	if ou, ok := f.Mapper.(OrderUser); ok {
		needOrder = ou.UsesOrder()
	}
	if err := func() error {
		if !needOrder {
			return nil // the mapping reads the source document only
		}
		return json.Unmarshal(w.item.Canonical, &o)
	}(); err != nil {
		st.exception(f, w, now, &connector.CallError{Class: connector.Permanent, Code: "stored_order", Message: err.Error(),
			Hint: "订单数据无法读取：请联系管理员检查存储"}, nil)
		return
	}
	bill, ok, err := f.Mapper.Map(w.item.Raw, &o)
	if err != nil {
		st.exception(f, w, now, &connector.CallError{Class: connector.Permanent, Code: "mapping", Message: err.Error(),
			Hint: "字段映射失败：按提示修正映射文件或查找表（lookup），然后重试"}, nil)
		return
	}
	if !ok {
		w.settle(store.FlowFiltered, now)
		w.step(now, "filtered", map[string]any{"flow": f.Name, "version": w.item.Version, "reason": "the flow's when: condition is false"})
		return
	}
	w.bill = bill
	w.up.BillNo = bill.No
	w.body, err = json.Marshal(bill.Body)
	if err != nil {
		st.exception(f, w, now, &connector.CallError{Class: connector.Permanent, Code: "mapping", Message: "the mapped request cannot be encoded: " + err.Error(),
			Hint: "映射结果无法编码为 JSON：检查映射文件"}, nil)
		return
	}
	// Verify before writing again: the last write's outcome is unknown.
	if w.item.State == store.FlowVerify || (w.item.TargetID == "" && w.item.Attempts > 0) {
		id, found, err := f.Writer.Find(ctx, f.API.Name, bill.No)
		if err != nil {
			st.putOff(f, w, now, err, "verify")
			return
		}
		if found {
			w.up.TargetID = id
			w.up.Request = string(w.body)
			w.settle(store.FlowDone, now)
			w.step(now, "written", map[string]any{"flow": f.Name, "target": f.Target, "api": f.API.Name, "bill_no": bill.No, "bill_id": id,
				"version": w.item.Version, "verified": true})
			st.metrics.written.WithLabelValues(f.Name).Inc()
			return
		}
	}
	if w.item.TargetID != "" {
		// Written before, at an older version.
		if w.item.Request == string(w.body) {
			w.settle(store.FlowDone, now) // the new version maps to the same bill
			w.step(now, "unchanged", map[string]any{"flow": f.Name, "bill_no": bill.No, "version": w.item.Version})
			return
		}
		if !f.API.CanUpdate {
			st.exception(f, w, now, &connector.CallError{Class: connector.Permanent, Code: "cannot_update",
				Message: fmt.Sprintf("the source document changed after bill %s was written, and %s bills cannot be updated", bill.No, f.API.Name),
				Hint:    "源单据在写入后发生了变化，目标系统不支持修改该单据：请在目标系统中手工调整，然后跳过（skip）"}, w.body)
			return
		}
		w.bill.ID = w.item.TargetID
	}
	w.step(now, "mapped", map[string]any{"flow": f.Name, "bill_no": bill.No, "version": w.item.Version})
	w.send = true
}

// write sends bills in calls of the flow's batch size.
func (st *Stage) write(ctx context.Context, f *Flow, send []*work) {
	size := f.batch()
	for start := 0; start < len(send); start += size {
		chunk := send[start:min(start+size, len(send))]
		bills := make([]connector.Bill, len(chunk))
		for i, w := range chunk {
			bills[i] = w.bill
		}
		begun := st.now()
		res, err := f.Writer.Write(ctx, f.API.Name, bills)
		st.metrics.callTime.WithLabelValues(f.Name).Observe(time.Since(begun).Seconds())
		now := st.now()
		if err == nil && len(res) != len(chunk) {
			err = &connector.CallError{Class: connector.Unknown, System: f.Target, Op: f.API.Name,
				Message: fmt.Sprintf("the target answered %d results for %d bills", len(res), len(chunk))}
		}
		if err != nil {
			for _, w := range chunk {
				st.putOff(f, w, now, err, "write")
			}
			continue
		}
		for i, w := range chunk {
			st.settleWrite(ctx, f, w, res[i], now)
		}
	}
}

func (st *Stage) settleWrite(ctx context.Context, f *Flow, w *work, r connector.WriteResult, now time.Time) {
	w.up.Request = string(w.body)
	switch {
	case r.Err == nil && !r.Duplicate:
		w.up.TargetID = r.ID
		w.settle(store.FlowDone, now)
		w.step(now, "written", map[string]any{"flow": f.Name, "target": f.Target, "api": f.API.Name, "bill_no": w.bill.No, "bill_id": r.ID,
			"version": w.item.Version, "update": w.bill.ID != ""})
		st.metrics.written.WithLabelValues(f.Name).Inc()
	case r.Duplicate:
		// The number exists: a write whose answer was lost, or a bill a
		// person made. Confirm it and count it written.
		id, found, err := f.Writer.Find(ctx, f.API.Name, w.bill.No)
		switch {
		case err != nil:
			st.putOff(f, w, now, err, "verify")
		case found:
			w.up.TargetID = id
			w.settle(store.FlowDone, now)
			w.step(now, "written", map[string]any{"flow": f.Name, "target": f.Target, "api": f.API.Name, "bill_no": w.bill.No, "bill_id": id,
				"version": w.item.Version, "existed": true})
			st.metrics.written.WithLabelValues(f.Name).Inc()
		default:
			st.exception(f, w, now, &connector.CallError{Class: connector.Permanent, System: f.Target, Op: f.API.Name, Code: "duplicate_not_found",
				Message: fmt.Sprintf("the target says bill %s exists but cannot find it", w.bill.No),
				Hint:    "目标系统称单据编号已存在，但查询不到该单据：请在目标系统中检查该编号，然后重试或跳过"}, w.body)
		}
	case r.Err.Class == connector.Permanent:
		st.exception(f, w, now, r.Err, w.body)
	default:
		st.putOff(f, w, now, r.Err, "write")
	}
}

// putOff schedules another try after a failed call, by its class: after a
// throttle as long as the provider asked, without spending an attempt;
// after an unknown outcome in the verify state; an exception once the
// attempts are spent.
func (st *Stage) putOff(f *Flow, w *work, now time.Time, err error, during string) {
	ce, ok := connector.AsCallError(err)
	if !ok {
		ce = &connector.CallError{Class: connector.Unknown, System: f.Target, Op: f.API.Name, Message: err.Error()}
	}
	state := store.FlowPending
	if ce.Class == connector.Unknown || w.item.State == store.FlowVerify {
		state = store.FlowVerify
	}
	var wait time.Duration
	if ce.Class == connector.SlowDown {
		wait = ce.RetryAfter
		if wait <= 0 {
			wait = f.backoff(1)
		}
		st.metrics.throttled.WithLabelValues(f.Name).Inc()
	} else {
		w.up.Attempts++
		if w.up.Attempts >= f.attempts() {
			st.exception(f, w, now, ce, w.body)
			return
		}
		wait = f.backoff(w.up.Attempts)
		st.metrics.retried.WithLabelValues(f.Name, string(ce.Class)).Inc()
	}
	w.up.NextAt = now.Add(wait)
	w.up.Error = flowError(ce)
	w.settle(state, now)
	w.step(now, "retried", map[string]any{"flow": f.Name, "bill_no": w.bill.No, "during": during, "class": ce.Class, "code": ce.Code,
		"message": ce.Message, "attempt": w.up.Attempts, "next_at": w.up.NextAt.Format(time.RFC3339)})
}

func (st *Stage) exception(f *Flow, w *work, now time.Time, ce *connector.CallError, request []byte) {
	w.up.Error = flowError(ce)
	if request != nil {
		w.up.Request = string(request)
	}
	w.settle(store.FlowException, now)
	w.step(now, "refused", map[string]any{"flow": f.Name, "target": f.Target, "bill_no": w.up.BillNo, "version": w.item.Version,
		"class": ce.Class, "code": ce.Code, "message": ce.Message, "field": ce.Field, "hint": ce.Hint})
	st.metrics.refused.WithLabelValues(f.Name).Inc()
}

func flowError(ce *connector.CallError) store.FlowError {
	msg := ce.Message
	if msg == "" && ce.Err != nil {
		msg = ce.Err.Error()
	}
	return store.FlowError{Class: string(ce.Class), Code: ce.Code, Message: msg, Field: ce.Field, Hint: ce.Hint}
}

// record writes every outcome of a step in one transaction.
func (st *Stage) record(ctx context.Context, f *Flow, ws []*work) error {
	ups := make([]store.FlowUpdate, 0, len(ws))
	var steps []store.TimelineStep
	for _, w := range ws {
		if w.up.State == "" {
			continue
		}
		ups = append(ups, w.up)
		steps = append(steps, w.steps...)
	}
	tx, err := st.store.DB().BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("flow %s: recording outcomes: %w", f.Name, err)
	}
	defer tx.Rollback()
	if err := st.store.UpdateFlowItems(ctx, tx, ups); err != nil {
		return err
	}
	if err := st.store.AppendTimeline(ctx, tx, steps); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("flow %s: recording outcomes: %w", f.Name, err)
	}
	return nil
}

// Retry puts an exception back in its flow's queue and wakes the writer.
func (st *Stage) Retry(ctx context.Context, id int64) error {
	return st.resolve(ctx, id, store.FlowPending, "retry requested")
}

// Skip leaves an exception unwritten for good (until its order changes).
func (st *Stage) Skip(ctx context.Context, id int64) error {
	return st.resolve(ctx, id, store.FlowSkipped, "skipped by a person")
}

// ErrNotException is returned by Retry and Skip for an item that is not
// waiting as an exception.
var ErrNotException = fmt.Errorf("the item is not an exception")

func (st *Stage) resolve(ctx context.Context, id int64, to store.FlowState, note string) error {
	it, err := st.store.GetFlowItem(ctx, id)
	if err != nil {
		return err
	}
	now := st.now()
	tx, err := st.store.DB().BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("exception %d: %w", id, err)
	}
	defer tx.Rollback()
	ok, err := st.store.ResolveException(ctx, tx, id, to, now)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("exception %d is %s: %w", id, it.State, ErrNotException)
	}
	stage := "retried"
	if to == store.FlowSkipped {
		stage = "skipped"
	}
	if err := st.store.AppendTimeline(ctx, tx, []store.TimelineStep{{OrderID: it.OrderID, At: now, Stage: stage,
		Detail: map[string]any{"flow": it.Flow, "bill_no": it.BillNo, "note": note, "exception": id}}}); err != nil {
		return err
	}
	if r := st.jobs.Load(); r != nil && to == store.FlowPending {
		if err := r.InsertTx(ctx, tx, WriteArgs{Flow: it.Flow}, nil); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("exception %d: %w", id, err)
	}
	if to == store.FlowPending {
		st.wakeWriter(it.Flow)
	}
	return nil
}

type metrics struct {
	written, refused, throttled *prometheus.CounterVec
	retried                     *prometheus.CounterVec
	callTime                    *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		written: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orderhub_flow_items_written_total", Help: "Bills written (or confirmed existing) by each flow.",
		}, []string{"flow"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orderhub_flow_items_refused_total", Help: "Items that became exceptions, by flow.",
		}, []string{"flow"}),
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orderhub_flow_items_throttled_total", Help: "Items put off because the target throttled, by flow.",
		}, []string{"flow"}),
		retried: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orderhub_flow_items_retried_total", Help: "Items put off after a failed call, by flow and class.",
		}, []string{"flow", "class"}),
		callTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "orderhub_flow_call_seconds", Help: "Duration of one write call to a target.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"flow"}),
	}
	if reg != nil {
		reg.MustRegister(m.written, m.refused, m.throttled, m.retried, m.callTime)
	}
	return m
}
