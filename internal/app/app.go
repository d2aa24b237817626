// Package app wires orderhub's rooms together from a configuration: the
// store, River, the ingest path, the read API, health and metrics. The
// commands in cmd/orderhub (serve, demo, bench) all run an App.
package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"orderhub/internal/config"
	"orderhub/internal/connector"
	"orderhub/internal/console"
	"orderhub/internal/ingest"
	"orderhub/internal/jobs"
	"orderhub/internal/store"
	"orderhub/internal/version"

	// Connectors register their kinds.
	_ "orderhub/internal/connector/mall"
	_ "orderhub/internal/connector/webhook"
)

// App is one running orderhub node.
type App struct {
	cfg       *config.Config
	log       *slog.Logger
	store     *store.Store
	jobs      *jobs.Runner
	committer *ingest.Committer
	registry  *prometheus.Registry
	handler   http.Handler
	server    *http.Server
	listener  net.Listener
	ready     atomic.Bool
	served    chan error
}

// New opens the store, brings both schemas up to date and builds every
// stage. Nothing listens yet: Start does that last, so that the first request
// the port answers is already served by a ready node.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger) (*App, error) {
	if log == nil {
		log = slog.Default()
	}
	st, err := store.Open(ctx, cfg.Store, store.Options{Synchronous: cfg.Ingest.Synchronous})
	if err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, log: log, store: st, served: make(chan error, 1)}
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

	dispatcher := jobs.NewDispatcher(a.store, a.registry, jobs.EventLog{Log: a.log.With("component", "events")})
	runner, err := jobs.New(a.store, dispatcher, jobs.Options{Log: a.log})
	if err != nil {
		return err
	}
	a.jobs = runner

	metrics := ingest.NewMetrics(a.registry)
	workers := 1 // SQLite: one writer
	if a.store.Dialect() == store.Postgres {
		workers = 4 // order locks let batches commit side by side
	}
	a.committer = ingest.NewCommitter(a.store, ingest.CommitterOptions{
		MaxBatch: a.cfg.Ingest.BatchMax, MaxWait: a.cfg.Ingest.BatchWait.Std(), Workers: workers,
		Hook: runner.QueueDispatch, Log: a.log, Metrics: metrics,
	})

	sources, err := a.pushSources()
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("POST /v1/push/{source}", ingest.NewPushHandler(sources, a.committer, a.log, metrics))
	console.NewAPI(a.store, a.cfg.API.Tokens, a.cfg.Location, a.log).Register(mux)
	mux.HandleFunc("GET /healthz", a.healthz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{}))
	a.handler = mux
	return nil
}

func (a *App) pushSources() ([]*ingest.Source, error) {
	names := make([]string, 0, len(a.cfg.Sources))
	for n := range a.cfg.Sources {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []*ingest.Source
	for _, name := range names {
		src := a.cfg.Sources[name]
		if src.Mode != "push" {
			continue
		}
		sys, ok := a.cfg.Systems[src.System]
		if !ok {
			return nil, fmt.Errorf("source %q names system %q, which is not configured", name, src.System)
		}
		recv, err := connector.NewPushReceiver(connector.PushEnv{System: sys, Location: a.cfg.Location, ReplayWindow: a.cfg.Ingest.ReplayWindow.Std()})
		if err != nil {
			return nil, fmt.Errorf("source %q: %w", name, err)
		}
		limit := int64(a.cfg.Ingest.MaxBody)
		if src.MaxBody > 0 {
			limit = int64(src.MaxBody)
		}
		out = append(out, &ingest.Source{Name: name, Receiver: recv, MaxBody: limit})
	}
	return out, nil
}

// Handler is the node's HTTP handler (for tests and benchmarks that serve it
// themselves).
func (a *App) Handler() http.Handler { return a.handler }

// Store is the node's store.
func (a *App) Store() *store.Store { return a.store }

// Start starts the jobs and the committer, then listens. When it returns
// without error, pushes are accepted and /healthz is green.
func (a *App) Start(ctx context.Context) error {
	if err := a.jobs.Start(ctx); err != nil {
		return err
	}
	go a.committer.Run()
	ln, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		a.stopBackground(ctx)
		return fmt.Errorf("listening on %s: %w", a.cfg.Listen, err)
	}
	a.listener = ln
	a.server = &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	a.ready.Store(true)
	go func() { a.served <- a.server.Serve(ln) }()
	a.log.Info("orderhub ready", "version", version.String(), "listen", ln.Addr().String(), "store", a.store.Location())
	return nil
}

// Addr is the address the node listens on (useful with port 0).
func (a *App) Addr() string { return a.listener.Addr().String() }

// Served reports the server's exit; it receives when serving stops.
func (a *App) Served() <-chan error { return a.served }

// Shutdown stops taking requests, answers the ones in flight (their
// documents are committed), drains the committer, stops River and closes the
// store.
func (a *App) Shutdown(ctx context.Context) error {
	a.ready.Store(false)
	var errs []error
	if a.server != nil {
		if err := a.server.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stopping the HTTP server: %w", err))
		}
	}
	errs = append(errs, a.stopBackground(ctx))
	return errors.Join(errs...)
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
		status, code = "stopping", http.StatusServiceUnavailable
	} else if err := a.store.Ping(r.Context()); err != nil {
		status, code = "store unreachable", http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": status, "version": version.String()})
}
