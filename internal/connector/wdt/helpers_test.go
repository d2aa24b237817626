package wdt

import (
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"orderhub/internal/config"
	"orderhub/internal/connector"
	"orderhub/internal/connector/simfault"
)

// clock is a settable clock shared by a simulator and its clients.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func at(s string) time.Time {
	t, err := time.ParseInLocation(wdtTime, s, shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

// The accounts of erp.md's vectors.
const (
	testSID, testAppKey, testSecret    = "demo", "demo-hub", "s3cr3t"
	testQMKey, testQMSecret, testQMTgt = "12345678", "qmsecret", "23456789"
)

func simConfig(c *clock) SimConfig {
	return SimConfig{SID: testSID, AppKey: testAppKey, AppSecret: testSecret,
		QimenAppKey: testQMKey, QimenAppSecret: testQMSecret, QimenTargetAppKey: testQMTgt, Now: c.Now}
}

// startSim serves sim on loopback for the test.
func startSim(t *testing.T, sim *Sim) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	return srv
}

// newClient builds a client of the given kind against srv; edit adjusts
// its settings.
func newClient(t testing.TB, kind string, srv *httptest.Server, c *clock, edit func(any)) *Client {
	t.Helper()
	sys := &config.System{Name: "wdt_test", Kind: kind}
	switch kind {
	case Kind:
		s := &Settings{SID: testSID, AppKey: testAppKey, AppSecret: testSecret}
		sys.BaseURL, sys.Settings = srv.URL+"/openapi2", s
	case KindQimen:
		s := &QimenSettings{AppKey: testQMKey, AppSecret: testQMSecret, TargetAppKey: testQMTgt, SID: testSID}
		sys.BaseURL, sys.Settings = srv.URL+"/router/qm", s
	}
	if edit != nil {
		edit(sys.Settings)
	}
	cl, err := NewClient(connector.Env{System: sys, Location: shanghai, HTTP: srv.Client(), Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// windowNos lists the numbers of d's documents of api modified in
// [from, to].
func windowNos(t *testing.T, d *Data, api string, from, to time.Time) []string {
	t.Helper()
	var out []string
	in := func(no, mod string) {
		m := at(mod)
		if !m.Before(from) && !m.After(to) {
			out = append(out, no)
		}
	}
	if api == APITrades {
		for _, x := range d.Trades {
			in(x.TradeNo, x.Modified)
		}
	} else {
		for _, x := range d.Stockins {
			in(x.OrderNo, x.Modified)
		}
	}
	return out
}

func simFaultLose() simfault.Fault { return simfault.Fault{Kind: simfault.LoseAnswer, Count: 1} }
