package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"orderhub/internal/bench"
)

func benchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure orderhub against a baseline run side by side in the same process",
	}
	cmd.AddCommand(benchIngestCmd(), benchFlowCmd(), benchNotifyCmd(), benchConsoleCmd(), benchBareServerCmd())
	return cmd
}

// benchBareServerCmd serves the bench's bare decode-only handler as a process
// of its own, the baseline for an outside load generator (scripts/bench runs
// wrk against it and against 'orderhub serve' in turns). Hidden: it is a
// measuring tool, not a way to run orderhub.
func benchBareServerCmd() *cobra.Command {
	var listen string
	cmd := &cobra.Command{
		Use:    "bare-server",
		Short:  "Serve only the bare decode-only handler, as a baseline for an outside load generator",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("listening on %s: %w", listen, err)
			}
			srv := &http.Server{Handler: bench.BareHandler(), ReadHeaderTimeout: 10 * time.Second}
			served := make(chan error, 1)
			go func() { served <- srv.Serve(ln) }()
			fmt.Fprintf(cmd.OutOrStdout(), "bare decode server listening on %s\n", ln.Addr())
			select {
			case <-ctx.Done():
			case err := <-served:
				return err
			}
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return srv.Shutdown(sctx)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8081", "address to listen on")
	return cmd
}

func benchIngestCmd() *cobra.Command {
	var o bench.IngestOptions
	var cpuProfile string
	cmd := &cobra.Command{
		Use:   "ingest",
		Short: "Pushed orders/s and latency: a bare decode-only handler vs the real durable push path",
		Long: `ingest runs, in one process, a bare HTTP handler that only decodes the mall's order
JSON and then orderhub's real push path (verify, parse, group-committed store,
River), each under the same concurrent load of distinct seed-004 orders, and
prints both throughputs, p50/p99 latencies and their ratio.`,
		Example: `  orderhub bench ingest
  orderhub bench ingest --store postgres://postgres@127.0.0.1:5432/bench --duration 20s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return profiled(cmd, cpuProfile, func() (report, error) { return bench.RunIngest(cmd.Context(), o) })
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Conns, "conns", 64, "concurrent connections")
	f.DurationVar(&o.Duration, "duration", 10*time.Second, "measured time per path")
	f.IntVar(&o.Rounds, "rounds", 3, "alternating rounds the measured time is split into")
	f.DurationVar(&o.Warmup, "warmup", 2*time.Second, "unmeasured load before each path")
	f.StringVar(&o.Store, "store", "sqlite", "sqlite (a fresh file in --dir) or a postgres:// URL of an empty database")
	f.StringVar(&o.Dir, "dir", "", "folder for the SQLite file (default: a new temp folder)")
	f.DurationVar(&o.BatchWait, "batch-wait", 2*time.Millisecond, "ingest.batch_wait of the real path")
	f.IntVar(&o.BatchMax, "batch-max", 256, "ingest.batch_max of the real path")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file")
	f.StringVar(&o.Synchronous, "sqlite-synchronous", "FULL", "SQLite durability: FULL or NORMAL")
	return cmd
}

func benchFlowCmd() *cobra.Command {
	var o bench.FlowOptions
	var cpuProfile string
	cmd := &cobra.Command{
		Use:   "flow",
		Short: "Pull → map → write orders/s against the built-in 旺店通, 星辰 and 星空 simulators, vs a bare client",
		Long: `flow seeds the built-in 旺店通 simulator with --orders trades (and their refund
stock-ins) and measures, in alternating rounds on a fresh simulator and store
each, two paths to the same bills in 金蝶云星辰 and 金蝶云星空:

  bare client     the connectors' own clients read the same pages and write the
                  same bills, mapped before the clock starts; nothing stored
  orderhub flows  an App with the seed flows: pull sources, store, events and
                  the flow writers on River, timed from start until the
                  simulators hold every bill

and prints the bills/s of both and their ratio (the simulators' ceiling).`,
		Example: `  orderhub bench flow
  orderhub bench flow --orders 2000 --flow trades --rounds 5
  orderhub bench flow --store postgres://postgres@127.0.0.1:5432/postgres --cpuprofile flow.pprof`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return profiled(cmd, cpuProfile, func() (report, error) { return bench.RunFlow(cmd.Context(), o) })
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Orders, "orders", 10000, "旺店通 trades seeded per round (about one in eight shipped ones also has a refund stock-in)")
	f.StringVar(&o.Flow, "flow", "both", "trades (→ 星辰), refunds (→ 星空) or both")
	f.IntVar(&o.Rounds, "rounds", 3, "measured rounds per path, the paths alternating")
	f.StringVar(&o.Store, "store", "sqlite", "sqlite (a fresh file per round in --dir) or a postgres:// URL of a server to create a database per round on")
	f.StringVar(&o.Dir, "dir", "", "folder for the SQLite files (default: a new temp folder)")
	f.DurationVar(&o.Timeout, "timeout", 5*time.Minute, "longest one round may take")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file")
	return cmd
}

func benchNotifyCmd() *cobra.Command {
	var o bench.NotifyOptions
	var cpuProfile string
	cmd := &cobra.Command{
		Use:   "notify",
		Short: "Rule match → render → deliver messages/s to the built-in 钉钉 robot simulator, vs a bare client",
		Long: `notify makes --orders new mall orders and measures, in alternating rounds on a
fresh robot simulator (加签, keyword, no rate limit) each, two paths to the same
钉钉 markdown messages (new_order for every order, big_order for ¥5,000 and
more):

  bare client      the 钉钉 client orderhub builds from the configuration posts
                   the messages the rules rendered before the clock started,
                   8 calls side by side; nothing stored
  orderhub notify  a fresh store holding the orders and their created events
                   (stored before the clock starts); the dispatcher feeds the
                   rules consumer (match, render, queue) while the sender
                   drains the endpoint's queue, 8 calls side by side, every
                   attempt and answer recorded; timed from the start of
                   dispatch until the robot holds every message

and prints the deliveries/s of both, their ratio (the simulator's ceiling) and
where orderhub's time goes.`,
		Example: `  orderhub bench notify
  orderhub bench notify --orders 2000 --rounds 5
  orderhub bench notify --store postgres://postgres@127.0.0.1:5432/postgres --cpuprofile notify.pprof`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return profiled(cmd, cpuProfile, func() (report, error) { return bench.RunNotify(cmd.Context(), o) })
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Orders, "orders", 10000, "new orders stored per round (each makes one or two messages)")
	f.IntVar(&o.Rounds, "rounds", 3, "measured rounds per path, the paths alternating")
	f.StringVar(&o.Store, "store", "sqlite", "sqlite (a fresh file per round in --dir) or a postgres:// URL of a server to create a database per round on")
	f.StringVar(&o.Dir, "dir", "", "folder for the SQLite files (default: a new temp folder)")
	f.DurationVar(&o.Timeout, "timeout", 5*time.Minute, "longest one round may take")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file")
	return cmd
}

func benchConsoleCmd() *cobra.Command {
	o := bench.ConsoleOptions{}
	cmd := &cobra.Command{
		Use:   "console",
		Short: "How fast the console's pages and API calls answer with a million orders in the store",
		Long: `console fills a store with --orders orders (spread over 30 days, two sources,
every status, with flow exceptions and messages), once: a store that already
holds them is used as it is. It then starts orderhub on it and asks for each
page and API call --requests times, one at a time, printing p50, p99 and the
slowest answer beside /healthz, the server's own floor.`,
		Example: `  orderhub bench console --store /var/tmp/bench-console.db
  orderhub bench console --store /var/tmp/bench-console.db --orders 100000 --path '/v1/orders?limit=200'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			var bar *progressbar.ProgressBar
			if f, ok := out.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
				bar = progressbar.NewOptions(o.Orders, progressbar.OptionSetWriter(out), progressbar.OptionSetDescription("seeding orders"),
					progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetPredictTime(true),
					progressbar.OptionOnCompletion(func() { fmt.Fprintln(out) }))
			}
			o.Progress = func(done, total int) {
				if bar != nil {
					_ = bar.Set(done)
				} else if done%100_000 == 0 || done == total {
					fmt.Fprintf(out, "seeded %d of %d orders\n", done, total)
				}
			}
			rep, err := bench.RunConsole(cmd.Context(), o)
			if err != nil {
				return err
			}
			rep.Print(out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Store, "store", "bench-console.db", "SQLite file or postgres:// URL; kept, so the orders are seeded once")
	f.IntVar(&o.Orders, "orders", 1_000_000, "orders in the store")
	f.IntVar(&o.Requests, "requests", 100, "requests per path")
	f.StringArrayVar(&o.Paths, "path", nil, "a path to time instead of the defaults ({source}, {no}, {phone}, {week} are filled in); repeatable")
	return cmd
}

// report is what a benchmark prints.
type report interface{ Print(io.Writer) }

// profiled runs a benchmark, under a CPU profile written to cpuProfile
// when one is named, and prints its report.
func profiled(cmd *cobra.Command, cpuProfile string, run func() (report, error)) error {
	if cpuProfile != "" {
		stop, err := startCPUProfile(cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	rep, err := run()
	if err != nil {
		return err
	}
	rep.Print(cmd.OutOrStdout())
	return nil
}
