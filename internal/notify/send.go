package notify

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	jsonv2 "github.com/go-json-experiment/json"

	"orderhub/internal/connector"
	"orderhub/internal/order"
	"orderhub/internal/store"
)

const (
	// staleAfter is when a delivery left sending belongs to a sender that
	// died: well past one job's run (jobs.JobTimeout) and one call's
	// timeout, so a live sender's call is never taken for a lost one.
	staleAfter = 2 * time.Minute
	// minuteWindow and secondWindow are the spans a provider's rate is
	// counted over, each with a margin: the hub counts from when its call
	// began, the provider from when the call arrived, and the first call of
	// a window may have been slower on its way than the last.
	minuteWindow = 61 * time.Second
	secondWindow = 1200 * time.Millisecond
	// stepMax is the most messages one step claims for an endpoint without
	// a pace; unpaced calls are made side by side, up to sendConcurrency.
	stepMax         = 256
	sendConcurrency = 8
	// maxAttempts is how often a message is tried after transport
	// failures before it fails for a person to look at.
	maxAttempts = 10
	// maxPause bounds the pause after repeated transport failures.
	maxPause = 10 * time.Minute
)

// SendFor sends what waits for ep until nothing is due or budget is spent.
// It returns how long to wait before the next slot, when messages wait
// for one (0: nothing waits, or the budget ended with messages due now).
func (st *Stage) SendFor(ctx context.Context, ep *Endpoint, budget time.Duration) (time.Duration, error) {
	began := time.Now()
	for {
		if budget > 0 && time.Since(began) > budget {
			return time.Millisecond, nil // go on in a fresh run
		}
		n, wait, err := st.steps(ctx, ep, func() bool { return budget <= 0 || time.Since(began) <= budget })
		if err != nil {
			return 0, err
		}
		if n > 0 {
			continue
		}
		if wait <= 0 {
			return 0, nil
		}
		if wait > inlineWait || (budget > 0 && time.Since(began)+wait > budget) {
			return wait, nil
		}
		if err := st.sleep(ctx, wait); err != nil {
			return 0, nil // shutting down; the queue waits in its table
		}
	}
}

// Drain sends everything ep has due, waiting out its pace, until nothing
// is due. It returns how many calls it made (tests and the bench).
func (st *Stage) Drain(ctx context.Context, ep *Endpoint) (int, error) {
	total := 0
	for {
		n, wait, err := st.steps(ctx, ep, func() bool { return true })
		if err != nil {
			return total, err
		}
		total += n
		if n > 0 {
			continue
		}
		if wait <= 0 {
			return total, nil
		}
		if err := st.sleep(ctx, wait); err != nil {
			return total, err
		}
	}
}

// outgoing is one call about to be made: a message, or a digest with the
// messages it carries.
type outgoing struct {
	d       store.Delivery
	msg     connector.Message
	members []store.Delivery // a digest's
	attempt int
	res     connector.SendResult
	err     error
	took    time.Duration
}

// step claims what ep may send now, sends it and records the answers. It
// returns how many calls it made and, when none, how long until the next
// one may be.
func (st *Stage) step(ctx context.Context, ep *Endpoint) (int, time.Duration, error) {
	now := st.now()
	// The link key first: once claimed, the messages must go out.
	links, err := st.links(ctx)
	if err != nil {
		return 0, 0, err
	}
	out, wait, err := st.claim(ctx, ep, now)
	if err != nil || len(out) == 0 {
		return 0, wait, err
	}
	for _, o := range out {
		st.addLinks(links, ep, o, now)
	}
	st.send(ctx, ep, out)
	// The calls are made: their answers are recorded even if the run is
	// being cancelled (a shutdown), or the next run would send them again.
	return len(out), 0, st.record(context.WithoutCancel(ctx), ep, out)
}

// steps makes one step on a paced endpoint. On one without a pace it makes
// steps while more says so and full steps are due, each step's store work
// done while the calls of the one before it are in flight: while a step's
// calls are made, the answers of the step before are recorded and the next
// step is claimed. Every call is still recorded as begun before it is made and its
// answer after, in the same transactions as step by step. A step whose
// predecessor was throttled or failed in transport is not sent (its messages
// go back to the queue, no attempt spent), so the endpoint's pause stops its
// calls as it does step by step. It returns how many calls it made and, when
// none, how long until the next one may be.
func (st *Stage) steps(ctx context.Context, ep *Endpoint, more func() bool) (int, time.Duration, error) {
	if ep.paced() {
		return st.step(ctx, ep)
	}
	// The link key first: once claimed, the messages must go out.
	links, err := st.links(ctx)
	if err != nil {
		return 0, 0, err
	}
	claim := func() ([]*outgoing, time.Duration, error) {
		now := st.now()
		out, wait, err := st.claim(ctx, ep, now)
		for _, o := range out {
			st.addLinks(links, ep, o, now)
		}
		return out, wait, err
	}
	cur, wait, err := claim()
	if err != nil || len(cur) == 0 {
		return 0, wait, err
	}
	// Answers are recorded even if the run is being cancelled (a shutdown):
	// the calls were made.
	keep := context.WithoutCancel(ctx)
	if len(cur) < stepMax {
		// Fewer than a step may take: nothing else is due, nothing to claim
		// ahead.
		st.send(ctx, ep, cur)
		return len(cur), 0, st.record(keep, ep, cur)
	}
	calls := 0
	var prev []*outgoing
	for len(cur) > 0 {
		if prev != nil && halts(prev) {
			for _, o := range cur {
				o.err = errNotMade
			}
			if err := st.record(keep, ep, prev); err != nil {
				return calls, 0, err
			}
			return calls, 0, st.record(keep, ep, cur)
		}
		sent := make(chan struct{})
		go func(out []*outgoing) {
			defer close(sent)
			st.send(ctx, ep, out)
		}(cur)
		calls += len(cur)
		var err error
		if prev != nil {
			err = st.record(keep, ep, prev)
		}
		// A step that took fewer than it may left nothing else due: the
		// next claim waits for the answers, as step by step.
		var next []*outgoing
		if err == nil && len(cur) >= stepMax && more() && ctx.Err() == nil {
			next, _, err = claim()
		}
		<-sent
		if err != nil {
			if rerr := st.record(keep, ep, cur); rerr != nil {
				return calls, 0, errors.Join(err, rerr)
			}
			return calls, 0, err
		}
		prev, cur = cur, next
	}
	return calls, 0, st.record(keep, ep, prev)
}

// halts reports that a step's answers pause the endpoint: a throttling
// answer or a transport failure.
func halts(out []*outgoing) bool {
	for _, o := range out {
		if o.err == nil || o.err == errNotMade {
			continue
		}
		if ce, ok := connector.AsCallError(o.err); !ok || ce.Class != connector.Permanent {
			return true
		}
	}
	return false
}

// claim decides, in one transaction holding the endpoint, what goes out
// now: digests whose clock time came, then the queue, within the free
// slots of the endpoint's pace; when more wait than there are slots, the
// overflow is merged into digests. Each call is recorded as begun before
// it is made, so the pace holds across a crash.
func (st *Stage) claim(ctx context.Context, ep *Endpoint, now time.Time) ([]*outgoing, time.Duration, error) {
	tx, err := st.store.DB().BeginTx(ctx, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("notify: %s: claiming messages: %w", ep.System, err)
	}
	defer tx.Rollback()
	e, err := st.store.LockEndpoint(ctx, tx, ep.System)
	if err != nil {
		return nil, 0, err
	}
	if _, err := st.store.RequeueStale(ctx, tx, ep.System, now.Add(-staleAfter), now); err != nil {
		return nil, 0, err
	}
	if e.PausedUntil.After(now) {
		if err := st.store.MarkWaiting(ctx, tx, ep.System, "paused"); err != nil {
			return nil, 0, err
		}
		return nil, e.PausedUntil.Sub(now), tx.Commit()
	}
	free, next, err := st.freeSlots(ctx, tx, ep, now)
	if err != nil {
		return nil, 0, err
	}
	if free == 0 {
		if err := st.store.MarkWaiting(ctx, tx, ep.System, "paced"); err != nil {
			return nil, 0, err
		}
		return nil, next.Sub(now), tx.Commit()
	}
	su := st.setup.Load()
	rules := su.Rules
	if rules == nil {
		rules = &Rules{}
	}
	var out []*outgoing
	budget := digestBytes(ep.Limits)

	// Digests on the clock first: they were due before anything queued now.
	collected, err := st.store.DueCollected(ctx, tx, ep.System, now, free*maxDigestRows(budget))
	if err != nil {
		return nil, 0, err
	}
	for start := 0; start < len(collected) && free > 0; {
		end := start
		for end < len(collected) && collected[end].Rule == collected[start].Rule {
			end++
		}
		group := collected[start:end]
		start = end
		total, err := st.store.CollectedCount(ctx, tx, ep.System, group[0].Rule, now)
		if err != nil {
			return nil, 0, err
		}
		o, err := st.digest(ctx, tx, rules, ep, group, total-len(group), true, budget, now)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, o)
		free--
	}

	// Then the queue: one by one while it fits the free slots, the
	// overflow merged.
	if free > 0 {
		if !ep.paced() {
			queued, err := st.store.Queued(ctx, tx, ep.System, now, stepMax)
			if err != nil {
				return nil, 0, err
			}
			for _, d := range queued {
				out = append(out, single(d))
			}
		} else {
			waiting, err := st.store.QueuedCount(ctx, tx, ep.System, now)
			if err != nil {
				return nil, 0, err
			}
			fit := maxDigestRows(budget)
			alone := splitSlots(waiting, free, fit)
			want := alone + (free-alone)*fit
			queued, err := st.store.Queued(ctx, tx, ep.System, now, min(want, waiting))
			if err != nil {
				return nil, 0, err
			}
			read := len(queued)
			for len(queued) > 0 && alone > 0 {
				out = append(out, single(queued[0]))
				queued, alone = queued[1:], alone-1
				free--
			}
			for len(queued) > 1 && free > 0 {
				if queued[0].Kind == store.KindDigest || queued[1].Kind == store.KindDigest || toOf(queued[0]) != toOf(queued[1]) {
					// A digest put back after a throttle goes as it is; a
					// message next to one goes alone rather than in a
					// digest of one.
					out = append(out, single(queued[0]))
					queued = queued[1:]
					free--
					continue
				}
				behind := waiting - read // queued after what was read
				o, err := st.digest(ctx, tx, rules, ep, queued, behind, false, budget, now)
				if err != nil {
					return nil, 0, err
				}
				queued = queued[len(o.members):]
				out = append(out, o)
				free--
			}
			if len(queued) == 1 && free > 0 {
				out = append(out, single(queued[0]))
			}
		}
	}
	if len(out) == 0 {
		return nil, 0, tx.Commit()
	}
	starts := make([]store.AttemptStart, len(out))
	for i, o := range out {
		o.attempt = o.d.Attempts + 1
		starts[i] = store.AttemptStart{DeliveryID: o.d.ID, Attempt: o.attempt}
	}
	if err := st.store.StartAttempts(ctx, tx, ep.System, starts, now); err != nil {
		return nil, 0, err
	}
	if err := tx.Commit(); err != nil {
		return nil, 0, fmt.Errorf("notify: %s: claiming messages: %w", ep.System, err)
	}
	return out, 0, nil
}

func single(d store.Delivery) *outgoing {
	o := &outgoing{d: d}
	// Written by Consume from a connector.Message; jsonv2 reads it in a
	// third of the time of encoding/json, which every message pays.
	_ = jsonv2.Unmarshal(d.Message, &o.msg)
	return o
}

// splitSlots is how many of the free slots carry a message alone when
// waiting messages wait and a digest carries up to fit: as many as leave
// enough slots for digests of the rest. With more waiting than all the
// slots' digests can carry, every slot is a digest and the rest waits.
func splitSlots(waiting, free, fit int) int {
	if waiting <= free {
		return waiting
	}
	for alone := free - 1; alone >= 0; alone-- {
		if (waiting-alone+fit-1)/fit <= free-alone {
			return alone
		}
	}
	return 0
}

// digestBytes is how much Markdown a digest may carry on an endpoint:
// its provider's body limit less room for the request around it and the
// keyword, so that a digest is never cut.
func digestBytes(l connector.SendLimits) int {
	if l.MaxBytes <= 0 {
		return 16000
	}
	return max(l.MaxBytes*3/4-512, 1024)
}

// maxDigestRows estimates how many rows a digest of budget bytes carries
// (a row with a long order number and its link is about 160 bytes); the
// digest itself takes exactly what fits.
func maxDigestRows(budget int) int { return max((budget-400)/160, 2) }

// digest merges messages into one digest delivery, as many as fit, and
// returns it to be sent; waiting is how many more wait behind them.
func (st *Stage) digest(ctx context.Context, tx *sql.Tx, rules *Rules, ep *Endpoint, ds []store.Delivery, waiting int, clock bool,
	budget int, now time.Time) (*outgoing, error) {
	to := toOf(ds[0])
	for i, d := range ds {
		if d.Kind == store.KindDigest || (i > 0 && toOf(d) != to) {
			// A digest is never merged into another, and messages to
			// different people never share one.
			ds = ds[:i]
			break
		}
	}
	rows := make([]DigestRow, len(ds))
	prio := 0
	for i, d := range ds {
		rows[i] = DigestRow{Source: d.Source, OrderNo: d.OrderNo, Event: order.EventType(d.Event), Total: d.Total, Status: order.Status(d.Status)}
		prio = max(prio, d.Priority)
	}
	spec := DigestSpec{Lang: ds[0].Lang, Clock: clock, Rule: ds[0].Rule, Rows: rows, Waiting: waiting, System: ep.System,
		ID: math.MaxInt64, MaxBytes: budget}
	if clock {
		spec.From, spec.To = ds[0].CreatedAt, ds[len(ds)-1].DueAt
		for _, d := range ds {
			spec.From = minTime(spec.From, d.CreatedAt)
		}
	}
	_, n := rules.RenderDigest(spec) // the longest id: what fits with it fits with the real one
	members := ds[:n]
	spec.Rows, spec.Waiting = rows[:n], waiting+len(ds)-n
	if clock {
		spec.To = members[len(members)-1].DueAt
	}
	rule := ds[0].Rule
	for _, d := range members {
		if d.Rule != rule {
			rule = "*"
		}
	}
	ids := make([]int64, n)
	for i, d := range members {
		ids[i] = d.ID
	}
	wait := "paced"
	if clock {
		wait = "digest"
	}
	nd := store.NewDelivery{System: ep.System, Rule: rule, Key: "digest/" + strconv.FormatInt(members[0].ID, 10), Lang: spec.Lang,
		Priority: prio, Wait: wait}
	id, err := st.store.NewDigest(ctx, tx, nd, ids, now)
	if err != nil {
		return nil, err
	}
	spec.ID = id
	msg, _ := rules.RenderDigest(spec)
	msg.Key = nd.Key
	var first connector.Message
	if json.Unmarshal(ds[0].Message, &first) == nil {
		msg.To, msg.AtMobiles, msg.Priority = first.To, first.AtMobiles, first.Priority
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("notify: encoding digest %d: %w", id, err)
	}
	if err := st.store.SetMessage(ctx, tx, id, body); err != nil {
		return nil, err
	}
	d := store.Delivery{ID: id, System: ep.System, Rule: rule, Key: nd.Key, Kind: store.KindDigest, Lang: spec.Lang, Priority: prio,
		State: store.DeliveryQueued, Message: body, Merged: n, Wait: wait, CreatedAt: now, DueAt: now}
	return &outgoing{d: d, msg: msg, members: members}, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// freeSlots is how many calls ep may make now under its pace (MaxInt32
// without one) and, when none, when the next may be.
func (st *Stage) freeSlots(ctx context.Context, tx *sql.Tx, ep *Endpoint, now time.Time) (int, time.Time, error) {
	free, next := math.MaxInt32, time.Time{}
	for _, w := range []struct {
		limit int
		span  time.Duration
	}{{ep.Limits.PerMinute, minuteWindow}, {ep.Limits.PerSecond, secondWindow}} {
		if w.limit <= 0 {
			continue
		}
		calls, err := st.store.RecentCalls(ctx, tx, ep.System, now.Add(-w.span), w.limit)
		if err != nil {
			return 0, time.Time{}, err
		}
		f := w.limit - len(calls)
		if f <= 0 {
			// Full: the next slot frees when the oldest of the last
			// limit calls leaves the window.
			at := calls[w.limit-1].Add(w.span)
			if at.After(next) {
				next = at
			}
			f = 0
		}
		free = min(free, f)
	}
	if free == 0 && !next.After(now) {
		next = now.Add(time.Millisecond)
	}
	return free, next, nil
}

// send makes the calls: one at a time, in order, on a paced endpoint,
// stopping at a throttling answer or a transport failure (what follows
// waits with it); side by side otherwise.
func (st *Stage) send(ctx context.Context, ep *Endpoint, out []*outgoing) {
	call := func(o *outgoing) {
		began := time.Now()
		o.res, o.err = ep.Sender.Send(ctx, o.msg)
		o.took = time.Since(began)
		st.metrics.callTime.WithLabelValues(ep.System).Observe(o.took.Seconds())
	}
	if ep.paced() {
		for i, o := range out {
			call(o)
			if ce, ok := connector.AsCallError(o.err); o.err != nil && (!ok || ce.Class != connector.Permanent) {
				for _, rest := range out[i+1:] {
					rest.err = errNotMade
				}
				return
			}
		}
		return
	}
	var wg sync.WaitGroup
	work := make(chan *outgoing)
	for range min(sendConcurrency, len(out)) {
		wg.Go(func() {
			for o := range work {
				call(o)
			}
		})
	}
	for _, o := range out {
		work <- o
	}
	close(work)
	wg.Wait()
}

// errNotMade marks a call not made because an earlier one to the same
// endpoint was throttled or failed in transport.
var errNotMade = fmt.Errorf("not sent: an earlier message to the endpoint was throttled or failed")

// record writes every answer of a step in one transaction: the deliveries'
// states, their attempts, the endpoint's pause, and a step on the timeline
// of each order told (or not) of.
func (st *Stage) record(ctx context.Context, ep *Endpoint, out []*outgoing) error {
	now := st.now()
	tx, err := st.store.DB().BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("notify: %s: recording answers: %w", ep.System, err)
	}
	defer tx.Rollback()
	e, err := st.store.LockEndpoint(ctx, tx, ep.System)
	if err != nil {
		return err
	}
	before := e
	outs := make([]store.AttemptOutcome, 0, len(out))
	var steps []store.TimelineStep
	var next []store.NewDelivery // the next channel of a chain
	tell := func(o *outgoing, stage string, detail map[string]any) {
		detail["rule"], detail["system"], detail["delivery"] = o.d.Rule, ep.System, o.d.ID
		if o.d.OrderID != 0 {
			steps = append(steps, store.TimelineStep{OrderID: o.d.OrderID, At: now, Stage: stage, Detail: detail})
		}
		for _, m := range o.members {
			if m.OrderID == 0 {
				continue
			}
			md := make(map[string]any, len(detail)+1)
			for k, v := range detail {
				md[k] = v
			}
			md["rule"], md["digest"] = m.Rule, o.d.ID
			steps = append(steps, store.TimelineStep{OrderID: m.OrderID, At: now, Stage: stage, Detail: md})
		}
	}
	for _, o := range out {
		oc := store.AttemptOutcome{DeliveryID: o.d.ID, Attempt: o.attempt}
		messages := max(len(o.members), 1)
		ce, isCall := connector.AsCallError(o.err)
		switch {
		case o.err == nil:
			oc.State, oc.Outcome, oc.Code, oc.MessageID, oc.Cut = store.DeliverySent, "sent", o.res.Code, o.res.MessageID, o.res.Cut
			e.Failures = 0
			st.metrics.sent.WithLabelValues(ep.System).Inc()
			if len(o.members) > 0 {
				st.metrics.merged.WithLabelValues(ep.System).Add(float64(len(o.members)))
			}
			if len(o.members) == 0 {
				if o.d.OrderID != 0 {
					steps = append(steps, store.TimelineStep{OrderID: o.d.OrderID, At: now, Stage: "notified", Detail: notifiedStep{
						Answer: ep.answer(o.res.Code), Code: o.res.Code, Cut: o.res.Cut, Delivery: o.d.ID, Kind: o.d.Kind,
						MessageID: o.res.MessageID, Rule: o.d.Rule, System: ep.System, Waited: o.d.Wait}})
				}
				break
			}
			detail := map[string]any{"answer": ep.answer(o.res.Code), "code": o.res.Code, "kind": o.d.Kind}
			if o.res.MessageID != "" {
				detail["message_id"] = o.res.MessageID
			}
			if o.d.Wait != "" {
				detail["waited"] = o.d.Wait
			}
			if o.res.Cut {
				detail["cut"] = true
			}
			tell(o, "notified", detail)
		case o.err == errNotMade:
			oc.State, oc.Outcome, oc.SpendNoAttempt, oc.Error = store.DeliveryQueued, "not_made", true, store.DeliveryError{Message: o.err.Error()}
		case isCall && ce.Class == connector.SlowDown:
			wait := ce.RetryAfter
			if wait < time.Second {
				wait = time.Minute
			}
			if ce.PerMessage {
				// The provider throttled this message's recipients (one
				// number's daily limit): it alone waits.
				oc.HoldUntil = now.Add(wait)
			} else {
				e.PausedUntil, e.PauseReason = now.Add(wait), "throttled: "+ce.Code
			}
			oc.State, oc.Outcome, oc.SpendNoAttempt, oc.Wait = store.DeliveryQueued, "slow_down", true, "throttled"
			oc.Code, oc.Error = ce.Code, deliveryError(ce)
			st.metrics.throttled.WithLabelValues(ep.System).Inc()
		case isCall && ce.Class == connector.Permanent:
			oc.State, oc.Outcome, oc.Code, oc.Error = store.DeliveryFailed, "permanent", ce.Code, deliveryError(ce)
			st.metrics.failed.WithLabelValues(ep.System).Add(float64(messages))
			tell(o, "notify_failed", map[string]any{"code": ce.Code, "message": oc.Error.Message, "hint": ce.Hint, "kind": o.d.Kind})
			next = append(next, st.fallback(o.d, nil, ce.Code, now, &steps)...)
		default:
			if !isCall {
				ce = &connector.CallError{Class: connector.Unknown, System: ep.System, Op: "send", Message: o.err.Error()}
			}
			e.Failures++
			pause := min(time.Second<<min(e.Failures-1, 20), maxPause)
			e.PausedUntil, e.PauseReason = now.Add(pause), string(ce.Class)+": "+firstLine(ce.Error())
			oc.Code, oc.Error, oc.Outcome = ce.Code, deliveryError(ce), string(ce.Class)
			if o.attempt >= maxAttempts {
				oc.State = store.DeliveryFailed
				st.metrics.failed.WithLabelValues(ep.System).Add(float64(messages))
				tell(o, "notify_failed", map[string]any{"code": ce.Code, "message": oc.Error.Message, "attempts": o.attempt, "kind": o.d.Kind})
				next = append(next, st.fallback(o.d, nil, "attempts spent", now, &steps)...)
			} else {
				oc.State, oc.Wait = store.DeliveryQueued, "retry"
				st.metrics.retried.WithLabelValues(ep.System).Inc()
			}
		}
		outs = append(outs, oc)
	}
	if err := st.store.FinishAttempts(ctx, tx, outs, now); err != nil {
		return err
	}
	if e != before {
		if err := st.store.SetEndpoint(ctx, tx, e); err != nil {
			return err
		}
	}
	if err := st.queueNext(ctx, tx, next, now); err != nil {
		return err
	}
	if err := st.store.AppendTimeline(ctx, tx, steps); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("notify: %s: recording answers: %w", ep.System, err)
	}
	return nil
}

// fallback is the delivery to the next channel of d's chain, if it has
// one: to the same people, or only to `only` when set (the ones who left
// it unread). It adds a "fallback" step to the order's timeline.
func (st *Stage) fallback(d store.Delivery, only []connector.Recipient, why string, now time.Time, steps *[]store.TimelineStep) []store.NewDelivery {
	if len(d.Fallback) == 0 || d.Kind != store.KindMessage {
		return nil
	}
	body := d.Message
	if only != nil {
		var m connector.Message
		if err := json.Unmarshal(d.Message, &m); err == nil {
			m.To = only
			if b, err := json.Marshal(m); err == nil {
				body = b
			}
		}
	}
	nd := store.NewDelivery{System: d.Fallback[0], Rule: d.Rule, Key: d.Key, Kind: store.KindMessage, OrderID: d.OrderID,
		Source: d.Source, OrderNo: d.OrderNo, Event: d.Event, Total: d.Total, Status: d.Status, Lang: d.Lang, Priority: d.Priority,
		State: store.DeliveryQueued, Message: body, Wait: "fallback", DueAt: now, Fallback: d.Fallback[1:], EscalateAfter: d.EscalateAfter}
	if d.OrderID != 0 {
		*steps = append(*steps, store.TimelineStep{OrderID: d.OrderID, At: now, Stage: "fallback",
			Detail: map[string]any{"rule": d.Rule, "from": d.System, "to": nd.System, "why": why, "delivery": d.ID}})
	}
	return []store.NewDelivery{nd}
}

// queueNext queues the next channels of chains inside tx and wakes their
// senders.
func (st *Stage) queueNext(ctx context.Context, tx *sql.Tx, next []store.NewDelivery, now time.Time) error {
	if len(next) == 0 {
		return nil
	}
	if _, err := st.store.QueueDeliveries(ctx, tx, next, now); err != nil {
		return err
	}
	if r := st.jobs.Load(); r != nil {
		for _, d := range next {
			if err := r.InsertTx(ctx, tx, SendArgs{System: d.System}, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// toOf is a queued message's addressees as text, to tell which messages
// may share a digest.
func toOf(d store.Delivery) string {
	var m struct {
		To json.RawMessage `json:"to"`
	}
	_ = json.Unmarshal(d.Message, &m)
	return string(m.To)
}

// notifiedStep is the timeline detail of a message the provider took on
// its own: the keys record writes for a digest, in the order encoding/json
// writes a map's, so both read alike; a struct is encoded without building
// and sorting a map for every message.
type notifiedStep struct {
	Answer    string `json:"answer"`
	Code      string `json:"code"`
	Cut       bool   `json:"cut,omitempty"`
	Delivery  int64  `json:"delivery"`
	Kind      string `json:"kind"`
	MessageID string `json:"message_id,omitempty"`
	Rule      string `json:"rule"`
	System    string `json:"system"`
	Waited    string `json:"waited,omitempty"`
}

func deliveryError(ce *connector.CallError) store.DeliveryError {
	msg := ce.Message
	if msg == "" && ce.Err != nil {
		msg = ce.Err.Error()
	}
	return store.DeliveryError{Class: string(ce.Class), Code: ce.Code, Message: msg, Hint: ce.Hint}
}

// answer is the provider's answer as the timeline shows it: 钉钉 errcode 0.
func (e *Endpoint) answer(code string) string {
	p, name := e.Provider, e.CodeName
	if p == "" {
		p = e.Kind
	}
	if name == "" {
		name = "code"
	}
	if code == "" {
		return p + " accepted"
	}
	return p + " " + name + " " + code
}
