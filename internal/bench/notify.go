package bench

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"orderhub/internal/app"
	"orderhub/internal/config"
	"orderhub/internal/connector"
	"orderhub/internal/connector/dingtalk"
	"orderhub/internal/connector/mall"
	"orderhub/internal/jobs"
	"orderhub/internal/notify"
	"orderhub/internal/order"
	"orderhub/internal/store"
)

// NotifyOptions configure a notification benchmark.
type NotifyOptions struct {
	// Orders is how many new orders each round stores (10 000); every one
	// is told by the new_order rule, and those of ¥5,000 or more by
	// big_order as well.
	Orders int
	Rounds int // rounds per path, the paths alternating (3)
	// Store is "sqlite" for a fresh SQLite file per round in Dir, or a
	// postgres:// URL of a server on which a database is created (and
	// dropped) per round.
	Store string
	Dir   string
	// Timeout bounds one round of either path.
	Timeout time.Duration
	Log     *slog.Logger
}

// NotifyRound is one round of one path.
type NotifyRound struct {
	Deliveries int // messages the simulator holds at the end
	Elapsed    time.Duration
	Rate       float64 // deliveries per second
	// CPU is the process's CPU time (user and system) during the round,
	// the simulator's and the client's included: per delivery it holds
	// better than the rate on a machine shared with other work.
	CPU time.Duration
	// The product path's parts. First is when the robot took the first
	// message; Queued when the dispatcher had handed over every event (every
	// message matched, rendered and queued); Consume the time spent in the
	// rules consumer itself, inside the dispatcher's transactions.
	First, Queued, Consume time.Duration
	// Sender is the time spent in the sender's steps (claim, calls,
	// record); InFlight the part of it with a call in flight, the rest
	// being the sender's two transactions a step.
	Sender, InFlight time.Duration
	// Calls and CallTime are the calls made and their durations added up
	// (sendConcurrency of them run side by side).
	Calls    int
	CallTime time.Duration
}

// NotifyReport compares the bare client with orderhub's notifications.
type NotifyReport struct {
	Store      string
	Orders     int
	Deliveries int // messages a round makes
	Bare, Real []NotifyRound
	BareMedian float64
	RealMedian float64
	Ratio      float64 // RealMedian / BareMedian
	// BareCPU and RealCPU are the median CPU time per delivery.
	BareCPU, RealCPU time.Duration
	PeakRSSMiB       float64
	GoalRate         float64
	GoalRatio        float64
}

// The goals of the issue: deliveries/s on two cores, and the ratio to the
// simulator's own ceiling.
const (
	notifyGoalRate  = 5000
	notifyGoalRatio = 0.5
	// notifyConcurrency is how many calls the bare client makes side by
	// side: as many as the stage makes to an endpoint without a pace.
	notifyConcurrency = 8
)

const (
	benchRobotToken  = "bench0token"
	benchRobotSecret = "SECbench0123456789abcdef0123456789abcdef0123456789abcdef01234567"
	benchAppSign     = "0123456789abcdef0123456789abcdef"
)

// notifyBenchConfig is the configuration both paths build from: a mall push
// source, a 钉钉 robot with 加签 and a keyword, and two shipped rules.
const notifyBenchConfig = `store: "sqlite://unused.db"
listen: 127.0.0.1:8080
log: {level: warn}
systems:
  shop: {kind: mall, app_key: mall-1, app_sign: %q}
  ops_ding: {kind: dingtalk_robot, webhook: %q, secret: %q, keyword: 订单}
sources:
  shop_orders: {system: shop, mode: push}
rules:
  new_order: {on: [created], channels: [ops_ding], template: new_order}
  big_order:
    on: [created]
    when: order.total >= 5000
    channels: [ops_ding]
    template: big_order
    priority: high
    at: {mobiles: ["13800001234"]}
`

// notifyWork is the load of a run: the orders to store and, for the bare
// client, the messages rules make of them.
type notifyWork struct {
	orders   []store.Incoming
	messages []connector.Message
}

// RunNotify measures rule match → render → deliver to the built-in 钉钉
// robot simulator with no rate limit: a bare client that posts the rendered
// bodies with the connector's own client, and orderhub's path (dispatcher,
// rules consumer, store, sender), in alternating rounds, each on a fresh
// simulator and, for orderhub, a fresh store.
func RunNotify(ctx context.Context, o NotifyOptions) (*NotifyReport, error) {
	o.Orders = cmp.Or(o.Orders, 10000)
	o.Rounds = cmp.Or(o.Rounds, 3)
	o.Store = cmp.Or(o.Store, "sqlite")
	o.Timeout = cmp.Or(o.Timeout, 5*time.Minute)
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Orders < 0 || o.Rounds < 0 {
		return nil, fmt.Errorf("bench notify: --orders and --rounds must be positive")
	}
	if o.Store != "sqlite" && !strings.HasPrefix(o.Store, "postgres://") && !strings.HasPrefix(o.Store, "postgresql://") {
		return nil, fmt.Errorf("bench notify: --store %q: want sqlite or a postgres:// URL", o.Store)
	}
	if o.Dir == "" {
		dir, err := os.MkdirTemp("", "orderhub-bench-notify-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		o.Dir = dir
	}
	w, err := newNotifyWork(o.Orders, o.Log)
	if err != nil {
		return nil, fmt.Errorf("bench notify: %w", err)
	}
	rep := &NotifyReport{Store: o.Store, Orders: o.Orders, Deliveries: len(w.messages), GoalRate: notifyGoalRate, GoalRatio: notifyGoalRatio}
	// A warm-up round of each path, unmeasured, with a tenth of the load.
	warm, err := newNotifyWork(max(o.Orders/10, 100), o.Log)
	if err != nil {
		return nil, fmt.Errorf("bench notify: %w", err)
	}
	if _, err := bareNotifyRound(ctx, o, warm); err != nil {
		return nil, fmt.Errorf("bench notify: warm-up of the bare client: %w", err)
	}
	if _, err := realNotifyRound(ctx, o, warm, 0); err != nil {
		return nil, fmt.Errorf("bench notify: warm-up of orderhub: %w", err)
	}
	for r := 1; r <= o.Rounds; r++ {
		b, err := bareNotifyRound(ctx, o, w)
		if err != nil {
			return nil, fmt.Errorf("bench notify: bare round %d: %w", r, err)
		}
		rep.Bare = append(rep.Bare, b)
		rr, err := realNotifyRound(ctx, o, w, uint64(r))
		if err != nil {
			return nil, fmt.Errorf("bench notify: orderhub round %d: %w", r, err)
		}
		rep.Real = append(rep.Real, rr)
	}
	rep.BareMedian, rep.RealMedian = notifyMedian(rep.Bare), notifyMedian(rep.Real)
	if rep.BareMedian > 0 {
		rep.Ratio = rep.RealMedian / rep.BareMedian
	}
	rep.BareCPU, rep.RealCPU = cpuPerDelivery(rep.Bare), cpuPerDelivery(rep.Real)
	rep.PeakRSSMiB = peakRSS()
	return rep, nil
}

func cpuPerDelivery(rs []NotifyRound) time.Duration {
	xs := make([]float64, len(rs))
	for i, r := range rs {
		xs[i] = float64(r.CPU) / float64(max(r.Deliveries, 1))
	}
	return time.Duration(median(xs))
}

// processCPU is the CPU time the process has used, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func notifyMedian(rs []NotifyRound) float64 {
	xs := make([]float64, len(rs))
	for i, r := range rs {
		xs[i] = r.Rate
	}
	return median(xs)
}

func parseNotifyConfig(webhook string) (*config.Config, error) {
	text := fmt.Sprintf(notifyBenchConfig, benchAppSign, webhook, benchRobotSecret)
	cfg, err := config.Parse([]byte(text), "bench-notify.yaml", func(string) (string, bool) { return "", false })
	if err != nil {
		return nil, fmt.Errorf("the benchmark's configuration: %w", err)
	}
	return cfg, nil
}

// newNotifyWork makes n new orders as the mall pushes them (most of them
// paid), each parsed by the mall's own receiver, and the messages the
// rules make of their created events, in the order orderhub queues them.
func newNotifyWork(n int, log *slog.Logger) (*notifyWork, error) {
	cfg, err := parseNotifyConfig(dingtalk.WebhookURL("http://127.0.0.1:1", benchRobotToken))
	if err != nil {
		return nil, err
	}
	su, err := app.Notifications(cfg, log, nil, nil) // no inbox systems; a robot fetches no token
	if err != nil {
		return nil, err
	}
	loc := cfg.Location
	gen := mall.NewGenerator(42, benchAppSign, loc, "N")
	recv := mall.NewReceiver(benchAppSign, loc)
	now := time.Now().Add(-time.Hour)
	w := &notifyWork{orders: make([]store.Incoming, 0, n)}
	for i := range n {
		doc := gen.New(now)
		if i%4 != 0 {
			gen.Advance(doc, now) // most orders arrive paid
		}
		p, err := recv.Receive(&connector.PushRequest{Body: mall.Body(doc), Now: now})
		if err != nil {
			return nil, fmt.Errorf("a generated order: %w", err)
		}
		p.Order.Source = "shop_orders"
		w.orders = append(w.orders, store.Incoming{Order: p.Order, Raw: p.Raw, ReceivedAt: now, Warnings: p.Warnings})
		ms, err := su.Rules.Match(p.Order, notify.Event{Type: order.EventCreated, To: p.Order.Status})
		if err != nil {
			return nil, fmt.Errorf("rendering order %s: %w", p.Order.OrderNo, err)
		}
		for _, m := range ms {
			for _, cm := range m.Messages {
				w.messages = append(w.messages, cm.Message)
			}
		}
	}
	return w, nil
}

// robot is one round's 钉钉 robot simulator on a loopback port, without a
// rate limit and keeping only a count, and the endpoint orderhub builds
// for it from the configuration, its pace taken off.
type robot struct {
	sim *dingtalk.Sim
	srv *httptest.Server
	su  *notify.Setup
	ep  *notify.Endpoint
}

func startRobot(log *slog.Logger) (*robot, error) {
	sim := dingtalk.NewSim(dingtalk.SimConfig{NoRateLimit: true, CountOnly: true})
	sim.AddRobot(benchRobotToken, benchRobotSecret, "订单")
	srv := httptest.NewServer(sim)
	cfg, err := parseNotifyConfig(dingtalk.WebhookURL(srv.URL, benchRobotToken))
	if err != nil {
		srv.Close()
		return nil, err
	}
	su, err := app.Notifications(cfg, log, nil, nil) // no inbox systems; a robot fetches no token
	if err != nil {
		srv.Close()
		return nil, err
	}
	ep := su.Endpoints["ops_ding"]
	ep.Limits.PerMinute, ep.Limits.PerSecond = 0, 0 // the simulator has no limit
	return &robot{sim: sim, srv: srv, su: su, ep: ep}, nil
}

func (r *robot) close() { r.srv.Close() }

// bareNotifyRound is the simulator's ceiling: the 钉钉 client orderhub
// builds from the configuration posts the messages the rules rendered
// before the clock started, notifyConcurrency calls side by side as the
// stage makes them; nothing is stored.
func bareNotifyRound(ctx context.Context, o NotifyOptions, w *notifyWork) (NotifyRound, error) {
	rb, err := startRobot(o.Log)
	if err != nil {
		return NotifyRound{}, err
	}
	defer rb.close()
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	work := make(chan connector.Message)
	errs := make(chan error, notifyConcurrency)
	var wg sync.WaitGroup
	began, cpu := time.Now(), processCPU()
	for range notifyConcurrency {
		wg.Go(func() {
			for m := range work {
				if _, err := rb.ep.Sender.Send(ctx, m); err != nil {
					errs <- fmt.Errorf("sending %s: %w", m.Key, err)
					cancel()
					for range work {
					}
					return
				}
			}
		})
	}
feed:
	for _, m := range w.messages {
		select {
		case work <- m:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	el, cpu := time.Since(began), processCPU()-cpu
	select {
	case err := <-errs:
		return NotifyRound{}, err
	default:
	}
	if got, want := rb.sim.Len(), len(w.messages); got != want {
		return NotifyRound{}, fmt.Errorf("the robot holds %d messages after the bare client, want %d", got, want)
	}
	return NotifyRound{Deliveries: len(w.messages), Elapsed: el, Rate: float64(len(w.messages)) / el.Seconds(), CPU: cpu}, nil
}

// realNotifyRound is orderhub's path on a fresh store holding the orders
// and their events (stored before the clock starts): the dispatcher feeds
// the rules consumer (match, render, queue in the store) while the sender
// drains the endpoint's queue to the robot, each call recorded, timed from
// the start of dispatch until the robot holds every message.
func realNotifyRound(ctx context.Context, o NotifyOptions, w *notifyWork, seed uint64) (NotifyRound, error) {
	storeURL, drop, err := roundStore(ctx, o.Store, o.Dir, "notify", seed)
	if err != nil {
		return NotifyRound{}, err
	}
	defer drop()
	st, err := store.Open(ctx, storeURL, store.Options{})
	if err != nil {
		return NotifyRound{}, err
	}
	defer st.Close()
	for start := 0; start < len(w.orders); start += 500 {
		if _, err := st.Apply(ctx, w.orders[start:min(start+500, len(w.orders))], nil); err != nil {
			return NotifyRound{}, fmt.Errorf("storing the orders: %w", err)
		}
	}
	rb, err := startRobot(o.Log)
	if err != nil {
		return NotifyRound{}, err
	}
	defer rb.close()
	sender := &timedSender{next: rb.ep.Sender}
	rb.ep.Sender = sender
	stage := notify.NewStage(st, o.Log, nil)
	stage.SetSetup(rb.su)
	consumer := &timedConsumer{Consumer: stage}
	disp := jobs.NewDispatcher(st, nil, consumer)

	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	want := len(w.messages)
	began, cpu := time.Now(), processCPU()
	dispatched := make(chan error, 1)
	var queued time.Duration
	go func() {
		err := disp.Drain(ctx)
		queued = time.Since(began)
		dispatched <- err
	}()
	var senderTime time.Duration
	done := false
	for rb.sim.Len() < want {
		t := time.Now()
		n, err := stage.Drain(ctx, rb.ep)
		senderTime += time.Since(t)
		if err != nil {
			cancel()
			<-dispatched
			return NotifyRound{}, fmt.Errorf("sending: %w", err)
		}
		if n > 0 {
			continue
		}
		if done {
			// Every event was dispatched and nothing is left to send.
			break
		}
		select {
		case err := <-dispatched:
			if err != nil {
				return NotifyRound{}, fmt.Errorf("dispatching: %w", err)
			}
			done = true
		case <-ctx.Done():
			if !done {
				<-dispatched
			}
			return NotifyRound{}, fmt.Errorf("after %s the robot holds %d of %d messages", o.Timeout, rb.sim.Len(), want)
		case <-time.After(time.Millisecond):
			// The consumer has not queued the next batch yet.
		}
	}
	el, cpu := time.Since(began), processCPU()-cpu
	if !done {
		if err := <-dispatched; err != nil {
			return NotifyRound{}, fmt.Errorf("dispatching: %w", err)
		}
	}
	if got := rb.sim.Len(); got != want {
		return NotifyRound{}, fmt.Errorf("the robot holds %d messages, want %d", got, want)
	}
	counts, err := st.DeliveryCounts(context.WithoutCancel(ctx))
	if err != nil {
		return NotifyRound{}, err
	}
	if sent := counts["ops_ding"][store.DeliverySent]; sent != want {
		return NotifyRound{}, fmt.Errorf("the store records %d deliveries sent (%v), want %d", sent, counts["ops_ding"], want)
	}
	return NotifyRound{Deliveries: want, Elapsed: el, Rate: float64(want) / el.Seconds(), CPU: cpu, First: sender.firstAfter(began),
		Queued: queued, Consume: consumer.took, Sender: senderTime, InFlight: sender.busy, Calls: sender.calls, CallTime: sender.took}, nil
}

// timedConsumer adds up the time its consumer takes.
type timedConsumer struct {
	jobs.Consumer
	took time.Duration
}

func (c *timedConsumer) Consume(ctx context.Context, tx *sql.Tx, evs []store.Event) error {
	t := time.Now()
	err := c.Consumer.Consume(ctx, tx, evs)
	c.took += time.Since(t)
	return err
}

// timedSender counts the calls of its sender, adds up their durations and
// the time during which at least one was in flight, and notes when the
// first one was taken.
type timedSender struct {
	next connector.Sender

	mu       sync.Mutex
	inFlight int
	since    time.Time
	busy     time.Duration
	calls    int
	took     time.Duration
	first    time.Time
}

func (s *timedSender) Send(ctx context.Context, m connector.Message) (connector.SendResult, error) {
	s.mu.Lock()
	began := time.Now()
	if s.inFlight == 0 {
		s.since = began
	}
	s.inFlight++
	s.mu.Unlock()
	res, err := s.next.Send(ctx, m)
	s.mu.Lock()
	now := time.Now()
	s.inFlight--
	if s.inFlight == 0 {
		s.busy += now.Sub(s.since)
	}
	s.calls++
	s.took += now.Sub(began)
	if err == nil && s.first.IsZero() {
		s.first = now
	}
	s.mu.Unlock()
	return res, err
}

func (s *timedSender) firstAfter(t time.Time) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.first.IsZero() {
		return 0
	}
	return s.first.Sub(t)
}

// Print writes the report as a table a person can read and paste.
func (r *NotifyReport) Print(w io.Writer) {
	fmt.Fprintf(w, "notify benchmark: %d new orders a round (%d messages: new_order for each, big_order for ¥5,000 and more) to one 钉钉 robot\n",
		r.Orders, r.Deliveries)
	fmt.Fprintf(w, "without a rate limit (加签, keyword, markdown), store %s, paths in %d alternating rounds, %d calls side by side\n\n",
		r.Store, len(r.Real), notifyConcurrency)
	fmt.Fprintf(w, "%-16s %10s %13s %10s  %s\n", "path", "deliveries", "deliveries/s", "CPU/msg", "rounds (deliveries/s)")
	for _, p := range []struct {
		name string
		rs   []NotifyRound
		med  float64
		cpu  time.Duration
	}{{"bare client", r.Bare, r.BareMedian, r.BareCPU}, {"orderhub notify", r.Real, r.RealMedian, r.RealCPU}} {
		var each []string
		n := 0
		for _, x := range p.rs {
			each = append(each, fmt.Sprintf("%.0f in %s", x.Rate, x.Elapsed.Round(time.Millisecond)))
			n = x.Deliveries
		}
		fmt.Fprintf(w, "%-16s %10d %13.0f %8.0fµs  %s\n", p.name, n, p.med, float64(p.cpu)/1e3, strings.Join(each, ", "))
	}
	fmt.Fprintf(w, "\nwhere orderhub's time goes, per round:\n")
	for i, x := range r.Real {
		fmt.Fprintf(w, "  round %d: %s in all; first message at %s; every message queued at %s (rules consumer %s);\n"+
			"           sender %s, of which calls in flight %s and its claim and record transactions %s; %d calls took %s added up\n",
			i+1, x.Elapsed.Round(time.Millisecond), x.First.Round(time.Millisecond), x.Queued.Round(time.Millisecond),
			x.Consume.Round(time.Millisecond), x.Sender.Round(time.Millisecond), x.InFlight.Round(time.Millisecond),
			(x.Sender - x.InFlight).Round(time.Millisecond), x.Calls, x.CallTime.Round(time.Millisecond))
	}
	fmt.Fprintf(w, "\nratio orderhub/bare (medians): %.2f; CPU per message (process, simulator included): %.2f× the bare client's\n",
		r.Ratio, float64(r.RealCPU)/float64(max(r.BareCPU, 1)))
	fmt.Fprintf(w, "goal: ≥ %.0f deliveries/s on 2 cores and ≥ %.1f× the ceiling: %s\n", r.GoalRate, r.GoalRatio,
		goalVerdict(r.RealMedian >= r.GoalRate, r.Ratio >= r.GoalRatio))
	fmt.Fprintf(w, "peak RSS of the process: %.0f MiB\n", r.PeakRSSMiB)
}
