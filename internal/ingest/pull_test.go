package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"orderhub/internal/connector"
	"orderhub/internal/order"
	"orderhub/internal/store"
)

// fakeDoc is one document of the fake provider: modified at Modified, and
// visible to queries only from VisibleAt (a row committed late).
type fakeDoc struct {
	No        string
	Modified  time.Time
	VisibleAt time.Time
	Rev       int
}

// fakeProvider pages its documents the way the OMS APIs do: inclusive
// windows on the modified time, pages from 0, a total on every page.
type fakeProvider struct {
	mu       sync.Mutex
	now      func() time.Time
	docs     []fakeDoc
	requests []connector.PullRequest
	// failAt fails the request with this index (0-based) and the next
	// failTimes-1 ones (a provider down for a while).
	failAt, failTimes int
	// before runs at the start of every Pull (to move the sync state as
	// another node would).
	before func()
}

func (f *fakeProvider) Pull(_ context.Context, req connector.PullRequest) (*connector.PullPage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.before != nil {
		f.before()
	}
	n := len(f.requests)
	f.requests = append(f.requests, req)
	if f.failAt >= 0 && n >= f.failAt && n < f.failAt+max(f.failTimes, 1) {
		return nil, &connector.CallError{Class: connector.Retry, Op: "fake", Message: "injected failure"}
	}
	if req.To.Sub(req.From) > testAPI.MaxSpan {
		return nil, &connector.CallError{Class: connector.Permanent, Message: "span too wide"}
	}
	var match []fakeDoc
	for _, d := range f.docs {
		if !d.Modified.Before(req.From) && !d.Modified.After(req.To) && !f.now().Before(d.VisibleAt) {
			match = append(match, d)
		}
	}
	sort.SliceStable(match, func(i, j int) bool { return match[i].Modified.Before(match[j].Modified) })
	page := &connector.PullPage{Total: len(match)}
	for i := req.PageNo * req.PageSize; i < len(match) && i < (req.PageNo+1)*req.PageSize; i++ {
		d := match[i]
		raw, _ := json.Marshal(map[string]any{"no": d.No, "modified": d.Modified.Format(time.DateTime), "rev": d.Rev})
		page.Docs = append(page.Docs, connector.Document{
			Order: order.Order{OrderNo: d.No, Status: order.StatusPaid, Total: 1000, Currency: "CNY", CreatedAt: d.Modified, UpdatedAt: d.Modified},
			Raw:   raw,
		})
	}
	return page, nil
}

func (f *fakeProvider) set(docs ...fakeDoc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.docs = append(f.docs, docs...)
}

var testAPI = connector.PullAPI{Name: "trade.query", MaxSpan: time.Hour, PageSize: 10}

type pullEnv struct {
	t     *testing.T
	store *store.Store
	p     *Pulling
	prov  *fakeProvider
	src   *PullSource
	clock time.Time
}

func newPullEnv(t *testing.T) *pullEnv {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "pull.db"), store.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &pullEnv{t: t, store: st, clock: time.Date(2026, 1, 1, 5, 0, 0, 0, time.UTC)}
	e.prov = &fakeProvider{now: func() time.Time { return e.clock }, failAt: -1}
	e.p = NewPulling(st, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	e.p.SetClock(func() time.Time { return e.clock })
	e.p.pageWait = time.Millisecond
	e.src = &PullSource{Name: "wdt_trades", System: "wdt", Puller: e.prov, API: testAPI,
		Every: time.Minute, Overlap: 3 * time.Minute, Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), MaxWindowDocs: 50}
	return e
}

func (e *pullEnv) stored() map[string]int64 {
	e.t.Helper()
	rows, err := e.store.Reader().QueryContext(context.Background(), `SELECT order_no, version FROM orders WHERE source = 'wdt_trades'`)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var no string
		var v int64
		if err := rows.Scan(&no, &v); err != nil {
			e.t.Fatal(err)
		}
		out[no] = v
	}
	return out
}

func (e *pullEnv) syncedTo() time.Time {
	e.t.Helper()
	st, found, err := e.store.PullStateOf(context.Background(), e.store.Reader(), e.src.Name)
	if err != nil {
		e.t.Fatal(err)
	}
	if !found {
		return time.Time{}
	}
	return st.SyncedTo
}

func at(h, m, s int) time.Time { return time.Date(2026, 1, 1, h, m, s, 0, time.UTC) }

func TestSyncCatchesUpWindowByWindow(t *testing.T) {
	e := newPullEnv(t)
	var docs []fakeDoc
	for i := range 120 {
		docs = append(docs, fakeDoc{No: fmt.Sprintf("T%03d", i), Modified: at(0, 0, 0).Add(time.Duration(i) * 2 * time.Minute)})
	}
	e.prov.set(docs...)
	var windows []Window
	if err := e.p.Sync(context.Background(), e.src, func(w Window) { windows = append(windows, w) }); err != nil {
		t.Fatal(err)
	}
	got := e.stored()
	if len(got) != 120 {
		t.Fatalf("stored %d documents, want 120", len(got))
	}
	for _, r := range e.prov.requests {
		if r.To.Sub(r.From) > time.Hour || r.PageSize > testAPI.PageSize {
			t.Fatalf("request %+v is wider than the API allows", r)
		}
	}
	if len(windows) != 5 || !windows[0].From.Equal(at(0, 0, 0)) || !windows[4].To.Equal(at(5, 0, 0)) {
		t.Fatalf("windows = %+v, want five hours from 00:00 to 05:00", windows)
	}
	if !e.syncedTo().Equal(at(5, 0, 0)) {
		t.Fatalf("synced to %v, want 05:00", e.syncedTo())
	}
}

// Documents on the edge of a window (several in the same second) and one
// that became visible after its window was read are stored exactly once.
func TestSyncEdgesTiesAndLateRows(t *testing.T) {
	e := newPullEnv(t)
	e.src.Start = at(4, 0, 0)
	edge := at(4, 59, 59)
	e.prov.set(
		fakeDoc{No: "EDGE-1", Modified: edge}, fakeDoc{No: "EDGE-2", Modified: edge}, fakeDoc{No: "EDGE-3", Modified: edge},
		fakeDoc{No: "TOP", Modified: at(5, 0, 0)},
		// Modified at 04:58:30 but committed only at 05:01.
		fakeDoc{No: "LATE", Modified: at(4, 58, 30), VisibleAt: at(5, 1, 0)},
	)
	if err := e.p.Sync(context.Background(), e.src, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.stored()["LATE"]; ok {
		t.Fatal("a row not yet visible was stored")
	}
	e.clock = at(5, 2, 0)
	if err := e.p.Sync(context.Background(), e.src, nil); err != nil {
		t.Fatal(err)
	}
	got := e.stored()
	for _, no := range []string{"EDGE-1", "EDGE-2", "EDGE-3", "TOP", "LATE"} {
		if got[no] != 1 {
			t.Errorf("%s stored at version %d, want exactly one version", no, got[no])
		}
	}
	if !e.syncedTo().Equal(at(5, 2, 0)) {
		t.Fatalf("synced to %v, want 05:02", e.syncedTo())
	}
}

// A changed document pulled again becomes a new version; an unchanged one
// re-read in the overlap does not.
func TestSyncNewVersionOnChange(t *testing.T) {
	e := newPullEnv(t)
	e.src.Start = at(4, 50, 0)
	e.prov.set(fakeDoc{No: "A", Modified: at(4, 55, 0)}, fakeDoc{No: "B", Modified: at(4, 56, 0)})
	if err := e.p.Sync(context.Background(), e.src, nil); err != nil {
		t.Fatal(err)
	}
	e.prov.mu.Lock()
	e.prov.docs[1] = fakeDoc{No: "B", Modified: at(5, 0, 30), Rev: 2}
	e.prov.mu.Unlock()
	e.clock = at(5, 1, 0)
	if err := e.p.Sync(context.Background(), e.src, nil); err != nil {
		t.Fatal(err)
	}
	if got := e.stored(); got["A"] != 1 || got["B"] != 2 {
		t.Fatalf("versions = %v, want A at 1 and B at 2", got)
	}
}

// A window holding more documents than max_window_docs is cut in two until
// it fits.
func TestSyncCutsCrowdedWindows(t *testing.T) {
	e := newPullEnv(t)
	e.src.Start = at(4, 0, 0)
	var docs []fakeDoc
	for i := range 200 {
		docs = append(docs, fakeDoc{No: fmt.Sprintf("C%03d", i), Modified: at(4, 0, 0).Add(time.Duration(i) * 17 * time.Second)})
	}
	e.prov.set(docs...)
	var windows []Window
	if err := e.p.Sync(context.Background(), e.src, func(w Window) { windows = append(windows, w) }); err != nil {
		t.Fatal(err)
	}
	if len(e.stored()) != 200 {
		t.Fatalf("stored %d, want 200", len(e.stored()))
	}
	for _, w := range windows {
		if w.Docs > e.src.MaxWindowDocs {
			t.Fatalf("window %v–%v holds %d documents, over the limit of %d", w.From, w.To, w.Docs, e.src.MaxWindowDocs)
		}
	}
	if len(windows) < 4 {
		t.Fatalf("%d windows for 200 documents at 50 a window", len(windows))
	}
	// A crowded window is cut as soon as its first page gives the total:
	// the pages after it are read only of windows that are kept.
	kept := map[[2]time.Time]bool{}
	for _, w := range windows {
		kept[[2]time.Time{w.From, w.To}] = true
	}
	for _, r := range e.prov.requests {
		if r.PageNo > 0 && !kept[[2]time.Time{r.From, r.To}] {
			t.Fatalf("page %d of %v–%v was read, a window that was cut", r.PageNo, r.From, r.To)
		}
	}
}

// A run with more than one window to read (catching up) keeps its first
// window to a few pages, so that its documents reach the flows while the
// rest is read; the windows after it, and a run with one window to read,
// hold up to the source's limit.
func TestSyncFirstWindowOfACatchUpIsSmall(t *testing.T) {
	tests := []struct {
		name        string
		start       time.Time
		firstAtMost int
		stored      int
	}{
		{"catching up from two hours back", at(3, 0, 0), firstWindowDocs, 1200},
		{"one window to read", at(4, 5, 0), 5000, 550},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newPullEnv(t)
			e.src.Start, e.src.MaxWindowDocs = tt.start, 5000
			var docs []fakeDoc
			for i := range 1200 { // 600 an hour from 03:00
				docs = append(docs, fakeDoc{No: fmt.Sprintf("F%04d", i), Modified: at(3, 0, 0).Add(time.Duration(i) * 6 * time.Second)})
			}
			e.prov.set(docs...)
			var windows []Window
			if err := e.p.Sync(context.Background(), e.src, func(w Window) { windows = append(windows, w) }); err != nil {
				t.Fatal(err)
			}
			if len(windows) == 0 || windows[0].Docs > tt.firstAtMost {
				t.Fatalf("windows %+v: the first holds more than %d documents", windows, tt.firstAtMost)
			}
			if tt.firstAtMost == 5000 && (len(windows) != 1 || windows[0].Docs <= firstWindowDocs) {
				t.Fatalf("windows %+v: a run with one window to read was cut", windows)
			}
			if tt.firstAtMost == firstWindowDocs && (len(windows) < 2 || windows[1].Docs <= firstWindowDocs) {
				t.Fatalf("windows %+v: the second window should hold up to the source's limit", windows)
			}
			if n := len(e.stored()); n != tt.stored {
				t.Fatalf("stored %d documents, want %d", n, tt.stored)
			}
		})
	}
}

// A failure part-way keeps the windows already stored, moves the sync time
// only that far, and the next run goes on from there.
func TestSyncFailureKeepsWhatWasStored(t *testing.T) {
	e := newPullEnv(t)
	var docs []fakeDoc
	for i := range 60 {
		docs = append(docs, fakeDoc{No: fmt.Sprintf("F%03d", i), Modified: at(0, 0, 0).Add(time.Duration(i) * 5 * time.Minute)})
	}
	e.prov.set(docs...)
	// Window 1 has two pages (13 docs, both ends included); window 2's
	// second page fails every try.
	e.prov.failAt, e.prov.failTimes = 3, pageTries
	err := e.p.Sync(context.Background(), e.src, nil)
	if connector.ClassOf(err) != connector.Retry {
		t.Fatalf("Sync = %v, want the injected retry error", err)
	}
	if got := len(e.stored()); got != 13 {
		t.Fatalf("after the failure %d documents are stored, want the 13 of the first window", got)
	}
	if !e.syncedTo().Equal(at(1, 0, 0)) {
		t.Fatalf("synced to %v, want the end of the first window", e.syncedTo())
	}
	st, _, _ := e.store.PullStateOf(context.Background(), e.store.Reader(), e.src.Name)
	if st.LastError == "" {
		t.Fatal("the failed run left no error on the sync state")
	}
	if err := e.p.Sync(context.Background(), e.src, nil); err != nil {
		t.Fatal(err)
	}
	if got := len(e.stored()); got != 60 {
		t.Fatalf("after the retry %d documents are stored, want 60", got)
	}
}

// One failed page among a window's is tried again: the window is stored
// whole in one run.
func TestSyncRetriesAFailedPage(t *testing.T) {
	e := newPullEnv(t)
	e.src.Start = at(4, 0, 0)
	var docs []fakeDoc
	for i := range 35 {
		docs = append(docs, fakeDoc{No: fmt.Sprintf("P%03d", i), Modified: at(4, 0, 0).Add(time.Duration(i) * time.Minute)})
	}
	e.prov.set(docs...)
	e.prov.failAt, e.prov.failTimes = 2, 2 // page 2, twice
	if err := e.p.Sync(context.Background(), e.src, nil); err != nil {
		t.Fatalf("a page that failed twice ended the run: %v", err)
	}
	if got := len(e.stored()); got != 35 {
		t.Fatalf("stored %d, want 35", got)
	}
	if n := len(e.prov.requests); n != 6 {
		t.Fatalf("%d requests, want 6 (four pages, the third twice more)", n)
	}
}

// The documents of a window and the move of the sync time commit together:
// when another puller moved the sync time meanwhile, neither is written.
func TestSyncTimeAndDocumentsCommitTogether(t *testing.T) {
	e := newPullEnv(t)
	e.src.Start = at(4, 30, 0)
	e.prov.set(fakeDoc{No: "X1", Modified: at(4, 40, 0)}, fakeDoc{No: "X2", Modified: at(4, 41, 0)})
	moved := false
	e.prov.before = func() {
		if moved {
			return
		}
		moved = true
		tx, err := e.store.DB().BeginTx(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.AdvancePull(context.Background(), tx, store.PullState{}, false,
			store.PullState{Source: e.src.Name, SyncedTo: at(4, 35, 0), LastRunAt: e.clock}); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	err := e.p.Sync(context.Background(), e.src, nil)
	if !errors.Is(err, ErrSyncMoved) {
		t.Fatalf("Sync = %v, want ErrSyncMoved", err)
	}
	if got := e.stored(); len(got) != 0 {
		t.Fatalf("documents %v were stored although their window's sync move was refused", got)
	}
	if !e.syncedTo().Equal(at(4, 35, 0)) {
		t.Fatalf("synced to %v, want the other puller's 04:35", e.syncedTo())
	}
}

// A backfill stopped part-way resumes where it stopped, without reading
// the windows it had stored again, and leaves the live sync time alone.
func TestBackfillResumes(t *testing.T) {
	e := newPullEnv(t)
	var docs []fakeDoc
	for i := range 48 {
		docs = append(docs, fakeDoc{No: fmt.Sprintf("B%03d", i), Modified: at(0, 0, 0).Add(time.Duration(i) * 10 * time.Minute)})
	}
	e.prov.set(docs...)
	e.prov.failAt, e.prov.failTimes = 2, pageTries // the third window (one page each)
	from, to := at(0, 0, 0), at(8, 0, 0)
	_, err := e.p.Backfill(context.Background(), e.src, from, to, nil)
	if err == nil {
		t.Fatal("the injected failure did not stop the backfill")
	}
	stored := len(e.stored())
	if stored != 13 {
		t.Fatalf("%d documents stored before the failure, want the 13 of two windows", stored)
	}
	before := len(e.prov.requests)
	var windows []Window
	bf, err := e.p.Backfill(context.Background(), e.src, from, to, func(w Window) { windows = append(windows, w) })
	if err != nil {
		t.Fatal(err)
	}
	if !bf.Done() || bf.FinishedAt.IsZero() {
		t.Fatalf("backfill = %+v, want it done", bf)
	}
	if !windows[0].From.Equal(at(2, 0, 0)) {
		t.Fatalf("the resumed backfill began at %v, want 02:00 where it stopped", windows[0].From)
	}
	if n := len(e.prov.requests) - before; n != 6 {
		t.Fatalf("the resumed backfill made %d requests, want 6 (six windows of one page)", n)
	}
	if len(e.stored()) != 48 {
		t.Fatalf("stored %d, want 48", len(e.stored()))
	}
	if !e.syncedTo().IsZero() {
		t.Fatalf("the backfill moved the live sync time to %v", e.syncedTo())
	}
}

// Pulled documents carry a "pulled" step on their timeline.
func TestSyncRecordsPulledStep(t *testing.T) {
	e := newPullEnv(t)
	e.src.Start = at(4, 50, 0)
	e.prov.set(fakeDoc{No: "TL", Modified: at(4, 55, 0)})
	if err := e.p.Sync(context.Background(), e.src, nil); err != nil {
		t.Fatal(err)
	}
	rec, err := e.store.GetOrder(context.Background(), "wdt_trades", "TL")
	if err != nil {
		t.Fatal(err)
	}
	steps, err := e.store.Timeline(context.Background(), rec.ID)
	if err != nil {
		t.Fatal(err)
	}
	var pulled bool
	for _, s := range steps {
		if s.Stage == "pulled" {
			var d struct {
				Source string    `json:"source"`
				Window [2]string `json:"window"`
			}
			if err := json.Unmarshal(s.Detail, &d); err != nil {
				t.Fatal(err)
			}
			pulled = d.Source == "wdt_trades" && d.Window[0] == "2026-01-01T04:50:00Z"
		}
	}
	if !pulled {
		t.Fatalf("timeline %v has no pulled step naming the source and window", steps)
	}
}

// At start the runner queues a run of each source that is due, beside the
// clock, so that a node's first pull does not wait for the clock's run to
// be fetched; a source pulled within its every: is left to the clock.
func TestStartJobsPullTheDueSources(t *testing.T) {
	e := newPullEnv(t)
	recent := *e.src
	recent.Name = "wdt_refunds"
	if err := e.p.Sync(context.Background(), &recent, nil); err != nil { // runs now: not due for a minute
		t.Fatal(err)
	}
	never := *e.src
	never.Name = "wdt_stockins"
	st := NewPullStage(e.p, slog.New(slog.NewTextHandler(io.Discard, nil)), []*PullSource{e.src, &recent, &never})
	args, err := st.StartJobs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range args {
		switch x := a.(type) {
		case pullClockArgs:
			got = append(got, "clock")
		case PullArgs:
			got = append(got, x.Source)
		default:
			t.Fatalf("unexpected start job %T", a)
		}
	}
	if want := "clock wdt_stockins wdt_trades"; strings.Join(got, " ") != want {
		t.Fatalf("start jobs %v, want %s", got, want)
	}
}
