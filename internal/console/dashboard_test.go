package console

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"orderhub/internal/order"
	"orderhub/internal/store"
)

func TestDashboard(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "hub.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, shanghai)
	now := time.Now()
	arrive := func(source, no, total string, at time.Time) int64 {
		t.Helper()
		m, err := order.ParseMoney(total)
		if err != nil {
			t.Fatal(err)
		}
		o := order.Order{Source: source, OrderNo: no, Status: order.StatusPaid, Currency: "CNY", Total: m, Goods: m,
			CreatedAt: at, UpdatedAt: at}
		out, err := st.Apply(ctx, []store.Incoming{{Order: o, Raw: []byte(`{}`), ReceivedAt: at}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return out[0].OrderID
	}
	arrive("shop", "A-1", "10.00", day.Add(30*time.Minute))
	arrive("shop", "A-2", "5.50", day.Add(40*time.Minute))
	m1 := arrive("mall", "M-1", "5999.00", day.Add(2*time.Hour+5*time.Minute))
	arrive("shop", "T-1", "100.00", now)
	arrive("shop", "T-2", "0.01", now)
	inTx := func(fn func(tx *sql.Tx) error) {
		t.Helper()
		tx, err := st.DB().BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := fn(tx); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	inTx(func(tx *sql.Tx) error { return st.WantFlow(ctx, tx, "to_erp", m1, 1, day) })
	items, err := st.ListFlowItems(ctx, store.FlowFilter{Flow: "to_erp", Limit: 10})
	if err != nil || len(items) != 1 {
		t.Fatal(items, err)
	}
	inTx(func(tx *sql.Tx) error {
		return st.UpdateFlowItems(ctx, tx, []store.FlowUpdate{{ID: items[0].ID, Version: 1, State: store.FlowException,
			At: day.Add(3 * time.Hour), Error: store.FlowError{Class: "permanent", Code: "11", Message: "物料不存在"}}})
	})
	inTx(func(tx *sql.Tx) error {
		_, err := st.QueueDeliveries(ctx, tx, []store.NewDelivery{{System: "ops_ding", Rule: "r", Key: "k1", Kind: store.KindMessage,
			State: store.DeliveryQueued, Message: []byte(`{}`)}}, day.Add(time.Hour))
		return err
	})

	mux := http.NewServeMux()
	NewAPI(st, orTestToken(nil), shanghai, slog.New(slog.NewTextHandler(io.Discard, nil))).RegisterDashboard(mux)
	srv := httptest.NewServer(withTestToken(mux, nil))
	defer srv.Close()
	get := func(query string) (*http.Response, []byte) {
		t.Helper()
		resp, err := http.Get(srv.URL + "/v1/stats/dashboard" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, body
	}

	resp, body := get("?from=2026-03-02&to=2026-03-03")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var d Dashboard
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatal(err)
	}
	if d.Bucket != "1h" || len(d.Buckets) != 24 || !d.Buckets[2].Equal(day.Add(2*time.Hour)) || d.Zone != "Asia/Shanghai" {
		t.Errorf("buckets: %s, %d, %v, %s", d.Bucket, len(d.Buckets), d.Buckets[:3], d.Zone)
	}
	wantShop := make([]int, 24)
	wantShop[0] = 2
	if len(d.Orders) != 2 || d.Orders[0].Source != "mall" || d.Orders[0].Orders[2] != 1 || d.Orders[0].Total[2] != "5999.00" ||
		d.Orders[1].Source != "shop" || !slices.Equal(d.Orders[1].Orders, wantShop) || d.Orders[1].Total[0] != "15.50" || d.Orders[1].Total[1] != "0.00" {
		t.Errorf("orders: %+v", d.Orders)
	}
	if len(d.Flows) != 1 || d.Flows[0].Flow != "to_erp" || d.Flows[0].Exceptions[3] != 1 || d.Flows[0].Open != 1 || d.Flows[0].Waiting != 0 {
		t.Errorf("flows: %+v", d.Flows)
	}
	if len(d.Deliveries) != 1 || d.Deliveries[0].System != "ops_ding" || d.Deliveries[0].States["queued"] != 1 || d.Deliveries[0].Waiting != 1 {
		t.Errorf("deliveries: %+v", d.Deliveries)
	}
	if d.Today != (Today{Orders: 2, GMV: "100.01", OpenExceptions: 1}) {
		t.Errorf("today: %+v", d.Today)
	}

	// A week is cut into days unless asked otherwise; buckets start at
	// midnight in the zone even when from does not.
	_, body = get("?from=2026-03-01T09:30:00%2B08:00&to=2026-03-08")
	d = Dashboard{}
	json.Unmarshal(body, &d)
	if d.Bucket != "1d" || len(d.Buckets) != 7 || !d.Buckets[0].Equal(day.AddDate(0, 0, -1)) || d.Orders[1].Orders[1] != 2 {
		t.Errorf("a week: %s, %v, %+v", d.Bucket, d.Buckets, d.Orders)
	}

	for _, tc := range []struct{ query, code string }{
		{"?bucket=2h", "bad_bucket"},
		{"?from=2020-01-01&bucket=15m", "too_many_buckets"},
		{"?from=yesterday", "bad_from"},
		{"?from=2026-03-03&to=2026-03-02", "bad_period"},
	} {
		resp, body := get(tc.query)
		var p struct{ Code string }
		json.Unmarshal(body, &p)
		if resp.StatusCode != http.StatusBadRequest || p.Code != tc.code {
			t.Errorf("%s: %d %s, want 400 %s", tc.query, resp.StatusCode, body, tc.code)
		}
	}
}
