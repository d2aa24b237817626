package console

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"orderhub/internal/config"
	"orderhub/internal/flow"
	"orderhub/internal/order"
	"orderhub/internal/store"
)

type stageFlows struct{ *flow.Stage }

func (stageFlows) FlowInfos() []FlowInfo {
	return []FlowInfo{{Name: "trades_to_xingchen", Source: "wdt_trades", Target: "xingchen", API: "sal_order_save"}}
}
func (stageFlows) PullSources() []string { return []string{"wdt_trades"} }

// flowsFixture has one order whose flow item is an exception.
func flowsFixture(t *testing.T, tokens []config.APIToken) (*httptest.Server, *store.Store, int64) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "hub.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	id := seedException(t, st)
	loc, _ := time.LoadLocation("Asia/Shanghai")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	mux := http.NewServeMux()
	api := NewAPI(st, orTestToken(tokens), loc, log)
	api.Register(mux)
	api.RegisterFlows(mux, stageFlows{flow.NewStage(st, log, nil, nil)})
	srv := httptest.NewServer(withTestToken(mux, tokens))
	t.Cleanup(srv.Close)
	return srv, st, id
}

// seedException stores one order whose flow item is an exception, and
// returns the item's id.
func seedException(t *testing.T, st *store.Store) int64 {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC)
	o := mkOrder("wdt_trades", "JY001", order.StatusPaid)
	out, err := st.Apply(ctx, []store.Incoming{{Order: o, Raw: []byte(`{"trade_no":"JY001"}`), ReceivedAt: now}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := st.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.WantFlow(ctx, tx, "trades_to_xingchen", out[0].OrderID, 1, now); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	items, err := st.ListFlowItems(ctx, store.FlowFilter{})
	if err != nil || len(items) != 1 {
		t.Fatalf("items %v, %v", items, err)
	}
	tx, _ = st.DB().BeginTx(ctx, nil)
	if err := st.UpdateFlowItems(ctx, tx, []store.FlowUpdate{{ID: items[0].ID, Version: 1, State: store.FlowException, BillNo: "JY001", At: now,
		Error: store.FlowError{Class: "permanent", Code: "2000", Message: "物料 SKU-9 不存在", Hint: "在金蝶新增物料后重试"}}}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return items[0].ID
}

func TestExceptionsAPI(t *testing.T) {
	srv, st, id := flowsFixture(t, nil)
	get := func(path string, v any) int {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if v != nil {
			if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
				t.Fatal(err)
			}
		}
		return resp.StatusCode
	}
	post := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Post(srv.URL+path, "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	var list struct {
		Exceptions []store.FlowItem `json:"exceptions"`
	}
	if code := get("/v1/exceptions", &list); code != 200 || len(list.Exceptions) != 1 {
		t.Fatalf("GET /v1/exceptions = %d, %+v", code, list)
	}
	ex := list.Exceptions[0]
	if ex.Error.Message != "物料 SKU-9 不存在" || ex.Error.Hint == "" || ex.OrderNo != "JY001" || ex.Flow != "trades_to_xingchen" {
		t.Fatalf("exception = %+v", ex)
	}
	if code := get("/v1/exceptions?flow=other", &list); code != 200 || len(list.Exceptions) != 0 {
		t.Fatalf("filtered by another flow: %d, %+v", code, list)
	}
	if code := get("/v1/exceptions/abc", nil); code != 400 {
		t.Fatalf("a bad id: %d", code)
	}
	if code := get("/v1/exceptions/999", nil); code != 404 {
		t.Fatalf("an unknown id: %d", code)
	}
	if code, body := post("/v1/exceptions/" + itoa(id) + "/retry"); code != 200 || !strings.Contains(body, "retried") {
		t.Fatalf("retry = %d %s", code, body)
	}
	it, _ := st.GetFlowItem(context.Background(), id)
	if it.State != store.FlowPending {
		t.Fatalf("after retry the item is %s", it.State)
	}
	if code, body := post("/v1/exceptions/" + itoa(id) + "/skip"); code != 409 || !strings.Contains(body, "not_an_exception") {
		t.Fatalf("skipping a pending item = %d %s, want 409 not_an_exception", code, body)
	}
	var flows struct {
		Flows []FlowView `json:"flows"`
	}
	if code := get("/v1/flows", &flows); code != 200 || len(flows.Flows) != 1 || flows.Flows[0].Backlog != 1 || flows.Flows[0].LastError.Message == "" {
		t.Fatalf("GET /v1/flows = %d %+v", code, flows)
	}
}

func TestExceptionsAPINeedsToken(t *testing.T) {
	srv, st, id := flowsFixture(t, []config.APIToken{{Name: "ops", Token: "ops-secret"}})
	resp, err := http.Post(srv.URL+"/v1/exceptions/"+itoa(id)+"/retry", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("retry without a token = %d, want 401", resp.StatusCode)
	}
	if it, _ := st.GetFlowItem(context.Background(), id); it.State != store.FlowException {
		t.Fatalf("a refused retry changed the item to %s", it.State)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/exceptions/"+itoa(id)+"/skip", nil)
	req.Header.Set("Authorization", "Bearer ops-secret")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("skip with the token = %d", resp.StatusCode)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// GET /v1/flows lists each pull source's refused documents, with their
// number, the field and the reason, in the configured zone.
func TestFlowsListRefusedDocuments(t *testing.T) {
	srv, st, _ := flowsFixture(t, nil)
	ctx := context.Background()
	at := time.Date(2026, 1, 1, 2, 0, 0, 0, time.UTC)
	tx, err := st.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.RecordPullRefusals(ctx, tx, []store.PullRefusal{{Source: "wdt_trades", DocNo: "JY-KG", Modified: at.Add(-time.Hour),
		Field: "goods_list[0].num", Value: "1.5000", Reason: "document JY-KG: field goods_list[0].num = \"1.5000\": not a whole number",
		Hint: "改为整件计量", FirstAt: at, LastAt: at}}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(srv.URL + "/v1/flows")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Sources []SourceView `json:"sources"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if len(body.Sources) != 1 || body.Sources[0].RefusedTotal != 1 || len(body.Sources[0].Refused) != 1 {
		t.Fatalf("sources %+v, want wdt_trades with one refused document", body.Sources)
	}
	r := body.Sources[0].Refused[0]
	if r.DocNo != "JY-KG" || r.Field != "goods_list[0].num" || r.Value != "1.5000" || r.Hint == "" || !strings.Contains(r.Reason, "whole") {
		t.Fatalf("refused %+v", r)
	}
	if _, off := r.LastAt.Zone(); off != 8*3600 || !r.LastAt.Equal(at) {
		t.Fatalf("last_at %v, want %v in Asia/Shanghai", r.LastAt, at)
	}
}
