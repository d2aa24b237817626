package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"orderhub/internal/app"
	"orderhub/internal/config"
	"orderhub/internal/connector/mall"
	"orderhub/internal/connector/wdt"
	"orderhub/internal/simlab"
)

// demoRefusedSKU is a SKU the demo's 旺店通 sells in one trade and 金蝶云星辰
// does not know: that trade waits as an exception.
const demoRefusedSKU = "NEW-SKU-2026"

type demoSeed struct {
	trades, stockins int
	written, refused string
}

// seedDemo fills the 旺店通 simulator with two hours of documents and one
// trade selling a SKU the ERP does not know.
func seedDemo(lab *simlab.Lab) (demoSeed, error) {
	now := time.Now()
	d, err := lab.WDT.Generate(120, now.Add(-2*time.Hour), now.Add(-30*time.Second), uint64(now.UnixNano()))
	if err != nil {
		return demoSeed{}, err
	}
	bad := d.Trades[len(d.Trades)-1]
	bad.TradeNo += "X"
	bad.GoodsList = append([]wdt.TradeLine(nil), bad.GoodsList...)
	bad.GoodsList[0].SpecNo = demoRefusedSKU
	bad.GoodsList[0].GoodsName = "新品（金蝶中尚未建档）"
	if err := lab.WDT.PutTrades(bad); err != nil {
		return demoSeed{}, err
	}
	return demoSeed{trades: len(d.Trades) + 1, stockins: len(d.Stockins), written: d.Trades[0].TradeNo, refused: bad.TradeNo}, nil
}

// feedDemo adds a few new 旺店通 documents every few seconds.
func feedDemo(ctx context.Context, lab *simlab.Lab, log *slog.Logger) {
	t := time.NewTicker(4 * time.Second)
	defer t.Stop()
	for seed := uint64(time.Now().UnixNano()); ; seed++ {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if _, err := lab.WDT.Generate(2, now.Add(-3*time.Second), now, seed); err != nil {
				log.Error("demo: adding 旺店通 documents", "err", err)
			}
		}
	}
}

// demoConfig is the demo's configuration; it is written next to the data so
// that 'orderhub serve --config' can run the same setup later.
const demoConfig = `# orderhub demo configuration, written by 'orderhub demo'.
# Run it again with: orderhub serve --config %[1]s/orderhub.yaml
# (the 旺店通 and 金蝶 systems below point at the demo's built-in simulators,
# which run only inside 'orderhub demo'; under serve their pulls and writes
# wait and retry until base_url points at a real system).
store: sqlite://%[1]s/orderhub.db
listen: %[2]s
timezone: Asia/Shanghai
log:
  level: info
  format: text
systems:
  shop:
    kind: mall
    app_key: demo-mall
    app_sign: ${ORDERHUB_DEMO_APP_SIGN:-%[3]s}
%[4]s
sources:
  shop_orders:
    system: shop
    mode: push
  # 旺店通 pulled incrementally: trades by the open API, refund stock-ins by 奇门.
  wdt_trades:  {system: wdt, mode: pull, api: trade.query, every: 5s, start: "%[5]s"}
  wdt_refunds: {system: wdt_qm, mode: pull, api: stockin.order.query.refund, every: 5s, start: "%[5]s"}
flows:
  # The seed flows with their shipped mappings: trades into 金蝶云星辰 sales
  # orders, refund stock-ins into 金蝶云星空 sales returns.
  trades_to_xingchen:  {source: wdt_trades,  target: xingchen, api: sal_order_save, retry: {initial: 1s, max: 1m}}
  refunds_to_xingkong: {source: wdt_refunds, target: xingkong, api: SAL_RETURNSTOCK, retry: {initial: 1s, max: 1m}}
api:
  # The demo's API token for curl and scripts, new on every start (set
  # ORDERHUB_DEMO_TOKEN to keep one). Console users: orderhub users add.
  tokens: [{name: demo, token: "${ORDERHUB_DEMO_TOKEN:-%[6]s}"}]
%[7]s
rules:
  # 钉钉 markdown to the built-in group robot (加签, keyword 订单): every new
  # mall order, and paid ones of ¥5,000 or more again with an @. The robot
  # takes 20 a minute; what goes over waits and is merged into digests.
  new_order: {on: [created], when: "source == 'shop_orders'", channels: [ops_ding], template: new_order}
  big_order: {on: [paid], when: "source == 'shop_orders' && order.total >= 5000", channels: [ops_ding], template: big_order, priority: high, at: {mobiles: ["13800001234"]}}
`

const demoAppSign = "baaeda3f7f1c3529010816ddb50778f6"

func demoCmd() *cobra.Command {
	var dir, listen string
	var every time.Duration
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run orderhub with a built-in mall simulator pushing signed orders",
		Long: `demo starts orderhub on loopback with SQLite in a local folder and a built-in
mall simulator that pushes realistic signed orders (new ones, and payments,
shipments, receipts, cancellations and refunds of earlier ones). It prints the
URL, a curl line that pushes one order by hand, and where the data lives.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			abs, err := filepath.Abs(dir)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(abs, 0o755); err != nil {
				return fmt.Errorf("creating the demo folder: %w", err)
			}
			addr, err := freeAddr(listen)
			if err != nil {
				return err
			}
			lab, err := simlab.Start(simlab.Options{})
			if err != nil {
				return err
			}
			defer lab.Close()
			demoData, err := seedDemo(lab)
			if err != nil {
				return err
			}
			loc, _ := time.LoadLocation("Asia/Shanghai")
			start := time.Now().Add(-3 * time.Hour).In(loc).Format(config.TimeLayout)
			token, err := randomToken()
			if err != nil {
				return err
			}
			console := ""
			if host, _, err := net.SplitHostPort(addr); err == nil && net.ParseIP(host) != nil && net.ParseIP(host).IsLoopback() {
				// Plain http stays on this machine, so the browser may
				// send the session cookie without TLS.
				console = "console: {insecure_cookie: true}"
			}
			text := fmt.Sprintf(demoConfig, abs, addr, demoAppSign, "  # Built-in simulators of 旺店通 (both routes), 金蝶云星辰, 金蝶云星空 and a 钉钉 robot.\n"+lab.SystemsYAML(10*time.Second), start, token, console)
			cfgPath := filepath.Join(abs, "orderhub.yaml")
			if err := os.WriteFile(cfgPath, []byte(text), 0o644); err != nil {
				return fmt.Errorf("writing the demo config: %w", err)
			}
			cfg, err := config.Parse([]byte(text), cfgPath, os.LookupEnv)
			if err != nil {
				return printConfigErrors(cmd.ErrOrStderr(), err)
			}
			sign := cfg.Systems["shop"].Settings.(*mall.Settings).AppSign.Reveal()
			log := newLogger(cmd.ErrOrStderr(), cfg.Log)
			return run(cmd.Context(), cfg, log, func(a *app.App) func() {
				base := "http://" + a.Addr()
				push := base + "/v1/push/shop_orders"
				gen := mall.NewGenerator(uint64(time.Now().UnixNano()), sign, cfg.Location, "D")
				sample := gen.New(time.Now())
				for sample.IsPay == 0 { // a paid order: some unpaid ones get cancelled instead
					sample = gen.New(time.Now())
					gen.Advance(sample, time.Now())
				}
				samplePath := filepath.Join(abs, "sample-order.json")
				if err := os.WriteFile(samplePath, mall.Body(sample), 0o644); err != nil {
					log.Error("writing the sample order", "err", err)
				}
				out := cmd.OutOrStdout()
				bearer := "-H 'Authorization: Bearer " + cfg.API.Tokens[0].Token.Reveal() + "'"
				fmt.Fprintf(out, "orderhub demo is running at %s\n\n", base)
				fmt.Fprintf(out, "  push one order:  curl -sS -X POST %s -H 'Content-Type: application/json' --data-binary @%s\n", push, samplePath)
				fmt.Fprintf(out, "  read it back:    curl -sS %s %s/v1/orders/shop_orders/%s\n", bearer, base, sample.OrderNo)
				fmt.Fprintf(out, "  list orders:     curl -sS %s '%s/v1/orders?limit=10'\n", bearer, base)
				fmt.Fprintf(out, "  health, metrics: %s/healthz  %s/metrics\n\n", base, base)
				fmt.Fprintf(out, "  data:   %s\n  config: %s\n\n", filepath.Join(abs, "orderhub.db"), cfgPath)
				fmt.Fprintf(out, "  旺店通 → 金蝶 flows:  curl -sS %s %s/v1/flows\n", bearer, base)
				fmt.Fprintf(out, "  a written trade:     curl -sS %s %s/v1/orders/wdt_trades/%s\n", bearer, base, demoData.written)
				fmt.Fprintf(out, "  exceptions (异常):   curl -sS %s %s/v1/exceptions   (trade %s sells SKU %s, which 金蝶云星辰 does not know)\n\n", bearer, base, demoData.refused, demoRefusedSKU)
				fmt.Fprintf(out, "  钉钉 notifications: curl -sS %s '%s/v1/deliveries?system=ops_ding'\n", bearer, base)
				fmt.Fprintf(out, "  what the robot got: curl -sS %s\n\n", lab.DingInspect())
				fmt.Fprintf(out, "  console sign-in:    orderhub users add admin --role admin -c %s, then %s/login\n\n", cfgPath, base)
				fmt.Fprintf(out, "The built-in mall simulator pushes a signed order every %s; the 旺店通 simulator\n", every)
				fmt.Fprintf(out, "holds %d trades and %d refund stock-ins of the last two hours and adds new ones as\n", demoData.trades, demoData.stockins)
				fmt.Fprintf(out, "time goes by; orderhub pulls them every 5s and writes them into the 金蝶 simulators.\n")
				fmt.Fprintf(out, "New mall orders and big paid ones are told to a built-in 钉钉 group robot. Ctrl-C stops.\n")
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan struct{})
				go func() {
					defer close(done)
					if every > 0 {
						(&mall.Pusher{URL: push, Gen: mall.NewGenerator(uint64(time.Now().UnixNano()), sign, cfg.Location, "S"),
							Every: every, Client: &http.Client{Timeout: 10 * time.Second}, Log: log.With("component", "mall-simulator")}).Run(ctx)
					}
				}()
				go feedDemo(ctx, lab, log)
				return func() { cancel(); <-done }
			}, 0)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "orderhub-demo", "folder for the demo's database, config and sample order")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8080", "address to listen on; when the port is taken a free one is used")
	cmd.Flags().DurationVar(&every, "every", 3*time.Second, "how often the mall simulator pushes (0 turns it off)")
	return cmd
}

// randomToken is a new API token for the demo.
func randomToken() (string, error) {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("making the demo's API token: %w", err)
	}
	return "demo-" + hex.EncodeToString(b), nil
}

// freeAddr returns listen when it can be bound, otherwise a free port on the
// same host, so the demo starts even when 8080 is busy.
func freeAddr(listen string) (string, error) {
	ln, err := net.Listen("tcp", listen)
	if err == nil {
		addr := ln.Addr().String()
		ln.Close()
		return addr, nil
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		return "", fmt.Errorf("listening on %s: %w", listen, err)
	}
	host := listen
	if i := strings.LastIndex(listen, ":"); i >= 0 {
		host = listen[:i]
	}
	ln, err = net.Listen("tcp", net.JoinHostPort(strings.Trim(host, "[]"), "0"))
	if err != nil {
		return "", fmt.Errorf("no free port on %s: %w", host, err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
