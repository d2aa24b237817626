package dingtalkapp

import (
	"log/slog"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"orderhub/internal/config"
	"orderhub/internal/connector"
	"orderhub/internal/testutil/fakeclock"
)

const (
	testAppKey    = "dingorderhubtest01"
	testAppSecret = "s3cr3t-0123456789abcdef0123456789abcdef0123456789abcdef"
	testAgentID   = int64(1000001)
)

// rig is a simulator on loopback with one app and a small organisation:
// users u1…u5, department 10 (u1, u2) with sub-department 11 (u3), and
// department 20 (u4).
type rig struct {
	sim   *Sim
	srv   *httptest.Server
	clock *fakeclock.Clock
}

func newRig(t *testing.T, cfg SimConfig) *rig {
	t.Helper()
	c := fakeclock.New(time.Date(2026, 11, 26, 10, 0, 15, 0, time.UTC))
	if cfg.Now == nil {
		cfg.Now = c.Now
	}
	sim := NewSim(cfg)
	sim.AddApp(App{Key: testAppKey, Secret: testAppSecret, AgentID: testAgentID})
	sim.AddDept("10", "")
	sim.AddDept("11", "10")
	sim.AddDept("20", "")
	sim.AddUser("u1", "10")
	sim.AddUser("u2", "10")
	sim.AddUser("u3", "11")
	sim.AddUser("u4", "20")
	sim.AddUser("u5")
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return &rig{sim: sim, srv: srv, clock: c}
}

// addUsers adds n more people, m0001…, to the organisation.
func (r *rig) addUsers(n int) []string {
	var out []string
	for i := 1; i <= n; i++ {
		u := "m" + strconv.Itoa(10000 + i)[1:]
		r.sim.AddUser(u)
		out = append(out, u)
	}
	return out
}

func goodSettings() Settings {
	return Settings{AppKey: testAppKey, AppSecret: testAppSecret, AgentID: testAgentID}
}

// client builds a sender the way the hub does: from a configured system.
func (r *rig) client(t *testing.T, s Settings, tokens connector.TokenCache) *Client {
	t.Helper()
	if problems := s.Validate(); len(problems) > 0 {
		t.Fatalf("settings: %+v", problems)
	}
	c, err := NewFromEnv(connector.Env{
		System: &config.System{Name: "ding_app", Kind: Kind, BaseURL: r.srv.URL, Settings: &s},
		HTTP:   r.srv.Client(),
		Now:    r.clock.Now,
		Tokens: tokens,
		Log:    quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func people(ids ...string) []connector.Recipient {
	var out []connector.Recipient
	for _, id := range ids {
		out = append(out, connector.Recipient{Person: id, DingUserID: id})
	}
	return out
}

var sample = connector.Message{
	Title:    "大额订单 D20261126005009000001",
	Markdown: "### 大额订单 D20261126005009000001\n- 金额：**¥5,999.00**\n- 买家：138****1234",
	Link:     "http://127.0.0.1:8080/orders/shop/D20261126005009000001",
	Key:      "big_order/shop/D20261126005009000001/created",
}

// quiet drops the clients' logs: the tests check what they do.
var quiet = slog.New(slog.DiscardHandler)
