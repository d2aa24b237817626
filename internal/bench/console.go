package bench

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"orderhub/internal/app"
	"orderhub/internal/config"
	"orderhub/internal/order"
	"orderhub/internal/store"
)

// ConsoleOptions configure the console benchmark.
type ConsoleOptions struct {
	// Store is the SQLite file (or postgres:// URL) the orders are put in;
	// a store that already holds Orders orders is used as it is, so a
	// million are seeded once.
	Store string
	// Orders is how many orders the store holds when the pages are timed.
	Orders int
	// Requests is how many times each path is asked for.
	Requests int
	// Paths are the pages and API calls timed; empty: DefaultConsolePaths,
	// with an order number of the store filled in for {no} and a phone for
	// {phone}.
	Paths []string
	Log   *slog.Logger
	// Progress, when set, is told how many orders are stored while seeding.
	Progress func(done, total int)
}

// DefaultConsolePaths are what the console reads most: the dashboard over
// a day and a week, order lists and searches, and one order.
var DefaultConsolePaths = []string{
	"/healthz",
	"/v1/stats/dashboard",
	"/v1/stats/dashboard?bucket=1d&from={week}",
	"/v1/orders?limit=50",
	"/v1/orders?source=mall_orders&status=paid&limit=50",
	"/v1/orders/{source}/{no}",
	"/v1/deliveries?limit=50",
	"/v1/exceptions?limit=50",
}

// ConsolePath is one path's timings.
type ConsolePath struct {
	Path          string
	Status        int
	Bytes         int
	P50, P99, Max time.Duration
}

// ConsoleReport is the console benchmark's result.
type ConsoleReport struct {
	Store    string
	Orders   int
	Seeded   time.Duration // 0: the store was already seeded
	Requests int
	Paths    []ConsolePath
}

// RunConsole fills a store with o.Orders orders (once), starts orderhub on
// it and times each path o.Requests times, one request at a time, as a
// person clicking through the console asks.
func RunConsole(ctx context.Context, o ConsoleOptions) (*ConsoleReport, error) {
	if o.Orders <= 0 || o.Requests <= 0 {
		return nil, fmt.Errorf("bench console: orders and requests must be positive")
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	storeURL := o.Store
	if !strings.Contains(storeURL, "://") {
		storeURL = "sqlite://" + storeURL
	}
	rep := &ConsoleReport{Store: store.Redact(storeURL), Orders: o.Orders, Requests: o.Requests}
	st, err := store.Open(ctx, storeURL, store.Options{})
	if err != nil {
		return nil, err
	}
	began := time.Now()
	seeded, err := seedConsole(ctx, st, o)
	st.Close()
	if err != nil {
		return nil, err
	}
	if seeded {
		rep.Seeded = time.Since(began)
	}

	cfg, err := config.Parse([]byte(fmt.Sprintf(consoleBenchConfig, storeURL)), "bench-console.yaml", func(string) (string, bool) { return "", false })
	if err != nil {
		return nil, fmt.Errorf("the benchmark's configuration: %w", err)
	}
	a, err := app.New(ctx, cfg, o.Log)
	if err != nil {
		return nil, err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = a.Shutdown(sctx)
	}()
	if err := a.Start(ctx); err != nil {
		return nil, err
	}
	fill, err := consoleValues(ctx, a.Store())
	if err != nil {
		return nil, err
	}
	paths := o.Paths
	if len(paths) == 0 {
		paths = DefaultConsolePaths
	}
	client := &http.Client{Timeout: time.Minute}
	for _, p := range paths {
		cp, err := timePath(ctx, client, "http://"+a.Addr(), fill.Replace(p), o.Requests)
		if err != nil {
			return nil, err
		}
		cp.Path = p
		rep.Paths = append(rep.Paths, cp)
	}
	return rep, nil
}

const consoleBenchConfig = `store: %s
listen: 127.0.0.1:0
api: {tokens: [{name: bench, token: ` + consoleBenchToken + `}]}
log: {level: warn}
systems:
  shop: {kind: mall, app_key: bench, app_sign: "0123456789abcdef"}
  mall: {kind: mall, app_key: bench-2, app_sign: "fedcba9876543210"}
sources:
  shop_orders: {system: shop, mode: push}
  mall_orders: {system: mall, mode: push}
`

// consoleBenchToken is the bench node's API token: /v1 answers only a
// caller with a token or a session. The node listens on loopback for the
// run alone.
const consoleBenchToken = "bench-console-token-0123456789"

// consoleSources are the sources seeded orders come from.
var consoleSources = []string{"shop_orders", "mall_orders"}

// seedConsole adds orders until the store holds o.Orders: spread over the
// last 30 days in the order they arrive, from two sources, in every status, with buyers' phones
// drawn from 100,000 numbers; one in fifty becomes a flow exception and
// one in twenty a message. It reports whether it added any.
func seedConsole(ctx context.Context, st *store.Store, o ConsoleOptions) (bool, error) {
	var have int
	if err := st.Reader().QueryRowContext(ctx, "SELECT count(*) FROM orders").Scan(&have); err != nil {
		return false, fmt.Errorf("bench console: counting orders: %w", err)
	}
	if have >= o.Orders {
		return false, nil
	}
	rng := rand.New(rand.NewPCG(uint64(have), 42))
	statuses := []order.Status{order.StatusCreated, order.StatusPaid, order.StatusPaid, order.StatusShipped, order.StatusCompleted, order.StatusCancelled}
	now := time.Now()
	const batch = 1000
	for next := have; next < o.Orders; {
		n := min(batch, o.Orders-next)
		in := make([]store.Incoming, 0, n)
		for i := range n {
			seq := next + i
			// Orders arrive in order over the 30 days, as they would.
			at := now.Add(-30 * 24 * time.Hour).Add(time.Duration((float64(seq) + rng.Float64()) / float64(o.Orders) * float64(30*24*time.Hour)))
			fen := order.Money(100 + rng.Int64N(2_000_000))
			phone := fmt.Sprintf("138%08d", rng.IntN(100_000))
			o := order.Order{Source: consoleSources[seq%len(consoleSources)], OrderNo: fmt.Sprintf("B%09d", seq),
				Status: statuses[rng.IntN(len(statuses))], Currency: "CNY", Total: fen, Goods: fen,
				Buyer:     order.Buyer{ID: fmt.Sprintf("u-%d", seq%100_000), Name: "张三", Phone: phone, Address: "上海市浦东新区世纪大道 100 号"},
				Items:     []order.Item{{SKU: "TS-BLK-M", Name: "T 恤", Quantity: 1, UnitPrice: fen, Total: fen}},
				CreatedAt: at, PaidAt: at, UpdatedAt: at}
			raw, err := json.Marshal(o)
			if err != nil {
				return false, err
			}
			in = append(in, store.Incoming{Order: o, Raw: raw, ReceivedAt: at})
		}
		outs, err := st.Apply(ctx, in, nil)
		if err != nil {
			return false, fmt.Errorf("bench console: storing orders: %w", err)
		}
		if err := backdate(ctx, st, outs, now); err != nil {
			return false, err
		}
		if err := seedWork(ctx, st, in, outs, next); err != nil {
			return false, err
		}
		next += n
		if o.Progress != nil {
			o.Progress(next, o.Orders)
		}
	}
	return true, nil
}

// backdate makes the batch's orders look as if they had been changed over
// time rather than all at once: the store stamps a change with its own
// clock, so seeded orders would all seem changed in the minute of seeding.
// Two in three were last changed when first seen, the others a day or two
// later (the order was shipped, completed) unless that is still to come.
func backdate(ctx context.Context, st *store.Store, outs []store.Outcome, now time.Time) error {
	lo, hi := outs[0].OrderID, outs[0].OrderID
	for _, o := range outs {
		lo, hi = min(lo, o.OrderID), max(hi, o.OrderID)
	}
	const day = int64(24 * time.Hour / time.Microsecond)
	_, err := st.DB().ExecContext(ctx, fmt.Sprintf(`UPDATE orders SET updated_at = CASE WHEN first_seen_at + (id %% 3) * %d < %d
		THEN first_seen_at + (id %% 3) * %d ELSE first_seen_at END WHERE id >= %d AND id <= %d`, day, now.UnixMicro(), day, lo, hi))
	if err != nil {
		return fmt.Errorf("bench console: dating the orders' changes: %w", err)
	}
	return nil
}

// seedWork gives some of a batch's orders a flow exception and a message.
func seedWork(ctx context.Context, st *store.Store, in []store.Incoming, outs []store.Outcome, first int) error {
	tx, err := st.DB().BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var ds []store.NewDelivery
	var flowed []int64
	for i, out := range outs {
		seq := first + i
		if seq%50 == 0 {
			if err := st.WantFlow(ctx, tx, "to_erp", out.OrderID, 1, in[i].ReceivedAt); err != nil {
				return fmt.Errorf("bench console: a flow item: %w", err)
			}
			flowed = append(flowed, out.OrderID)
		}
		if seq%20 == 0 {
			o := in[i].Order
			ds = append(ds, store.NewDelivery{System: "ops_ding", Rule: "new_order", Key: "new_order/" + o.Source + "/" + o.OrderNo + "/created",
				Kind: store.KindMessage, OrderID: out.OrderID, Source: o.Source, OrderNo: o.OrderNo, Event: "created", Total: o.Total.String(),
				Status: string(o.Status), Lang: "zh-CN", State: store.DeliverySent, Message: []byte(`{"title":"新订单 ` + o.OrderNo + `"}`), DueAt: in[i].ReceivedAt})
		}
	}
	if len(ds) > 0 {
		if _, err := st.QueueDeliveries(ctx, tx, ds, in[len(in)-1].ReceivedAt); err != nil {
			return fmt.Errorf("bench console: messages: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if len(flowed) == 0 {
		return nil
	}
	items, err := st.ListFlowItems(ctx, store.FlowFilter{Flow: "to_erp", States: []store.FlowState{store.FlowPending}, Limit: len(flowed)})
	if err != nil {
		return err
	}
	var us []store.FlowUpdate
	at := in[len(in)-1].ReceivedAt.Add(time.Minute)
	for _, it := range items {
		us = append(us, store.FlowUpdate{ID: it.ID, Version: 1, State: store.FlowException, At: at,
			Error: store.FlowError{Class: "permanent", Code: "11", Message: "物料不存在", Field: "FMaterialId"}})
	}
	tx, err = st.DB().BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := st.UpdateFlowItems(ctx, tx, us); err != nil {
		return fmt.Errorf("bench console: flow exceptions: %w", err)
	}
	return tx.Commit()
}

// consoleValues picks what the paths' placeholders stand for: an order
// in the middle of the store, its buyer's phone, a week ago.
func consoleValues(ctx context.Context, st *store.Store) (*strings.Replacer, error) {
	var id int64
	var source, no string
	r := st.Reader()
	if err := r.QueryRowContext(ctx, "SELECT max(id) / 2 FROM orders").Scan(&id); err != nil {
		return nil, fmt.Errorf("bench console: %w", err)
	}
	// id is a number read from the store, so it is written into the query
	// as it is, in the one form both SQL dialects take.
	if err := r.QueryRowContext(ctx, fmt.Sprintf("SELECT source, order_no FROM orders WHERE id >= %d ORDER BY id LIMIT 1", id)).Scan(&source, &no); err != nil {
		if err == sql.ErrNoRows {
			return nil, fmt.Errorf("bench console: the store holds no orders")
		}
		return nil, fmt.Errorf("bench console: %w", err)
	}
	rec, err := st.GetOrder(ctx, source, no)
	if err != nil {
		return nil, err
	}
	week := time.Now().AddDate(0, 0, -7).Format(time.DateOnly)
	return strings.NewReplacer("{source}", source, "{no}", url.PathEscape(no), "{phone}", rec.Order.Buyer.Phone, "{week}", week), nil
}

// timePath asks for path n times and reports its latencies; a path that
// does not answer 200 is an error, as its timings would mean nothing.
func timePath(ctx context.Context, c *http.Client, base, path string, n int) (ConsolePath, error) {
	lat := make([]time.Duration, 0, n)
	var cp ConsolePath
	for range n {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if err != nil {
			return cp, err
		}
		req.Header.Set("Authorization", "Bearer "+consoleBenchToken)
		t0 := time.Now()
		resp, err := c.Do(req)
		if err != nil {
			return cp, fmt.Errorf("GET %s: %w", path, err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		lat = append(lat, time.Since(t0))
		if err != nil {
			return cp, fmt.Errorf("GET %s: %w", path, err)
		}
		if resp.StatusCode != http.StatusOK {
			return cp, fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		cp.Status, cp.Bytes = resp.StatusCode, len(b)
	}
	slices.Sort(lat)
	cp.P50, cp.P99, cp.Max = lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)], lat[len(lat)-1]
	return cp, nil
}

// Print writes the report as a table.
func (r *ConsoleReport) Print(w io.Writer) {
	fmt.Fprintf(w, "console benchmark: %d orders in %s, %d requests a path, one at a time\n", r.Orders, r.Store, r.Requests)
	if r.Seeded > 0 {
		fmt.Fprintf(w, "seeded in %s\n", r.Seeded.Round(time.Second))
	}
	fmt.Fprintf(w, "\n%-58s %9s %9s %9s %9s\n", "path", "bytes", "p50", "p99", "max")
	worst := time.Duration(0)
	for _, p := range r.Paths {
		fmt.Fprintf(w, "%-58s %9d %9s %9s %9s\n", p.Path, p.Bytes, ms(p.P50), ms(p.P99), ms(p.Max))
		if p.Path != "/healthz" {
			worst = max(worst, p.P99)
		}
	}
	verdict := "met"
	if worst >= 100*time.Millisecond {
		verdict = "NOT met"
	}
	fmt.Fprintf(w, "\ngoal: every page and call under 100 ms (p99) with 1,000,000 orders: %s (worst p99 %s, %d orders)\n", verdict, ms(worst), r.Orders)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }
