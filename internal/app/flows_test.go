package app

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"orderhub/internal/config"
	"orderhub/internal/simlab"
	"orderhub/internal/testutil/logbuf"
	"orderhub/internal/testutil/pgtest"
)

// flowConfig is the two seed flows against a simlab.
const flowConfig = `store: %s
listen: 127.0.0.1:0
api:
  tokens: [{name: test, token: ` + testToken + `}]
systems:
%s
sources:
  wdt_trades:  {system: wdt, mode: pull, api: trade.query, every: 1s, start: "%s"}
  wdt_refunds: {system: wdt_qm, mode: pull, api: stockin.order.query.refund, every: 1s, start: "%s"}
flows:
  trades_to_xingchen:  {source: wdt_trades,  target: xingchen, api: sal_order_save, retry: {initial: 50ms, max: 1s}}
  refunds_to_xingkong: {source: wdt_refunds, target: xingkong, api: SAL_RETURNSTOCK, retry: {initial: 50ms, max: 1s}}
`

// TestSeedFlowsEndToEnd pulls 旺店通 trades (openapi2) and refund
// stock-ins (奇门) from the simulators and writes them into 星辰 and 星空:
// every document becomes exactly one bill, the unknown SKU waits as an
// exception with 星辰's message, and GET /v1/flows shows it all.
func TestSeedFlowsEndToEnd(t *testing.T) {
	testSeedFlows(t, "sqlite://"+filepath.Join(t.TempDir(), "hub.db"))
}

// The same on PostgreSQL, as several nodes would share it.
func TestSeedFlowsEndToEndPostgres(t *testing.T) {
	testSeedFlows(t, pgtest.URL(t))
}

func testSeedFlows(t *testing.T, storeURL string) {
	lab, err := simlab.Start(simlab.Options{UnknownSKU: "NB-16G"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lab.Close() })
	now := time.Now()
	data, err := lab.WDT.Generate(240, now.Add(-150*time.Minute), now.Add(-time.Minute), 7)
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	start := now.Add(-3 * time.Hour).In(loc).Format(config.TimeLayout)
	dir := t.TempDir()
	path := filepath.Join(dir, "orderhub.yaml")
	text := fmt.Sprintf(flowConfig, storeURL, lab.SystemsYAML(5*time.Second), start, start)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	logs := &logbuf.Buffer{}
	a, err := New(context.Background(), cfg, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Shutdown(context.Background()) })

	unknown := map[string]bool{}
	for _, tr := range data.Trades {
		for _, l := range tr.GoodsList {
			if l.SpecNo == "NB-16G" {
				unknown[tr.TradeNo] = true
			}
		}
	}
	wantTrades := len(data.Trades) - len(unknown)
	k3Unknown := 0
	for _, s := range data.Stockins {
		for _, l := range s.DetailsList {
			if l.SpecNo == "NB-16G" {
				k3Unknown++
				break
			}
		}
	}
	wantStockins := len(data.Stockins) - k3Unknown
	deadline := time.Now().Add(90 * time.Second)
	for lab.JDY.Len() < wantTrades || lab.K3.Len("SAL_RETURNSTOCK") < wantStockins {
		if time.Now().After(deadline) {
			t.Fatalf("after 90s 星辰 holds %d of %d bills and 星空 %d of %d\n%s", lab.JDY.Len(), wantTrades,
				lab.K3.Len("SAL_RETURNSTOCK"), wantStockins, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("星辰 holds %d bills (%d trades, %d with the unknown SKU); 星空 %d (%d stock-ins)", lab.JDY.Len(), len(data.Trades), len(unknown),
		lab.K3.Len("SAL_RETURNSTOCK"), len(data.Stockins))
	for _, tr := range data.Trades {
		want := 1
		if unknown[tr.TradeNo] {
			want = 0
		}
		if n := lab.JDY.Count(tr.TradeNo); n != want {
			t.Errorf("星辰 holds bill %s %d times, want %d", tr.TradeNo, n, want)
		}
	}
	if len(data.Stockins) == 0 {
		t.Fatal("the data set has no refund stock-ins")
	}
	for _, s := range data.Stockins {
		if n := lab.K3.Count("SAL_RETURNSTOCK", s.OrderNo); n > 1 {
			t.Errorf("星空 holds bill %s %d times", s.OrderNo, n)
		}
	}
	if len(unknown) == 0 {
		t.Fatal("the data set sold no NB-16G; the exception path was not exercised")
	}

	// The refused trades wait as exceptions with 星辰's own message.
	base := "http://" + a.Addr()
	var exc struct {
		Exceptions []struct {
			Flow    string `json:"flow"`
			OrderNo string `json:"order_no"`
			Error   struct{ Message, Hint, Field string }
		} `json:"exceptions"`
	}
	waitJSON(t, base+"/v1/exceptions?flow=trades_to_xingchen", &exc, func() bool { return len(exc.Exceptions) == len(unknown) })
	for _, e := range exc.Exceptions {
		if !unknown[e.OrderNo] || e.Error.Message == "" || e.Error.Hint == "" {
			t.Errorf("exception %+v", e)
		}
	}
	var flows struct {
		Flows []struct {
			Name       string `json:"name"`
			Backlog    int64  `json:"backlog"`
			Exceptions int64  `json:"exceptions"`
			Written    int64  `json:"written"`
		} `json:"flows"`
		Sources []struct {
			Source   string    `json:"source"`
			SyncedTo time.Time `json:"synced_to"`
		} `json:"sources"`
	}
	waitJSON(t, base+"/v1/flows", &flows, func() bool {
		for _, f := range flows.Flows {
			if f.Backlog != 0 {
				return false
			}
		}
		return len(flows.Flows) == 2
	})
	for _, f := range flows.Flows {
		if f.Name == "trades_to_xingchen" && (f.Written != int64(wantTrades) || f.Exceptions != int64(len(unknown))) {
			t.Errorf("flow %+v; want %d written and %d exceptions", f, wantTrades, len(unknown))
		}
	}
	for _, s := range flows.Sources {
		if time.Since(s.SyncedTo) > time.Minute {
			t.Errorf("source %s synced only to %v", s.Source, s.SyncedTo)
		}
	}
	// A written order's timeline shows it pulled, mapped and written.
	var ord struct {
		Timeline []struct{ Stage string } `json:"timeline"`
	}
	var written string
	for _, tr := range data.Trades {
		if !unknown[tr.TradeNo] {
			written = tr.TradeNo
			break
		}
	}
	waitJSON(t, base+"/v1/orders/wdt_trades/"+written, &ord, func() bool { return len(ord.Timeline) >= 3 })
	stages := map[string]bool{}
	for _, s := range ord.Timeline {
		stages[s.Stage] = true
	}
	for _, s := range []string{"received", "pulled", "mapped", "written"} {
		if !stages[s] {
			t.Errorf("order %s's timeline %v has no %s step", written, ord.Timeline, s)
		}
	}
}

// testToken is flowConfig's API token, which waitJSON sends.
const testToken = "app-test-token-0123456789"

func waitJSON(t *testing.T, url string, v any, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(v)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if ok() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: condition not met within 30s; last answer %+v", url, v)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
