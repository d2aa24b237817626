package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"orderhub/internal/config"
	"orderhub/internal/flow"
	"orderhub/internal/store"
)

func exceptionsCmd() *cobra.Command {
	var path string
	cmd := &cobra.Command{
		Use:   "exceptions",
		Short: "List, show, retry or skip items an ERP refused (异常)",
		Long: `An exception is a document a flow's target refused for a business reason (an unknown material or
customer, a closed period, a missing field), or one whose retries are spent. It waits with the
ERP's own message and what to fix. Fix the data (in the ERP, or a lookup table of the flow's
mapping), then retry it; or skip it. A running server writes a retried item within a second.`,
	}
	cmd.PersistentFlags().StringVarP(&path, "config", "c", "orderhub.yaml", "configuration file")
	open := func(cmd *cobra.Command) (*config.Config, *store.Store, error) { return openConfigStore(cmd, path) }

	var flowName string
	var limit int
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List the exceptions waiting for a person",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, st, err := open(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			items, err := st.ListFlowItems(cmd.Context(), store.FlowFilter{Flow: flowName, States: []store.FlowState{store.FlowException}, Limit: limit})
			if err != nil {
				return err
			}
			if asJSON {
				return writeIndented(cmd.OutOrStdout(), items)
			}
			printExceptions(cmd.OutOrStdout(), items, cfg.Location)
			return nil
		},
	}
	list.Flags().StringVar(&flowName, "flow", "", "only this flow's exceptions")
	list.Flags().IntVar(&limit, "limit", 100, "at most this many")
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show one exception: the ERP's message, what to fix, and the request that was sent",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, st, err := open(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			it, err := st.GetFlowItem(cmd.Context(), id)
			if err != nil {
				return fmt.Errorf("exception %d: %w", id, err)
			}
			return writeIndented(cmd.OutOrStdout(), it)
		},
	}

	resolve := func(use, short string, act func(*flow.Stage, context.Context, int64) error, done string) *cobra.Command {
		return &cobra.Command{
			Use:   use + " ID [ID…]",
			Short: short,
			Args:  cobra.MinimumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				_, st, err := open(cmd)
				if err != nil {
					return err
				}
				defer st.Close()
				stage := flow.NewStage(st, slog.New(slog.DiscardHandler), nil, nil)
				failed := 0
				for _, a := range args {
					id, err := parseID(a)
					if err == nil {
						err = act(stage, cmd.Context(), id)
					}
					if err != nil {
						fmt.Fprintf(cmd.ErrOrStderr(), "%s: %v\n", a, err)
						failed++
						continue
					}
					fmt.Fprintf(cmd.OutOrStdout(), "%d %s\n", id, done)
				}
				if failed > 0 {
					return exitError{1}
				}
				return nil
			},
		}
	}
	cmd.AddCommand(list, show,
		resolve("retry", "Put exceptions back in their flow's queue (after fixing the data)", (*flow.Stage).Retry, "queued for retry"),
		resolve("skip", "Leave exceptions unwritten (until their order changes again)", (*flow.Stage).Skip, "skipped"))
	return cmd
}

func parseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%q is not an exception id (the numbers in the first column of 'orderhub exceptions list')", s)
	}
	return id, nil
}

func printExceptions(w io.Writer, items []store.FlowItem, loc *time.Location) {
	if len(items) == 0 {
		fmt.Fprintln(w, "no exceptions")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tFLOW\tORDER\tBILL\tWHEN\tCODE\tMESSAGE\tWHAT TO FIX")
	for _, it := range items {
		fmt.Fprintf(tw, "%d\t%s\t%s/%s\t%s\t%s\t%s\t%s\t%s\n", it.ID, it.Flow, it.Source, it.OrderNo, it.BillNo,
			it.UpdatedAt.In(loc).Format(time.DateTime), it.Error.Code, it.Error.Message, it.Error.Hint)
	}
	tw.Flush()
}

func writeIndented(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// openConfigStore loads the configuration at path, printing its problems,
// and opens the store it names, for the commands that work on the store
// directly (exceptions, users).
func openConfigStore(cmd *cobra.Command, path string) (*config.Config, *store.Store, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, nil, printConfigErrors(cmd.ErrOrStderr(), err)
	}
	st, err := store.Open(cmd.Context(), cfg.Store, store.Options{Synchronous: cfg.Ingest.Synchronous})
	return cfg, st, err
}
