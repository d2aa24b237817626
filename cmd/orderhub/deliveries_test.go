package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"orderhub/internal/config"
	"orderhub/internal/connector"
	"orderhub/internal/console"
	"orderhub/internal/notify"
	"orderhub/internal/store"
)

// deliveriesNode serves the REST API of a node whose store holds, by index
// in the returned ids: 0 a sent message, 1 a failed one, 2 a queued one,
// 3 and 4 messages merged into 5, a sent digest.
//
// Given no tokens, the node has one (an admin's, without PII) and the
// commands find it in ORDERHUB_TOKEN, as for the tests not about tokens.
func deliveriesNode(t *testing.T, tokens []config.APIToken) (*httptest.Server, *store.Store, []int64) {
	t.Helper()
	if tokens == nil {
		tokens = []config.APIToken{{Name: "cli", Token: "cli-token-0123456789"}}
		t.Setenv("ORDERHUB_TOKEN", "cli-token-0123456789")
	}
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "hub.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	at := time.Date(2026, 3, 8, 1, 15, 0, 0, time.UTC) // 09:15 in Shanghai
	o := bigSample()
	out, err := st.Apply(ctx, []store.Incoming{{Order: o, Raw: []byte(`{}`), ReceivedAt: at}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	inTx := func(fn func(tx *sql.Tx) error) {
		t.Helper()
		tx, err := st.DB().BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if err := fn(tx); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	mk := func(system, rule, event string, state store.DeliveryState) store.NewDelivery {
		key := rule + "/" + o.Source + "/" + o.OrderNo + "/" + event
		return store.NewDelivery{System: system, Rule: rule, Key: key, Kind: store.KindMessage, OrderID: out[0].OrderID, Source: o.Source,
			OrderNo: o.OrderNo, Event: event, Total: "5999.00", Status: "paid", Lang: "zh-CN", State: state,
			Message: fmt.Appendf(nil, `{"title":"大额订单 %s","markdown":"### 大额订单\n金额 **¥5,999.00**","at_mobiles":["13800001234"],"key":%q}`, o.OrderNo, key)}
	}
	ds := []store.NewDelivery{mk("ops_ding", "big_order", "created", store.DeliveryQueued), mk("ops_feishu", "big_order", "created", store.DeliveryQueued),
		mk("ops_ding", "big_order", "paid", store.DeliveryQueued), mk("ops_ding", "hourly", "created", store.DeliveryCollecting),
		mk("ops_ding", "hourly", "paid", store.DeliveryCollecting)}
	inTx(func(tx *sql.Tx) error { _, err := st.QueueDeliveries(ctx, tx, ds, at); return err })
	listed, err := st.ListDeliveries(ctx, store.DeliveryFilter{})
	if err != nil || len(listed) != len(ds) {
		t.Fatalf("queued %d, %v", len(listed), err)
	}
	var ids []int64
	for i := range listed {
		ids = append(ids, listed[len(listed)-1-i].ID)
	}
	done := at.Add(time.Minute)
	inTx(func(tx *sql.Tx) error {
		if err := st.StartAttempts(ctx, tx, "ops_ding", []store.AttemptStart{{DeliveryID: ids[0], Attempt: 1}}, at); err != nil {
			return err
		}
		return st.StartAttempts(ctx, tx, "ops_feishu", []store.AttemptStart{{DeliveryID: ids[1], Attempt: 1}}, at)
	})
	inTx(func(tx *sql.Tx) error {
		return st.FinishAttempts(ctx, tx, []store.AttemptOutcome{
			{DeliveryID: ids[0], Attempt: 1, State: store.DeliverySent, Outcome: "sent", Code: "0", MessageID: "om_1"},
			{DeliveryID: ids[1], Attempt: 1, State: store.DeliveryFailed, Outcome: "permanent", Code: "19024",
				Error: store.DeliveryError{Class: "permanent", Code: "19024", Message: "Key Words Not Found", Hint: "消息缺少飞书机器人「安全设置」里的关键词"}},
		}, done)
	})
	inTx(func(tx *sql.Tx) error {
		id, err := st.NewDigest(ctx, tx, store.NewDelivery{System: "ops_ding", Rule: "hourly", Key: fmt.Sprintf("digest/%d", ids[3]), Lang: "zh-CN",
			Wait: "digest"}, ids[3:5], done)
		if err != nil {
			return err
		}
		ids = append(ids, id)
		if err := st.SetMessage(ctx, tx, id, []byte(`{"title":"另有 2 笔新订单"}`)); err != nil {
			return err
		}
		return st.StartAttempts(ctx, tx, "ops_ding", []store.AttemptStart{{DeliveryID: id, Attempt: 1}}, done)
	})
	inTx(func(tx *sql.Tx) error {
		return st.FinishAttempts(ctx, tx, []store.AttemptOutcome{{DeliveryID: ids[5], Attempt: 1, State: store.DeliverySent, Outcome: "sent", Code: "0"}}, done)
	})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	stage := notify.NewStage(st, log, nil)
	stage.SetSetup(&notify.Setup{Endpoints: map[string]*notify.Endpoint{
		"ops_ding":   {System: "ops_ding", Kind: "dingtalk_robot", Limits: connector.SendLimits{PerMinute: 20}},
		"ops_feishu": {System: "ops_feishu", Kind: "feishu_bot", Limits: connector.SendLimits{PerMinute: 100, PerSecond: 5}},
	}})
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	api := console.NewAPI(st, tokens, loc, log)
	api.Register(mux)
	api.RegisterDeliveries(mux, stage)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, st, ids
}

// tableRows reads a table's rows by their first column, each as its
// columns (split at runs of two or more spaces, as tabwriter pads them).
func tableRows(out string) map[string][]string {
	rows := map[string][]string{}
	for _, l := range strings.Split(out, "\n") {
		var cols []string
		for _, c := range strings.Split(strings.TrimSpace(l), "  ") {
			if c = strings.TrimSpace(c); c != "" {
				cols = append(cols, c)
			}
		}
		if len(cols) > 1 {
			rows[cols[0]] = cols
		}
	}
	return rows
}

func TestDeliveriesList(t *testing.T) {
	srv, _, ids := deliveriesNode(t, nil)
	id := func(i int) string { return fmt.Sprint(ids[i]) }
	order := "shop_orders/M20260308001"
	tests := []struct {
		name     string
		args     []string
		wantCode int
		rows     map[string][]string // by id: every column
		ids      []string            // exactly these rows, in order
		want     []string            // in stdout, or stderr when the command fails
	}{
		{name: "all", args: nil, ids: []string{id(5), id(4), id(3), id(2), id(1), id(0)}, rows: map[string][]string{
			"ID":  {"ID", "SYSTEM", "RULE", "ORDER", "STATE", "WAITED", "TRIES", "UPDATED", "ANSWER"},
			id(0): {id(0), "ops_ding", "big_order", order + " created", "sent", "-", "1", "2026-03-08 09:16:00", "code 0, message id om_1"},
			id(1): {id(1), "ops_feishu", "big_order", order + " created", "failed", "-", "1", "2026-03-08 09:16:00",
				"19024 Key Words Not Found — 消息缺少飞书机器人「安全设置」里的关键词"},
			id(2): {id(2), "ops_ding", "big_order", order + " paid", "queued", "-", "0", "2026-03-08 09:15:00"},
			id(3): {id(3), "ops_ding", "hourly", order + " created", "merged", "-", "0", "2026-03-08 09:16:00", fmt.Sprintf("in digest %d", ids[5])},
			id(5): {id(5), "ops_ding", "hourly", "digest of 2", "sent", "digest", "1", "2026-03-08 09:16:00", "code 0"},
		}},
		{name: "failed", args: []string{"--status", "failed"}, ids: []string{id(1)}},
		{name: "by system and rule", args: []string{"--system", "ops_ding", "--rule", "big_order"}, ids: []string{id(2), id(0)}},
		{name: "by order", args: []string{"--order", order, "--status", "merged"}, ids: []string{id(4), id(3)}},
		{name: "a digest's", args: []string{"--digest", id(5)}, ids: []string{id(4), id(3)}},
		{name: "a page", args: []string{"--limit", "2"}, ids: []string{id(5), id(4)}, want: []string{"more: the same with --before " + id(4) + "\n"}},
		{name: "the next page", args: []string{"--limit", "2", "--before", id(4)}, ids: []string{id(3), id(2)}, want: []string{"more: the same with --before " + id(2)}},
		{name: "the last page", args: []string{"--limit", "2", "--before", id(2)}, ids: []string{id(1), id(0)}},
		{name: "none", args: []string{"--rule", "nobody"}, want: []string{"no deliveries\n"}},
		{name: "unknown status", args: []string{"--status", "done"}, wantCode: 1,
			want: []string{`status "done" is not a delivery state`, "collecting, queued, sending, sent, merged, failed"}},
		{name: "malformed order", args: []string{"--order", "M20260308001"}, wantCode: 1, want: []string{`order "M20260308001" is not <source>/<order_no>`}},
		{name: "unknown order", args: []string{"--order", "shop_orders/NOPE"}, wantCode: 1, want: []string{`no order "NOPE" from source "shop_orders"`}},
		{name: "limit too large", args: []string{"--limit", "501"}, wantCode: 1, want: []string{"from 1 to 500"}},
		{name: "pii with a token not allowed it", args: []string{"--pii"}, wantCode: 1, want: []string{"403 pii_forbidden"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(append([]string{"deliveries", "list", "--url", srv.URL}, tt.args...))
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, stdout, stderr)
			}
			out := stdout
			if code != 0 {
				out = stderr
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			if code != 0 {
				return
			}
			rows := tableRows(stdout)
			for k, want := range tt.rows {
				if !slices.Equal(rows[k], want) {
					t.Errorf("row %s:\n got %q\nwant %q", k, rows[k], want)
				}
			}
			var got []string
			for _, l := range strings.Split(stdout, "\n") {
				if f := strings.Fields(l); len(f) > 0 && f[0] != "ID" && f[0] != "more:" && f[0] != "no" {
					got = append(got, f[0])
				}
			}
			if !slices.Equal(got, tt.ids) {
				t.Errorf("rows %v, want %v:\n%s", got, tt.ids, stdout)
			}
			if strings.Contains(stdout, "13800001234") {
				t.Errorf("an unmasked mobile:\n%s", stdout)
			}
		})
	}

	// --json prints the API's answer.
	code, stdout, stderr := runCLI([]string{"deliveries", "list", "--url", srv.URL, "--json", "--status", "failed"})
	var page struct {
		Deliveries []struct {
			ID    int64  `json:"id"`
			State string `json:"state"`
		} `json:"deliveries"`
		HasMore *bool `json:"has_more"`
	}
	if err := json.Unmarshal([]byte(stdout), &page); code != 0 || err != nil || len(page.Deliveries) != 1 || page.Deliveries[0].ID != ids[1] || page.HasMore == nil {
		t.Errorf("--json: exit %d, %v: %s %s", code, err, stdout, stderr)
	}
}

func TestDeliveriesShow(t *testing.T) {
	srv, _, ids := deliveriesNode(t, nil)
	show := func(args ...string) (int, string, string) {
		return runCLI(append([]string{"deliveries", "show", "--url", srv.URL}, args...))
	}
	code, stdout, stderr := show(fmt.Sprint(ids[1]))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, w := range []string{
		fmt.Sprintf("delivery     %d (message)\n", ids[1]),
		"order        shop_orders/M20260308001 created (total 5999.00, paid)\n",
		"state        failed, 1 call(s) made\n",
		"queued       2026-03-08 09:15:00\n",
		"answer       19024 Key Words Not Found — 消息缺少飞书机器人「安全设置」里的关键词\n",
		"what to fix  消息缺少飞书机器人「安全设置」里的关键词\n",
		"message:\n  {\n    \"title\": \"大额订单 M20260308001\",",
		`"at_mobiles": [` + "\n      \"138****1234\"",
		"attempts:\n",
	} {
		if !strings.Contains(stdout, w) {
			t.Errorf("show lacks %q:\n%s", w, stdout)
		}
	}
	if a := tableRows(stdout)["1"]; !slices.Equal(a, []string{"1", "2026-03-08 09:15:00", "2026-03-08 09:16:00", "permanent", "19024", "-", "Key Words Not Found"}) {
		t.Errorf("attempt row %q:\n%s", a, stdout)
	}
	if strings.Contains(stdout, "13800001234") {
		t.Errorf("an unmasked mobile:\n%s", stdout)
	}

	code, stdout, stderr = show(fmt.Sprint(ids[5]))
	if code != 0 {
		t.Fatalf("digest: exit %d: %s", code, stderr)
	}
	rows := tableRows(stdout)
	if !strings.Contains(stdout, "messages carried (2):\n") || rows[fmt.Sprint(ids[3])] == nil || rows[fmt.Sprint(ids[4])] == nil ||
		!slices.Equal(rows["delivery"], []string{"delivery", fmt.Sprint(ids[5]) + " (digest)"}) {
		t.Errorf("digest:\n%s", stdout)
	}
	code, stdout, _ = show(fmt.Sprint(ids[3]))
	if code != 0 || !strings.Contains(stdout, fmt.Sprintf("carried by digest %d", ids[5])) {
		t.Errorf("merged: %s", stdout)
	}
	code, stdout, _ = show(fmt.Sprint(ids[2]))
	if code != 0 || !strings.Contains(stdout, "attempts:\n  none yet\n") {
		t.Errorf("queued: %s", stdout)
	}

	code, stdout, _ = show("--json", fmt.Sprint(ids[0]))
	var d struct {
		ID       int64 `json:"id"`
		Attempts []struct {
			MessageID string `json:"message_id"`
		} `json:"attempts"`
	}
	if err := json.Unmarshal([]byte(stdout), &d); code != 0 || err != nil || d.ID != ids[0] || len(d.Attempts) != 1 || d.Attempts[0].MessageID != "om_1" {
		t.Errorf("--json: %d %v %s", code, err, stdout)
	}

	for _, tc := range []struct{ arg, want string }{
		{"99999", "404 delivery_not_found: no delivery 99999"},
		{"x", `"x" is not a delivery id`},
		{"0", `"0" is not a delivery id`},
	} {
		if code, _, stderr := show(tc.arg); code != 1 || !strings.Contains(stderr, tc.want) {
			t.Errorf("show %s: exit %d %s, want %q", tc.arg, code, stderr, tc.want)
		}
	}
}

func TestDeliveriesResend(t *testing.T) {
	srv, st, ids := deliveriesNode(t, []config.APIToken{{Name: "ops", Token: "tok-ops-0123456789"}})
	resend := func(args ...string) (int, string, string) {
		return runCLI(append([]string{"deliveries", "resend", "--url", srv.URL}, args...))
	}
	state := func(i int) store.DeliveryState {
		d, _, err := st.GetDelivery(context.Background(), ids[i])
		if err != nil {
			t.Fatal(err)
		}
		return d.State
	}
	// Without a token the node refuses, and nothing changes.
	if code, _, stderr := resend(fmt.Sprint(ids[1])); code != 1 || !strings.Contains(stderr, "401 sign_in_required") {
		t.Fatalf("without a token: exit %d %s", code, stderr)
	}
	if s := state(1); s != store.DeliveryFailed {
		t.Fatalf("a refused resend made it %s", s)
	}
	// The token from the environment; the failed one is queued, the rest
	// are refused each with its reason.
	t.Setenv("ORDERHUB_TOKEN", "tok-ops-0123456789")
	code, stdout, stderr := resend(fmt.Sprint(ids[1]), fmt.Sprint(ids[0]), "x", "99999")
	if code != 1 {
		t.Fatalf("exit %d, want 1: %s %s", code, stdout, stderr)
	}
	if stdout != fmt.Sprintf("%d queued again\n", ids[1]) {
		t.Errorf("stdout %q", stdout)
	}
	for _, w := range []string{
		fmt.Sprintf("%d: 409 not_failed: delivery %d is sent: only a failed delivery can be resent", ids[0], ids[0]),
		`x: "x" is not a delivery id`,
		"99999: 404 delivery_not_found: no delivery 99999",
	} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}
	if s := state(1); s != store.DeliveryQueued {
		t.Errorf("after resend: %s", s)
	}
	if code, _, stderr := resend(fmt.Sprint(ids[1])); code != 1 || !strings.Contains(stderr, "is queued: only a failed delivery can be resent") {
		t.Errorf("resent twice: exit %d %s", code, stderr)
	}
	// A wrong token given on the command line wins over the environment.
	if code, _, stderr := resend("--token", "nope", fmt.Sprint(ids[1])); code != 1 || !strings.Contains(stderr, "401 bad_token") {
		t.Errorf("--token nope: exit %d %s", code, stderr)
	}
}

func TestDeliveriesNoNode(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close() // nothing listens there now
	code, _, stderr := runCLI([]string{"deliveries", "list", "--url", addr})
	if code != 1 || !strings.Contains(stderr, "asking orderhub at "+addr+" (is it running?") {
		t.Errorf("exit %d: %s", code, stderr)
	}
	t.Setenv("ORDERHUB_URL", addr)
	if code, _, stderr := runCLI([]string{"deliveries", "show", "1"}); code != 1 || !strings.Contains(stderr, addr) {
		t.Errorf("ORDERHUB_URL: exit %d: %s", code, stderr)
	}
	// Something else answering is not taken for the API.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "teapot", http.StatusTeapot) }))
	defer other.Close()
	if code, _, stderr := runCLI([]string{"deliveries", "list", "--url", other.URL}); code != 1 || !strings.Contains(stderr, "418 I'm a teapot teapot") {
		t.Errorf("a server that is not orderhub: exit %d: %s", code, stderr)
	}
}
