package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"orderhub/internal/config"
	"orderhub/internal/connector"
	"orderhub/internal/connector/mall"
	"orderhub/internal/connector/webhook"
	"orderhub/internal/testutil/logbuf"
)

const (
	signA   = "mall-sign-aaaaaaaaaaaa"
	signB   = "mall-sign-bbbbbbbbbbbb"
	secret1 = "hook-secret-1111111111"
	secret2 = "hook-secret-2222222222"
)

// node is one App serving on loopback from a config file.
type node struct {
	t    *testing.T
	app  *App
	path string // the config file
	base string
	logs *logbuf.Buffer
	c    *http.Client
	down bool // shut down by the test itself
}

// startNode writes text (with %s for the store URL) to a config file and
// serves it on a free loopback port.
func startNode(t *testing.T, text string) *node {
	t.Helper()
	dir := t.TempDir()
	n := &node{t: t, path: filepath.Join(dir, "orderhub.yaml"), logs: &logbuf.Buffer{}, c: &http.Client{Timeout: 10 * time.Second}}
	n.write(fmt.Sprintf(text, "sqlite://"+filepath.Join(dir, "hub.db")))
	cfg, err := config.Load(n.path)
	if err != nil {
		t.Fatal(err)
	}
	level := new(slog.LevelVar)
	_ = level.UnmarshalText([]byte(cfg.Log.Level))
	log := slog.New(slog.NewJSONHandler(n.logs, &slog.HandlerOptions{Level: level}))
	a, err := New(context.Background(), cfg, log, WithLogLevel(level))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	n.app, n.base = a, "http://"+a.Addr()
	t.Cleanup(func() {
		n.c.CloseIdleConnections()
		if n.down {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := a.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	return n
}

func (n *node) write(text string) {
	n.t.Helper()
	if err := os.WriteFile(n.path, []byte(text), 0o600); err != nil {
		n.t.Fatal(err)
	}
}

// reload rewrites the config file (keeping the running store) and reloads it.
func (n *node) reload(text string) (*ReloadReport, error) {
	n.t.Helper()
	n.write(fmt.Sprintf(text, n.app.Runtime().Config.Store))
	return n.app.ReloadFile(n.path)
}

// pushMall pushes a new mall order signed with sign to source.
func (n *node) pushMall(source, sign, prefix string) (int, string) {
	n.t.Helper()
	gen := mall.NewGenerator(uint64(time.Now().UnixNano()), sign, time.UTC, prefix)
	return n.post(source, mall.Body(gen.New(time.Now())), nil)
}

var hookSeq atomic.Int64

// pushHook pushes a new canonical order signed with secret to source.
func (n *node) pushHook(source, secret string) (int, string) {
	n.t.Helper()
	body := []byte(fmt.Sprintf(`{"order_no":"H%d","status":"paid","total":"10.00","created_at":"2026-11-25T10:00:00+08:00"}`, hookSeq.Add(1)))
	ts, sig := webhook.Sign(secret, time.Now(), body)
	return n.post(source, body, http.Header{webhook.HeaderTimestamp: {ts}, webhook.HeaderSignature: {sig}})
}

func (n *node) post(source string, body []byte, h http.Header) (int, string) {
	n.t.Helper()
	req, err := http.NewRequest(http.MethodPost, n.base+"/v1/push/"+source, bytes.NewReader(body))
	if err != nil {
		n.t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := n.c.Do(req)
	if err != nil {
		n.t.Errorf("push to %s: %v", source, err)
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metric reads one series' value from /metrics, as a scraper would.
func (n *node) metric(series string) string {
	n.t.Helper()
	resp, err := n.c.Get(n.base + "/metrics")
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v
		}
	}
	return "(missing)"
}

const twoSources = `store: %s
listen: 127.0.0.1:0
log: {level: info}
systems:
  shop: {kind: mall, app_key: k, app_sign: ` + signA + `}
  partner: {kind: webhook, secret: ` + secret1 + `}
  old: {kind: webhook, secret: ` + secret1 + `}
sources:
  shop_orders: {system: shop, mode: push}
  partner_orders: {system: partner, mode: push}
  old_orders: {system: old, mode: push}
`

// The reload changes the shop's app_sign outright, rotates the partner's
// secret keeping the old one as previous_secret, adds a source on a new
// system and removes one.
const rotated = `store: %s
listen: 127.0.0.1:0
log: {level: info}
systems:
  shop: {kind: mall, app_key: k, app_sign: ` + signB + `}
  partner: {kind: webhook, secret: ` + secret2 + `, previous_secret: ` + secret1 + `}
  shop2: {kind: mall, app_key: k2, app_sign: ` + signA + `}
sources:
  shop_orders: {system: shop, mode: push}
  partner_orders: {system: partner, mode: push}
  shop2_orders: {system: shop2, mode: push}
`

func TestReloadSwapsSourcesAndSecrets(t *testing.T) {
	n := startNode(t, twoSources)
	type push struct {
		name   string
		send   func() (int, string)
		status int
	}
	check := func(when string, pushes []push) {
		t.Helper()
		for _, p := range pushes {
			if got, body := p.send(); got != p.status {
				t.Errorf("%s: %s answered %d %s, want %d", when, p.name, got, body, p.status)
			}
		}
	}
	check("before the reload", []push{
		{"shop with app_sign A", func() (int, string) { return n.pushMall("shop_orders", signA, "A") }, 201},
		{"shop with app_sign B", func() (int, string) { return n.pushMall("shop_orders", signB, "B") }, 401},
		{"partner with secret 1", func() (int, string) { return n.pushHook("partner_orders", secret1) }, 201},
		{"partner with secret 2", func() (int, string) { return n.pushHook("partner_orders", secret2) }, 401},
		{"old source", func() (int, string) { return n.pushHook("old_orders", secret1) }, 201},
		{"source not yet added", func() (int, string) { return n.pushMall("shop2_orders", signA, "C") }, 404},
	})

	rep, err := n.reload(rotated)
	if err != nil {
		t.Fatal(err)
	}
	want := ReloadReport{
		Added:   []string{"sources.shop2_orders", "systems.shop2"},
		Removed: []string{"sources.old_orders", "systems.old"},
		Changed: []string{"systems.partner", "systems.shop"},
	}
	for _, l := range []*[]string{&rep.Added, &rep.Removed, &rep.Changed} {
		slices.Sort(*l)
	}
	if !slices.Equal(rep.Added, want.Added) || !slices.Equal(rep.Removed, want.Removed) || !slices.Equal(rep.Changed, want.Changed) || len(rep.NeedRestart) != 0 {
		t.Errorf("report %+v, want %+v", rep, want)
	}

	check("after the reload", []push{
		{"shop with the replaced app_sign A", func() (int, string) { return n.pushMall("shop_orders", signA, "D") }, 401},
		{"shop with app_sign B", func() (int, string) { return n.pushMall("shop_orders", signB, "E") }, 201},
		{"partner with secret 1, now previous_secret", func() (int, string) { return n.pushHook("partner_orders", secret1) }, 201},
		{"partner with secret 2", func() (int, string) { return n.pushHook("partner_orders", secret2) }, 201},
		{"removed source", func() (int, string) { return n.pushHook("old_orders", secret1) }, 404},
		{"added source", func() (int, string) { return n.pushMall("shop2_orders", signA, "F") }, 201},
	})
	// No secret reaches the log, not even through the report.
	for _, s := range []string{signA, signB, secret1, secret2} {
		if strings.Contains(n.logs.String(), s) {
			t.Errorf("the log holds the secret %q", s)
		}
	}
	if got := n.metric(`orderhub_config_reloads_total{result="applied"}`); got != "1" {
		t.Errorf("orderhub_config_reloads_total{result=applied} = %s, want 1", got)
	}
}

func TestReloadKeepsRestartOnlySettings(t *testing.T) {
	n := startNode(t, twoSources)
	runningStore := n.app.Runtime().Config.Store
	text := strings.NewReplacer("listen: 127.0.0.1:0", "listen: 127.0.0.1:1\ningest: {batch_max: 7, max_body: 200}",
		"log: {level: info}", "log: {level: debug, format: text}").Replace(twoSources)
	n.write(fmt.Sprintf(text, "sqlite://"+filepath.Join(t.TempDir(), "other.db")))
	rep, err := n.app.ReloadFile(n.path)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, s := range rep.NeedRestart {
		if s.Key == "log.format" && (s.Running != "json" || s.Configured != "text") {
			t.Errorf("log.format reported as %+v, want running json, configured text", s)
		}
		keys = append(keys, s.Key)
		if s.Key == "ingest.batch_max" && (s.Running != "256" || s.Configured != "7") {
			t.Errorf("ingest.batch_max reported as %+v, want running 256, configured 7", s)
		}
	}
	slices.Sort(keys)
	if want := []string{"ingest.batch_max", "listen", "log.format", "store"}; !slices.Equal(keys, want) {
		t.Errorf("need a restart: %v, want %v", keys, want)
	}
	// What can change did: the level and the body limit.
	if !slices.Contains(rep.Changed, "ingest.max_body") || !slices.Contains(rep.Changed, "log.level") {
		t.Errorf("changed %v, want ingest.max_body and log.level among them", rep.Changed)
	}
	cfg := n.app.Runtime().Config
	if cfg.Store != runningStore || cfg.Listen != "127.0.0.1:0" || cfg.Ingest.BatchMax != 256 || cfg.Log.Format != "json" {
		t.Errorf("running config after the reload: store %s, listen %s, batch_max %d, format %q; want the values it started with",
			cfg.Store, cfg.Listen, cfg.Ingest.BatchMax, cfg.Log.Format)
	}
	if !n.app.log.Enabled(context.Background(), slog.LevelDebug) {
		t.Error("log.level debug was not applied")
	}
	if got, body := n.pushMall("shop_orders", signA, "L"); got != http.StatusRequestEntityTooLarge {
		t.Errorf("a mall order over the new 200-byte max_body answered %d %s, want 413", got, body)
	}
	for _, key := range keys {
		if !strings.Contains(n.logs.String(), `"key":"`+key+`"`) {
			t.Errorf("the log does not say that %s needs a restart", key)
		}
	}
	if !strings.Contains(n.logs.String(), "other.db") {
		t.Error("the log does not show the configured store")
	}
}

func TestReloadRefusesBadConfig(t *testing.T) {
	cases := []struct {
		name string
		text string // written to the file; %s is the store
		want []string
	}{
		{"unknown system and short secret", strings.NewReplacer("system: partner,", "system: partnr,", "secret: "+secret1+"}", "secret: x}").Replace(twoSources),
			[]string{`unknown system \"partnr\" (did you mean \"partner\"?)`, "secret is shorter than 16 characters"}},
		{"YAML syntax", "store: %s\nsystems: {shop: {kind: mall, app_sign: ${X}}}\n", []string{"orderhub.yaml:2"}},
		{"unknown key", strings.Replace(twoSources, "log:", "logs:", 1), []string{`logs`}},
		{"nothing configured", "store: %s\n", []string{"configures no systems and no sources"}},
		{"rule that does not compile", strings.Replace(twoSources, "sources:", "  ding: {kind: dingtalk_robot, webhook: \"https://oapi.dingtalk.com/robot/send?access_token=t\"}\nrules:\n  r: {on: [paid], when: \"order.totl > 1\", channels: [ding], template: new_order}\nsources:", 1),
			[]string{`rules.r.when: order has no field \"totl\" (did you mean \"total\"?`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := startNode(t, twoSources)
			before := n.app.Runtime()
			_, err := n.reload(tc.text)
			if err == nil {
				t.Fatal("the reload was applied")
			}
			if n.app.Runtime() != before {
				t.Error("the runtime was replaced")
			}
			if strings.Contains(n.logs.String(), `"msg":"config problem"`) && !strings.Contains(err.Error(), "problem(s) in the configuration") {
				t.Errorf("error %q does not count the problems", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(n.logs.String(), w) {
					t.Errorf("the log does not hold %q:\n%s", w, n.logs.String())
				}
			}
			if !strings.Contains(n.logs.String(), "configuration not reloaded; the running one stays") {
				t.Error("the refusal is not logged")
			}
			if got := n.metric("orderhub_config_last_reload_successful"); got != "0" {
				t.Errorf("orderhub_config_last_reload_successful = %s, want 0", got)
			}
			if got, body := n.pushHook("partner_orders", secret1); got != http.StatusCreated {
				t.Errorf("after the refused reload a push answered %d %s, want 201", got, body)
			}
		})
	}
}

// gate holds pushes to sources of kind "gated" inside Receive until the
// test lets them go, so that a reload can happen while they are in flight.
type gate struct {
	entered chan struct{}
	release chan struct{}
}

// currentGate is the gate receivers built from now on wait at.
var currentGate atomic.Pointer[gate]

type gatedSettings struct {
	Secret config.Secret `yaml:"secret" required:"true"`
}

type gatedReceiver struct {
	gate  *gate
	inner connector.PushReceiver
}

func (g gatedReceiver) Receive(req *connector.PushRequest) (*connector.Pushed, error) {
	g.gate.entered <- struct{}{}
	<-g.gate.release
	return g.inner.Receive(req)
}

func init() {
	connector.Register(connector.Kind{
		KindSpec: config.KindSpec{Kind: "gated", Summary: "webhook that waits at a gate (tests)", NewSettings: func() any { return new(gatedSettings) }},
		Push: func(env connector.PushEnv) (connector.PushReceiver, error) {
			s := env.System.Settings.(*gatedSettings)
			return gatedReceiver{currentGate.Load(), webhook.NewReceiver(5*time.Minute, s.Secret.Reveal())}, nil
		},
	})
}

// A push that started before a reload finishes on the configuration it
// started with, even though the reload replaced its secret; the next push
// with that secret is refused.
func TestPushInFlightFinishesOnItsConfig(t *testing.T) {
	g := &gate{entered: make(chan struct{}, 16), release: make(chan struct{})}
	currentGate.Store(g)
	gated := func(secret string) string {
		return "store: %s\nlisten: 127.0.0.1:0\nsystems:\n  g: {kind: gated, secret: " + secret + "}\nsources:\n  g_orders: {system: g, mode: push}\n"
	}
	n := startNode(t, gated(secret1))
	done := make(chan int)
	go func() {
		got, _ := n.pushHook("g_orders", secret1)
		done <- got
	}()
	<-g.entered // the push is inside the receiver of secret 1
	if _, err := n.reload(gated(secret2)); err != nil {
		t.Fatal(err)
	}
	close(g.release)
	if got := <-done; got != http.StatusCreated {
		t.Errorf("the push in flight during the reload answered %d, want 201 (verified with the secret it started with)", got)
	}
	if got, body := n.pushHook("g_orders", secret1); got != http.StatusUnauthorized {
		t.Errorf("a push with the replaced secret after the reload answered %d %s, want 401", got, body)
	}
	if got, body := n.pushHook("g_orders", secret2); got != http.StatusCreated {
		t.Errorf("a push with the new secret answered %d %s, want 201", got, body)
	}
}

// Pushes and reloads at once: every push is answered by one whole runtime
// (the race detector watches the swap), and none is refused while its
// source's secret rotates with previous_secret.
func TestPushesDuringReloads(t *testing.T) {
	n := startNode(t, twoSources)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var pushed atomic.Int64
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if got, body := n.pushHook("partner_orders", secret1); got != http.StatusCreated {
					t.Errorf("push during reloads answered %d %s", got, body)
					return
				}
				pushed.Add(1)
			}
		}()
	}
	// Twenty reloads, each after at least four more pushes went through.
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; i < 20; i++ {
		for since := pushed.Load(); pushed.Load() < since+4; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) || t.Failed() {
				close(stop)
				wg.Wait()
				t.Fatalf("pushes stalled at %d after %d reloads", pushed.Load(), i)
			}
		}
		text := twoSources
		if i%2 == 0 {
			text = rotated
		}
		if _, err := n.reload(text); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("%d pushes through 20 reloads, none refused", pushed.Load())
}

// Drain turns /healthz red while pushes are still served; Shutdown then
// logs "draining" once and "stopped" with how long it took, phase by phase.
func TestDrainAndShutdown(t *testing.T) {
	n := startNode(t, twoSources)
	n.app.Drain()
	resp, err := n.c.Get(n.base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), `"draining"`) {
		t.Errorf("/healthz while draining answered %d %s, want 503 draining", resp.StatusCode, b)
	}
	if got, body := n.pushHook("partner_orders", secret1); got != http.StatusCreated {
		t.Errorf("a push while draining answered %d %s, want 201: draining still serves", got, body)
	}
	n.down = true
	n.c.CloseIdleConnections()
	if err := n.app.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	var msgs []string
	var stopped map[string]any
	for _, r := range n.logs.Records(t) {
		if m := r["msg"].(string); m == "draining" || m == "stopped" {
			msgs = append(msgs, m)
			if m == "stopped" {
				stopped = r
			}
		}
	}
	if !slices.Equal(msgs, []string{"draining", "stopped"}) {
		t.Fatalf("shutdown logged %v, want draining then stopped", msgs)
	}
	for _, k := range []string{"in", "http", "committer", "jobs", "store"} {
		v, ok := stopped[k].(string)
		if !ok {
			t.Errorf("the stopped line has no %s: %v", k, stopped)
			continue
		}
		if k == "in" && !strings.HasSuffix(v, "s") {
			t.Errorf("stopped in=%q, want seconds", v)
		} else if _, err := time.ParseDuration(v); err != nil {
			t.Errorf("stopped %s=%q is not a duration", k, v)
		}
	}
}
