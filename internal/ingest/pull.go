package ingest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/prometheus/client_golang/prometheus"

	"orderhub/internal/connector"
	"orderhub/internal/store"
)

// PullSource is one configured pull source, ready to run.
type PullSource struct {
	Name   string
	System string
	Puller connector.Puller
	API    connector.PullAPI
	// Every is how often the source is polled.
	Every time.Duration
	// Overlap is how far before the sync time each poll re-reads, for
	// documents that became visible late.
	Overlap time.Duration
	// Start is where the first window begins; zero: when first run.
	Start time.Time
	// MaxWindowDocs cuts a window that holds more documents in two.
	MaxWindowDocs int
	// PageSize is the page size asked for (the API's largest by default).
	PageSize int
}

// firstWindowDocs is the most documents the first window of a run holds
// when the run has more than one window to read (a source catching up
// after start or an outage): its documents are stored, and handed to the
// flows, after a few pages instead of after a whole crowded window, and
// the windows after it are cut at MaxWindowDocs as usual.
const firstWindowDocs = 500

// defaultWindowDocs is MaxWindowDocs when the source does not say.
const defaultWindowDocs = 5000

// WindowDocs is how many documents the window of src from from holds at
// most before it is cut in two; first says it is the first window of a
// run that reads up to now.
func (src *PullSource) WindowDocs(from, now time.Time, first bool) int {
	limit := src.MaxWindowDocs
	if limit <= 0 {
		limit = defaultWindowDocs
	}
	if first && now.Sub(from) > src.API.MaxSpan {
		limit = min(limit, firstWindowDocs)
	}
	return limit
}

// ErrSyncMoved is returned when another puller moved a source's sync time
// while this one read a window: what this one read is rolled back and the
// next run starts from the new sync time.
var ErrSyncMoved = errors.New("ingest: the sync time was moved by another puller")

// Pulling reads pull sources window by window into the store. A window is
// stored in one transaction together with the move of the source's sync
// time (or a backfill's progress), so a crash leaves either both or
// neither, and the next run starts where the last stored window ended.
type Pulling struct {
	store   *store.Store
	hook    store.ApplyHook
	log     *slog.Logger
	now     func() time.Time
	metrics *pullMetrics
	// pageWait is the first wait before a failed page is tried again.
	pageWait time.Duration
}

// NewPulling returns the pull path. hook runs inside every window's
// transaction (it queues the event dispatch); reg may be nil.
func NewPulling(s *store.Store, hook store.ApplyHook, log *slog.Logger, reg prometheus.Registerer) *Pulling {
	if log == nil {
		log = slog.Default()
	}
	return &Pulling{store: s, hook: hook, log: log, now: time.Now, metrics: newPullMetrics(reg), pageWait: 200 * time.Millisecond}
}

// SetClock replaces the clock (tests).
func (p *Pulling) SetClock(now func() time.Time) { p.now = now }

// Window is one stored window of a pull.
type Window struct {
	From, To time.Time
	Pages    int
	Docs     int
	// Stored counts the documents that were new or changed.
	Stored int
	// Refused counts the documents that could not be turned into orders;
	// they are recorded (store.PullRefusal) and the window goes on without
	// them.
	Refused int
}

// Progress is told of each stored window.
type Progress func(w Window)

// Sync pulls a source from its sync time up to now, window by window, each
// no wider than the API allows.
func (p *Pulling) Sync(ctx context.Context, src *PullSource, progress Progress) error {
	_, err := p.SyncFor(ctx, src, 0, progress)
	return err
}

// SyncFor is Sync that stops between windows once budget (0: none) is
// spent; more reports that the source was not caught up then.
func (p *Pulling) SyncFor(ctx context.Context, src *PullSource, budget time.Duration, progress Progress) (more bool, err error) {
	began := time.Now()
	state, found, err := p.store.PullStateOf(ctx, p.store.Reader(), src.Name)
	if err != nil {
		return false, err
	}
	now := p.now().Truncate(time.Second)
	var from time.Time
	switch {
	case found:
		from = state.SyncedTo.Add(-src.Overlap)
		if !src.Start.IsZero() && from.Before(src.Start) {
			from = src.Start
		}
	case !src.Start.IsZero():
		from = src.Start
	default:
		from = now.Add(-src.Overlap)
	}
	for first := true; from.Before(now); first = false {
		if budget > 0 && time.Since(began) > budget {
			return true, nil
		}
		to := minTime(from.Add(src.API.MaxSpan), now)
		w, docs, refused, err := p.read(ctx, src, from, to, src.WindowDocs(from, now, first))
		if err != nil {
			p.recordError(ctx, src, err)
			return false, err
		}
		next := store.PullState{Source: src.Name, SyncedTo: w.To, LastFrom: w.From, LastTo: w.To, LastDocs: int64(w.Docs), LastRunAt: p.now()}
		// The sync time never moves back: an overlap re-read ends where the
		// last window ended, or later.
		if found && next.SyncedTo.Before(state.SyncedTo) {
			next.SyncedTo = state.SyncedTo
		}
		stored, err := p.storeWindow(ctx, src, w, docs, refused, func(ctx context.Context, tx *sql.Tx) error {
			ok, err := p.store.AdvancePull(ctx, tx, state, found, next)
			if err == nil && !ok {
				err = ErrSyncMoved
			}
			return err
		})
		if err != nil {
			p.recordError(ctx, src, err)
			return false, err
		}
		w.Stored = stored
		state, found = next, true
		if progress != nil {
			progress(w)
		}
		from = w.To
	}
	return false, nil
}

// Backfill pulls a past range of a source through the same path as Sync,
// resuming a backfill of the same range where it stopped. The source's
// sync time does not move.
func (p *Pulling) Backfill(ctx context.Context, src *PullSource, from, to time.Time, progress Progress) (store.Backfill, error) {
	bf, err := p.store.StartBackfill(ctx, src.Name, from, to, p.now())
	if err != nil {
		return bf, err
	}
	for bf.DoneTo.Before(bf.To) {
		end := minTime(bf.DoneTo.Add(src.API.MaxSpan), bf.To)
		w, docs, refused, err := p.read(ctx, src, bf.DoneTo, end, src.WindowDocs(bf.DoneTo, bf.To, false))
		if err != nil {
			return bf, err
		}
		finished := time.Time{}
		if !w.To.Before(bf.To) {
			finished = p.now()
		}
		expect := bf.DoneTo
		stored, err := p.storeWindow(ctx, src, w, docs, refused, func(ctx context.Context, tx *sql.Tx) error {
			ok, err := p.store.AdvanceBackfill(ctx, tx, bf.ID, expect, w.To, int64(w.Docs), finished)
			if err == nil && !ok {
				err = fmt.Errorf("backfill %d of %s was moved by another run; run it again to resume", bf.ID, src.Name)
			}
			return err
		})
		if err != nil {
			return bf, err
		}
		w.Stored = stored
		bf.DoneTo, bf.Docs, bf.FinishedAt = w.To, bf.Docs+int64(w.Docs), finished
		if progress != nil {
			progress(w)
		}
	}
	return bf, nil
}

// read reads every page of [from, to], cutting the window in two while it
// holds more than limit documents (the source's limit for one window, or
// than paging can return). The window read may end before to.
func (p *Pulling) read(ctx context.Context, src *PullSource, from, to time.Time, limit int) (Window, []connector.Document, []connector.RefusedDocument, error) {
	size := src.PageSize
	if size <= 0 || size > src.API.PageSize {
		size = src.API.PageSize
	}
	for {
		w := Window{From: from, To: to}
		cuttable := to.Sub(from) > time.Second
		docs, refused, total, pages, err := p.pages(ctx, src, from, to, size, limit, cuttable)
		if err != nil {
			return w, nil, nil, err
		}
		if total > limit && cuttable {
			// Too many for one window: halve it. Documents modified in the
			// same second cannot be split further and are read whole.
			to = from.Add(to.Sub(from) / 2).Truncate(time.Second)
			if !to.After(from) {
				to = from.Add(time.Second)
			}
			p.metrics.cuts.WithLabelValues(src.Name).Inc()
			continue
		}
		w.Pages, w.Docs, w.Refused = pages, len(docs), len(refused)
		p.metrics.pages.WithLabelValues(src.Name).Add(float64(pages))
		p.metrics.docs.WithLabelValues(src.Name).Add(float64(len(docs)))
		return w, docs, refused, nil
	}
}

// pages reads a window page by page from page 0 until the total is reached
// or a page comes back short. A document that moved between pages while
// they were read appears twice; the later version is kept, good or
// refused. When page 0 says the window holds more than limit and cut is
// true, it stops there: the caller cuts the window, and reading the rest
// would be thrown away.
func (p *Pulling) pages(ctx context.Context, src *PullSource, from, to time.Time, size, limit int, cut bool) ([]connector.Document, []connector.RefusedDocument, int, int, error) {
	var docs []connector.Document
	var refused []connector.RefusedDocument
	at := map[string]int{}        // number → index in docs
	refusedAt := map[string]int{} // number → index in refused
	total := -1
	page := 0
	for {
		pg, err := p.page(ctx, src, connector.PullRequest{API: src.API.Name, From: from, To: to, PageNo: page, PageSize: size})
		if err != nil {
			return nil, nil, 0, page, fmt.Errorf("pulling %s page %d of [%s, %s]: %w", src.Name, page, from.Format(time.DateTime), to.Format(time.DateTime), err)
		}
		if page == 0 {
			total = pg.Total
			if cut && total > limit {
				return nil, nil, total, 1, nil
			}
		}
		for _, d := range pg.Docs {
			if i, dup := at[d.Order.OrderNo]; dup {
				if d.Order.UpdatedAt.After(docs[i].Order.UpdatedAt) {
					docs[i] = d
				}
				continue
			}
			at[d.Order.OrderNo] = len(docs)
			docs = append(docs, d)
		}
		for _, r := range pg.Refused {
			if i, dup := refusedAt[r.No]; dup {
				if r.Modified.After(refused[i].Modified) {
					refused[i] = r
				}
				continue
			}
			refusedAt[r.No] = len(refused)
			refused = append(refused, r)
		}
		page++
		if pg.Len() < size || (total >= 0 && page*size >= total) {
			break
		}
		if total > 0 && page > total/size+2 {
			return nil, nil, 0, page, fmt.Errorf("pulling %s: paging past the %d documents the window holds", src.Name, total)
		}
	}
	if total < 0 {
		total = len(docs) + len(refused)
	}
	docs, refused = latestOfEach(docs, refused, at)
	return docs, refused, total, page, nil
}

// latestOfEach settles a document read both good and refused (it changed
// between pages): its later version counts, the other is dropped.
func latestOfEach(docs []connector.Document, refused []connector.RefusedDocument, at map[string]int) ([]connector.Document, []connector.RefusedDocument) {
	if len(refused) == 0 {
		return docs, refused
	}
	drop := map[int]bool{}
	kept := refused[:0]
	for _, r := range refused {
		i, both := at[r.No]
		switch {
		case !both:
			kept = append(kept, r)
		case r.Modified.After(docs[i].Order.UpdatedAt):
			drop[i] = true // edited into a state that cannot be read
			kept = append(kept, r)
		}
	}
	if len(drop) > 0 {
		good := docs[:0]
		for i, d := range docs {
			if !drop[i] {
				good = append(good, d)
			}
		}
		docs = good
	}
	return docs, kept
}

// pageTries bounds the tries of one page inside a run; a page that still
// fails ends the run, and River retries the run from the sync time.
const pageTries = 6

// maxPageWait is the longest throttle a run waits out itself; a longer one
// ends the run, which River snoozes for as long as the provider asked, so
// no run outlives River's job timeout waiting.
const maxPageWait = 5 * time.Second

// page reads one page, trying again after a transport failure or a
// throttle (as long as the provider asked, up to maxPageWait),
// so that one failed call among a window's pages does not throw the pages
// already read away.
func (p *Pulling) page(ctx context.Context, src *PullSource, req connector.PullRequest) (*connector.PullPage, error) {
	var last error
	eb := backoff.NewExponentialBackOff()
	eb.InitialInterval, eb.MaxInterval = p.pageWait, 25*p.pageWait
	pg, err := backoff.Retry(ctx, func() (*connector.PullPage, error) {
		pg, err := src.Puller.Pull(ctx, req)
		last = err
		if err == nil {
			return pg, nil
		}
		ce, _ := connector.AsCallError(err)
		switch {
		case ce == nil || ce.Class == connector.Permanent:
			return nil, backoff.Permanent(err)
		case ce.Class == connector.SlowDown && ce.RetryAfter > maxPageWait:
			return nil, backoff.Permanent(err) // the run snoozes instead
		case ce.Class == connector.SlowDown && ce.RetryAfter > 0:
			return nil, &backoff.RetryAfterError{Duration: ce.RetryAfter}
		}
		return nil, err
	}, backoff.WithBackOff(eb), backoff.WithMaxTries(pageTries), backoff.WithMaxElapsedTime(15*time.Second),
		backoff.WithNotify(func(err error, wait time.Duration) {
			p.metrics.pageRetries.WithLabelValues(src.Name, string(connector.ClassOf(last))).Inc()
			p.log.Debug("page failed; trying again", "source", src.Name, "page", req.PageNo, "wait", wait, "err", last)
		}))
	if err != nil {
		if last != nil {
			return nil, last
		}
		return nil, err
	}
	return pg, nil
}

// storeWindow writes a window's documents, records its refused ones (and
// clears the earlier refusals of documents it now converted) and runs
// advance, all in the same transaction; it returns how many documents were
// new or changed.
func (p *Pulling) storeWindow(ctx context.Context, src *PullSource, w Window, docs []connector.Document, refused []connector.RefusedDocument, advance func(context.Context, *sql.Tx) error) (int, error) {
	received := p.now()
	refusals := make([]store.PullRefusal, len(refused))
	for i, r := range refused {
		refusals[i] = store.PullRefusal{Source: src.Name, DocNo: r.No, Modified: r.Modified, Field: r.Field, Value: r.Value,
			Reason: r.Reason, Hint: r.Hint, Raw: string(r.Raw), WindowFrom: w.From, WindowTo: w.To, FirstAt: received, LastAt: received}
	}
	converted := make([]string, len(docs))
	for i, d := range docs {
		converted[i] = d.Order.OrderNo
	}
	// keep records what the window could not convert, and forgets the
	// refusals of documents it converted now.
	keep := func(ctx context.Context, tx *sql.Tx) error {
		if err := p.store.ClearPullRefusals(ctx, tx, src.Name, converted); err != nil {
			return err
		}
		return p.store.RecordPullRefusals(ctx, tx, refusals)
	}
	in := make([]store.Incoming, len(docs))
	for i, d := range docs {
		o := d.Order
		o.Source = src.Name
		in[i] = store.Incoming{Order: o, Raw: d.Raw, ReceivedAt: received}
	}
	ran := false
	stored := 0
	hook := func(ctx context.Context, tx *sql.Tx, in []store.Incoming, out []store.Outcome) error {
		ran = true
		var steps []store.TimelineStep
		for i, o := range out {
			if o.Result != store.ResultCreated && o.Result != store.ResultUpdated {
				continue
			}
			stored++
			steps = append(steps, store.TimelineStep{OrderID: o.OrderID, At: received, Stage: "pulled", Detail: map[string]any{
				"source": src.Name, "system": src.System, "api": src.API.Name,
				"window":  [2]string{w.From.Format(time.RFC3339), w.To.Format(time.RFC3339)},
				"version": o.Version, "modified": in[i].Order.UpdatedAt.Format(time.RFC3339),
			}})
		}
		if err := p.store.AppendTimeline(ctx, tx, steps); err != nil {
			return err
		}
		if err := keep(ctx, tx); err != nil {
			return err
		}
		if err := advance(ctx, tx); err != nil {
			return err
		}
		if p.hook != nil {
			return p.hook(ctx, tx, in, out)
		}
		return nil
	}
	if len(in) > 0 {
		if _, err := p.store.Apply(ctx, in, hook); err != nil {
			return 0, err
		}
	}
	if !ran {
		// Nothing new in the window (or it was empty): the store wrote
		// nothing, and only the sync time moves.
		tx, err := p.store.DB().BeginTx(ctx, nil)
		if err != nil {
			return 0, fmt.Errorf("ingest: moving the sync time of %s: %w", src.Name, err)
		}
		defer tx.Rollback()
		if err := keep(ctx, tx); err != nil {
			return 0, err
		}
		if err := advance(ctx, tx); err != nil {
			return 0, err
		}
		if err := tx.Commit(); err != nil {
			return 0, fmt.Errorf("ingest: moving the sync time of %s: %w", src.Name, err)
		}
	}
	p.metrics.stored.WithLabelValues(src.Name).Add(float64(stored))
	if len(refused) > 0 {
		p.metrics.refused.WithLabelValues(src.Name).Add(float64(len(refused)))
		for _, r := range refused {
			p.log.Warn("a pulled document cannot be turned into an order; the rest of its window is stored, and it waits in the refused documents of GET /v1/flows",
				"source", src.Name, "doc", r.No, "field", r.Field, "value", r.Value, "reason", r.Reason, "hint", r.Hint,
				"window_from", w.From.Format(time.RFC3339), "window_to", w.To.Format(time.RFC3339))
		}
	}
	return stored, nil
}

func (p *Pulling) recordError(ctx context.Context, src *PullSource, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	p.metrics.errors.WithLabelValues(src.Name, string(connector.ClassOf(err))).Inc()
	if rerr := p.store.RecordPullError(context.WithoutCancel(ctx), src.Name, p.now(), err.Error()); rerr != nil {
		p.log.Error("recording a pull error failed", "source", src.Name, "err", rerr)
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

type pullMetrics struct {
	pages, docs, stored, cuts *prometheus.CounterVec
	errors, pageRetries       *prometheus.CounterVec
	refused                   *prometheus.CounterVec
}

func newPullMetrics(reg prometheus.Registerer) *pullMetrics {
	m := &pullMetrics{
		pages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orderhub_pull_pages_total", Help: "Pages read from pull sources.",
		}, []string{"source"}),
		docs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orderhub_pull_documents_total", Help: "Documents pulled, re-reads of the overlap included.",
		}, []string{"source"}),
		stored: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orderhub_pull_documents_stored_total", Help: "Pulled documents that were new or changed.",
		}, []string{"source"}),
		cuts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orderhub_pull_window_cuts_total", Help: "Windows cut in two because they held too many documents.",
		}, []string{"source"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orderhub_pull_errors_total", Help: "Failed pull runs, by class (retry, slow_down, permanent, unknown_outcome).",
		}, []string{"source", "class"}),
		pageRetries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orderhub_pull_page_retries_total", Help: "Page calls tried again after a failure or a throttle, by class.",
		}, []string{"source", "class"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "orderhub_pull_documents_refused_total", Help: "Pulled documents that could not be turned into orders (each read counts; GET /v1/flows lists them).",
		}, []string{"source"}),
	}
	if reg != nil {
		reg.MustRegister(m.pages, m.docs, m.stored, m.cuts, m.errors, m.pageRetries, m.refused)
	}
	return m
}
