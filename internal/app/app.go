// Package app wires orderhub's rooms together from a configuration: the
// store, River, the ingest path, the read API, health and metrics. The
// commands in cmd/orderhub (serve, demo, bench) all run an App.
package app

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"orderhub/internal/auth"
	"orderhub/internal/config"
	"orderhub/internal/flow"
	"orderhub/internal/ingest"
	"orderhub/internal/jobs"
	"orderhub/internal/notify"
	"orderhub/internal/store"
	"orderhub/internal/version"

	// Connectors register their kinds.
	_ "orderhub/internal/connector/mall"
	_ "orderhub/internal/connector/webhook"
)

// App is one running orderhub node.
type App struct {
	cfg       *config.Config // as started; the one in effect is Runtime().Config
	log       *slog.Logger
	level     *slog.LevelVar // the logger's level, when a reload may change it
	store     *store.Store
	jobs      *jobs.Runner
	committer *ingest.Committer
	pulling   *ingest.Pulling
	pulls     *ingest.PullStage
	flows     *flow.Stage
	notify    *notify.Stage
	metrics   *ingest.Metrics
	registry  *prometheus.Registry
	server    *http.Server
	listener  net.Listener
	ready     atomic.Bool
	draining  atomic.Bool
	conns     connTracker
	served    chan error
	serveDone chan struct{} // closed when Serve has returned

	// throttle counts failed console sign-ins across reloads.
	throttle *auth.Throttle

	rt       atomic.Pointer[Runtime]
	reloadMu sync.Mutex // one reload at a time
	reloads  *prometheus.CounterVec
	reloadOK prometheus.Gauge
}

// Option adjusts a new App.
type Option func(*App)

// WithLogLevel hands over the variable that sets the logger's level, so that
// a reload can apply a changed log.level; without it log.level needs a
// restart.
func WithLogLevel(v *slog.LevelVar) Option { return func(a *App) { a.level = v } }

// New opens the store, brings both schemas up to date and builds every
// stage. Nothing listens yet: Start does that last, so that the first request
// the port answers is already served by a ready node.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger, opts ...Option) (*App, error) {
	if log == nil {
		log = slog.Default()
	}
	st, err := store.Open(ctx, cfg.Store, store.Options{Synchronous: cfg.Ingest.Synchronous})
	if err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, log: log, store: st, served: make(chan error, 1), serveDone: make(chan struct{}),
		throttle: auth.NewThrottle(auth.DefaultLimits)}
	for _, o := range opts {
		o(a)
	}
	if err := a.build(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return a, nil
}

func (a *App) build(ctx context.Context) error {
	if err := jobs.Migrate(ctx, a.store); err != nil {
		return err
	}
	a.registry = prometheus.NewRegistry()
	a.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// The stages start empty; applying the runtime gives them their pull
	// sources and flows.
	a.pulling = ingest.NewPulling(a.store, func(ctx context.Context, tx *sql.Tx, in []store.Incoming, out []store.Outcome) error {
		return a.jobs.QueueDispatch(ctx, tx, in, out)
	}, a.log.With("component", "pull"), a.registry)
	a.pulls = ingest.NewPullStage(a.pulling, a.log.With("component", "pull"), nil)
	a.flows = flow.NewStage(a.store, a.log.With("component", "flow"), a.registry, nil)
	a.notify = notify.NewStage(a.store, a.log.With("component", "notify"), a.registry)
	dispatcher := jobs.NewDispatcher(a.store, a.registry, jobs.EventLog{Log: a.log.With("component", "events")}, a.flows, a.notify)
	runner, err := jobs.New(a.store, dispatcher, jobs.Options{Log: a.log, Stages: []jobs.Stage{a.pulls, a.flows, a.notify}})
	if err != nil {
		return err
	}
	a.jobs = runner
	a.pulls.SetJobs(runner)
	a.flows.SetJobs(runner)
	a.notify.SetJobs(runner)

	a.metrics = ingest.NewMetrics(a.registry)
	workers := 1 // SQLite: one writer
	if a.store.Dialect() == store.Postgres {
		workers = 4 // order locks let batches commit side by side
	}
	a.committer = ingest.NewCommitter(a.store, ingest.CommitterOptions{
		MaxBatch: a.cfg.Ingest.BatchMax, MaxWait: a.cfg.Ingest.BatchWait.Std(), Workers: workers,
		Hook: runner.QueueDispatch, Log: a.log, Metrics: a.metrics,
	})
	a.reloads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "orderhub_config_reloads_total", Help: "Configuration reloads (SIGHUP), by result: applied or refused.",
	}, []string{"result"})
	a.reloadOK = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "orderhub_config_last_reload_successful", Help: "1 when the last reload was applied (or none was tried), 0 when it was refused.",
	})
	a.reloadOK.Set(1)
	a.registry.MustRegister(a.reloads, a.reloadOK)

	rt, err := a.buildRuntime(a.cfg)
	if err != nil {
		return err
	}
	a.apply(rt)
	return nil
}

// Handler is the node's HTTP handler (for tests and benchmarks that serve it
// themselves). It follows reloads.
func (a *App) Handler() http.Handler { return a }

// Store is the node's store.
func (a *App) Store() *store.Store { return a.store }

// Start starts the jobs and the committer, then listens. When it returns
// without error, pushes are accepted and /healthz is green.
func (a *App) Start(ctx context.Context) error {
	if err := a.jobs.Start(ctx); err != nil {
		return err
	}
	go a.committer.Run()
	ln, inherited, err := listen(a.cfg.Listen)
	if err != nil {
		a.stopBackground(ctx)
		return fmt.Errorf("listening on %s: %w", a.cfg.Listen, err)
	}
	if inherited {
		a.log.Info("serving on the socket systemd passed; it stays open across restarts", "socket", ln.Addr().String())
		if ln.Addr().String() != a.cfg.Listen {
			a.log.Warn("listen is not used: the socket systemd passed decides the address", "listen", a.cfg.Listen, "socket", ln.Addr().String())
		}
	}
	a.listener = ln
	a.server = &http.Server{
		ConnState:         a.conns.track,
		ConnContext:       withConn,
		Handler:           a,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	a.ready.Store(true)
	go func() {
		defer close(a.serveDone)
		err := a.server.Serve(ln)
		if a.draining.Load() {
			err = nil // the drain closed the listener
		}
		a.served <- err
	}()
	a.log.Info("orderhub ready", "version", version.String(), "listen", ln.Addr().String(), "store", a.store.Location())
	return nil
}

// Addr is the address the node listens on (useful with port 0).
func (a *App) Addr() string { return a.listener.Addr().String() }

// Served reports the server's exit; it receives when serving stops.
func (a *App) Served() <-chan error { return a.served }

// Drain turns /healthz to 503 while the node goes on serving, so that a
// load balancer that polls it stops sending here before the listener
// closes. Shutdown drains too; call Drain first to leave a balancer time.
func (a *App) Drain() {
	if a.draining.Swap(true) {
		return
	}
	a.ready.Store(false)
	addr := ""
	if a.listener != nil {
		addr = a.listener.Addr().String()
	}
	a.log.Info("draining", "listen", addr)
}

// Shutdown stops taking requests, answers the ones in flight (their
// documents are committed), drains the committer, stops River and closes the
// store. It logs how long that took, phase by phase.
func (a *App) Shutdown(ctx context.Context) error {
	begin := time.Now()
	a.Drain()
	var errs []error
	mark := begin
	phase := func() string {
		now := time.Now()
		d := now.Sub(mark)
		mark = now
		return d.Round(100 * time.Microsecond).String()
	}
	if a.server != nil {
		// No new connections; then the ones open are retired (see
		// connTracker) before Shutdown closes what is left.
		if err := a.listener.Close(); err != nil && !errors.Is(err, net.ErrClosed) { // Serve closes it when it fails
			errs = append(errs, fmt.Errorf("closing the listener: %w", err))
		}
		<-a.serveDone
		a.conns.retire()
		if err := a.server.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stopping the HTTP server: %w", err))
		}
	}
	tHTTP := phase()
	a.committer.Close()
	tCommit := phase()
	if err := a.jobs.Stop(ctx); err != nil {
		errs = append(errs, fmt.Errorf("stopping jobs: %w", err))
	}
	tJobs := phase()
	if err := a.store.Close(); err != nil {
		errs = append(errs, fmt.Errorf("closing the store: %w", err))
	}
	tStore := phase()
	err := errors.Join(errs...)
	total := time.Since(begin)
	attrs := []any{"in", fmt.Sprintf("%.3fs", total.Seconds()), "http", tHTTP, "committer", tCommit, "jobs", tJobs, "store", tStore}
	if err != nil {
		a.log.Error("stopped with errors", append(attrs, "err", err)...)
	} else {
		a.log.Info("stopped", attrs...)
	}
	return err
}

func (a *App) stopBackground(ctx context.Context) error {
	var errs []error
	a.committer.Close()
	if err := a.jobs.Stop(ctx); err != nil {
		errs = append(errs, fmt.Errorf("stopping jobs: %w", err))
	}
	if err := a.store.Close(); err != nil {
		errs = append(errs, fmt.Errorf("closing the store: %w", err))
	}
	return errors.Join(errs...)
}

func (a *App) healthz(w http.ResponseWriter, r *http.Request) {
	status, code := "ok", http.StatusOK
	if !a.ready.Load() {
		status, code = "draining", http.StatusServiceUnavailable
	} else if err := a.store.Ping(r.Context()); err != nil {
		status, code = "store unreachable", http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": status, "version": version.String()})
}
