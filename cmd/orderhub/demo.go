package main

import (
	"context"
	"errors"
	"fmt"
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
)

// demoConfig is the demo's configuration; it is written next to the data so
// that 'orderhub serve --config' can run the same setup later.
const demoConfig = `# orderhub demo configuration, written by 'orderhub demo'.
# Run it again with: orderhub serve --config %[1]s/orderhub.yaml
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
sources:
  shop_orders:
    system: shop
    mode: push
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
			text := fmt.Sprintf(demoConfig, abs, addr, demoAppSign)
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
				fmt.Fprintf(out, "orderhub demo is running at %s\n\n", base)
				fmt.Fprintf(out, "  push one order:  curl -sS -X POST %s -H 'Content-Type: application/json' --data-binary @%s\n", push, samplePath)
				fmt.Fprintf(out, "  read it back:    curl -sS %s/v1/orders/shop_orders/%s\n", base, sample.OrderNo)
				fmt.Fprintf(out, "  list orders:     curl -sS '%s/v1/orders?limit=10'\n", base)
				fmt.Fprintf(out, "  health, metrics: %s/healthz  %s/metrics\n\n", base, base)
				fmt.Fprintf(out, "  data:   %s\n  config: %s\n\n", filepath.Join(abs, "orderhub.db"), cfgPath)
				fmt.Fprintf(out, "The built-in mall simulator pushes a signed order every %s. Ctrl-C stops.\n", every)
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan struct{})
				go func() {
					defer close(done)
					if every > 0 {
						(&mall.Pusher{URL: push, Gen: mall.NewGenerator(uint64(time.Now().UnixNano()), sign, cfg.Location, "S"),
							Every: every, Client: &http.Client{Timeout: 10 * time.Second}, Log: log.With("component", "mall-simulator")}).Run(ctx)
					}
				}()
				return func() { cancel(); <-done }
			}, 0)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "orderhub-demo", "folder for the demo's database, config and sample order")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8080", "address to listen on; when the port is taken a free one is used")
	cmd.Flags().DurationVar(&every, "every", 3*time.Second, "how often the mall simulator pushes (0 turns it off)")
	return cmd
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
