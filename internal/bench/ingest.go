// Package bench measures orderhub against a baseline run side by side in the
// same process, under the same load, so that results are ratios that hold
// across machines rather than wall-clock numbers that do not.
package bench

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"orderhub/internal/app"
	"orderhub/internal/config"
	"orderhub/internal/connector/mall"
)

// IngestOptions configure an ingest benchmark.
type IngestOptions struct {
	Conns    int           // concurrent connections (64)
	Duration time.Duration // measured time per path (10s)
	Rounds   int           // turns the paths take, splitting Duration (3)
	Warmup   time.Duration // unmeasured load before each path (2s)
	// Store is "sqlite" for a fresh SQLite file in Dir, or a postgres:// URL
	// of an empty database.
	Store string
	Dir   string
	// Synchronous is SQLite's durability (FULL by default).
	Synchronous string
	// BatchWait and BatchMax set ingest.batch_wait and ingest.batch_max.
	BatchWait time.Duration
	BatchMax  int
	Log       *slog.Logger
}

// Result is one path's measurements.
type Result struct {
	Name       string
	Requests   int64
	Errors     int64
	Throughput float64 // 2xx answers per second
	P50, P99   time.Duration
	Max        time.Duration
}

// IngestReport compares the bare handler with the real push path.
type IngestReport struct {
	Bare, Real Result
	Ratio      float64 // Real.Throughput / Bare.Throughput
	Store      string
	Conns      int
	Rounds     int
	BatchAvg   float64 // documents per ingest transaction on the real path
	CommitAvg  time.Duration
	PeakRSSMiB float64
}

const appSign = "baaeda3f7f1c3529010816ddb50778f6"

// RunIngest runs the bare handler and then the real push path under the same
// load of distinct seed-004 orders, and reports both.
func RunIngest(ctx context.Context, o IngestOptions) (*IngestReport, error) {
	if o.Conns <= 0 {
		o.Conns = 64
	}
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Rounds <= 0 {
		o.Rounds = 3
	}
	load := newLoad()

	bareURL, stopBare, err := serveBare()
	if err != nil {
		return nil, err
	}
	defer stopBare()
	if (o.Store == "" || o.Store == "sqlite") && o.Dir == "" {
		dir, err := os.MkdirTemp("", "orderhub-bench-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		o.Dir = dir
	}
	a, url, err := startReal(ctx, o)
	if err != nil {
		return nil, err
	}
	// The paths take turns, round by round, so that whatever else the
	// machine does in the meantime falls on both alike.
	bare, real := &meter{name: "bare decode"}, &meter{name: "orderhub push"}
	bareDriver, realDriver := newDriver(bareURL, o.Conns, load), newDriver(url, o.Conns, load)
	bareDriver.run(ctx, o.Warmup, nil)
	realDriver.run(ctx, o.Warmup, nil)
	for r := 0; r < o.Rounds; r++ {
		bareDriver.run(ctx, o.Duration/time.Duration(o.Rounds), bare)
		realDriver.run(ctx, o.Duration/time.Duration(o.Rounds), real)
	}
	bareDriver.close()
	realDriver.close()
	batchAvg, commitAvg := batchAverage(a)
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.Shutdown(sctx); err != nil {
		return nil, err
	}
	rep := &IngestReport{Bare: bare.result(), Real: real.result(), Store: o.Store, Conns: o.Conns, Rounds: o.Rounds,
		BatchAvg: batchAvg, CommitAvg: commitAvg, PeakRSSMiB: peakRSS()}
	if rep.Bare.Throughput > 0 {
		rep.Ratio = rep.Real.Throughput / rep.Bare.Throughput
	}
	return rep, nil
}

// load hands out request bodies: seed-004 documents with distinct order
// numbers. A few hundred generated documents are the templates; each request
// copies one and writes a fresh number over its order_no, so every path sees
// the same stream and the generator costs nothing during measurement.
type load struct {
	templates [][]byte
	noAt      []int // offset of the order number's digits in each template
	noLen     int
	seq       atomic.Int64
}

func newLoad() *load {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	gen := mall.NewGenerator(42, appSign, loc, "B")
	l := &load{}
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, loc)
	for i := 0; i < 512; i++ {
		doc := gen.New(now)
		if i%4 != 0 {
			gen.Advance(doc, now) // most orders arrive paid
		}
		doc.OrderNo = "B" + strings.Repeat("0", 19)
		body := mall.Body(doc)
		at := bytes.Index(body, []byte(`"order_no":"`+doc.OrderNo+`"`)) + len(`"order_no":"`) + 1
		l.templates = append(l.templates, body)
		l.noAt = append(l.noAt, at)
	}
	l.noLen = 19
	return l
}

// next writes the next body into buf and returns it.
func (l *load) next(buf []byte) []byte {
	n := l.seq.Add(1)
	i := int(n % int64(len(l.templates)))
	buf = append(buf[:0], l.templates[i]...)
	digits := strconv.FormatInt(n, 10)
	no := buf[l.noAt[i] : l.noAt[i]+l.noLen]
	for j := range no {
		no[j] = '0'
	}
	copy(no[l.noLen-len(digits):], digits)
	return buf
}

// BareHandler is the baseline: it reads the body and decodes it into the
// mall's order type, nothing else, and answers a small JSON object. It is
// what any HTTP service that accepts this document must do at least.
func BareHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var doc mall.Order
		if err := json.Unmarshal(body, &doc); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"ok":true}` + "\n"))
	})
}

// serveBare serves BareHandler on a loopback port of this process.
func serveBare() (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: BareHandler()}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String() + "/", func() { srv.Close() }, nil
}

func startReal(ctx context.Context, o IngestOptions) (*app.App, string, error) {
	storeURL := o.Store
	if storeURL == "" || storeURL == "sqlite" {
		storeURL = "sqlite://" + filepath.Join(o.Dir, "bench.db")
	}
	sync := o.Synchronous
	if sync == "" {
		sync = "FULL"
	}
	text := fmt.Sprintf(`store: %q
listen: 127.0.0.1:0
ingest: {sqlite_synchronous: %s, batch_wait: %s, batch_max: %d}
systems:
  mall:
    kind: mall
    app_sign: %s
sources:
  bench:
    system: mall
    mode: push
`, storeURL, sync, o.BatchWait, cmp.Or(o.BatchMax, 256), appSign)
	cfg, err := config.Parse([]byte(text), "bench.yaml", func(string) (string, bool) { return "", false })
	if err != nil {
		return nil, "", err
	}
	a, err := app.New(ctx, cfg, o.Log)
	if err != nil {
		return nil, "", err
	}
	if err := a.Start(ctx); err != nil {
		return nil, "", err
	}
	return a, "http://" + a.Addr() + "/v1/push/bench", nil
}

// driver sends load to one URL over conns keep-alive connections, each
// sending one request at a time.
type driver struct {
	url    string
	conns  int
	load   *load
	tr     *http.Transport
	client *http.Client
}

func newDriver(url string, conns int, l *load) *driver {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true}
	return &driver{url: url, conns: conns, load: l, tr: tr, client: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

func (d *driver) close() { d.tr.CloseIdleConnections() }

// run sends load for dur; with m, it records every answer in m.
func (d *driver) run(ctx context.Context, dur time.Duration, m *meter) {
	if dur <= 0 {
		return
	}
	start := time.Now()
	deadline := start.Add(dur)
	var wg sync.WaitGroup
	lats := make([][]time.Duration, d.conns)
	var ok, bad atomic.Int64
	for c := 0; c < d.conns; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			buf := make([]byte, 0, 8192)
			rd := bytes.NewReader(nil)
			for time.Now().Before(deadline) && ctx.Err() == nil {
				buf = d.load.next(buf)
				rd.Reset(buf)
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, d.url, io.NopCloser(rd))
				req.ContentLength = int64(len(buf))
				req.Header.Set("Content-Type", "application/json")
				t0 := time.Now()
				resp, err := d.client.Do(req)
				if err != nil {
					bad.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				el := time.Since(t0)
				if resp.StatusCode/100 != 2 {
					bad.Add(1)
					continue
				}
				ok.Add(1)
				lats[c] = append(lats[c], el)
			}
		}(c)
	}
	wg.Wait()
	if m == nil {
		return
	}
	m.elapsed += time.Since(start)
	m.ok += ok.Load()
	m.bad += bad.Load()
	for _, ls := range lats {
		m.lats = append(m.lats, ls...)
	}
}

// meter adds up one path's rounds.
type meter struct {
	name    string
	elapsed time.Duration
	ok, bad int64
	lats    []time.Duration
}

func (m *meter) result() Result {
	slices.Sort(m.lats)
	r := Result{Name: m.name, Requests: m.ok, Errors: m.bad}
	if m.elapsed > 0 {
		r.Throughput = float64(m.ok) / m.elapsed.Seconds()
	}
	if n := len(m.lats); n > 0 {
		r.P50, r.P99, r.Max = m.lats[n/2], m.lats[n*99/100], m.lats[n-1]
	}
	return r
}

// batchAverage reads the real path's mean batch size and commit time from
// its own metrics.
func batchAverage(a *app.App) (float64, time.Duration) {
	m := scrape(a.Handler(), "orderhub_ingest_batch_size_sum", "orderhub_ingest_batch_size_count", "orderhub_ingest_commit_seconds_sum")
	count := m["orderhub_ingest_batch_size_count"]
	if count == 0 {
		return 0, 0
	}
	return m["orderhub_ingest_batch_size_sum"] / count, time.Duration(m["orderhub_ingest_commit_seconds_sum"] / count * float64(time.Second))
}

// peakRSS reads the process's peak resident memory from /proc.
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseFloat(f[1], 64)
				return kb / 1024
			}
		}
	}
	return 0
}

// Print writes the report as a table a person can read and paste.
func (r *IngestReport) Print(w io.Writer) {
	fmt.Fprintf(w, "ingest benchmark: %d connections, store %s, paths in %d alternating rounds\n\n", r.Conns, r.Store, r.Rounds)
	fmt.Fprintf(w, "%-14s %10s %10s %9s %9s %9s %7s\n", "path", "requests", "orders/s", "p50", "p99", "max", "errors")
	for _, x := range []Result{r.Bare, r.Real} {
		fmt.Fprintf(w, "%-14s %10d %10.0f %9s %9s %9s %7d\n", x.Name, x.Requests, x.Throughput,
			x.P50.Round(10*time.Microsecond), x.P99.Round(10*time.Microsecond), x.Max.Round(100*time.Microsecond), x.Errors)
	}
	fmt.Fprintf(w, "\nratio orderhub/bare: %.2f\ndocuments per transaction: %.1f, mean transaction time %s\npeak RSS of the process: %.0f MiB\n",
		r.Ratio, r.BatchAvg, r.CommitAvg.Round(10*time.Microsecond), r.PeakRSSMiB)
}
