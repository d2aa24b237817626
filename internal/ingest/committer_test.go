package ingest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"orderhub/internal/order"
	"orderhub/internal/store"
)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "hub.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func incoming(no string) store.Incoming {
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	return store.Incoming{
		Order:      order.Order{Source: "shop", OrderNo: no, Status: order.StatusPaid, Currency: "CNY", Total: 100, CreatedAt: at},
		Raw:        []byte(`{"order_no":"` + no + `"}`),
		ReceivedAt: at,
	}
}

func TestCommitterSubmitAfterClose(t *testing.T) {
	st := openStore(t)
	c := NewCommitter(st, CommitterOptions{Log: slog.New(slog.DiscardHandler)})
	go c.Run()
	out, err := c.Submit(context.Background(), incoming("A1"))
	if err != nil || out.Result != store.ResultCreated || !slices.Equal(out.Events, []order.EventType{"created", "paid"}) {
		t.Fatalf("Submit before Close: %+v, %v", out, err)
	}
	c.Close()
	c.Close() // a second Close is harmless
	out, err = c.Submit(context.Background(), incoming("A2"))
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("Submit after Close: %+v, %v; want ErrClosed", out, err)
	}
	if out.Result != "" || out.Version != 0 || out.Events != nil {
		t.Fatalf("Submit after Close returned an outcome: %+v", out)
	}
	n, err := st.Count(context.Background())
	if err != nil || n.Orders != 1 {
		t.Fatalf("counts %+v, %v; want 1 order", n, err)
	}
}

// Documents queued before Close are committed by Run even though Close was
// called first, and their senders get their outcomes.
func TestCommitterCloseCommitsQueued(t *testing.T) {
	st := openStore(t)
	reg := prometheus.NewRegistry()
	c := NewCommitter(st, CommitterOptions{MaxBatch: 4, Log: slog.New(slog.DiscardHandler), Metrics: NewMetrics(reg)})
	const n = 10 // more than one batch
	type result struct {
		out store.Outcome
		err error
	}
	results := make(chan result, n)
	for i := range n {
		go func() {
			out, err := c.Submit(context.Background(), incoming(fmt.Sprintf("Q%02d", i)))
			results <- result{out, err}
		}()
	}
	// Wait until all ten wait in the queue; nothing runs the committer yet.
	deadline := time.Now().Add(10 * time.Second)
	for len(c.in) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d documents queued, want %d", len(c.in), n)
		}
		time.Sleep(time.Millisecond)
	}
	closed := make(chan struct{})
	go func() { c.Close(); close(closed) }()
	// Close has stopped intake before Run starts.
	for {
		c.mu.RLock()
		stopped := c.closed
		c.mu.RUnlock()
		if stopped {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Close did not stop intake")
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := c.Submit(context.Background(), incoming("late")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Submit while closing: %v, want ErrClosed", err)
	}
	select {
	case <-closed:
		t.Fatal("Close returned before the queue was committed")
	case <-time.After(20 * time.Millisecond):
	}
	go c.Run()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return after Run drained the queue")
	}
	for range n {
		r := <-results
		if r.err != nil || r.out.Result != store.ResultCreated || r.out.Version != 1 {
			t.Fatalf("queued document: %+v, %v", r.out, r.err)
		}
	}
	cnt, err := st.Count(context.Background())
	if err != nil || cnt.Orders != n || cnt.Versions != n {
		t.Fatalf("counts %+v, %v; want %d orders", cnt, err, n)
	}
	e := &env{t: t, reg: reg}
	count, sum, _ := e.histogram("orderhub_ingest_batch_size")
	if sum != n || count != 3 {
		t.Fatalf("%d batches of %g documents in all, want 3 batches (4+4+2) of 10", count, sum)
	}
}

// A cancelled sender stops waiting, but what it handed over is committed.
func TestCommitterCancelledSubmitStillCommits(t *testing.T) {
	st := openStore(t)
	c := NewCommitter(st, CommitterOptions{Log: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.Submit(ctx, incoming("C1"))
		done <- err
	}()
	for len(c.in) == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Submit: %v", err)
	}
	go c.Run()
	c.Close()
	if _, err := st.GetOrder(context.Background(), "shop", "C1"); err != nil {
		t.Fatalf("the handed-over document was not committed: %v", err)
	}
	// A sender whose context is already done before the queue has room is
	// refused without the document being taken.
	c2 := NewCommitter(st, CommitterOptions{MaxBatch: 1, Log: slog.New(slog.DiscardHandler)})
	for i := range cap(c2.in) {
		c2.in <- &pending{inc: incoming(fmt.Sprintf("F%d", i)), done: make(chan struct{}, 1)}
	}
	dead, stop := context.WithCancel(context.Background())
	stop()
	if _, err := c2.Submit(dead, incoming("X1")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Submit into a full queue with a done context: %v", err)
	}
	go c2.Run()
	c2.Close()
	if _, err := st.GetOrder(context.Background(), "shop", "X1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a refused document was stored: %v", err)
	}
}

// One bad document in a batch does not fail its neighbours.
func TestCommitterIsolatesFailures(t *testing.T) {
	st := openStore(t)
	reg := prometheus.NewRegistry()
	c := NewCommitter(st, CommitterOptions{MaxBatch: 8, MaxWait: 200 * time.Millisecond, Log: slog.New(slog.DiscardHandler), Metrics: NewMetrics(reg),
		Hook: func(ctx context.Context, _ *sql.Tx, in []store.Incoming, _ []store.Outcome) error {
			for _, i := range in {
				if i.Order.OrderNo == "BAD" {
					return errors.New("refused by the hook")
				}
			}
			return nil
		}})
	go c.Run()
	defer c.Close()
	var wg sync.WaitGroup
	errs := map[string]error{}
	var emu sync.Mutex
	for _, no := range []string{"G1", "BAD", "G2", "G3"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.Submit(context.Background(), incoming(no))
			emu.Lock()
			errs[no] = err
			emu.Unlock()
		}()
	}
	wg.Wait()
	for no, err := range errs {
		if (no == "BAD") != (err != nil) {
			t.Errorf("%s: %v", no, err)
		}
	}
	cnt, _ := st.Count(context.Background())
	if cnt.Orders != 3 {
		t.Fatalf("counts %+v, want the 3 good orders", cnt)
	}
	// The four arrived within MaxWait, so they shared a failed batch first.
	e := &env{t: t, reg: reg}
	if got := e.series("orderhub_ingest_commit_failures_total"); got[""] < 1 {
		t.Fatalf("commit failures %s, want the shared batch's failure counted", fmtSeries(got))
	}
}
