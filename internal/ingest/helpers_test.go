package ingest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"orderhub/internal/connector/mall"
	"orderhub/internal/connector/webhook"
	"orderhub/internal/store"
	"orderhub/internal/testutil/logbuf"
)

const (
	mallSign   = "shop-app-sign-0123456789abcdef"
	hookSecret = "whsec_ingest_test_0123456789"
	maxBody    = 1 << 20
)

// seen is what the server saw of the last push, to prove how it was sent.
type seen struct {
	mu               sync.Mutex
	contentLength    int64
	transferEncoding []string
}

// env is one hub's ingest path, wired the way internal/app wires it, over a
// real SQLite file.
type env struct {
	t     *testing.T
	loc   *time.Location
	store *store.Store
	reg   *prometheus.Registry
	logs  *logbuf.Buffer
	srv   *httptest.Server
	c     *Committer
	last  *seen
	gen   *mall.Generator
}

func newEnv(t *testing.T) *env {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "hub.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	logs := &logbuf.Buffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	c := NewCommitter(st, CommitterOptions{Log: log, Metrics: m})
	go c.Run()
	t.Cleanup(c.Close)
	h := NewPushHandler([]*Source{
		{Name: "shop", Receiver: mall.NewReceiver(mallSign, loc), MaxBody: maxBody},
		{Name: "hook", Receiver: webhook.NewReceiver(5*time.Minute, hookSecret), MaxBody: maxBody},
	}, c, log, m)
	mux := http.NewServeMux()
	mux.Handle("POST /v1/push/{source}", h)
	last := &seen{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		last.mu.Lock()
		last.contentLength, last.transferEncoding = r.ContentLength, r.TransferEncoding
		last.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return &env{t: t, loc: loc, store: st, reg: reg, logs: logs, srv: srv, c: c, last: last,
		gen: mall.NewGenerator(1, mallSign, loc, "T")}
}

type answer struct {
	status      int
	contentType string
	body        []byte
}

type pushOpt func(req *http.Request)

// chunked sends the body without a Content-Length.
func chunked(req *http.Request) {
	body := req.Body
	req.Body = io.NopCloser(struct{ io.Reader }{body}) // hide the length
	req.ContentLength = -1
	req.GetBody = nil
}

func withHeaders(h map[string]string) pushOpt {
	return func(req *http.Request) {
		for k, v := range h {
			req.Header.Set(k, v)
		}
	}
}

func (e *env) push(source string, body []byte, opts ...pushOpt) answer {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/v1/push/"+source, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for _, o := range opts {
		o(req)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("POST /v1/push/%s: %v", source, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return answer{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: b}
}

// signedHook signs body for the webhook source at when.
func signedHook(secret string, when time.Time, body []byte) pushOpt {
	ts, sig := webhook.Sign(secret, when, body)
	return withHeaders(map[string]string{webhook.HeaderTimestamp: ts, webhook.HeaderSignature: sig})
}

func (e *env) count() store.Counts {
	e.t.Helper()
	c, err := e.store.Count(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// series returns every sample of the named metric family, keyed by its
// labels written as name=value pairs sorted by name ("" when it has none).
// Counters and gauges give their value; histograms their sample count.
func (e *env) series(name string) map[string]float64 {
	e.t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, lp := range m.GetLabel() {
				labels = append(labels, lp.GetName()+"="+lp.GetValue())
			}
			sort.Strings(labels)
			key := strings.Join(labels, ",")
			switch {
			case m.GetCounter() != nil:
				out[key] = m.GetCounter().GetValue()
			case m.GetHistogram() != nil:
				out[key] = float64(m.GetHistogram().GetSampleCount())
			case m.GetGauge() != nil:
				out[key] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

// histogram returns a histogram's sample count, sum and cumulative bucket
// counts by upper bound.
func (e *env) histogram(name string) (count uint64, sum float64, buckets map[float64]uint64) {
	e.t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		h := mf.GetMetric()[0].GetHistogram()
		buckets = map[float64]uint64{}
		for _, b := range h.GetBucket() {
			buckets[b.GetUpperBound()] = b.GetCumulativeCount()
		}
		return h.GetSampleCount(), h.GetSampleSum(), buckets
	}
	e.t.Fatalf("no histogram %s", name)
	return
}

func equalSeries(got, want map[string]float64) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			return false
		}
	}
	return true
}

func fmtSeries(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "{%s} %g; ", k, m[k])
	}
	return b.String()
}
