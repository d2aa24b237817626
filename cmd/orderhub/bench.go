package main

import (
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
	cmd.AddCommand(benchIngestCmd())
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
