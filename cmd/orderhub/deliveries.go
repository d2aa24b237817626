package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"orderhub/internal/problem"
	"orderhub/internal/store"
)

func deliveriesCmd() *cobra.Command {
	c := &apiClient{}
	cmd := &cobra.Command{
		Use:   "deliveries",
		Short: "List, show or resend the messages rules sent (推送记录)",
		Long: `A delivery is one message to one channel endpoint (a 钉钉, 企业微信 or 飞书 robot), with every
call made for it and the provider's answer: sent, waiting for the endpoint's pace or a digest's
clock time, merged into a digest, or failed. A failed one says the provider's code and what to fix
in the robot's settings; fix it, then resend it.

These commands ask a running orderhub over its REST API (GET /v1/deliveries), so they see what
every node sent. Give its address with --url (or ORDERHUB_URL) and, when api.tokens are
configured, a token with --token (or ORDERHUB_TOKEN).`,
		Example: `  orderhub deliveries list --status failed
  orderhub deliveries list --order shop_orders/A1001
  orderhub deliveries show 42
  orderhub deliveries resend 42 43
  ORDERHUB_URL=http://10.0.0.5:8080 ORDERHUB_TOKEN=… orderhub deliveries list --system ops_ding`,
	}
	cmd.PersistentFlags().StringVar(&c.base, "url", "", "the running orderhub's address (default $ORDERHUB_URL, else http://127.0.0.1:8080)")
	cmd.PersistentFlags().StringVar(&c.token, "token", "", "an API token from api.tokens (default $ORDERHUB_TOKEN)")
	cmd.PersistentFlags().DurationVar(&c.timeout, "timeout", 10*time.Second, "how long to wait for each answer")

	var f struct {
		rule, system, status, order string
		digest, before              int64
		limit                       int
		pii, asJSON                 bool
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List deliveries, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q := url.Values{}
			for k, v := range map[string]string{"rule": f.rule, "system": f.system, "status": f.status, "order": f.order} {
				if v != "" {
					q.Set(k, v)
				}
			}
			if f.digest != 0 {
				q.Set("digest", strconv.FormatInt(f.digest, 10))
			}
			if f.before != 0 {
				q.Set("before", strconv.FormatInt(f.before, 10))
			}
			q.Set("limit", strconv.Itoa(f.limit))
			if f.pii {
				q.Set("pii", "1")
			}
			var page deliveryPage
			raw, err := c.do(cmd.Context(), http.MethodGet, "/v1/deliveries", q, &page)
			if err != nil {
				return err
			}
			if f.asJSON {
				return writeRaw(cmd.OutOrStdout(), raw)
			}
			printDeliveries(cmd.OutOrStdout(), page.Deliveries)
			if page.HasMore {
				fmt.Fprintf(cmd.OutOrStdout(), "more: the same with --before %d\n", page.NextBefore)
			}
			return nil
		},
	}
	list.Flags().StringVar(&f.rule, "rule", "", "only this rule's")
	list.Flags().StringVar(&f.system, "system", "", "only those to this system (an endpoint)")
	list.Flags().StringVar(&f.status, "status", "", "only those in this state: collecting, queued, sending, sent, merged, failed")
	list.Flags().StringVar(&f.order, "order", "", "only this order's, as SOURCE/ORDER_NO")
	list.Flags().Int64Var(&f.digest, "digest", 0, "only the messages this digest carried")
	list.Flags().Int64Var(&f.before, "before", 0, "only those older than this id (the next page)")
	list.Flags().IntVar(&f.limit, "limit", 50, "at most this many (1 to 500)")
	list.Flags().BoolVar(&f.pii, "pii", false, "show @mentioned mobiles unmasked (needs a token with pii: true)")
	list.Flags().BoolVar(&f.asJSON, "json", false, "print the API's JSON")

	var showJSON, showPII bool
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show one delivery: its message, every call made for it, and for a digest the messages it carried",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := deliveryID(args[0])
			if err != nil {
				return err
			}
			q := url.Values{}
			if showPII {
				q.Set("pii", "1")
			}
			var d deliveryDetail
			raw, err := c.do(cmd.Context(), http.MethodGet, "/v1/deliveries/"+strconv.FormatInt(id, 10), q, &d)
			if err != nil {
				return err
			}
			if showJSON {
				return writeRaw(cmd.OutOrStdout(), raw)
			}
			printDelivery(cmd.OutOrStdout(), d)
			return nil
		},
	}
	show.Flags().BoolVar(&showPII, "pii", false, "show @mentioned mobiles unmasked (needs a token with pii: true)")
	show.Flags().BoolVar(&showJSON, "json", false, "print the API's JSON")

	resend := &cobra.Command{
		Use:   "resend ID [ID…]",
		Short: "Queue failed deliveries again (after fixing the robot's settings)",
		Long: `resend puts failed deliveries back in their endpoint's queue, with their attempts counted
afresh; the running orderhub sends them at the endpoint's pace. Only a failed delivery can be
resent: one queued or sending goes out by itself, one sent or merged was delivered.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			failed := 0
			for _, a := range args {
				id, err := deliveryID(a)
				if err == nil {
					_, err = c.do(cmd.Context(), http.MethodPost, "/v1/deliveries/"+strconv.FormatInt(id, 10)+"/resend", nil, nil)
				}
				if err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "%s: %v\n", a, err)
					failed++
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%d queued again\n", id)
			}
			if failed > 0 {
				return exitError{1}
			}
			return nil
		},
	}
	cmd.AddCommand(list, show, resend)
	return cmd
}

func deliveryID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("%q is not a delivery id (the numbers in the first column of 'orderhub deliveries list')", s)
	}
	return id, nil
}

// apiClient asks a running orderhub's REST API.
type apiClient struct {
	base, token string
	timeout     time.Duration
}

// do sends one request and decodes a 2xx answer into out (when not nil),
// returning its body as well. An error answer comes back as the API's
// *problem.Problem.
func (c *apiClient) do(ctx context.Context, method, path string, q url.Values, out any) ([]byte, error) {
	base := c.base
	if base == "" {
		base = os.Getenv("ORDERHUB_URL")
	}
	if base == "" {
		base = "http://127.0.0.1:8080"
	}
	token := c.token
	if token == "" {
		token = os.Getenv("ORDERHUB_TOKEN")
	}
	u := strings.TrimSuffix(base, "/") + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, fmt.Errorf("--url %q is not an address to ask: %w", base, err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("asking orderhub at %s (is it running? --url or ORDERHUB_URL say where): %w", base, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the answer of %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var p problem.Problem
		if json.Unmarshal(body, &p) == nil && p.Code != "" {
			return nil, &p
		}
		return nil, fmt.Errorf("%s %s: %s %s", method, path, resp.Status, bytes.TrimSpace(body))
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			return nil, fmt.Errorf("%s %s: the answer is not the deliveries API's: %w", method, path, err)
		}
	}
	return body, nil
}

func writeRaw(w io.Writer, raw []byte) error {
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return err
	}
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}

// deliveryPage is GET /v1/deliveries's answer.
type deliveryPage struct {
	Deliveries []store.Delivery `json:"deliveries"`
	NextBefore int64            `json:"next_before"`
	HasMore    bool             `json:"has_more"`
}

// deliveryDetail is GET /v1/deliveries/{id}'s answer; its attempts are
// the calls made (the count of the list's rows hides the embedded one).
type deliveryDetail struct {
	store.Delivery
	Attempts     []store.Attempt  `json:"attempts"`
	Messages     []store.Delivery `json:"messages"`
	MessagesMore bool             `json:"messages_more"`
}

// when is a time as the API gave it (in the configured zone), or "-".
func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format(time.DateTime)
}

// what names what a delivery is about: its order and event, or how many
// messages a digest carries.
func what(d store.Delivery) string {
	if d.Kind == store.KindDigest {
		return fmt.Sprintf("digest of %d", d.Merged)
	}
	if d.OrderNo == "" {
		return "-"
	}
	return d.Source + "/" + d.OrderNo + " " + d.Event
}

// answer sums up the provider's last answer, or why a delivery waits.
func answer(d store.Delivery) string {
	var parts []string
	switch {
	case d.State == store.DeliveryMerged:
		parts = append(parts, fmt.Sprintf("in digest %d", d.DigestID))
	case d.Error.Message != "" && d.State != store.DeliverySent:
		e := strings.TrimSpace(d.Error.Code + " " + d.Error.Message)
		if d.Error.Hint != "" {
			e += " — " + d.Error.Hint
		}
		parts = append(parts, e)
	case d.Code != "":
		parts = append(parts, "code "+d.Code)
	}
	if d.MessageID != "" {
		parts = append(parts, "message id "+d.MessageID)
	}
	if d.Cut {
		parts = append(parts, "cut to fit")
	}
	return strings.Join(parts, ", ")
}

func printDeliveries(w io.Writer, ds []store.Delivery) {
	if len(ds) == 0 {
		fmt.Fprintln(w, "no deliveries")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSYSTEM\tRULE\tORDER\tSTATE\tWAITED\tTRIES\tUPDATED\tANSWER")
	for _, d := range ds {
		wait := d.Wait
		if wait == "" {
			wait = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", d.ID, d.System, d.Rule, what(d), d.State, wait, d.Attempts, when(d.UpdatedAt), answer(d))
	}
	tw.Flush()
}

func printDelivery(w io.Writer, d deliveryDetail) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, v)
		}
	}
	row("delivery", fmt.Sprintf("%d (%s)", d.ID, d.Kind))
	row("system", d.System)
	row("rule", d.Rule)
	if d.OrderNo != "" {
		row("order", fmt.Sprintf("%s/%s %s (total %s, %s)", d.Source, d.OrderNo, d.Event, d.Total, d.Status))
	}
	row("state", fmt.Sprintf("%s, %d call(s) made", d.State, len(d.Attempts)))
	row("waited", d.Wait)
	row("queued", when(d.CreatedAt))
	if d.State == store.DeliveryCollecting || d.State == store.DeliveryQueued {
		row("due", when(d.DueAt))
	}
	row("updated", when(d.UpdatedAt))
	if !d.SentAt.IsZero() {
		row("sent", when(d.SentAt))
	}
	if d.DigestID != 0 {
		row("digest", fmt.Sprintf("carried by digest %d (orderhub deliveries show %d)", d.DigestID, d.DigestID))
	}
	row("answer", answer(d.Delivery))
	if d.Error.Hint != "" {
		row("what to fix", d.Error.Hint)
	}
	tw.Flush()

	fmt.Fprintln(w, "\nmessage:")
	var msg bytes.Buffer
	if json.Indent(&msg, d.Message, "  ", "  ") == nil {
		fmt.Fprintf(w, "  %s\n", msg.Bytes())
	} else {
		fmt.Fprintf(w, "  %s\n", d.Message)
	}

	fmt.Fprintln(w, "\nattempts:")
	if len(d.Attempts) == 0 {
		fmt.Fprintln(w, "  none yet")
	} else {
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  #\tBEGAN\tDONE\tOUTCOME\tCODE\tMESSAGE ID\tMESSAGE")
		for _, a := range d.Attempts {
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\t%s\n", a.Attempt, when(a.At), when(a.DoneAt), a.Outcome, dash(a.Code), dash(a.MessageID), a.Message)
		}
		tw.Flush()
	}
	if d.Kind == store.KindDigest {
		fmt.Fprintf(w, "\nmessages carried (%d):\n", d.Merged)
		printDeliveries(w, d.Messages)
		if d.MessagesMore {
			fmt.Fprintf(w, "more: orderhub deliveries list --digest %d\n", d.ID)
		}
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
