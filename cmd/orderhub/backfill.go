package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"orderhub/internal/app"
	"orderhub/internal/config"
	"orderhub/internal/ingest"
	"orderhub/internal/store"
)

func backfillCmd() *cobra.Command {
	var path, source, from, to string
	cmd := &cobra.Command{
		Use:   "backfill",
		Short: "Pull a past range of a pull source again (resumable)",
		Long: `backfill pulls the documents a pull source modified in [--from, --to] through the same path as
the live pull: windows no wider than the API allows, page by page, each window stored in one
transaction together with the backfill's progress. Stopped by Ctrl-C or kill -9, the same command
resumes where it stopped. Unchanged documents are not stored twice; flows write what is new.
The live sync time is not moved. Times are yyyy-MM-dd [HH:mm:ss] in the configured timezone, or
RFC 3339.`,
		Example: `  orderhub backfill --source wdt_trades --from 2026-01-01 --to 2026-02-01
  orderhub backfill -c /etc/orderhub/orderhub.yaml --source wdt_refunds --from "2026-03-01 00:00:00" --to "2026-03-02 12:00:00"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(path)
			if err != nil {
				return printConfigErrors(cmd.ErrOrStderr(), err)
			}
			src, ok := cfg.Sources[source]
			if !ok || src.Mode != "pull" {
				return fmt.Errorf("--source %q is not a pull source in %s (pull sources: %v)", source, path, pullNames(cfg))
			}
			start, err := config.TimeText(from).In(cfg.Location)
			if err != nil {
				return fmt.Errorf("--from: %w", err)
			}
			end, err := config.TimeText(to).In(cfg.Location)
			if err != nil {
				return fmt.Errorf("--to: %w", err)
			}
			if !end.After(start) {
				return fmt.Errorf("--to (%s) must be after --from (%s)", to, from)
			}
			log := newLogger(cmd.ErrOrStderr(), cfg.Log)
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			st, err := store.Open(ctx, cfg.Store, store.Options{Synchronous: cfg.Ingest.Synchronous})
			if err != nil {
				return err
			}
			defer st.Close()
			sources, err := app.PullSources(cfg, log)
			if err != nil {
				return err
			}
			var ps *ingest.PullSource
			for _, s := range sources {
				if s.Name == source {
					ps = s
				}
			}
			// Events of backfilled documents reach the flows through the
			// dispatcher's periodic sweep of the running server.
			p := ingest.NewPulling(st, nil, log, nil)
			return runBackfill(ctx, cmd.OutOrStdout(), p, ps, start, end, cfg.Location)
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "orderhub.yaml", "configuration file")
	cmd.Flags().StringVar(&source, "source", "", "the pull source to backfill")
	cmd.Flags().StringVar(&from, "from", "", "start of the range (inclusive)")
	cmd.Flags().StringVar(&to, "to", "", "end of the range (inclusive)")
	for _, f := range []string{"source", "from", "to"} {
		_ = cmd.MarkFlagRequired(f)
	}
	return cmd
}

func pullNames(cfg *config.Config) []string {
	var out []string
	for n, s := range cfg.Sources {
		if s.Mode == "pull" {
			out = append(out, n)
		}
	}
	return out
}

// runBackfill shows a progress bar on a terminal (windows done of total,
// documents, rate, time left) and plain lines otherwise.
func runBackfill(ctx context.Context, out io.Writer, p *ingest.Pulling, src *ingest.PullSource, from, to time.Time, loc *time.Location) error {
	from, to = from.UTC(), to.UTC()
	at := func(t time.Time) string { return t.In(loc).Format(time.DateTime) }
	windows := int64((to.Sub(from) + src.API.MaxSpan - 1) / src.API.MaxSpan)
	began := time.Now()
	docs := 0
	tty := false
	if f, ok := out.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		tty = true
	}
	var bar *progressbar.ProgressBar
	if tty {
		bar = progressbar.NewOptions64(windows,
			progressbar.OptionSetWriter(out),
			progressbar.OptionSetDescription("backfill "+src.Name),
			progressbar.OptionShowCount(),
			progressbar.OptionSetItsString("windows"),
			progressbar.OptionShowIts(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionFullWidth(),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(out) }),
		)
	}
	fmt.Fprintf(out, "backfill %s: %s to %s, %d windows of at most %s\n", src.Name, at(from), at(to), windows, src.API.MaxSpan)
	done := int64(0)
	bf, err := p.Backfill(ctx, src, from, to, func(w ingest.Window) {
		done++
		docs += w.Docs
		rate := float64(docs) / time.Since(began).Seconds()
		if bar != nil {
			left := int64(to.Sub(w.To)/src.API.MaxSpan) + done
			if left > bar.GetMax64() || left < done {
				bar.ChangeMax64(max(left, done))
			}
			bar.Describe(fmt.Sprintf("backfill %s: %d docs, %.0f docs/s", src.Name, docs, rate))
			_ = bar.Set64(done)
			return
		}
		fmt.Fprintf(out, "window %s – %s: %d docs (%d new or changed), %d pages; %d docs so far, %.0f docs/s\n",
			at(w.From), at(w.To), w.Docs, w.Stored, w.Pages, docs, rate)
	})
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(out, "stopped at %s; run the same command again to resume\n", at(bf.DoneTo))
		}
		return err
	}
	fmt.Fprintf(out, "backfill %s done: %d documents read in %s (resumed ones included: %d)\n", src.Name, docs, time.Since(began).Round(time.Millisecond), bf.Docs)
	return nil
}
