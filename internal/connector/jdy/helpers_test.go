package jdy

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// testClock is a clock the tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2026, 11, 11, 10, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// simPair is a seeded simulator on loopback and a client pointed at it,
// sharing one clock.
type simPair struct {
	sim    *Sim
	srv    *httptest.Server
	client *Client
	clock  *testClock
	nonce  int64  // last nonce of a hand-built call
	tok    string // app-token of hand-built calls
}

func newSimPair(t *testing.T, cfg SimConfig, tweak ...func(*Options)) *simPair {
	t.Helper()
	clock := newTestClock()
	cfg.Now = clock.Now
	sim := NewSim(cfg)
	sim.SeedDemo()
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	opt := simOptions(sim, srv.URL, clock.Now)
	for _, f := range tweak {
		f(&opt)
	}
	c, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	return &simPair{sim: sim, srv: srv, client: c, clock: clock}
}

func simOptions(sim *Sim, url string, now func() time.Time) Options {
	sc := sim.Config()
	return Options{
		System: "xingchen", BaseURL: url,
		ClientID: sc.ClientID, ClientSecret: sc.ClientSecret, AppKey: sc.AppKey, AppSecret: sc.AppSecret,
		HTTP: &http.Client{Timeout: 5 * time.Second}, Now: now, Log: quiet,
	}
}
