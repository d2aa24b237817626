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
	"runtime"
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
	root.AddCommand(serveCmd(), checkCmd(), schemaCmd(), versionCmd(), demoCmd(), benchCmd(), healthCmd(),
		backfillCmd(), exceptionsCmd(), deliveriesCmd(), mapCmd(), rulesCmd(), usersCmd())
	return root
}

func serveCmd() *cobra.Command {
	var path, cpuProfile string
	var drainDelay time.Duration
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run orderhub with a configuration file",
		Long: `serve runs orderhub with a configuration file until SIGINT or SIGTERM.

SIGHUP reloads the file without closing the listener: it is checked as
'orderhub check' does, a file with problems is refused (the problems are
logged and the running configuration stays), and otherwise sources, systems,
their secrets and the API tokens are swapped between requests. Settings that
need a restart (store, listen, log.format, ingest.sqlite_synchronous,
ingest.batch_max, ingest.batch_wait) keep their running values, and the log
says so.

SIGTERM drains: requests in flight are answered and their orders committed,
then the process exits and logs how long that took.`,
		Example: `  orderhub serve --config orderhub.yaml
  MALL_APP_SIGN=… orderhub serve -c /etc/orderhub/orderhub.yaml
  kill -HUP $(pidof orderhub)    # reload the configuration`,
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
			return run(cmd.Context(), cfg, newLogger(cmd.ErrOrStderr(), cfg.Log), nil, drainDelay)
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "orderhub.yaml", "configuration file")
	cmd.Flags().DurationVar(&drainDelay, "drain-delay", 0, "on SIGTERM, answer /healthz 503 but keep serving this long before closing the listener, so a load balancer polling /healthz stops sending first")
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
// until SIGINT or SIGTERM; SIGHUP reloads the configuration from cfg.File.
// On SIGTERM the node drains: with drainDelay, /healthz answers 503 for
// that long while requests are still served, then the listener closes.
func run(ctx context.Context, cfg *config.Config, log *slog.Logger, started func(a *app.App) func(), drainDelay time.Duration) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Taken before the node starts: SIGHUP's default is to end the process.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	var opts []app.Option
	if lh, ok := log.Handler().(*levelHandler); ok {
		opts = append(opts, app.WithLogLevel(lh.level))
	}
	a, err := app.New(ctx, cfg, log, opts...)
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
serving:
	for {
		select {
		case <-ctx.Done():
			break serving
		case serveErr = <-a.Served():
			break serving
		case <-hup:
			log.Info("SIGHUP: reloading the configuration", "file", cfg.File)
			_, _ = a.ReloadFile(cfg.File) // the outcome is logged either way
		}
	}
	stop() // a second SIGINT or SIGTERM ends the process at once
	if cleanup != nil {
		cleanup()
	}
	if drainDelay > 0 && serveErr == nil {
		a.Drain()
		log.Info("waiting before closing the listener", "drain_delay", drainDelay.String())
		time.Sleep(drainDelay)
	}
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
			if e := config.NothingConfigured(cfg); e != nil {
				return printConfigErrors(cmd.ErrOrStderr(), config.Errors{e})
			}
			if problems := app.Check(cfg, slog.New(slog.DiscardHandler)); len(problems) > 0 {
				for _, p := range problems {
					fmt.Fprintln(cmd.ErrOrStderr(), p)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "%d problem(s) in the configuration\n", len(problems))
				return exitError{1}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok (%d systems, %d sources, %d flows, store %s)\n", path, len(cfg.Systems), len(cfg.Sources), len(cfg.Flows), redactStore(cfg.Store))
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
		Short: "Print orderhub's version and the commit it was built from",
		Long: `version prints the release, the commit the binary was built from (with its time, and
whether the checkout had uncommitted changes), the Go toolchain and the platform.

` + version.CommitHelp,
		Args: cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			info := version.Get()
			fmt.Fprintln(cmd.OutOrStdout(), "orderhub", info.String(), runtime.GOOS+"/"+runtime.GOARCH)
			if info.Commit == "" {
				fmt.Fprintln(cmd.ErrOrStderr(), "orderhub version: this build recorded no commit.\n"+version.CommitHelp)
			}
		},
	}
}

// newLogger builds the process's logger. Its level is a variable a reload
// can change (see levelHandler).
func newLogger(w io.Writer, c config.Log) *slog.Logger {
	level := new(slog.LevelVar)
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	if c.Format == "text" {
		h = slog.NewTextHandler(w, opts)
	} else {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(&levelHandler{Handler: h, level: level})
}

// levelHandler is the root handler: it carries the level variable of the
// handler it wraps, so that run can hand it to the App for reloads.
type levelHandler struct {
	slog.Handler
	level *slog.LevelVar
}
