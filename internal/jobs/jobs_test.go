package jobs_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"orderhub/internal/jobs"
	"orderhub/internal/order"
	"orderhub/internal/store"
	"orderhub/internal/testutil/pgtest"
)

// recorder is a consumer that remembers what it was given and can be told
// to fail.
type recorder struct {
	name string
	mu   sync.Mutex
	seen []int64
	fail int // fail this many more calls
	// consumed, if set, is signalled (without blocking) after each call.
	consumed chan struct{}
}

func (r *recorder) Name() string { return r.name }

func (r *recorder) Consume(_ context.Context, _ *sql.Tx, evs []store.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail > 0 {
		r.fail--
		return errors.New("consumer refused (test)")
	}
	for _, e := range evs {
		r.seen = append(r.seen, e.ID)
	}
	if r.consumed != nil {
		select {
		case r.consumed <- struct{}{}:
		default:
		}
	}
	return nil
}

func (r *recorder) ids() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int64(nil), r.seen...)
}

func paidOrder(no string) store.Incoming {
	t := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	return store.Incoming{
		Order:      order.Order{Source: "shop", OrderNo: no, Status: order.StatusPaid, Total: 1000, CreatedAt: t, UpdatedAt: t},
		Raw:        []byte(`{"order_no":"` + no + `"}`),
		ReceivedAt: t,
	}
}

func TestDispatchSQLite(t *testing.T) {
	testDispatch(t, "sqlite://"+filepath.Join(t.TempDir(), "j.db"))
}

func TestDispatchPostgres(t *testing.T) {
	testDispatch(t, pgtest.URL(t))
}

// testDispatch proves the hand-off: ingest transactions queue the dispatch
// job themselves, every consumer gets every event once and in order, and a
// consumer that fails gets the same events again, its cursor unmoved.
func testDispatch(t *testing.T, url string) {
	ctx := context.Background()
	s, err := store.Open(ctx, url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := jobs.Migrate(ctx, s); err != nil {
		t.Fatal(err)
	}
	a := &recorder{name: "a"}
	b := &recorder{name: "b", fail: 2}
	d := jobs.NewDispatcher(s, nil, a, b)
	// A long sweep: delivery here must come from the job each ingest queues.
	r, err := jobs.New(s, d, jobs.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), SweepEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer r.Stop(ctx)

	const orders = 40
	for i := 0; i < orders; i += 4 {
		var batch []store.Incoming
		for j := i; j < i+4; j++ {
			batch = append(batch, paidOrder(fmt.Sprintf("J%03d", j)))
		}
		if _, err := s.Apply(ctx, batch, r.QueueDispatch); err != nil {
			t.Fatal(err)
		}
	}
	const want = orders * 2 // created, paid
	wait(t, 20*time.Second, func() bool { return len(a.ids()) >= want && len(b.ids()) >= want })
	for _, rec := range []*recorder{a, b} {
		ids := rec.ids()
		if len(ids) != want {
			t.Fatalf("consumer %s got %d events, want %d (each exactly once)", rec.name, len(ids), want)
		}
		for i := 1; i < len(ids); i++ {
			if ids[i] <= ids[i-1] {
				t.Fatalf("consumer %s got events out of order: %v", rec.name, ids)
			}
		}
	}
	tx, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, name := range []string{"a", "b"} {
		last, err := s.Cursor(ctx, tx, name)
		if err != nil {
			t.Fatal(err)
		}
		if last.ID != a.ids()[want-1] {
			t.Errorf("cursor of %s = %d, want the last event id %d", name, last, a.ids()[want-1])
		}
	}
}

// A duplicate push records no events and so queues no job.
func TestQueueDispatchOnlyWithEvents(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "j.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := jobs.Migrate(ctx, s); err != nil {
		t.Fatal(err)
	}
	r, err := jobs.New(s, jobs.NewDispatcher(s, nil, &recorder{name: "a"}, &recorder{name: "b"}), jobs.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	count := func() int {
		var n int
		if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM river_job`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if _, err := s.Apply(ctx, []store.Incoming{paidOrder("Q1")}, r.QueueDispatch); err != nil {
		t.Fatal(err)
	}
	if got := count(); got != 2 {
		t.Fatalf("after a new order: %d jobs queued, want 2 (one per consumer)", got)
	}
	// Same payload again (only a duplicate): nothing to dispatch.
	if _, err := s.Apply(ctx, []store.Incoming{paidOrder("Q1")}, r.QueueDispatch); err != nil {
		t.Fatal(err)
	}
	// A second new order while the first job waits: the unique job is not
	// queued twice.
	if _, err := s.Apply(ctx, []store.Incoming{paidOrder("Q2")}, r.QueueDispatch); err != nil {
		t.Fatal(err)
	}
	if got := count(); got != 2 {
		t.Fatalf("after a duplicate and a second order: %d jobs queued, want still 2", got)
	}
}

// A consumer that keeps failing retries alone: the others get every event
// meanwhile.
func TestFailingConsumerDoesNotStallOthers(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "j.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := jobs.Migrate(ctx, s); err != nil {
		t.Fatal(err)
	}
	good := &recorder{name: "good"}
	bad := &recorder{name: "bad", fail: 1 << 30}
	// The sweep catches an event committed just as a drain finished; it
	// cannot help a consumer stalled behind another.
	r, err := jobs.New(s, jobs.NewDispatcher(s, nil, bad, good), jobs.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), SweepEvery: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer r.Stop(ctx)
	for i := range 5 {
		if _, err := s.Apply(ctx, []store.Incoming{paidOrder(fmt.Sprintf("S%d", i))}, r.QueueDispatch); err != nil {
			t.Fatal(err)
		}
		// Past the dispatch mark, so each order queues the jobs again while
		// the failing one waits to retry.
		time.Sleep(300 * time.Millisecond)
	}
	wait(t, 20*time.Second, func() bool { return len(good.ids()) == 10 })
	if n := len(bad.ids()); n != 0 {
		t.Fatalf("the failing consumer took %d events", n)
	}
	last, err := s.Cursor(ctx, s.Reader(), "bad")
	if err != nil {
		t.Fatal(err)
	}
	if last.ID != 0 {
		t.Fatalf("the failing consumer's cursor moved to %v", last)
	}
}

func wait(t *testing.T, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Under writes that never stop, a drain still ends (River's job timeout
// would otherwise cancel it), and what it handed over is every event up to
// its cursor, each once and in order; the rest waits for the next drain.
// The writer here adds orders after every hand-over, so each pass finds new
// events and only the bound on a drain's run can end it.
func TestDrainEndsUnderEndlessWrites(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "d.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	consumed := make(chan struct{}, 1)
	rec := &recorder{name: "r", consumed: consumed}
	d := jobs.NewDispatcher(s, nil, rec)
	d.SetPacing(50*time.Millisecond, 300*time.Millisecond)

	write := func(i int) error {
		var batch []store.Incoming
		for j := 0; j < 4; j++ {
			batch = append(batch, paidOrder(fmt.Sprintf("E%04d-%d", i, j)))
		}
		_, err := s.Apply(ctx, batch, nil)
		return err
	}
	if err := write(0); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	writerDone := make(chan error, 1)
	go func() { // bounded: 100 batches, one after each hand-over
		for i := 1; i <= 100; i++ {
			select {
			case <-stop:
				writerDone <- nil
				return
			case <-consumed:
			}
			if err := write(i); err != nil {
				writerDone <- err
				return
			}
		}
		writerDone <- nil
	}()
	drained := make(chan error, 1)
	go func() { drained <- d.Drain(ctx) }()
	select {
	case err := <-drained:
		close(stop)
		if err != nil {
			t.Fatal(err)
		}
	case err := <-writerDone:
		t.Fatalf("the writer finished (err %v) before the drain ended; the drain does not stop under load", err)
	}
	if err := <-writerDone; err != nil {
		t.Fatal(err)
	}
	ids := rec.ids()
	if len(ids) == 0 {
		t.Fatal("the drain handed over no events")
	}
	for i := range ids {
		if ids[i] != int64(i+1) {
			t.Fatalf("event %d handed over as id %d; want ids 1..%d once each, in order", i, ids[i], len(ids))
		}
	}
	last, err := s.Cursor(ctx, s.Reader(), "r")
	if err != nil {
		t.Fatal(err)
	}
	if last.ID != ids[len(ids)-1] {
		t.Errorf("cursor at %d, want the last event handed over, %d", last.ID, ids[len(ids)-1])
	}
}

// A dispatch job that has run out of events waits for more, and events
// committed in this process are handed over at once: here it never reads
// on its own (its idle poll is an hour), so only the commit's wake-up can
// bring them. When its context ends it returns, having handed over each
// event once.
func TestDrainWaitsAndIsWokenByCommits(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "w.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	consumed := make(chan struct{}, 1)
	rec := &recorder{name: "r", consumed: consumed}
	d := jobs.NewDispatcher(s, nil, rec)
	d.SetPacing(0, time.Hour)
	d.SetLinger(time.Hour, time.Hour)
	drained := make(chan error, 1)
	go func() { drained <- d.DrainConsumer(ctx, "r") }()
	for i := range 3 {
		if _, err := s.Apply(ctx, []store.Incoming{paidOrder(fmt.Sprintf("W%d", i))}, nil); err != nil {
			t.Fatal(err)
		}
		select {
		case <-consumed:
		case err := <-drained:
			t.Fatalf("the drain ended (%v) instead of waiting for more events", err)
		case <-time.After(30 * time.Second): // a bound for a broken wake-up, not a speed
			t.Fatalf("order %d: its events were not handed over after the commit", i)
		}
	}
	cancel()
	if err := <-drained; err != nil {
		t.Fatal(err)
	}
	ids := rec.ids()
	if len(ids) != 6 { // created and paid for each order
		t.Fatalf("handed over %v, want the six events of three orders", ids)
	}
	for i := range ids {
		if ids[i] != int64(i+1) {
			t.Fatalf("handed over %v, want events 1..6 once each, in order", ids)
		}
	}
}
