package e2e

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"orderhub/internal/config"
	"orderhub/internal/connector/simfault"
	"orderhub/internal/simlab"
)

// TestFlowFaultsKill9 runs both seed flows over 10,000 旺店通 documents
// while every simulator misbehaves: 旺店通 throttles and fails pages; 星辰
// and 星空 lose answers after committing (a timeout after the write), fail
// with 5xx, throttle and forget their sessions and tokens. The 金蝶
// simulators accept a second bill with a taken number, so only verifying
// before writing again keeps a bill single. In the middle the hub is
// killed with SIGKILL and started again on the same store. Afterwards each
// simulator holds each bill exactly once, and none is missing.
func TestFlowFaultsKill9(t *testing.T) {
	trades := 10000
	if testing.Short() {
		trades = 1500
	}
	lab, err := simlab.Start(simlab.Options{Unlimited: true, AllowDuplicates: true, DropBodies: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lab.Close() })
	now := time.Now()
	data, err := lab.WDT.Generate(trades, now.Add(-6*time.Hour), now.Add(-2*time.Minute), 42)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []*simfault.Injector{lab.WDT.Faults(), lab.JDY.Faults(), lab.K3.Faults()} {
		in.Seed(42)
		in.Inject(simfault.Fault{Kind: simfault.Throttle, Rate: 0.03})
		in.Inject(simfault.Fault{Kind: simfault.ServerError, Rate: 0.03})
	}
	for _, in := range []*simfault.Injector{lab.JDY.Faults(), lab.K3.Faults()} {
		in.Inject(simfault.Fault{Kind: simfault.LoseAnswer, Rate: 0.03})
		in.Inject(simfault.Fault{Kind: simfault.SessionLoss, Rate: 0.01})
	}

	dir := t.TempDir()
	loc, _ := time.LoadLocation("Asia/Shanghai")
	start := now.Add(-7 * time.Hour).In(loc).Format(config.TimeLayout)
	port := freePort(t)
	cfgPath := filepath.Join(dir, "orderhub.yaml")
	writeFile(t, cfgPath, fmt.Sprintf(`store: sqlite://%s/hub.db
listen: 127.0.0.1:%d
`+apiTokens+`
log: {level: warn}
systems:
%s
sources:
  wdt_trades:  {system: wdt, mode: pull, api: trade.query, every: 1s, start: "%s"}
  wdt_refunds: {system: wdt_qm, mode: pull, api: stockin.order.query.refund, every: 1s, start: "%s"}
flows:
  trades_to_xingchen:  {source: wdt_trades,  target: xingchen, api: sal_order_save, retry: {initial: 50ms, max: 500ms, attempts: 1000}}
  refunds_to_xingkong: {source: wdt_refunds, target: xingkong, api: SAL_RETURNSTOCK, retry: {initial: 50ms, max: 500ms, attempts: 1000}}
`, dir, port, lab.SystemsYAML(2*time.Second), start, start))
	base := fmt.Sprintf("http://127.0.0.1:%d", port)

	written := func() int { return lab.JDY.Len() + lab.K3.Len("SAL_RETURNSTOCK") }
	want := len(data.Trades) + len(data.Stockins)
	p := start_(t, dir, cfgPath)
	p.waitHealthy(base, 20*time.Millisecond, 20*time.Second)
	deadline := time.Now().Add(3 * time.Minute)
	for written() < want*2/5 {
		if time.Now().After(deadline) || p.exited() {
			t.Fatalf("the first run wrote %d of %d bills", written(), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.wait(10 * time.Second)
	t.Logf("killed with %d of %d bills written", written(), want)

	p = start_(t, dir, cfgPath)
	p.waitHealthy(base, 20*time.Millisecond, 20*time.Second)
	deadline = time.Now().Add(5 * time.Minute)
	c := &http.Client{Timeout: 5 * time.Second}
	for {
		var flows struct {
			Flows []struct {
				Backlog, Exceptions int64
			} `json:"flows"`
		}
		_, err := getJSON(c, base+"/v1/flows", &flows)
		settled := err == nil && len(flows.Flows) == 2
		for _, f := range flows.Flows {
			settled = settled && f.Backlog == 0
			if f.Exceptions > 0 {
				t.Fatalf("the flows have exceptions: %+v", flows)
			}
		}
		if settled && written() >= want {
			break
		}
		if time.Now().After(deadline) || p.exited() {
			t.Fatalf("after the restart %d of %d bills are written; flows %+v", written(), want, flows)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code := p.stop(os.Interrupt, 20*time.Second); code != 0 {
		t.Errorf("serve exited %d after SIGINT", code)
	}
	missing, doubled := 0, 0
	for _, tr := range data.Trades {
		switch n := lab.JDY.Count(tr.TradeNo); {
		case n == 0:
			missing++
		case n > 1:
			doubled++
			t.Errorf("星辰 holds bill %s %d times", tr.TradeNo, n)
		}
	}
	for _, s := range data.Stockins {
		switch n := lab.K3.Count("SAL_RETURNSTOCK", s.OrderNo); {
		case n == 0:
			missing++
		case n > 1:
			doubled++
			t.Errorf("星空 holds bill %s %d times", s.OrderNo, n)
		}
	}
	if missing > 0 || doubled > 0 {
		t.Fatalf("%d bills missing, %d written twice", missing, doubled)
	}
	injected := map[simfault.Kind]int{}
	for _, in := range []*simfault.Injector{lab.WDT.Faults(), lab.JDY.Faults(), lab.K3.Faults()} {
		for k, n := range in.Injected() {
			injected[k] += n
		}
	}
	t.Logf("%d trades and %d stock-ins written once each through %v", len(data.Trades), len(data.Stockins), injected)
	if injected[simfault.LoseAnswer] == 0 || injected[simfault.SessionLoss] == 0 {
		t.Fatalf("faults injected %v: the lost-answer and session-loss paths were not exercised", injected)
	}
}

func start_(t *testing.T, dir, cfg string) *proc {
	return start(t, dir, "serve", "--config", cfg)
}
