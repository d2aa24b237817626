// Command orderhub is the order integration and notification hub: it takes
// orders in from shops and OMS APIs, writes them into ERPs and tells people
// what happened.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"orderhub/internal/app"
	"orderhub/internal/config"
	"orderhub/internal/version"
)

// exitError carries an exit code for errors already printed.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

func main() {
	root := newRoot(os.Stdout, os.Stderr)
	if err := root.Execute(); err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		fmt.Fprintln(os.Stderr, "orderhub:", err)
		os.Exit(1)
	}
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "orderhub",
		Short: "Order integration and notification hub (订单集成与通知中心)",
		Long: `orderhub takes orders in from shops (signed webhooks) and OMS APIs, keeps a durable
record of every order and every step taken on it, and hands the changes on.

Start with 'orderhub demo': a server with a built-in mall simulator, nothing to set up.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(serveCmd(), checkCmd(), schemaCmd(), versionCmd(), demoCmd(), benchCmd())
	return root
}

func serveCmd() *cobra.Command {
	var path, cpuProfile string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run orderhub with a configuration file",
		Example: `  orderhub serve --config orderhub.yaml
  MALL_APP_SIGN=… orderhub serve -c /etc/orderhub/orderhub.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(path)
			if err != nil {
				return printConfigErrors(cmd.ErrOrStderr(), err)
			}
			if cpuProfile != "" {
				stopProfile, err := startCPUProfile(cpuProfile)
				if err != nil {
					return err
				}
				defer stopProfile()
			}
			return run(cmd.Context(), cfg, newLogger(cmd.ErrOrStderr(), cfg.Log), nil)
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "orderhub.yaml", "configuration file")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile from start to shutdown to this file (read it with go tool pprof)")
	return cmd
}

// startCPUProfile profiles the whole process into path until the returned
// function is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("creating the CPU profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting the CPU profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// run starts an App, calls started (if any) once it is ready, and serves
// until SIGINT or SIGTERM.
func run(ctx context.Context, cfg *config.Config, log *slog.Logger, started func(a *app.App) func()) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	if err := a.Start(context.Background()); err != nil {
		return err
	}
	var cleanup func()
	if started != nil {
		cleanup = started(a)
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-a.Served():
	}
	if cleanup != nil {
		cleanup()
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return errors.Join(serveErr, a.Shutdown(sctx))
}

func checkCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Validate a configuration file and list every problem",
		Long:  "check reads the configuration like serve would, prints every problem with file:line:column, what is wrong and how to fix it, and exits 1 if there is any.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(path)
			if err != nil {
				return printConfigErrors(cmd.ErrOrStderr(), err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok (%d systems, %d sources, store %s)\n", path, len(cfg.Systems), len(cfg.Sources), redactStore(cfg.Store))
			return nil
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "orderhub.yaml", "configuration file")
	return cmd
}

func printConfigErrors(w io.Writer, err error) error {
	var errs config.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			fmt.Fprintln(w, e.Error())
		}
		fmt.Fprintf(w, "%d problem(s) in the configuration\n", len(errs))
		return exitError{1}
	}
	fmt.Fprintln(w, err)
	return exitError{1}
}

func redactStore(s string) string {
	if i := strings.Index(s, "@"); i > 0 && strings.HasPrefix(s, "postgres") {
		if j := strings.Index(s, "://"); j > 0 && strings.Contains(s[j+3:i], ":") {
			return s[:j+3] + s[j+3:j+3+strings.Index(s[j+3:i], ":")] + ":xxxxx" + s[i:]
		}
	}
	return s
}

func schemaCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the configuration's JSON Schema (for editor autocompletion)",
		Example: `  orderhub schema > orderhub.schema.json
  # then, first line of orderhub.yaml:
  # yaml-language-server: $schema=./orderhub.schema.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := config.Schema()
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(append(b, '\n'))
			return err
		},
	}
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print orderhub's version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "orderhub", version.String())
		},
	}
}

func newLogger(w io.Writer, c config.Log) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
