package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"orderhub/internal/app"
	"orderhub/internal/config"
	"orderhub/internal/mapping"
	"orderhub/internal/order"
	"orderhub/internal/store"
)

func mapCmd() *cobra.Command {
	var path, flowName, sample, orderRef string
	cmd := &cobra.Command{
		Use:   "map",
		Short: "Show the request a flow would send for a document, without sending it",
		Long: `map runs a flow's mapping over one document and prints the request it would send to the
target: the bill number and the body. The document is a sample file (one document as the source API
returns it, e.g. one element of wdt trade.query's trades) or an order already in the store. When the
mapping fails, every failing field is printed with its expression and the document value, and map
exits 1.`,
		Example: `  orderhub map --flow trades_to_xingchen --sample trade.json
  orderhub map --flow refunds_to_xingkong --order wdt_refunds/RK2411110001`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(path)
			if err != nil {
				return printConfigErrors(cmd.ErrOrStderr(), err)
			}
			if _, ok := cfg.Flows[flowName]; !ok {
				return fmt.Errorf("--flow %q is not a flow in %s (flows: %s)", flowName, path, strings.Join(flowNames(cfg), ", "))
			}
			if (sample == "") == (orderRef == "") {
				return errors.New("give one of --sample FILE or --order SOURCE/ORDER_NO")
			}
			m, err := app.FlowMapping(cfg, flowName)
			if err != nil {
				return printMappingErrors(cmd, err)
			}
			var raw []byte
			var o order.Order
			if sample != "" {
				if raw, err = os.ReadFile(sample); err != nil {
					return fmt.Errorf("--sample: %w", err)
				}
			} else {
				source, no, ok := strings.Cut(orderRef, "/")
				if !ok {
					return fmt.Errorf("--order %q: write it as SOURCE/ORDER_NO, e.g. wdt_trades/JY24111100012", orderRef)
				}
				st, err := store.Open(cmd.Context(), cfg.Store, store.Options{Synchronous: cfg.Ingest.Synchronous})
				if err != nil {
					return err
				}
				defer st.Close()
				rec, err := st.GetOrder(cmd.Context(), source, no)
				if err != nil {
					return fmt.Errorf("--order %s: %w", orderRef, err)
				}
				vs, err := st.Versions(cmd.Context(), rec.ID)
				if err != nil || len(vs) == 0 {
					return fmt.Errorf("--order %s: reading its stored document: %v", orderRef, err)
				}
				raw, o = vs[len(vs)-1].Raw, rec.Order
			}
			bill, ok, err := app.Mapper{M: m}.WithConfig(cfg).Map(raw, &o)
			if err != nil {
				return printMappingErrors(cmd, err)
			}
			if !ok {
				fmt.Fprintf(cmd.OutOrStdout(), "flow %s leaves this document out (its when: condition is false)\n", flowName)
				return nil
			}
			out, _ := json.MarshalIndent(map[string]any{"flow": flowName, "target": cfg.Flows[flowName].Target,
				"api": cfg.Flows[flowName].API, "bill_no": bill.No, "body": bill.Body}, "", "  ")
			fmt.Fprintln(cmd.OutOrStdout(), string(out))
			return nil
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "orderhub.yaml", "configuration file")
	cmd.Flags().StringVar(&flowName, "flow", "", "the flow whose mapping to run")
	cmd.Flags().StringVar(&sample, "sample", "", "a document as the source API returns it (JSON file)")
	cmd.Flags().StringVar(&orderRef, "order", "", "a stored order, as SOURCE/ORDER_NO")
	_ = cmd.MarkFlagRequired("flow")
	return cmd
}

func flowNames(cfg *config.Config) []string {
	var out []string
	for n := range cfg.Flows {
		out = append(out, n)
	}
	return out
}

// printMappingErrors prints every problem of a mapping, or every failing
// field of a document, one a line, and exits 1.
func printMappingErrors(cmd *cobra.Command, err error) error {
	w := cmd.ErrOrStderr()
	var ps mapping.Problems
	var ae *mapping.ApplyError
	switch {
	case errors.As(err, &ps):
		for _, p := range ps {
			fmt.Fprintln(w, p.Error())
		}
		fmt.Fprintf(w, "%d problem(s) in the mapping\n", len(ps))
	case errors.As(err, &ae):
		fmt.Fprintf(w, "mapping %s failed for bill %q:\n", ae.Mapping, ae.BillNo)
		for _, f := range ae.Fields {
			fmt.Fprintf(w, "  %s\n    expression: %s\n    value:      %s\n    error:      %s\n", f.Field, f.Expr, f.Value(), f.Msg)
		}
	default:
		fmt.Fprintln(w, err)
	}
	return exitError{1}
}
