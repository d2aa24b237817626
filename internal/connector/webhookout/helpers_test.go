package webhookout

import (
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"orderhub/internal/config"
	"orderhub/internal/connector"
)

const (
	// testSecret is the spec's example secret; otherSecret another valid one.
	testSecret  = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	otherSecret = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
)

// clock is a settable clock shared by a client and its receiver.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type rig struct {
	sim   *Sim
	srv   *httptest.Server
	clock *clock
}

func newRig(t *testing.T, cfg SimConfig, secrets ...string) *rig {
	t.Helper()
	c := newClock()
	if cfg.Now == nil {
		cfg.Now = c.Now
	}
	if len(secrets) == 0 {
		secrets = []string{testSecret}
	}
	sim, err := NewSim(cfg, secrets...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return &rig{sim: sim, srv: srv, clock: c}
}

// client builds a sender the way the hub does: from a configured system.
func (r *rig) client(t *testing.T, secret string) *Client {
	t.Helper()
	s := Settings{URL: r.srv.URL + "/hooks/orders", Secret: config.Secret(secret)}
	if problems := s.Validate(); len(problems) > 0 {
		t.Fatalf("settings: %+v", problems)
	}
	c, err := NewFromEnv(connector.Env{
		System: &config.System{Name: "erp_hook", Kind: Kind, Settings: &s},
		HTTP:   r.srv.Client(),
		Now:    r.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
