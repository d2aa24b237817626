package app

import (
	"fmt"
	"net"
	"net/http"
	"sort"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"orderhub/internal/config"
	"orderhub/internal/connector"
	"orderhub/internal/console"
	"orderhub/internal/ingest"
)

// Runtime is what one configuration makes of the request path: the push
// sources with their receivers (and so their secrets), the read API with its
// tokens, and the routes over them. It never changes once built. A reload
// builds a new Runtime from the new configuration and swaps it in whole;
// every request loads the current one once, so a push that started on the
// old configuration finishes on it, and no request sees half of each.
//
// A stage whose behaviour comes from the configuration (flows, rules) adds
// its compiled form here and builds it in buildRuntime, where a failure
// refuses the whole reload; its background work reads App.Runtime at the
// start of each batch, so it swaps at the same moment as the routes.
type Runtime struct {
	// Config is the configuration in effect. Settings that need a restart
	// (see restartOnly) hold the values the process started with.
	Config *config.Config
	// Sources are the push sources, sorted by name.
	Sources []*ingest.Source

	handler http.Handler
}

// buildRuntime builds everything cfg configures for requests. It changes
// nothing outside the new Runtime, so a failure leaves the running one as it
// was.
func (a *App) buildRuntime(cfg *config.Config) (*Runtime, error) {
	sources, err := pushSources(cfg)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("POST /v1/push/{source}", ingest.NewPushHandler(sources, a.committer, a.log, a.metrics))
	console.NewAPI(a.store, cfg.API.Tokens, cfg.Location, a.log).Register(mux)
	mux.HandleFunc("GET /healthz", a.healthz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{}))
	return &Runtime{Config: cfg, Sources: sources, handler: mux}, nil
}

// pushSources builds a receiver for every push source in cfg.
func pushSources(cfg *config.Config) ([]*ingest.Source, error) {
	names := make([]string, 0, len(cfg.Sources))
	for n := range cfg.Sources {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []*ingest.Source
	for _, name := range names {
		src := cfg.Sources[name]
		if src.Mode != "push" {
			continue
		}
		sys, ok := cfg.Systems[src.System]
		if !ok {
			return nil, fmt.Errorf("source %q names system %q, which is not configured", name, src.System)
		}
		recv, err := connector.NewPushReceiver(connector.PushEnv{System: sys, Location: cfg.Location, ReplayWindow: cfg.Ingest.ReplayWindow.Std()})
		if err != nil {
			return nil, fmt.Errorf("source %q: %w", name, err)
		}
		limit := int64(cfg.Ingest.MaxBody)
		if src.MaxBody > 0 {
			limit = int64(src.MaxBody)
		}
		out = append(out, &ingest.Source{Name: name, Receiver: recv, MaxBody: limit})
	}
	return out, nil
}

// ServeHTTP routes a request through the runtime current when it arrived.
// While the node drains, every answer closes its connection (see
// connTracker).
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, _ := r.Context().Value(connKey{}).(net.Conn)
	a.conns.answering(c, true) // before looking at draining: see retire
	if a.draining.Load() {
		w.Header().Set("Connection", "close")
		a.conns.answering(c, false)
	}
	a.rt.Load().handler.ServeHTTP(w, r)
}

// Runtime is the runtime in effect now. Hold on to it for the length of one
// piece of work, not longer: a reload replaces it.
func (a *App) Runtime() *Runtime { return a.rt.Load() }
