package main

import (
	"fmt"
	"os"
	"runtime/pprof"
	"time"

	"github.com/spf13/cobra"

	"orderhub/internal/bench"
)

func benchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure orderhub against a baseline run side by side in the same process",
	}
	cmd.AddCommand(benchIngestCmd(), benchFlowCmd())
	return cmd
}

// startProfile starts a CPU profile into path (none when empty); the
// returned func stops it.
func startProfile(path string) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
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
			stop, err := startProfile(cpuProfile)
			if err != nil {
				return err
			}
			defer stop()
			rep, err := bench.RunFlow(cmd.Context(), o)
			if err != nil {
				return err
			}
			rep.Print(cmd.OutOrStdout())
			return nil
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
			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			rep, err := bench.RunIngest(cmd.Context(), o)
			if err != nil {
				return err
			}
			rep.Print(cmd.OutOrStdout())
			return nil
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
