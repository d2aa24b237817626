package dingtalk

import (
	"net/http/httptest"
	"testing"
	"time"

	"orderhub/internal/config"
	"orderhub/internal/connector"
	"orderhub/internal/testutil/fakeclock"
)

const (
	testToken   = "c0ffee0123456789c0ffee0123456789c0ffee0123456789c0ffee0123456789"
	testSecret  = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	testKeyword = "订单"
)

// clock is a settable clock shared by a simulator and its clients.
type clock = fakeclock.Clock

func newClock() *clock { return fakeclock.New(time.Date(2026, 11, 26, 10, 0, 15, 0, time.UTC)) }

// rig is a simulator on loopback with one robot (加签 on, keyword 订单).
type rig struct {
	sim   *Sim
	srv   *httptest.Server
	clock *clock
}

func newRig(t *testing.T, cfg SimConfig) *rig {
	t.Helper()
	c := newClock()
	if cfg.Now == nil {
		cfg.Now = c.Now
	}
	sim := NewSim(cfg)
	sim.AddRobot(testToken, testSecret, testKeyword)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return &rig{sim: sim, srv: srv, clock: c}
}

func (r *rig) webhook(token string) string { return WebhookURL(r.srv.URL, token) }

// client builds a sender the way the hub does: from a configured system.
func (r *rig) client(t *testing.T, s Settings) *Client {
	t.Helper()
	if s.Webhook == "" {
		s.Webhook = config.Secret(r.webhook(testToken))
	}
	if problems := s.Validate(); len(problems) > 0 {
		t.Fatalf("settings: %+v", problems)
	}
	c, err := NewFromEnv(connector.Env{
		System: &config.System{Name: "ops_ding", Kind: Kind, Settings: &s},
		HTTP:   r.srv.Client(),
		Now:    r.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func goodSettings() Settings {
	return Settings{Secret: testSecret, Keyword: testKeyword}
}
