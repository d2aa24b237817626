package web

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"orderhub/internal/flow"
	"orderhub/internal/notify"
	"orderhub/internal/order"
	"orderhub/internal/store"
)

// fixture is a store with what every page shows: orders, one order's
// whole timeline, an exception and deliveries, one of them failed.
type fixture struct {
	store     *store.Store
	handler   http.Handler
	mu        sync.Mutex
	viewer    Viewer // set on every request; Role "" serves anonymously
	exception int64  // the flow item waiting as an exception
	failed    int64  // the failed delivery
	sent      int64  // the sent delivery
}

var (
	shanghai, _ = time.LoadLocation("Asia/Shanghai")
	placed      = time.Date(2026, 11, 25, 1, 30, 0, 0, time.UTC) // 09:30 in Shanghai
)

const (
	buyerPhone = "13812341234"
	buyerName  = "王小明"
	buyerAddr  = "浙江省杭州市西湖区文三路 90 号"
	csrfToken  = "csrf-0123456789abcdef"
)

func mkOrder(source, no string, st order.Status, phone string) order.Order {
	return order.Order{Source: source, OrderNo: no, Status: st, Currency: "CNY", Total: 12800, Goods: 12000, Freight: 800,
		Buyer:     order.Buyer{Name: buyerName, Phone: phone, Address: buyerAddr},
		Items:     []order.Item{{SKU: "TEA-01", Name: "龙井 250g", Quantity: 2, UnitPrice: 6000, Total: 12000}},
		CreatedAt: placed.Add(-time.Minute), PaidAt: placed, UpdatedAt: placed}
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "hub.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	raw := fmt.Sprintf(`{"order_sn":"M1001","receiver_name":%q,"receiver_mobile":%q,"receiver_address":%q,"note":"请联系 %s","goods":[{"goods_name":"龙井 250g","num":2}]}`,
		buyerName, buyerPhone, buyerAddr, buyerPhone)
	in := []store.Incoming{{Order: mkOrder("shop", "M1001", order.StatusPaid, buyerPhone), Raw: []byte(raw), ReceivedAt: placed}}
	for i := 2; i <= 4; i++ {
		o := mkOrder("shop", fmt.Sprintf("M100%d", i), order.StatusShipped, fmt.Sprintf("1390000000%d", i))
		in = append(in, store.Incoming{Order: o, Raw: []byte(`{}`), ReceivedAt: placed.Add(time.Duration(i) * time.Minute)})
	}
	in = append(in, store.Incoming{Order: mkOrder("wdt_trades", "JY2001", order.StatusPaid, "13700001111"), Raw: []byte(`{"trade_no":"JY2001"}`), ReceivedAt: placed.Add(10 * time.Minute)})
	out, err := st.Apply(ctx, in, nil)
	if err != nil {
		t.Fatal(err)
	}
	m1001, jy := out[0].OrderID, out[len(out)-1].OrderID
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
	// M1001: mapped and written to the ERP, then told on two channels.
	inTx(func(tx *sql.Tx) error {
		if err := st.WantFlow(ctx, tx, "shop_to_k3", m1001, 1, placed); err != nil {
			return err
		}
		return st.WantFlow(ctx, tx, "trades_to_jdy", jy, 1, placed)
	})
	items, err := st.ListFlowItems(ctx, store.FlowFilter{})
	if err != nil || len(items) != 2 {
		t.Fatalf("flow items %v, %v", items, err)
	}
	var written, refused int64
	for _, it := range items {
		if it.Flow == "shop_to_k3" {
			written = it.ID
		} else {
			refused = it.ID
		}
	}
	inTx(func(tx *sql.Tx) error {
		return st.UpdateFlowItems(ctx, tx, []store.FlowUpdate{
			{ID: written, Version: 1, State: store.FlowDone, BillNo: "XSDD-M1001", TargetID: "100234", At: placed.Add(time.Minute)},
			{ID: refused, Version: 1, State: store.FlowException, BillNo: "JY2001", At: placed.Add(11 * time.Minute),
				Error: store.FlowError{Class: "permanent", Code: "2000", Message: "物料编码 TEA-01 不存在", Field: "FMaterialId", Hint: "在金蝶中新增物料 TEA-01 后重试"}},
		})
	})
	mk := func(system, rule, event string) store.NewDelivery {
		key := rule + "/shop/M1001/" + event
		return store.NewDelivery{System: system, Rule: rule, Key: key, Kind: store.KindMessage, OrderID: m1001, Source: "shop", OrderNo: "M1001",
			Event: event, Total: "128.00", Status: "paid", Lang: "zh-CN", State: store.DeliveryQueued,
			Message: fmt.Appendf(nil, `{"title":"新订单 M1001","markdown":"**新订单** M1001","at_mobiles":[%q]}`, buyerPhone)}
	}
	inTx(func(tx *sql.Tx) error {
		_, err := st.QueueDeliveries(ctx, tx, []store.NewDelivery{mk("ops_ding", "new_order", "paid"), mk("ops_feishu", "new_order", "paid")}, placed)
		return err
	})
	ds, err := st.ListDeliveries(ctx, store.DeliveryFilter{})
	if err != nil || len(ds) != 2 {
		t.Fatalf("deliveries %v, %v", ds, err)
	}
	f := &fixture{store: st, exception: refused}
	for _, d := range ds {
		if d.System == "ops_ding" {
			f.sent = d.ID
		} else {
			f.failed = d.ID
		}
	}
	at := placed.Add(2 * time.Minute)
	inTx(func(tx *sql.Tx) error {
		if err := st.StartAttempts(ctx, tx, "ops_ding", []store.AttemptStart{{DeliveryID: f.sent, Attempt: 1}}, at); err != nil {
			return err
		}
		return st.StartAttempts(ctx, tx, "ops_feishu", []store.AttemptStart{{DeliveryID: f.failed, Attempt: 1}}, at)
	})
	inTx(func(tx *sql.Tx) error {
		return st.FinishAttempts(ctx, tx, []store.AttemptOutcome{
			{DeliveryID: f.sent, Attempt: 1, State: store.DeliverySent, Outcome: "sent", Code: "0", MessageID: "ding-msg-77"},
			{DeliveryID: f.failed, Attempt: 1, State: store.DeliveryFailed, Outcome: "permanent", Code: "19021",
				Error: store.DeliveryError{Class: "permanent", Code: "19021", Message: "sign match fail", Hint: "飞书机器人的签名校验失败：核对签名密钥"}},
		}, at)
	})
	inTx(func(tx *sql.Tx) error {
		return st.AppendTimeline(ctx, tx, []store.TimelineStep{
			{OrderID: m1001, At: placed.Add(30 * time.Second), Stage: "mapped", Detail: map[string]any{"flow": "shop_to_k3", "bill_no": "XSDD-M1001", "version": 1}},
			{OrderID: m1001, At: placed.Add(time.Minute), Stage: "written", Detail: map[string]any{"flow": "shop_to_k3", "target": "k3", "api": "SAL_SaleOrder", "bill_no": "XSDD-M1001", "bill_id": "100234"}},
			{OrderID: m1001, At: at, Stage: "notified", Detail: map[string]any{"rule": "new_order", "system": "ops_ding", "delivery": f.sent, "message_id": "ding-msg-77"}},
			{OrderID: m1001, At: at, Stage: "notify_failed", Detail: map[string]any{"rule": "new_order", "system": "ops_feishu", "delivery": f.failed, "code": "19021", "message": "sign match fail"}},
			{OrderID: m1001, At: at.Add(15 * time.Minute), Stage: "read_status", Detail: map[string]any{"rule": "new_order", "system": "ops_ding", "delivery": f.sent, "state": "read", "unread": 0}},
		})
	})
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := Handler(Deps{Store: st, Flows: flow.NewStage(st, log, nil, nil), Deliveries: notify.NewStage(st, log, nil),
		Rules:    []RuleInfo{{Name: "new_order", On: []string{"paid"}, When: "order.total >= 100", Channels: []string{"ops_ding", "ops_feishu"}, Template: "new_order", Priority: "high"}},
		Location: shanghai, Log: log})
	f.viewer = Viewer{Name: "李运营", Role: RoleOperator, CSRF: csrfToken}
	f.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		v := f.viewer
		f.mu.Unlock()
		if v.Role != "" {
			r = r.WithContext(WithViewer(r.Context(), v))
		}
		h.ServeHTTP(w, r)
	})
	return f
}

// as sets the viewer of the requests that follow.
func (f *fixture) as(v Viewer) {
	f.mu.Lock()
	f.viewer = v
	f.mu.Unlock()
}
