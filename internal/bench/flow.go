package bench

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"orderhub/internal/app"
	"orderhub/internal/config"
	"orderhub/internal/connector"
	"orderhub/internal/connector/k3cloud"
	"orderhub/internal/flow"
	"orderhub/internal/ingest"
	"orderhub/internal/order"
	"orderhub/internal/simlab"
)

// FlowOptions configure a flow benchmark.
type FlowOptions struct {
	// Orders is how many 旺店通 trades each round seeds (10 000); about one
	// in eight shipped trades also has a refund stock-in.
	Orders int
	// Flow is trades (旺店通 trades → 星辰), refunds (refund stock-ins →
	// 星空) or both.
	Flow   string
	Rounds int // rounds per path, the paths alternating (3)
	// Store is "sqlite" for a fresh SQLite file per round in Dir, or a
	// postgres:// URL of a server on which a database is created (and
	// dropped) per round.
	Store string
	Dir   string
	// Every is the pull sources' every: (1s, the smallest allowed).
	Every time.Duration
	// Timeout bounds one round of either path.
	Timeout time.Duration
	Log     *slog.Logger
}

// FlowRound is one round of one path.
type FlowRound struct {
	Bills   int // bills the simulators hold at the end
	Elapsed time.Duration
	Rate    float64 // bills per second
	// Stored is when orderhub's store held every pulled document (real
	// path only): the pull's part of Elapsed.
	Stored time.Duration
	// First is when the first bill was written (real path only): the
	// start-up and the hand-overs before writing begins.
	First time.Duration
	// Calls and CallTime are the real path's write calls and the time
	// spent in them, from its own metrics.
	Calls    int
	CallTime time.Duration
}

// FlowReport compares the bare client with orderhub's flows.
type FlowReport struct {
	Flow        string
	Store       string
	Orders      int
	Bare, Real  []FlowRound
	BareMedian  float64
	RealMedian  float64
	Ratio       float64 // RealMedian / BareMedian
	Pages       int     // pages the bare client read in a round
	Calls       int     // write calls the bare client made in a round
	PeakRSSMiB  float64
	GoalRate    float64
	GoalRatio   float64
	RealMetrics map[string]float64 // the last real round's flow metrics
}

// The goals of the issue: orders/s on two cores, and the ratio to the
// simulators' own ceiling.
const (
	flowGoalRate  = 3000
	flowGoalRatio = 0.5
)

// RunFlow measures pull → map → write against the built-in simulators:
// a bare client that reads the same pages and writes the same (pre-mapped)
// bills with the connectors' own clients, and orderhub's real path (pull
// sources, store, events, flows on River), in alternating rounds, each on
// a fresh lab and a fresh store.
func RunFlow(ctx context.Context, o FlowOptions) (*FlowReport, error) {
	o.Orders = cmp.Or(o.Orders, 10000)
	o.Flow = cmp.Or(o.Flow, "both")
	o.Rounds = cmp.Or(o.Rounds, 3)
	o.Store = cmp.Or(o.Store, "sqlite")
	o.Every = cmp.Or(o.Every, time.Second)
	o.Timeout = cmp.Or(o.Timeout, 5*time.Minute)
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	switch o.Flow {
	case "trades", "refunds", "both":
	default:
		return nil, fmt.Errorf("bench flow: --flow %q: want trades, refunds or both", o.Flow)
	}
	if o.Store != "sqlite" && !strings.HasPrefix(o.Store, "postgres://") && !strings.HasPrefix(o.Store, "postgresql://") {
		return nil, fmt.Errorf("bench flow: --store %q: want sqlite or a postgres:// URL", o.Store)
	}
	if o.Dir == "" {
		dir, err := os.MkdirTemp("", "orderhub-bench-flow-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		o.Dir = dir
	}
	rep := &FlowReport{Flow: o.Flow, Store: o.Store, Orders: o.Orders, GoalRate: flowGoalRate, GoalRatio: flowGoalRatio}
	// A warm-up round of each path, unmeasured, with a tenth of the load.
	warm := o
	warm.Orders = max(o.Orders/10, 100)
	if _, _, err := bareRound(ctx, warm, 0); err != nil {
		return nil, fmt.Errorf("bench flow: warm-up of the bare client: %w", err)
	}
	if _, _, err := realRound(ctx, warm, 0); err != nil {
		return nil, fmt.Errorf("bench flow: warm-up of orderhub: %w", err)
	}
	for r := 1; r <= o.Rounds; r++ {
		b, counts, err := bareRound(ctx, o, uint64(2*r))
		if err != nil {
			return nil, fmt.Errorf("bench flow: bare round %d: %w", r, err)
		}
		rep.Bare = append(rep.Bare, b)
		rep.Pages, rep.Calls = counts.pages, counts.calls
		rr, m, err := realRound(ctx, o, uint64(2*r+1))
		if err != nil {
			return nil, fmt.Errorf("bench flow: orderhub round %d: %w", r, err)
		}
		rep.Real = append(rep.Real, rr)
		rep.RealMetrics = m
	}
	rep.BareMedian, rep.RealMedian = medianRate(rep.Bare), medianRate(rep.Real)
	if rep.BareMedian > 0 {
		rep.Ratio = rep.RealMedian / rep.BareMedian
	}
	rep.PeakRSSMiB = peakRSS()
	return rep, nil
}

func medianRate(rs []FlowRound) float64 {
	xs := make([]float64, len(rs))
	for i, r := range rs {
		xs[i] = r.Rate
	}
	return median(xs)
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	xs = slices.Clone(xs)
	slices.Sort(xs)
	if len(xs)%2 == 1 {
		return xs[len(xs)/2]
	}
	return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
}

// labRound is one round's simulators and data: a fresh lab seeded with
// Orders trades (and their refund stock-ins) modified in the three hours
// before ten minutes ago, so every document is visible from the start
// (the simulator commits some up to five minutes late).
type labRound struct {
	lab    *simlab.Lab
	cfg    *config.Config
	trades int // bills 星辰 must end with
	stocks int // bills 星空 must end with
	docs   map[string][][]byte
}

const flowBenchConfig = `store: %q
listen: 127.0.0.1:0
log: {level: warn}
systems:
%s
sources:
%s
flows:
%s`

func newLabRound(o FlowOptions, seed uint64, store string) (*labRound, error) {
	lab, err := simlab.Start(simlab.Options{Unlimited: true, DropBodies: true})
	if err != nil {
		return nil, err
	}
	now := time.Now()
	end := now.Add(-10 * time.Minute)
	data, err := lab.WDT.Generate(o.Orders, end.Add(-3*time.Hour), end, seed)
	if err != nil {
		lab.Close()
		return nil, err
	}
	start := end.Add(-3*time.Hour - time.Minute).Format(time.RFC3339)
	var sources, flows strings.Builder
	lr := &labRound{lab: lab, docs: map[string][][]byte{}}
	if o.Flow != "refunds" {
		fmt.Fprintf(&sources, "  wdt_trades: {system: wdt, mode: pull, api: trade.query, every: %s, start: %q}\n", o.Every, start)
		fmt.Fprintf(&flows, "  trades_to_xingchen: {source: wdt_trades, target: xingchen, api: sal_order_save}\n")
		lr.trades = len(data.Trades)
		for _, t := range data.Trades {
			raw, err := json.Marshal(t)
			if err != nil {
				lab.Close()
				return nil, err
			}
			lr.docs["trades_to_xingchen"] = append(lr.docs["trades_to_xingchen"], raw)
		}
	}
	if o.Flow != "trades" {
		fmt.Fprintf(&sources, "  wdt_refunds: {system: wdt, mode: pull, api: stockin.order.query.refund, every: %s, start: %q}\n", o.Every, start)
		fmt.Fprintf(&flows, "  refunds_to_xingkong: {source: wdt_refunds, target: xingkong, api: SAL_RETURNSTOCK}\n")
		lr.stocks = len(data.Stockins)
		for _, s := range data.Stockins {
			raw, err := json.Marshal(s)
			if err != nil {
				lab.Close()
				return nil, err
			}
			lr.docs["refunds_to_xingkong"] = append(lr.docs["refunds_to_xingkong"], raw)
		}
	}
	text := fmt.Sprintf(flowBenchConfig, store, lab.SystemsYAML(30*time.Second), sources.String(), flows.String())
	lr.cfg, err = config.Parse([]byte(text), "bench-flow.yaml", func(string) (string, bool) { return "", false })
	if err != nil {
		lab.Close()
		return nil, fmt.Errorf("the benchmark's configuration: %w", err)
	}
	return lr, nil
}

func (lr *labRound) bills() int {
	return lr.lab.JDY.Len() + lr.lab.K3.Len(k3cloud.FormReturnStock)
}

func (lr *labRound) want() int { return lr.trades + lr.stocks }

type bareCounts struct{ pages, calls int }

// bareRound is the simulators' ceiling: the connectors' own clients read
// the pages orderhub reads (the same windows, page size and cuts) and
// write the same bills in the same batch sizes, one call at a time per
// flow as orderhub's writer does, the flows side by side. The bills are
// mapped before the clock starts; nothing is stored.
func bareRound(ctx context.Context, o FlowOptions, seed uint64) (FlowRound, bareCounts, error) {
	lr, err := newLabRound(o, seed, "sqlite://"+filepath.Join(o.Dir, "unused.db"))
	if err != nil {
		return FlowRound{}, bareCounts{}, err
	}
	defer lr.lab.Close()
	srcs, err := app.PullSources(lr.cfg, o.Log)
	if err != nil {
		return FlowRound{}, bareCounts{}, err
	}
	flows, err := app.Flows(lr.cfg, o.Log)
	if err != nil {
		return FlowRound{}, bareCounts{}, err
	}
	type job struct {
		src   *ingest.PullSource
		f     *flow.Flow
		bills []connector.Bill
	}
	var jobs []job
	for _, f := range flows {
		j := job{f: f}
		for _, s := range srcs {
			if s.Name == f.Source {
				j.src = s
			}
		}
		for _, raw := range lr.docs[f.Name] {
			b, ok, err := f.Mapper.Map(raw, &order.Order{})
			if err != nil || !ok {
				return FlowRound{}, bareCounts{}, fmt.Errorf("mapping a %s document for the bare client: ok=%v %v", f.Name, ok, err)
			}
			j.bills = append(j.bills, b)
		}
		jobs = append(jobs, j)
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(jobs))
	counts := make([]bareCounts, len(jobs))
	began := time.Now()
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pages, err := barePull(ctx, j.src, began)
			if err != nil {
				errs[i] = err
				return
			}
			calls, err := bareWrite(ctx, j.f, j.bills)
			errs[i], counts[i] = err, bareCounts{pages: pages, calls: calls}
		}()
	}
	wg.Wait()
	el := time.Since(began)
	var total bareCounts
	for i := range jobs {
		if errs[i] != nil {
			return FlowRound{}, bareCounts{}, errs[i]
		}
		total.pages += counts[i].pages
		total.calls += counts[i].calls
	}
	if got := lr.bills(); got != lr.want() {
		return FlowRound{}, bareCounts{}, fmt.Errorf("the simulators hold %d bills after the bare client, want %d", got, lr.want())
	}
	return FlowRound{Bills: lr.want(), Elapsed: el, Rate: float64(lr.want()) / el.Seconds()}, total, nil
}

// barePull reads every page of the source from its start to now, in
// windows of the API's span, halving a window that holds more than the
// source's limit (the first window of the run: a smaller one) as soon as
// its first page says so, as orderhub's pull does; the documents are
// dropped.
func barePull(ctx context.Context, src *ingest.PullSource, now time.Time) (int, error) {
	size := src.PageSize
	if size <= 0 || size > src.API.PageSize {
		size = src.API.PageSize
	}
	pages := 0
	now = now.Truncate(time.Second)
	for from, first := src.Start, true; from.Before(now); first = false {
		limit := src.WindowDocs(from, now, first)
		to := from.Add(src.API.MaxSpan)
		if to.After(now) {
			to = now
		}
		for {
			cut := to.Sub(from) > time.Second
			total, n, err := barePages(ctx, src, from, to, size, limit, cut)
			pages += n
			if err != nil {
				return pages, err
			}
			if total > limit && cut {
				to = from.Add(to.Sub(from) / 2).Truncate(time.Second)
				if !to.After(from) {
					to = from.Add(time.Second)
				}
				continue
			}
			break
		}
		from = to
	}
	return pages, nil
}

func barePages(ctx context.Context, src *ingest.PullSource, from, to time.Time, size, limit int, cut bool) (total, pages int, err error) {
	total = -1
	for page := 0; ; page++ {
		pg, err := src.Puller.Pull(ctx, connector.PullRequest{API: src.API.Name, From: from, To: to, PageNo: page, PageSize: size})
		if err != nil {
			return 0, page, err
		}
		if page == 0 {
			total = pg.Total
			if cut && total > limit {
				return total, 1, nil
			}
		}
		if pg.Len() < size || (total >= 0 && (page+1)*size >= total) {
			return total, page + 1, nil
		}
	}
}

// bareWrite writes bills in calls of the flow's batch size, one call at a
// time.
func bareWrite(ctx context.Context, f *flow.Flow, bills []connector.Bill) (int, error) {
	size := cmp.Or(f.Batch, f.API.Batch, 1)
	if f.API.MaxBatch > 0 {
		size = min(size, f.API.MaxBatch)
	}
	calls := 0
	for start := 0; start < len(bills); start += size {
		chunk := bills[start:min(start+size, len(bills))]
		res, err := f.Writer.Write(ctx, f.API.Name, chunk)
		calls++
		if err != nil {
			return calls, fmt.Errorf("%s: writing %d bills: %w", f.Name, len(chunk), err)
		}
		for _, r := range res {
			if r.Err != nil || r.Duplicate {
				return calls, fmt.Errorf("%s: bill %s refused: %v (duplicate %v)", f.Name, r.No, r.Err, r.Duplicate)
			}
		}
	}
	return calls, nil
}

// realRound is orderhub's path: an App with the seed flows on a fresh
// store, timed from Start until the 金蝶 simulators hold every bill.
func realRound(ctx context.Context, o FlowOptions, seed uint64) (FlowRound, map[string]float64, error) {
	storeURL, drop, err := freshStore(ctx, o, seed)
	if err != nil {
		return FlowRound{}, nil, err
	}
	defer drop()
	lr, err := newLabRound(o, seed, storeURL)
	if err != nil {
		return FlowRound{}, nil, err
	}
	defer lr.lab.Close()
	a, err := app.New(ctx, lr.cfg, o.Log)
	if err != nil {
		return FlowRound{}, nil, err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = a.Shutdown(sctx)
	}()
	began := time.Now()
	if err := a.Start(ctx); err != nil {
		return FlowRound{}, nil, err
	}
	deadline := began.Add(o.Timeout)
	var stored, first time.Duration
	for lr.bills() < lr.want() {
		if first == 0 && lr.bills() > 0 {
			first = time.Since(began)
		}
		if stored == 0 {
			var n int
			if err := a.Store().Reader().QueryRowContext(ctx, "SELECT COUNT(*) FROM orders").Scan(&n); err == nil && n >= lr.want() {
				stored = time.Since(began)
			}
		}
		if time.Now().After(deadline) {
			return FlowRound{}, nil, fmt.Errorf("after %s the simulators hold %d of %d bills", o.Timeout, lr.bills(), lr.want())
		}
		if err := ctx.Err(); err != nil {
			return FlowRound{}, nil, err
		}
		time.Sleep(2 * time.Millisecond)
	}
	el := time.Since(began)
	if got := lr.bills(); got != lr.want() {
		return FlowRound{}, nil, fmt.Errorf("the simulators hold %d bills, want %d", got, lr.want())
	}
	m := scrapeSums(a.Handler(), "orderhub_flow_call_seconds_count", "orderhub_flow_call_seconds_sum")
	return FlowRound{Bills: lr.want(), Elapsed: el, Rate: float64(lr.want()) / el.Seconds(), Stored: cmp.Or(stored, el), First: cmp.Or(first, el),
		Calls: int(m["orderhub_flow_call_seconds_count"]), CallTime: time.Duration(m["orderhub_flow_call_seconds_sum"] * float64(time.Second))}, m, nil
}

// freshStore is an empty store for one round: a new SQLite file, or a new
// database on the PostgreSQL server of o.Store (dropped afterwards).
func freshStore(ctx context.Context, o FlowOptions, seed uint64) (string, func(), error) {
	return roundStore(ctx, o.Store, o.Dir, "flow", seed)
}

// roundStore is an empty store for one round of the bench called what:
// a new SQLite file in dir when store is "sqlite", or a new database on
// the PostgreSQL server store names (dropped afterwards).
func roundStore(ctx context.Context, store, dir, what string, seed uint64) (string, func(), error) {
	if store == "sqlite" {
		dir := filepath.Join(dir, fmt.Sprintf("round-%d-%d", seed, time.Now().UnixNano()))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", nil, err
		}
		return "sqlite://" + filepath.Join(dir, "hub.db"), func() { os.RemoveAll(dir) }, nil
	}
	u, err := url.Parse(store)
	if err != nil {
		return "", nil, fmt.Errorf("--store: %w", err)
	}
	admin, err := sql.Open("pgx", store)
	if err != nil {
		return "", nil, err
	}
	name := fmt.Sprintf("orderhub_bench_%s_%d_%d", what, os.Getpid(), seed)
	if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("--store: %w", err)
	}
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("--store: creating a database for the round: %w", err)
	}
	u.Path = "/" + name
	return u.String(), func() {
		_, _ = admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		admin.Close()
	}, nil
}

// Print writes the report as a table a person can read and paste.
func (r *FlowReport) Print(w io.Writer) {
	fmt.Fprintf(w, "flow benchmark: %d 旺店通 trades a round, flow %s, store %s, paths in %d alternating rounds\n", r.Orders, r.Flow, r.Store, len(r.Real))
	fmt.Fprintf(w, "bare client per round: %d pages read, %d write calls\n\n", r.Pages, r.Calls)
	fmt.Fprintf(w, "%-16s %7s %10s  %s\n", "path", "bills", "bills/s", "rounds (bills/s)")
	for _, p := range []struct {
		name string
		rs   []FlowRound
		med  float64
	}{{"bare client", r.Bare, r.BareMedian}, {"orderhub flows", r.Real, r.RealMedian}} {
		var each []string
		bills := 0
		for _, x := range p.rs {
			e := fmt.Sprintf("%.0f in %s", x.Rate, x.Elapsed.Round(time.Millisecond))
			if x.Stored > 0 {
				e += fmt.Sprintf(" (first bill at %s, all stored at %s, %d calls took %s)", x.First.Round(time.Millisecond),
					x.Stored.Round(time.Millisecond), x.Calls, x.CallTime.Round(time.Millisecond))
			}
			each = append(each, e)
			bills = x.Bills
		}
		fmt.Fprintf(w, "%-16s %7d %10.0f  %s\n", p.name, bills, p.med, strings.Join(each, ", "))
	}
	fmt.Fprintf(w, "\nratio orderhub/bare (medians): %.2f\n", r.Ratio)
	fmt.Fprintf(w, "goal: ≥ %.0f orders/s on 2 cores and ≥ %.1f× the ceiling: %s\n", r.GoalRate, r.GoalRatio, goalMet(r))
	fmt.Fprintf(w, "peak RSS of the process: %.0f MiB\n", r.PeakRSSMiB)
}

func goalMet(r *FlowReport) string {
	return goalVerdict(r.RealMedian >= r.GoalRate, r.Ratio >= r.GoalRatio)
}

func goalVerdict(rate, ratio bool) string {
	switch {
	case rate && ratio:
		return "met"
	case rate:
		return "rate met, ratio not"
	case ratio:
		return "ratio met, rate not"
	default:
		return "not met"
	}
}
