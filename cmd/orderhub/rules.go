package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"orderhub/internal/app"
	"orderhub/internal/config"
	"orderhub/internal/connector"
	"orderhub/internal/notify"
	"orderhub/internal/order"
	"orderhub/internal/store"
)

func rulesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "Try notification rules without sending anything",
	}
	cmd.AddCommand(rulesTestCmd())
	return cmd
}

func rulesTestCmd() *cobra.Command {
	var path, ruleName, sample, orderRef, event string
	cmd := &cobra.Command{
		Use:   "test",
		Short: "Show whether a rule matches an order event, and the exact message per channel, without sending",
		Long: `test runs one rule on one order event and prints whether it matches, why not if it does not (the
event it waits for, or its condition with the values it read), and for each channel the body that
would be posted to the provider (the robot's request body, signed where the system has a secret).
Nothing is sent. The order is a stored one (--order SOURCE/ORDER_NO) or a JSON file holding a
canonical order as the read API shows it (--sample; the whole GET /v1/orders/… answer will do).`,
		Example: `  orderhub rules test --rule big_order --order shop_orders/M20260308001
  orderhub rules test --rule big_order --sample order.json --event paid`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(path)
			if err != nil {
				return printConfigErrors(cmd.ErrOrStderr(), err)
			}
			rules, errs := notify.Compile(cfg)
			if len(errs) > 0 {
				for _, e := range errs {
					fmt.Fprintln(cmd.ErrOrStderr(), e)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "%d problem(s) in the configuration\n", len(errs))
				return exitError{1}
			}
			r, ok := rules.Rule(ruleName)
			if !ok {
				return fmt.Errorf("--rule %q is not a rule in %s (rules: %s)", ruleName, path, strings.Join(rules.Names(), ", "))
			}
			ev := order.EventType(event)
			if !slices.Contains(order.EventTypes, ev) {
				return fmt.Errorf("--event %q is not an order event (events: %s)", event, eventNames())
			}
			if (sample == "") == (orderRef == "") {
				return errors.New("give one of --sample FILE or --order SOURCE/ORDER_NO")
			}
			var o order.Order
			if sample != "" {
				if o, err = readSampleOrder(sample); err != nil {
					return fmt.Errorf("--sample %s: %w", sample, err)
				}
			} else if o, err = storedOrder(cmd, cfg, orderRef); err != nil {
				return err
			}
			return printRuleTest(cmd.OutOrStdout(), cfg, rules, r, o, notify.Event{Type: ev, To: o.Status})
		},
	}
	cmd.Flags().StringVarP(&path, "config", "c", "orderhub.yaml", "configuration file")
	cmd.Flags().StringVar(&ruleName, "rule", "", "the rule to try")
	cmd.Flags().StringVar(&sample, "sample", "", "a canonical order as JSON, as the read API shows it")
	cmd.Flags().StringVar(&orderRef, "order", "", "a stored order, as SOURCE/ORDER_NO")
	cmd.Flags().StringVar(&event, "event", "created", "the order event: "+eventNames())
	_ = cmd.MarkFlagRequired("rule")
	return cmd
}

func eventNames() string {
	names := make([]string, len(order.EventTypes))
	for i, e := range order.EventTypes {
		names[i] = string(e)
	}
	return strings.Join(names, ", ")
}

// readSampleOrder reads a canonical order: the read API's order object, or
// its whole answer ({"order": {…}, …}).
func readSampleOrder(file string) (order.Order, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return order.Order{}, err
	}
	var wrapped struct {
		Order *order.Order `json:"order"`
	}
	if err := json.Unmarshal(b, &wrapped); err == nil && wrapped.Order != nil {
		return *wrapped.Order, nil
	}
	var o order.Order
	if err := json.Unmarshal(b, &o); err != nil {
		return order.Order{}, fmt.Errorf("not a canonical order: %w", err)
	}
	if o.OrderNo == "" {
		return order.Order{}, errors.New(`not a canonical order: it has no "order_no" (write the order object of GET /v1/orders/{source}/{order_no})`)
	}
	return o, nil
}

func storedOrder(cmd *cobra.Command, cfg *config.Config, ref string) (order.Order, error) {
	source, no, ok := strings.Cut(ref, "/")
	if !ok || source == "" || no == "" {
		return order.Order{}, fmt.Errorf("--order %q: write it as SOURCE/ORDER_NO, e.g. shop_orders/M20260308001", ref)
	}
	st, err := store.Open(cmd.Context(), cfg.Store, store.Options{Synchronous: cfg.Ingest.Synchronous})
	if err != nil {
		return order.Order{}, err
	}
	defer st.Close()
	rec, err := st.GetOrder(cmd.Context(), source, no)
	if err != nil {
		return order.Order{}, fmt.Errorf("--order %s: %w", ref, err)
	}
	return rec.Order, nil
}

// renderer is what robot connectors offer to show a request body without
// sending it.
type renderer interface {
	Render(connector.Message) (body []byte, cut bool, err error)
}

func printRuleTest(w io.Writer, cfg *config.Config, rules *notify.Rules, r *notify.Rule, o order.Order, ev notify.Event) error {
	x := rules.Explain(r, o, ev)
	if !x.Matches {
		fmt.Fprintf(w, "rule %s does not match %s/%s on %s: %s\n", r.Name, o.Source, o.OrderNo, ev.Type, x.Reason)
		for _, v := range x.Read {
			fmt.Fprintf(w, "  %s\n", v)
		}
		return nil
	}
	fmt.Fprintf(w, "rule %s matches %s/%s on %s", r.Name, o.Source, o.OrderNo, ev.Type)
	if len(x.Read) > 0 {
		fmt.Fprintf(w, " (%s)", strings.Join(x.Read, ", "))
	}
	fmt.Fprintf(w, "; template %s (%s), priority %s; nothing is sent\n", r.Template, r.Language, r.Priority)
	msgs, err := rules.Render(r, o, ev)
	if err != nil {
		return err
	}
	log := slog.New(slog.DiscardHandler)
	for _, cm := range msgs {
		sys := cfg.Systems[cm.Channel]
		fmt.Fprintf(w, "\nchannel %s (%s):\n", cm.Channel, sys.Kind)
		body, cut, err := channelBody(app.ConnectorEnv(cfg, sys, log), cm.Message)
		if err != nil {
			return fmt.Errorf("channel %s: %w", cm.Channel, err)
		}
		if cut {
			fmt.Fprintln(w, "(cut to fit the provider's size limit)")
		}
		fmt.Fprintln(w, string(body))
	}
	return nil
}

// channelBody is the provider's request body where the connector can show
// it, otherwise the message as the connector would receive it.
func channelBody(env connector.Env, msg connector.Message) ([]byte, bool, error) {
	s, err := connector.NewSender(env)
	if err != nil {
		return nil, false, err
	}
	if rd, ok := s.(renderer); ok {
		body, cut, err := rd.Render(msg)
		if err != nil {
			return nil, false, err
		}
		var pretty bytes.Buffer
		if json.Indent(&pretty, body, "", "  ") == nil {
			body = pretty.Bytes()
		}
		return body, cut, nil
	}
	body, err := json.MarshalIndent(msg, "", "  ")
	return body, false, err
}
