package app

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"time"

	"orderhub/internal/config"
	"orderhub/internal/connector"
	"orderhub/internal/ingest"

	// Every connector kind registers itself.
	_ "orderhub/internal/connector/all"
)

// DefaultTimeout bounds one call to a system without timeout:.
const DefaultTimeout = 30 * time.Second

// transport is shared by every system's client: connections to one
// provider are kept and reused across calls.
var transport = &http.Transport{
	Proxy:                 http.ProxyFromEnvironment,
	DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	MaxIdleConns:          256,
	MaxIdleConnsPerHost:   64,
	IdleConnTimeout:       90 * time.Second,
	TLSHandshakeTimeout:   10 * time.Second,
	ExpectContinueTimeout: time.Second,
}

// ConnectorEnv is the environment a connector of sys is built in.
func ConnectorEnv(cfg *config.Config, sys *config.System, log *slog.Logger) connector.Env {
	timeout := sys.Timeout.Std()
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return connector.Env{
		System:   sys,
		Location: cfg.Location,
		HTTP:     &http.Client{Timeout: timeout, Transport: transport},
		Log:      log.With("system", sys.Name),
	}
}

// PullSources builds every pull source of cfg, sorted by name.
func PullSources(cfg *config.Config, log *slog.Logger) ([]*ingest.PullSource, error) {
	names := make([]string, 0, len(cfg.Sources))
	for n, src := range cfg.Sources {
		if src.Mode == "pull" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var out []*ingest.PullSource
	for _, name := range names {
		src := cfg.Sources[name]
		sys, ok := cfg.Systems[src.System]
		if !ok {
			return nil, fmt.Errorf("source %q names system %q, which is not configured", name, src.System)
		}
		kind, ok := connector.Lookup(sys.Kind)
		if !ok || kind.Pull == nil {
			return nil, fmt.Errorf("source %q: system %q of kind %q cannot be pulled from", name, sys.Name, sys.Kind)
		}
		api, ok := kind.Pull.API(src.API)
		if !ok {
			return nil, fmt.Errorf("source %q: kind %q has no pull API %q", name, sys.Kind, src.API)
		}
		p, err := connector.NewPuller(ConnectorEnv(cfg, sys, log))
		if err != nil {
			return nil, fmt.Errorf("source %q: %w", name, err)
		}
		every, overlap := src.Every.Std(), src.Overlap.Std()
		if every <= 0 {
			every = time.Minute
		}
		if overlap <= 0 {
			overlap = 3 * time.Minute
		}
		out = append(out, &ingest.PullSource{
			Name: name, System: sys.Name, Puller: p, API: api, Every: every, Overlap: overlap,
			Start: src.StartAt, MaxWindowDocs: src.MaxWindowDocs,
		})
	}
	return out, nil
}
