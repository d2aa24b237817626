package ingest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"orderhub/internal/config"
	"orderhub/internal/connector"
	"orderhub/internal/connector/wdt"
	"orderhub/internal/order"
)

// simClock is the one clock of the simulator, the client and the pull.
type simClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *simClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *simClock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// One 旺店通 trade that cannot be an order (a weighed good of 1.5 kg) among
// good ones does not stop its source: the rest of the window is stored and
// the sync time moves on, the bad one is recorded with its number, field
// and reason (and counted); once it is fixed in 旺店通 (a later modified
// time) the next pull stores it and the refusal is gone.
func TestSyncStoresTheRestOfAPageWithARefusedDocument(t *testing.T) {
	e := newPullEnv(t)
	sh, _ := time.LoadLocation("Asia/Shanghai")
	local := func(s string) time.Time {
		tt, err := time.ParseInLocation(time.DateTime, s, sh)
		if err != nil {
			t.Fatal(err)
		}
		return tt
	}
	clk := &simClock{t: local("2026-01-05 12:00:00")}
	sim := wdt.NewSim(wdt.SimConfig{SID: "sid", AppKey: "key", AppSecret: "secret", Now: clk.Now, Location: sh})
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	line := func(num string) []wdt.TradeLine {
		return []wdt.TradeLine{{SpecNo: "TS-BLK-M", Num: wdt.Decimal(num), SharePrice: "59.0000", ShareAmount: "59.0000"}}
	}
	var trades []wdt.Trade
	for i := range 5 {
		m := fmt.Sprintf("2026-01-05 11:%d0:00", i+1)
		trades = append(trades, wdt.Trade{TradeNo: fmt.Sprintf("JY-%d", i), Modified: m, TradeTime: m, TradeStatus: 30,
			ShopNo: "SHOP-TM", WarehouseNo: "WH-SH", GoodsList: line("1.0000")})
	}
	trades[2].GoodsList = line("1.5000")
	if err := sim.PutTrades(trades...); err != nil {
		t.Fatal(err)
	}
	kind, _ := connector.Lookup(wdt.Kind)
	api, _ := kind.Pull.API(wdt.APITrades)
	client, err := wdt.NewClient(connector.Env{System: &config.System{Name: "wdt", Kind: wdt.Kind, BaseURL: srv.URL + "/openapi2",
		Settings: &wdt.Settings{SID: "sid", AppKey: "key", AppSecret: "secret"}}, Location: sh, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	p := NewPulling(e.store, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), reg)
	p.SetClock(clk.Now)
	src := &PullSource{Name: "wdt_trades", System: "wdt", Puller: client, API: api, Every: time.Minute, Overlap: 3 * time.Minute,
		Start: local("2026-01-05 11:00:00"), PageSize: 2}

	var windows []Window
	if err := p.Sync(context.Background(), src, func(w Window) { windows = append(windows, w) }); err != nil {
		t.Fatalf("the window failed for one bad document: %v", err)
	}
	stored := e.stored()
	if len(stored) != 4 || stored["JY-2"] != 0 {
		t.Fatalf("stored %v, want the four good trades", stored)
	}
	if len(windows) != 1 || windows[0].Docs != 4 || windows[0].Refused != 1 {
		t.Fatalf("windows %+v, want one of four documents and one refused", windows)
	}
	state, _, err := e.store.PullStateOf(context.Background(), e.store.Reader(), src.Name)
	if err != nil {
		t.Fatal(err)
	}
	if !state.SyncedTo.Equal(clk.Now()) || state.LastError != "" {
		t.Fatalf("sync state %+v, want synced to 12:00 without an error", state)
	}
	refused, total, err := e.store.PullRefusals(context.Background(), src.Name, 0)
	if err != nil {
		t.Fatal(err)
	}
	if total != 1 || refused[0].DocNo != "JY-2" || refused[0].Field != "goods_list[0].num" || refused[0].Value != "1.5000" ||
		!strings.Contains(refused[0].Reason, "JY-2") || !strings.Contains(refused[0].Hint, "整数") || !refused[0].Modified.Equal(local("2026-01-05 11:30:00")) {
		t.Fatalf("refusals %+v", refused)
	}
	if n := counter(t, reg, "orderhub_pull_documents_refused_total"); n != 1 {
		t.Fatalf("orderhub_pull_documents_refused_total = %v, want 1", n)
	}

	// Fixed in 旺店通: whole kilograms, a new modified time.
	trades[2].GoodsList, trades[2].Modified = line("2.0000"), "2026-01-05 12:01:00"
	if err := sim.PutTrades(trades[2]); err != nil {
		t.Fatal(err)
	}
	clk.set(local("2026-01-05 12:02:00"))
	if err := p.Sync(context.Background(), src, nil); err != nil {
		t.Fatal(err)
	}
	if stored := e.stored(); len(stored) != 5 || stored["JY-2"] != 1 {
		t.Fatalf("after the fix stored %v, want JY-2 too", stored)
	}
	if refused, total, err := e.store.PullRefusals(context.Background(), src.Name, 0); err != nil || total != 0 {
		t.Fatalf("after the fix refusals %+v (%d), %v; want none", refused, total, err)
	}
}

// counter is the sum of a counter's series in reg.
func counter(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// A document read both good and refused in one window (it changed between
// pages) counts by its later version.
func TestLatestOfEach(t *testing.T) {
	t0 := time.Date(2026, 1, 5, 3, 0, 0, 0, time.UTC)
	good := func(no string, m time.Time) connector.Document {
		return connector.Document{Order: order.Order{OrderNo: no, UpdatedAt: m}}
	}
	bad := func(no string, m time.Time) connector.RefusedDocument {
		return connector.RefusedDocument{No: no, Modified: m}
	}
	tests := []struct {
		name              string
		docs              []connector.Document
		refused           []connector.RefusedDocument
		wantDocs, wantBad string
	}{
		{"apart", []connector.Document{good("A", t0)}, []connector.RefusedDocument{bad("B", t0)}, "A", "B"},
		{"fixed later", []connector.Document{good("A", t0.Add(time.Minute))}, []connector.RefusedDocument{bad("A", t0)}, "A", ""},
		{"spoiled later", []connector.Document{good("A", t0), good("C", t0)}, []connector.RefusedDocument{bad("A", t0.Add(time.Minute))}, "C", "A"},
		{"same second: the good one", []connector.Document{good("A", t0)}, []connector.RefusedDocument{bad("A", t0)}, "A", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := map[string]int{}
			for i, d := range tt.docs {
				at[d.Order.OrderNo] = i
			}
			docs, refused := latestOfEach(tt.docs, tt.refused, at)
			var gd, gb []string
			for _, d := range docs {
				gd = append(gd, d.Order.OrderNo)
			}
			for _, r := range refused {
				gb = append(gb, r.No)
			}
			if strings.Join(gd, ",") != tt.wantDocs || strings.Join(gb, ",") != tt.wantBad {
				t.Fatalf("docs %v, refused %v; want %q, %q", gd, gb, tt.wantDocs, tt.wantBad)
			}
		})
	}
}
