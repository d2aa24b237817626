package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"orderhub/internal/connector"
	"orderhub/internal/connector/dingtalk"
	"orderhub/internal/jobs"
	"orderhub/internal/notify"
	"orderhub/internal/order"
	"orderhub/internal/store"
	"orderhub/internal/testutil/fakeclock"
	"orderhub/internal/testutil/pgtest"
)

const (
	robotToken  = "t0k3n"
	robotSecret = "SEC0123456789abcdef"
)

// stageEnv is a notification stage on a fresh store, sending to a strict
// DingTalk robot simulator; the stage, its client and the simulator share
// one clock that moves only when the stage waits.
type stageEnv struct {
	t     *testing.T
	store *store.Store
	stage *notify.Stage
	disp  *jobs.Dispatcher
	clock *fakeclock.Clock
	sim   *dingtalk.Sim
	ep    *notify.Endpoint
	rules *notify.Rules
	seq   int
}

func newStageEnv(t *testing.T, rulesYAML string, sim dingtalk.SimConfig) *stageEnv {
	t.Helper()
	return newStageEnvAt(t, "sqlite://"+filepath.Join(t.TempDir(), "notify.db"), rulesYAML, sim)
}

func openStore(t *testing.T, url string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), url, store.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newStageEnvAt(t *testing.T, url, rulesYAML string, simCfg dingtalk.SimConfig) *stageEnv {
	t.Helper()
	st := openStore(t, url)
	e := &stageEnv{t: t, store: st, clock: fakeclock.New(time.Date(2026, 3, 8, 9, 0, 0, 0, time.UTC))}
	simCfg.Now = e.clock.Now
	e.sim = dingtalk.NewSim(simCfg)
	e.sim.AddRobot(robotToken, robotSecret, "订单")
	srv := httptest.NewServer(e.sim)
	t.Cleanup(srv.Close)
	client, err := dingtalk.New(dingtalk.Options{System: "ops_ding", Webhook: dingtalk.WebhookURL(srv.URL, robotToken),
		Secret: robotSecret, Keyword: "订单", HTTP: srv.Client(), Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.ep = &notify.Endpoint{System: "ops_ding", Kind: dingtalk.Kind, Sender: client, Limits: dingtalk.Limits, Provider: "钉钉", CodeName: "errcode"}
	e.rules = compile(t, rulesYAML)
	e.stage = notify.NewStage(st, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	e.stage.SetClock(e.clock.Now, func(_ context.Context, d time.Duration) error { e.clock.Add(d); return nil })
	e.stage.SetSetup(&notify.Setup{Rules: e.rules, Endpoints: map[string]*notify.Endpoint{"ops_ding": e.ep}})
	e.disp = jobs.NewDispatcher(st, nil, e.stage)
	return e
}

// push stores n new orders (created events) and hands the events to the
// stage; it returns their numbers.
func (e *stageEnv) push(n int, total order.Money) []string {
	e.t.Helper()
	in := make([]store.Incoming, n)
	nos := make([]string, n)
	for i := range in {
		e.seq++
		nos[i] = fmt.Sprintf("M2026%06d", e.seq)
		at := e.clock.Now()
		in[i] = store.Incoming{Order: order.Order{Source: "shop_orders", OrderNo: nos[i], Status: order.StatusCreated, Currency: "CNY",
			Total: total, Goods: total, CreatedAt: at, UpdatedAt: at}, Raw: []byte(`{}`), ReceivedAt: at}
	}
	for start := 0; start < n; start += 200 {
		if _, err := e.store.Apply(context.Background(), in[start:min(start+200, n)], nil); err != nil {
			e.t.Fatal(err)
		}
	}
	if err := e.disp.Drain(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	return nos
}

func (e *stageEnv) drain() int {
	e.t.Helper()
	n, err := e.stage.Drain(context.Background(), e.ep)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *stageEnv) deliveries(f store.DeliveryFilter) []store.Delivery {
	e.t.Helper()
	f.Limit = 500
	var all []store.Delivery
	for {
		ds, err := e.store.ListDeliveries(context.Background(), f)
		if err != nil {
			e.t.Fatal(err)
		}
		all = append(all, ds...)
		if len(ds) < f.Limit {
			return all
		}
		f.Before = ds[len(ds)-1].ID
	}
}

// shown is every text the robot accepted, joined.
func (e *stageEnv) shown() string {
	var b strings.Builder
	for _, r := range e.sim.ReceivedBy(robotToken) {
		b.WriteString(r.Text)
		b.WriteByte('\n')
	}
	return b.String()
}

const newOrderRule = `rules:
  new_order: {on: [created], channels: [ops_ding], template: new_order}
`

// A burst of 1,000 new orders for one robot: the robot never sees more
// than 20 calls in any 60 s, nothing is refused, and every order number
// reaches the group, alone or in a digest.
func TestBurstIsPacedAndNothingIsDropped(t *testing.T) {
	e := newStageEnv(t, newOrderRule, dingtalk.SimConfig{})
	nos := e.push(1000, 18900)
	began := e.clock.Now()
	calls := e.drain()

	if most := e.sim.MaxCallsIn(robotToken, time.Minute); most > dingtalk.PerMinute {
		t.Errorf("the robot saw %d calls in one minute, more than its %d", most, dingtalk.PerMinute)
	}
	if rej := e.sim.Rejected(); len(rej) > 0 {
		t.Errorf("the robot refused %d calls, the first: %d %s", len(rej), rej[0].ErrCode, rej[0].ErrMsg)
	}
	shown := e.shown()
	for _, no := range nos {
		if !strings.Contains(shown, no) {
			t.Fatalf("order %s reached no message", no)
		}
	}
	if got := len(e.sim.ReceivedBy(robotToken)); got != calls {
		t.Errorf("the robot took %d messages, the stage made %d calls", got, calls)
	}
	// Digests carry the overflow, so the burst is told within minutes, not
	// the 50 a message each would take.
	if took := e.clock.Now().Sub(began); took > 5*time.Minute {
		t.Errorf("the burst took %s of the clock to tell", took)
	}
	var sent, merged, digests int
	for _, d := range e.deliveries(store.DeliveryFilter{}) {
		switch {
		case d.State == store.DeliverySent && d.Kind == store.KindDigest:
			digests++
		case d.State == store.DeliverySent:
			sent++
		case d.State == store.DeliveryMerged:
			merged++
		default:
			t.Errorf("delivery %d (%s) is %s", d.ID, d.OrderNo, d.State)
		}
	}
	if sent+merged != 1000 || digests == 0 || sent == 0 {
		t.Errorf("%d sent alone, %d merged into %d digests; want 1000 in all, some of each", sent, merged, digests)
	}
	t.Logf("%d calls: %d alone, %d digests carrying %d; %s of the clock", calls, sent, digests, merged, e.clock.Now().Sub(began))
}

// A burst that arrives over a minute and a half, as pushes do, while the
// sender runs: the pace still holds, what waited says it was paced, and
// every order is told.
func TestBurstArrivingInWavesIsPaced(t *testing.T) {
	e := newStageEnv(t, newOrderRule, dingtalk.SimConfig{})
	var nos []string
	for range 90 {
		nos = append(nos, e.push(11, 18900)...)
		if _, err := e.stage.SendFor(context.Background(), e.ep, 0); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(time.Second)
	}
	e.drain()
	if most := e.sim.MaxCallsIn(robotToken, time.Minute); most > dingtalk.PerMinute {
		t.Errorf("the robot saw %d calls in one minute, more than its %d", most, dingtalk.PerMinute)
	}
	if rej := e.sim.Rejected(); len(rej) > 0 {
		t.Errorf("the robot refused %d calls", len(rej))
	}
	shown := e.shown()
	for _, no := range nos {
		if !strings.Contains(shown, no) {
			t.Fatalf("order %s reached no message", no)
		}
	}
	paced := 0
	for _, d := range e.deliveries(store.DeliveryFilter{}) {
		if d.Wait == "paced" {
			paced++
		}
	}
	if paced == 0 {
		t.Error("no delivery says it waited for the pace")
	}
	t.Logf("%d orders in %d calls over %s of the clock", len(nos), len(e.sim.ReceivedBy(robotToken)), 90*time.Second)
}

// A few orders, under the limit, go one message each, in order, with the
// order's timeline saying "notified ops_ding, 钉钉 errcode 0".
func TestUnderTheLimitEachOrderIsItsOwnMessage(t *testing.T) {
	e := newStageEnv(t, newOrderRule, dingtalk.SimConfig{})
	nos := e.push(5, 599900)
	if calls := e.drain(); calls != 5 {
		t.Fatalf("%d calls, want 5", calls)
	}
	got := e.sim.ReceivedBy(robotToken)
	for i, no := range nos {
		if !strings.Contains(got[i].Text, no) || !strings.Contains(got[i].Text, "¥5,999.00") {
			t.Errorf("message %d does not show order %s and its amount:\n%s", i, no, got[i].Text)
		}
	}
	rec, err := e.store.GetOrder(context.Background(), "shop_orders", nos[0])
	if err != nil {
		t.Fatal(err)
	}
	tl, err := e.store.Timeline(context.Background(), rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	var step map[string]any
	for _, s := range tl {
		if s.Stage == "notified" {
			json.Unmarshal(s.Detail, &step)
		}
	}
	if step["answer"] != "钉钉 errcode 0" || step["system"] != "ops_ding" || step["rule"] != "new_order" {
		t.Errorf("notified step = %v", step)
	}
}

// An event dispatched again (a consumer's retry, a restart before the
// cursor moved) makes no second message.
func TestOneMessagePerRuleEndpointAndEvent(t *testing.T) {
	e := newStageEnv(t, newOrderRule, dingtalk.SimConfig{})
	e.push(3, 100)
	evs, err := e.store.EventsAfter(context.Background(), e.store.Reader(), store.EventPosition{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := e.store.DB().Begin()
	if err != nil {
		t.Fatal(err)
	}
	if err := e.stage.Consume(context.Background(), tx, evs); err != nil { // the same events once more
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	e.drain()
	if n := len(e.sim.ReceivedBy(robotToken)); n != 3 {
		t.Errorf("%d messages for 3 events dispatched twice", n)
	}
}

// The provider's answers, by class: a throttle pauses the endpoint and the
// message goes later without spending an attempt; a transport failure is
// retried; a permanent refusal fails with the provider's code and a hint.
func TestProviderAnswers(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		wantState store.DeliveryState
		wantCalls int // including the one that failed
	}{
		{"throttled", &connector.CallError{Class: connector.SlowDown, Code: "130101", RetryAfter: 30 * time.Second}, store.DeliverySent, 2},
		{"connection refused", &connector.CallError{Class: connector.Retry, Message: "connection refused"}, store.DeliverySent, 2},
		{"timeout after sending", &connector.CallError{Class: connector.Unknown, Message: "timeout"}, store.DeliverySent, 2},
		{"keyword missing", &connector.CallError{Class: connector.Permanent, Code: "310000", Message: "keywords not in content",
			Hint: "消息内容中不包含任何关键词：在机器人安全设置中核对自定义关键词"}, store.DeliveryFailed, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newStageEnv(t, newOrderRule, dingtalk.SimConfig{})
			flaky := &failOnce{next: e.ep.Sender, err: tt.err}
			e.ep.Sender = flaky
			e.push(1, 100)
			began := e.clock.Now()
			e.drain()
			if flaky.calls != tt.wantCalls {
				t.Errorf("%d calls, want %d", flaky.calls, tt.wantCalls)
			}
			ds := e.deliveries(store.DeliveryFilter{})
			if len(ds) != 1 || ds[0].State != tt.wantState {
				t.Fatalf("deliveries: %+v", ds)
			}
			d, attempts, err := e.store.GetDelivery(context.Background(), ds[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(attempts) != tt.wantCalls {
				t.Errorf("%d attempts recorded, want %d: %+v", len(attempts), tt.wantCalls, attempts)
			}
			ce := tt.err.(*connector.CallError)
			switch ce.Class {
			case connector.SlowDown:
				if d.Attempts != 1 || e.clock.Now().Sub(began) < ce.RetryAfter {
					t.Errorf("after a throttle: %d attempts spent, %s waited; want 1 and ≥ %s", d.Attempts, e.clock.Now().Sub(began), ce.RetryAfter)
				}
			case connector.Permanent:
				if d.Error.Code != ce.Code || d.Error.Hint != ce.Hint {
					t.Errorf("failed delivery's error = %+v", d.Error)
				}
			}
		})
	}
}

type failOnce struct {
	next  connector.Sender
	err   error
	calls int
}

func (f *failOnce) Send(ctx context.Context, m connector.Message) (connector.SendResult, error) {
	f.calls++
	if f.calls == 1 {
		return connector.SendResult{}, f.err
	}
	return f.next.Send(ctx, m)
}

// A failed message can be resent once the cause is fixed.
func TestResendAFailedDelivery(t *testing.T) {
	e := newStageEnv(t, newOrderRule, dingtalk.SimConfig{})
	e.sim.DisableRobot(robotToken)
	e.push(1, 100)
	e.drain()
	ds := e.deliveries(store.DeliveryFilter{State: store.DeliveryFailed})
	if len(ds) != 1 || ds[0].Error.Hint == "" {
		t.Fatalf("a disabled robot: failed deliveries %+v, want one with a hint", ds)
	}
	if err := e.stage.Resend(context.Background(), ds[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := e.stage.Resend(context.Background(), ds[0].ID); err == nil {
		t.Error("resending a queued delivery: no error")
	}
	e.sim.AddRobot(robotToken, robotSecret, "订单") // the robot is enabled again
	e.drain()
	if got := e.deliveries(store.DeliveryFilter{})[0]; got.State != store.DeliverySent {
		t.Errorf("after resend the delivery is %s", got.State)
	}
}

// A digest rule collects until its clock time, then sends one digest of
// everything collected, on the hour.
func TestDigestOnTheClock(t *testing.T) {
	e := newStageEnv(t, `rules:
  hourly:
    on: [created]
    channels: [ops_ding]
    template: new_order
    digest: {every: 1h}
`, dingtalk.SimConfig{})
	e.clock.Add(10 * time.Minute) // 09:10
	nos := e.push(30, 5000)
	if calls := e.drain(); calls != 0 {
		t.Fatalf("%d calls before the hour", calls)
	}
	e.clock.Add(49 * time.Minute) // 09:59
	if calls := e.drain(); calls != 0 {
		t.Fatalf("%d calls before the hour", calls)
	}
	e.clock.Add(time.Minute) // 10:00
	if calls := e.drain(); calls != 1 {
		t.Fatalf("%d calls on the hour, want one digest", calls)
	}
	got := e.sim.ReceivedBy(robotToken)
	for _, no := range nos {
		if !strings.Contains(got[0].Text, no) {
			t.Fatalf("the digest does not list %s:\n%s", no, got[0].Text)
		}
	}
	if !strings.Contains(got[0].Text, "共 30 笔") {
		t.Errorf("the digest does not count 30:\n%s", got[0].Text)
	}
}

// Two nodes on one PostgreSQL store send to one robot at once: the pace is
// the endpoint's, not a node's, so the robot still never sees more than 20
// calls in a minute, and every order reaches it.
func TestPaceHoldsAcrossNodesOnPostgres(t *testing.T) {
	url := pgtest.URL(t)
	e := newStageEnvAt(t, url, newOrderRule, dingtalk.SimConfig{})
	other := notify.NewStage(openStore(t, url), slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	other.SetClock(e.clock.Now, func(_ context.Context, d time.Duration) error { e.clock.Add(d); return nil })
	ep2 := *e.ep
	other.SetSetup(&notify.Setup{Rules: e.rules, Endpoints: map[string]*notify.Endpoint{"ops_ding": &ep2}})
	nos := e.push(300, 100)

	errs := make(chan error, 2)
	for _, st := range []*notify.Stage{e.stage, other} {
		go func() {
			_, err := st.Drain(context.Background(), e.ep)
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if most := e.sim.MaxCallsIn(robotToken, time.Minute); most > dingtalk.PerMinute {
		t.Errorf("the robot saw %d calls in one minute from two nodes, more than its %d", most, dingtalk.PerMinute)
	}
	if rej := e.sim.Rejected(); len(rej) > 0 {
		t.Errorf("the robot refused %d calls, the first: %d %s", len(rej), rej[0].ErrCode, rej[0].ErrMsg)
	}
	shown := e.shown()
	for _, no := range nos {
		if !strings.Contains(shown, no) {
			t.Fatalf("order %s reached no message", no)
		}
	}
	// Nothing went twice: each call the robot took is one sent delivery,
	// and each order's message was sent or merged once.
	calls, told := 0, 0
	for _, d := range e.deliveries(store.DeliveryFilter{}) {
		switch {
		case d.State == store.DeliverySent:
			calls++
			if d.Kind == store.KindMessage {
				told++
			}
		case d.State == store.DeliveryMerged:
			told++
		}
	}
	if got := len(e.sim.ReceivedBy(robotToken)); got != calls || told != len(nos) {
		t.Errorf("the robot took %d messages for %d sent deliveries; %d of %d orders told", got, calls, told, len(nos))
	}
}
