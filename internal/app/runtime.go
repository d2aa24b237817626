package app

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"orderhub/internal/auth"
	"orderhub/internal/config"
	"orderhub/internal/connector"
	"orderhub/internal/console"
	"orderhub/internal/flow"
	"orderhub/internal/ingest"
	"orderhub/internal/notify"
	"orderhub/internal/web"
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
	// Pulls are the pull sources, Flows the flows, sorted by name; their
	// stages swap to them when the runtime is applied.
	Pulls []*ingest.PullSource
	Flows []*flow.Flow
	// Notify are the compiled rules and the endpoints they send to.
	Notify *notify.Setup
	// Auth identifies console users and API tokens; pages put
	// Auth.Middleware and auth.RequirePage in front of themselves.
	Auth *auth.Auth

	// Routes are the API's routes (METHOD /path), which the OpenAPI
	// document must list; the console's pages and sign-in are not among
	// them.
	Routes []string

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
	pulls, err := PullSources(cfg, a.log)
	if err != nil {
		return nil, err
	}
	flows, err := Flows(cfg, a.log)
	if err != nil {
		return nil, err
	}
	// A file whose rules do not compile is refused at start-up and on
	// reload as check refuses it.
	su, err := Notifications(cfg, a.log, notify.NewInboxSender(a.store), a.store.Tokens())
	if err != nil {
		return nil, err
	}
	rt := &Runtime{Config: cfg, Sources: sources, Pulls: pulls, Flows: flows, Notify: su}
	mux := http.NewServeMux()
	mux.Handle("POST /v1/push/{source}", ingest.NewPushHandler(sources, a.committer, a.log, a.metrics))
	au, err := auth.New(auth.Options{Store: a.store, Tokens: cfg.API.Tokens,
		MaxAge: time.Duration(cfg.Console.SessionMaxAge), Idle: time.Duration(cfg.Console.SessionIdle),
		InsecureCookie: cfg.Console.InsecureCookie, Throttle: a.throttle, Log: a.log.With("component", "auth")})
	if err != nil {
		return nil, err
	}
	rt.Auth = au
	au.Register(mux)
	api := console.NewAPI(a.store, cfg.API.Tokens, cfg.Location, a.log).WithAuth(au)
	api.Register(mux)
	api.RegisterFlows(mux, flowsView{rt: rt, stage: a.flows})
	api.RegisterDeliveries(mux, a.notify)
	channels := make([]string, 0, len(su.Endpoints))
	for name := range su.Endpoints {
		channels = append(channels, name)
	}
	sort.Strings(channels)
	api.RegisterPeople(mux, cfg.People, channels)
	// The links mails carry are signed by a key every node reads from the
	// store; it is made on first use.
	key, err := a.store.LinkSecret(context.Background())
	if err != nil {
		return nil, err
	}
	var tracked []string
	for _, name := range channels {
		if k, ok := connector.Lookup(su.Endpoints[name].Kind); ok && k.Send != nil && k.Send.Tracking {
			tracked = append(tracked, name)
		}
	}
	api.RegisterLinks(mux, notify.NewLinks(key, su.Rules.LinkBase()), cfg.People, channels, tracked)
	templates := map[string]string{}
	for name, r := range cfg.Rules {
		templates[name] = r.Template
	}
	api.RegisterStats(mux, templates)
	api.RegisterDashboard(mux)
	if err := api.RegisterOpenAPI(mux); err != nil {
		return nil, err
	}
	// The console's pages, over the same store and actions as the API,
	// behind sign-in: a request without a session goes to /login, and a
	// POST without the session's CSRF token is refused before the page
	// sees it. The stylesheet and script are the same for everyone.
	pages := web.Handler(web.Deps{Store: a.store, Flows: flowsView{rt: rt, stage: a.flows}, Deliveries: a.notify,
		Rules: ruleInfos(cfg), Location: cfg.Location, Log: a.log.With("component", "web")})
	signedIn := au.Middleware(auth.RequirePage(auth.RoleViewer)(webViewer(pages)))
	for _, p := range web.Patterns() {
		if p == web.AssetsPattern {
			mux.Handle(p, pages)
			continue
		}
		mux.Handle(p, signedIn)
	}
	mux.HandleFunc("GET /healthz", a.healthz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{}))
	for _, r := range api.Routes() {
		rt.Routes = append(rt.Routes, r.Pattern)
	}
	rt.Routes = append(rt.Routes, api.PublicRoutes()...)
	rt.Routes = append(rt.Routes, "POST /v1/push/{source}", "GET /healthz", "GET /metrics")
	rt.handler = mux
	return rt, nil
}

// apply makes rt the runtime in effect: the routes, and the pull sources
// and flows of their stages.
func (a *App) apply(rt *Runtime) {
	a.rt.Store(rt)
	a.pulls.SetSources(rt.Pulls)
	a.flows.SetFlows(rt.Flows)
	a.notify.SetSetup(rt.Notify)
}

// flowsView is what the flows API shows of a runtime.
type flowsView struct {
	rt    *Runtime
	stage *flow.Stage
}

func (v flowsView) FlowInfos() []console.FlowInfo {
	out := make([]console.FlowInfo, 0, len(v.rt.Flows))
	for _, f := range v.rt.Flows {
		out = append(out, console.FlowInfo{Name: f.Name, Source: f.Source, Target: f.Target, API: f.API.Name})
	}
	return out
}

func (v flowsView) PullSources() []string {
	out := make([]string, 0, len(v.rt.Pulls))
	for _, p := range v.rt.Pulls {
		out = append(out, p.Name)
	}
	return out
}

func (v flowsView) Retry(ctx context.Context, id int64) error { return v.stage.Retry(ctx, id) }
func (v flowsView) Skip(ctx context.Context, id int64) error  { return v.stage.Skip(ctx, id) }

// webViewer hands the pages the viewer sign-in found.
func webViewer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v, ok := auth.FromContext(r.Context()); ok {
			r = r.WithContext(web.WithViewer(r.Context(), web.Viewer{Name: v.Name, Role: string(v.Role), CSRF: v.CSRF, Lang: v.Lang, PII: v.PII}))
		}
		next.ServeHTTP(w, r)
	})
}

// ruleInfos is what the console's rules page shows of cfg's rules.
func ruleInfos(cfg *config.Config) []web.RuleInfo {
	out := make([]web.RuleInfo, 0, len(cfg.Rules))
	for name, r := range cfg.Rules {
		out = append(out, web.RuleInfo{Name: name, On: r.On, When: r.When, Channels: r.Channels, Template: r.Template, Priority: r.Priority})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
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
