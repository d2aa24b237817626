// Package ingest takes orders in: the push endpoint that verifies and parses
// what senders POST, and the group committer that makes concurrent pushes
// share database transactions.
package ingest

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"orderhub/internal/store"
)

// ErrClosed is returned by Submit once the committer is shutting down.
var ErrClosed = errors.New("ingest: shutting down, not accepting new documents")

// Committer batches documents from concurrent pushes into shared
// transactions. One transaction per request caps SQLite at a fraction of what
// the HTTP layer can take; here a push waits at most for the commit in
// progress plus its own, and is answered only once its own row is durable.
type Committer struct {
	store    *store.Store
	hook     store.ApplyHook
	maxBatch int
	maxWait  time.Duration
	workers  int
	log      *slog.Logger
	metrics  *Metrics

	in      chan *pending
	mu      sync.RWMutex // guards closed against Submit racing Close
	closed  bool
	stopped chan struct{}
}

type pending struct {
	inc    store.Incoming
	queued time.Time
	out    store.Outcome
	err    error
	done   chan struct{}
}

var pendingPool = sync.Pool{New: func() any { return &pending{done: make(chan struct{}, 1)} }}

// CommitterOptions tune batching.
type CommitterOptions struct {
	// MaxBatch bounds the documents in one transaction (default 256).
	MaxBatch int
	// MaxWait bounds how long the first document of a batch waits for
	// company, counted from when it was queued. With 0, batches form only
	// from what arrived during the previous commit; a wait of a couple of
	// milliseconds makes batches several times larger under load, which is
	// what lets SQLite's one writer keep up (ingest.batch_wait, 2ms).
	MaxWait time.Duration
	// Workers is how many batches commit at once (default 1). SQLite has
	// one writer, so more only queue for it; PostgreSQL takes several.
	Workers int
	// Hook runs in every batch's transaction (queues follow-up jobs).
	Hook    store.ApplyHook
	Log     *slog.Logger
	Metrics *Metrics
}

// NewCommitter returns a committer writing to s. Start it with Run.
func NewCommitter(s *store.Store, o CommitterOptions) *Committer {
	if o.MaxBatch <= 0 {
		o.MaxBatch = 256
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Workers <= 0 {
		o.Workers = 1
	}
	return &Committer{
		store: s, hook: o.Hook, maxBatch: o.MaxBatch, maxWait: o.MaxWait, workers: o.Workers, log: o.Log, metrics: o.Metrics,
		in: make(chan *pending, o.MaxBatch*4), stopped: make(chan struct{}),
	}
}

// Submit queues a document and waits until it is committed (or failed). A
// cancelled ctx stops the wait, not the commit: a document handed over is
// written either way, so a sender's retry finds it as a duplicate.
func (c *Committer) Submit(ctx context.Context, inc store.Incoming) (store.Outcome, error) {
	p := pendingPool.Get().(*pending)
	p.inc, p.out, p.err = inc, store.Outcome{}, nil
	if c.maxWait > 0 {
		p.queued = time.Now()
	}
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		pendingPool.Put(p)
		return store.Outcome{}, ErrClosed
	}
	select {
	case c.in <- p:
		c.mu.RUnlock()
	case <-ctx.Done():
		c.mu.RUnlock()
		pendingPool.Put(p)
		return store.Outcome{}, ctx.Err()
	}
	select {
	case <-p.done:
		out, err := p.out, p.err
		p.inc = store.Incoming{}
		pendingPool.Put(p)
		return out, err
	case <-ctx.Done():
		// The committer still owns p and will signal done into its buffer;
		// p is not returned to the pool, the garbage collector takes it.
		return store.Outcome{}, ctx.Err()
	}
}

// Close stops accepting documents; Run commits what was queued and returns.
func (c *Committer) Close() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.in)
	}
	c.mu.Unlock()
	<-c.stopped
}

// Run commits batches until Close. It uses its own context for the database
// so that shutdown still commits every document already accepted.
func (c *Committer) Run() {
	defer close(c.stopped)
	var wg sync.WaitGroup
	for i := 0; i < c.workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.work()
		}()
	}
	wg.Wait()
}

// work is one committing loop: take a batch, commit it, answer its pushes.
func (c *Committer) work() {
	batch := make([]*pending, 0, c.maxBatch)
	incs := make([]store.Incoming, 0, c.maxBatch)
	var timer *time.Timer
	for {
		first, ok := <-c.in
		if !ok {
			return
		}
		batch = append(batch[:0], first)
		open := c.fill(&batch)
		// The wait is bounded from when the batch's first document was
		// queued: under load it already waited through the previous
		// commit, and the batch goes at once.
		if wait := c.maxWait - time.Since(first.queued); open && c.maxWait > 0 && wait > 0 && len(batch) < c.maxBatch {
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
		wait:
			for len(batch) < c.maxBatch {
				select {
				case p, ok := <-c.in:
					if !ok {
						break wait
					}
					batch = append(batch, p)
				case <-timer.C:
					break wait
				}
			}
			timer.Stop()
		}
		incs = incs[:0]
		for _, p := range batch {
			incs = append(incs, p.inc)
		}
		c.commit(batch, incs)
	}
}

// fill takes whatever is already queued, up to the batch limit, without
// waiting. It reports whether the queue is still open.
func (c *Committer) fill(batch *[]*pending) bool {
	for len(*batch) < c.maxBatch {
		select {
		case p, ok := <-c.in:
			if !ok {
				return false
			}
			*batch = append(*batch, p)
		default:
			return true
		}
	}
	return true
}

func (c *Committer) commit(batch []*pending, incs []store.Incoming) {
	start := time.Now()
	outs, err := c.store.Apply(context.Background(), incs, c.hook)
	c.metrics.observeBatch(len(batch), time.Since(start), err)
	if err != nil && len(batch) > 1 {
		// One bad document must not fail its neighbours: retry each alone.
		c.log.Warn("ingest batch failed, committing its documents one by one", "size", len(batch), "err", err)
		for i, p := range batch {
			o, e := c.store.Apply(context.Background(), incs[i:i+1], c.hook)
			if e == nil {
				p.out = o[0]
			}
			p.err = e
			p.done <- struct{}{}
		}
		return
	}
	for i, p := range batch {
		if err != nil {
			p.err = err
		} else {
			p.out = outs[i]
		}
		p.done <- struct{}{}
	}
}
