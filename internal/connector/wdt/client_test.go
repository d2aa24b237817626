package wdt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"orderhub/internal/config"
	"orderhub/internal/connector"
	"orderhub/internal/connector/connectortest"
	"orderhub/internal/connector/simfault"
	"orderhub/internal/order"
)

// canned answers every request with the next status and body it holds.
type canned struct {
	mu     sync.Mutex
	status int
	body   string
}

func (c *canned) set(status int, body string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.status, c.body = status, body
}

func (c *canned) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	w.WriteHeader(c.status)
	w.Write([]byte(c.body))
}

// TestClasses maps each answer 旺店通 and 奇门 give to the class the hub
// acts on.
func TestClasses(t *testing.T) {
	can := &canned{}
	srv := httptest.NewServer(can)
	defer srv.Close()
	clk := &clock{t: at("2026-01-05 12:00:00")}
	open := newClient(t, Kind, srv, clk, nil)
	qm := newClient(t, KindQimen, srv, clk, nil)
	custom := newClient(t, Kind, srv, clk, func(s any) { s.(*Settings).RetryCodes = []int{4242} })
	req := connector.PullRequest{API: APITrades, From: at("2026-01-05 10:00:00"), To: at("2026-01-05 10:59:59"), PageSize: 100}
	call := func(c *Client, status int, body string) error {
		can.set(status, body)
		_, err := c.Pull(context.Background(), req)
		return err
	}
	type tc struct {
		name   string
		client *Client
		status int
		body   string
		want   connector.Class
	}
	cases := []tc{
		{"1012 busy", open, 200, `{"code":1012,"message":"接口调用过于频繁"}`, connector.SlowDown},
		{"1012 as a string", open, 200, `{"code":"1012","message":"busy"}`, connector.SlowDown},
		{"bad sign", open, 200, `{"code":1102,"message":"签名错误"}`, connector.Permanent},
		{"unknown sid", open, 200, `{"code":1100,"message":"卖家账号(sid)不存在"}`, connector.Permanent},
		{"unknown appkey", open, 200, `{"code":1101,"message":"接口账号(appkey)不存在或已停用"}`, connector.Permanent},
		{"stale timestamp", open, 200, `{"code":1103,"message":"时间戳(timestamp)超出允许范围"}`, connector.Permanent},
		{"no range", open, 200, `{"code":2900,"message":"时间范围与入库单号不能全部为空"}`, connector.Permanent},
		{"unknown code", open, 200, `{"code":7777,"message":"某个未知错误"}`, connector.Permanent},
		{"custom busy code", custom, 200, `{"code":4242,"message":"busy"}`, connector.SlowDown},
		{"1012 not in a custom set", custom, 200, `{"code":1012,"message":"busy"}`, connector.Permanent},
		{"HTML error page", open, 200, `<html>gateway</html>`, connector.Permanent},
		{"JSON without code", open, 200, `{"trades":[]}`, connector.Permanent},
		{"HTTP 502", open, 502, `bad gateway`, connector.Retry},
		{"HTTP 503", qm, 503, `unavailable`, connector.Retry},
		{"HTTP 429", open, 429, ``, connector.SlowDown},
		{"HTTP 404", open, 404, `not found`, connector.Permanent},
		{"qimen call limited", qm, 200, `{"error_response":{"code":7,"msg":"App Call Limited","sub_code":"accesscontrol.limited-by-app-access-count"}}`, connector.SlowDown},
		{"qimen bad signature", qm, 200, `{"error_response":{"code":25,"msg":"Invalid Signature"}}`, connector.Permanent},
		{"qimen unknown app key", qm, 200, `{"error_response":{"code":29,"msg":"Invalid App Key"}}`, connector.Permanent},
		{"qimen stale timestamp", qm, 200, `{"error_response":{"code":31,"msg":"Invalid Timestamp"}}`, connector.Permanent},
		{"qimen target not authorised", qm, 200, `{"error_response":{"code":11,"msg":"Insufficient ISV Permissions"}}`, connector.Permanent},
		{"qimen unknown method", qm, 200, `{"error_response":{"code":22,"msg":"Invalid Method"}}`, connector.Permanent},
		{"qimen service unavailable", qm, 200, `{"error_response":{"code":10,"msg":"Service Currently Unavailable"}}`, connector.Retry},
		{"qimen remote service timeout", qm, 200, `{"error_response":{"code":15,"msg":"Remote service error","sub_code":"isp.remote-service-timeout"}}`, connector.Retry},
		{"qimen failure with busy code", qm, 200, `{"response":{"flag":"failure","code":"1012","message":"接口调用过于频繁","sub_code":"1012","sub_message":"busy"}}`, connector.SlowDown},
		{"qimen failure with sub_code only", qm, 200, `{"response":{"flag":"failure","code":"failure","message":"x","sub_code":"1102","sub_message":"签名错误"}}`, connector.Permanent},
		{"qimen errorcode busy", qm, 200, `{"response":{"errorcode":1012,"message":"busy"}}`, connector.SlowDown},
		{"qimen errorcode refusal", qm, 200, `{"response":{"errorcode":1100,"message":"卖家账号不存在"}}`, connector.Permanent},
		{"qimen failure isp sub_code", qm, 200, `{"response":{"flag":"failure","code":"isp.error","message":"x","sub_code":"isp.remote-error"}}`, connector.Retry},
		{"qimen neither wrapper", qm, 200, `{"trades":[]}`, connector.Permanent},
	}
	var table []connectortest.ClassCase
	for _, c := range cases {
		err := call(c.client, c.status, c.body)
		table = append(table, connectortest.ClassCase{Name: c.name, Err: err, Want: c.want})
		ce, ok := connector.AsCallError(err)
		if !ok {
			t.Errorf("%s: %v is not a CallError", c.name, err)
			continue
		}
		if ce.Class == connector.Permanent && !hasHan(ce.Hint) {
			t.Errorf("%s: permanent refusal without a Chinese hint: %+v", c.name, ce)
		}
		if ce.Class == connector.SlowDown && ce.RetryAfter <= 0 && c.status == 200 {
			t.Errorf("%s: busy answer without RetryAfter", c.name)
		}
	}
	connectortest.CheckClasses(t, table)

	// The provider's own code and message travel on.
	ce, _ := connector.AsCallError(call(open, 200, `{"code":1102,"message":"签名错误"}`))
	if ce.Code != "1102" || ce.Message != "签名错误" || !strings.Contains(ce.Hint, "appsecret") {
		t.Errorf("sign refusal %+v: want code 1102, the message, and a hint naming appsecret", ce)
	}
	ce, _ = connector.AsCallError(call(open, 200, `{"code":1012,"message":"busy"}`))
	if ce.RetryAfter != DefaultRetryAfter {
		t.Errorf("RetryAfter %v, want %v", ce.RetryAfter, DefaultRetryAfter)
	}
	ce, _ = connector.AsCallError(call(qm, 200, `{"response":{"flag":"failure","code":"1100","message":"卖家账号(sid)不存在"}}`))
	if ce.Code != "1100" || !strings.Contains(ce.Hint, "sid") {
		t.Errorf("qimen sid refusal %+v", ce)
	}
}

func TestTransportErrorsAreRetry(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens any more: connection refused
	now := time.Now()
	c := newClient(t, Kind, srv, &clock{t: now}, nil)
	_, err := c.Pull(context.Background(), connector.PullRequest{API: APITrades, From: now.Add(-time.Hour), To: now, PageSize: 10})
	if connector.ClassOf(err) != connector.Retry {
		t.Fatalf("connection refused: %v (%s), want retry", err, connector.ClassOf(err))
	}
}

// TestRefusedBeforeSending: requests the API would refuse never leave the
// client.
func TestRefusedBeforeSending(t *testing.T) {
	clk := &clock{t: at("2026-02-10 12:00:00")}
	sim := NewSim(simConfig(clk))
	srv := startSim(t, sim)
	from := at("2026-01-05 10:00:00")
	for _, kind := range []string{Kind, KindQimen} {
		c := newClient(t, kind, srv, clk, nil)
		cases := []struct {
			name string
			req  connector.PullRequest
		}{
			{"trade window of 61 minutes", connector.PullRequest{API: APITrades, From: from, To: from.Add(61 * time.Minute), PageSize: 100}},
			{"stock-in window of 31 days", connector.PullRequest{API: APIStockins, From: from, To: from.Add(31 * 24 * time.Hour), PageSize: 100}},
			{"page of 101", connector.PullRequest{API: APITrades, From: from, To: from.Add(time.Minute), PageSize: 101}},
			{"page of 0", connector.PullRequest{API: APITrades, From: from, To: from.Add(time.Minute), PageSize: 0}},
			{"page number -1", connector.PullRequest{API: APITrades, From: from, To: from.Add(time.Minute), PageNo: -1, PageSize: 10}},
			{"reversed window", connector.PullRequest{API: APITrades, From: from, To: from.Add(-time.Minute), PageSize: 10}},
			{"no window", connector.PullRequest{API: APITrades, PageSize: 10}},
			{"unknown API", connector.PullRequest{API: "trade.push", From: from, To: from.Add(time.Minute), PageSize: 10}},
		}
		for _, tc := range cases {
			t.Run(kind+"/"+tc.name, func(t *testing.T) {
				before := sim.Calls()
				_, err := c.Pull(context.Background(), tc.req)
				ce, ok := connector.AsCallError(err)
				if !ok || ce.Class != connector.Permanent || !hasHan(ce.Hint) {
					t.Fatalf("got %v; want a permanent refusal with a Chinese hint", err)
				}
				if sim.Calls() != before {
					t.Fatal("the refused request was sent")
				}
			})
		}
	}
}

// TestWindowToTheSecond: both ends are inclusive and 旺店通 keeps whole
// seconds, so a window's sub-second ends round inwards and nothing at
// its edges is lost or doubled.
func TestWindowToTheSecond(t *testing.T) {
	clk := &clock{t: at("2026-01-05 12:00:00")}
	sim := NewSim(simConfig(clk))
	srv := startSim(t, sim)
	sim.PutTrades(trade("JY-A", "2026-01-05 09:59:59"), trade("JY-B", "2026-01-05 10:00:00"), trade("JY-C", "2026-01-05 10:59:59"), trade("JY-D", "2026-01-05 11:00:00"))
	cases := []struct {
		from, to time.Time
		want     string
	}{
		{at("2026-01-05 10:00:00"), at("2026-01-05 10:59:59"), "[JY-B JY-C]"},
		{at("2026-01-05 09:59:59").Add(500 * time.Millisecond), at("2026-01-05 11:00:00").Add(-time.Millisecond), "[JY-B JY-C]"},
		{at("2026-01-05 10:00:00"), at("2026-01-05 11:00:00"), "[JY-B JY-C JY-D]"},
		{at("2026-01-05 10:00:00").Add(100 * time.Millisecond), at("2026-01-05 10:00:00").Add(900 * time.Millisecond), "[]"},
		// The zone of the request's times does not matter.
		{at("2026-01-05 10:00:00").UTC(), at("2026-01-05 10:00:00").UTC(), "[JY-B]"},
	}
	for _, kind := range []string{Kind, KindQimen} {
		c := newClient(t, kind, srv, clk, nil)
		for _, tc := range cases {
			p, err := c.Pull(context.Background(), connector.PullRequest{API: APITrades, From: tc.from, To: tc.to, PageSize: 100})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range p.Docs {
				got = append(got, d.Order.OrderNo)
			}
			if s := "[" + strings.Join(got, " ") + "]"; s != tc.want {
				t.Errorf("%s [%v, %v]: %s, want %s", kind, tc.from, tc.to, s, tc.want)
			}
		}
	}
}

// TestStockinPageSizeSetting: where 旺店通 takes at most 50 stock-ins a
// page, stockin_page_size: 50 reads the hub's page of 100 as two calls,
// with the same documents and numbering.
func TestStockinPageSizeSetting(t *testing.T) {
	clk := &clock{}
	cfg := simConfig(clk)
	cfg.StockinMaxPage = 50
	sim := NewSim(cfg)
	srv := startSim(t, sim)
	from := at("2026-01-01 00:00:00")
	to := from.Add(30*24*time.Hour - time.Second)
	d, err := sim.Generate(3000, from, to, 11)
	if err != nil {
		t.Fatal(err)
	}
	clk.Set(to.Add(time.Hour))
	want := windowNos(t, d, APIStockins, from, to)
	if len(want) < 150 {
		t.Fatalf("only %d stock-ins", len(want))
	}
	plain := newClient(t, Kind, srv, clk, nil)
	_, err = plain.Pull(context.Background(), connector.PullRequest{API: APIStockins, From: from, To: to, PageSize: 100})
	if ce, ok := connector.AsCallError(err); !ok || ce.Class != connector.Permanent || ce.Code != "1105" {
		t.Fatalf("a page of 100 against a limit of 50: %v; want the server's 1105", err)
	}
	for _, kind := range []string{Kind, KindQimen} {
		c := newClient(t, kind, srv, clk, func(s any) {
			switch s := s.(type) {
			case *Settings:
				s.StockinPageSize = 50
			case *QimenSettings:
				s.StockinPageSize = 50
			}
		})
		seen := map[string]int{}
		for page := 0; ; page++ {
			before := sim.Calls()
			p, err := c.Pull(context.Background(), connector.PullRequest{API: APIStockins, From: from, To: to, PageNo: page, PageSize: 100})
			if err != nil {
				t.Fatal(err)
			}
			if page == 0 && (p.Total != len(want) || sim.Calls()-before != 2) {
				t.Fatalf("%s page 0: total %d (want %d) in %d calls (want 2)", kind, p.Total, len(want), sim.Calls()-before)
			}
			for _, d := range p.Docs {
				seen[d.Order.OrderNo]++
			}
			if len(p.Docs) < 100 {
				break
			}
		}
		if len(seen) != len(want) {
			t.Fatalf("%s: read %d stock-ins, want %d", kind, len(seen), len(want))
		}
		for no, n := range seen {
			if n != 1 {
				t.Fatalf("%s: %s read %d times", kind, no, n)
			}
		}
	}
}

// TestDocuments: a pulled document's Raw is the element exactly as the
// provider sent it, and its canonical form is what the mapping table says.
func TestDocuments(t *testing.T) {
	const raw = `{"trade_id":884231,"trade_no":"JY24111100012","src_tids":"TB7788","platform_id":127,"shop_no":"SHOP-A","warehouse_no":"WH-1",
 "trade_status":"110","trade_type":1,"refund_status":0,"trade_time":"2024-11-11 09:12:03","pay_time":"2024-11-11 09:12:40",
 "modified":"2024-11-11 10:05:11","created":"2024-11-11 09:13:00","customer_no":"C001","buyer_nick":"","receiver_name":"张三",
 "receiver_mobile":"13800000000","receiver_area":"浙江省 杭州市 西湖区","receiver_address":"文三路1号",
 "goods_amount":"199.0000","post_amount":"10.0000","discount":"20.0000","receivable":"189.0000","paid":"189.0000","logistics_no":"YT123","logistics_name":"圆通速递",
 "goods_list":[{"rec_id":1,"src_oid":"TB7788-1","src_tid":"TB7788","spec_no":"SKU-RED-M","goods_no":"G001","goods_name":"T-shirt","num":"1.0000",
  "price":"199.0000","order_price":"179.0000","share_price":"179.0000","share_amount":"179.0000","share_post":"10.0000","discount":"20.0000",
  "gift_type":0,"refund_status":0,"tax_rate":"0.1300","unit_name":"件"},
  {"rec_id":2,"spec_no":"SKU-GIFT","goods_name":"赠品","num":3,"share_price":"3.3333","share_amount":"9.9999"}]}`
	const stockinRaw = `{"stockin_id":"9001","order_no":"RK2411110001","status":80,"src_order_no":"RT2411110005","trade_no":"JY24111100012",
 "warehouse_no":"WH-1","shop_no":"SHOP-A","logistics_no":"SF123","stockin_time":"2024-11-12 14:00:00","check_time":"2024-11-12 14:00:05",
 "modified":"2024-11-12 14:00:05","remark":"",
 "details_list":[{"rec_id":"1","spec_no":"SKU-RED-M","goods_no":"G001","goods_name":"T-shirt","num":"1.0000","stockin_price":"179.0000",
  "src_price":"179.00000000","actual_refund_amount":"179.00000000","tid":"TB7788","oid":"TB7788-1","batch_no":"","defect":0,"goods_unit":"件"}]}`
	can := &canned{}
	srv := httptest.NewServer(can)
	defer srv.Close()
	clk := &clock{t: at("2024-11-12 15:00:00")}
	c := newClient(t, Kind, srv, clk, nil)
	can.set(200, `{"code":0,"message":"","total_count":1,"trades":[`+raw+`]}`)
	p, err := c.Pull(context.Background(), connector.PullRequest{API: APITrades, From: at("2024-11-11 10:00:00"), To: at("2024-11-11 10:59:59"), PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	if string(p.Docs[0].Raw) != raw {
		t.Fatalf("Raw is not the bytes as sent:\n%s", p.Docs[0].Raw)
	}
	o := p.Docs[0].Order
	want := order.Order{OrderNo: "JY24111100012", Status: order.StatusCompleted, Currency: "CNY", Total: 18900, Goods: 19900, Freight: 1000, Discount: 2000,
		Buyer:    order.Buyer{ID: "C001", Name: "张三", Phone: "13800000000", Address: "浙江省 杭州市 西湖区 文三路1号"},
		Shipping: order.Shipping{Company: "圆通速递", TrackingNo: "YT123"},
		Items: []order.Item{{SKU: "SKU-RED-M", Name: "T-shirt", Quantity: 1, UnitPrice: 17900, Total: 17900},
			{SKU: "SKU-GIFT", Name: "赠品", Quantity: 3, UnitPrice: 333, Total: 1000}},
		CreatedAt: at("2024-11-11 09:12:03"), PaidAt: at("2024-11-11 09:12:40"), UpdatedAt: at("2024-11-11 10:05:11")}
	if a, b := mustJSON(o), mustJSON(want); a != b {
		t.Fatalf("trade\n got %s\nwant %s", a, b)
	}

	can.set(200, `{"code":0,"message":"","total_count":1,"stockin_list":[`+stockinRaw+`]}`)
	p, err = c.Pull(context.Background(), connector.PullRequest{API: APIStockins, From: at("2024-11-01 00:00:00"), To: at("2024-11-30 23:59:59"), PageSize: 50})
	if err != nil {
		t.Fatal(err)
	}
	if string(p.Docs[0].Raw) != stockinRaw {
		t.Fatalf("Raw is not the bytes as sent:\n%s", p.Docs[0].Raw)
	}
	wantIn := order.Order{OrderNo: "RK2411110001", Status: order.StatusRefunded, Currency: "CNY", Total: 17900, Goods: 17900, Refunded: 17900,
		Shipping:  order.Shipping{TrackingNo: "SF123"},
		Items:     []order.Item{{SKU: "SKU-RED-M", Name: "T-shirt", Quantity: 1, UnitPrice: 17900, Total: 17900}},
		CreatedAt: at("2024-11-12 14:00:00"), CompletedAt: at("2024-11-12 14:00:05"), UpdatedAt: at("2024-11-12 14:00:05")}
	if a, b := mustJSON(p.Docs[0].Order), mustJSON(wantIn); a != b {
		t.Fatalf("stock-in\n got %s\nwant %s", a, b)
	}
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// TestTradeStatuses is the trade_status table of normalize.go.
func TestTradeStatuses(t *testing.T) {
	cases := []struct {
		status, refund int64
		paid           bool
		want           order.Status
	}{
		{5, 0, false, order.StatusCancelled}, {5, refundAll, true, order.StatusCancelled},
		{10, 0, false, order.StatusCreated}, {12, 0, false, order.StatusCreated}, {15, 0, false, order.StatusCreated},
		{13, 0, true, order.StatusPaid}, {25, 0, true, order.StatusPaid}, {30, 0, true, order.StatusPaid}, {55, 0, true, order.StatusPaid},
		{30, refundAll, true, order.StatusRefunded}, {55, 2, true, order.StatusPaid},
		{95, 0, true, order.StatusShipped}, {105, 0, true, order.StatusShipped}, {113, 0, true, order.StatusShipped},
		{110, 0, true, order.StatusCompleted}, {110, 1, true, order.StatusCompleted}, {110, refundAll, true, order.StatusRefunded},
		{77, 0, true, order.StatusPaid}, {77, 0, false, order.StatusCreated},
	}
	for _, c := range cases {
		tr := Trade{TradeStatus: Int(c.status), RefundStatus: Int(c.refund)}
		if got := tradeStatus(&tr, c.paid); got != c.want {
			t.Errorf("trade_status %d refund_status %d paid %v: %s, want %s", c.status, c.refund, c.paid, got, c.want)
		}
	}
}

func TestDecimals(t *testing.T) {
	money := []struct {
		in   Decimal
		want order.Money
		err  bool
	}{
		{"199.0000", 19900, false}, {"179.00000000", 17900, false}, {"3.3333", 333, false}, {"3.3350", 334, false},
		{"-3.3350", -334, false}, {"0.0049", 0, false}, {"12", 1200, false}, {"", 0, false},
		{"1e3", 0, true}, {"12.3.4", 0, true}, {"abc", 0, true}, {"1234567890123456.00", 0, true},
	}
	for _, m := range money {
		got, err := m.in.Money()
		if (err != nil) != m.err || got != m.want {
			t.Errorf("Money(%q) = %v, %v; want %v, error %v", m.in, got, err, m.want, m.err)
		}
	}
	qty := []struct {
		in   Decimal
		want int64
		err  bool
	}{{"1.0000", 1, false}, {"12", 12, false}, {"3.", 3, false}, {"1.5000", 0, true}, {"0.0001", 0, true}, {"x", 0, true}}
	for _, q := range qty {
		got, err := q.in.Quantity()
		if (err != nil) != q.err || got != q.want {
			t.Errorf("Quantity(%q) = %v, %v; want %v, error %v", q.in, got, err, q.want, q.err)
		}
	}
}

// TestMalformedDocumentRefusedAlone: a document the canonical form cannot
// hold (a weighed good of "1.5000" kg, a time that is not one) is refused
// on its own, with its number, the field, the value and what to do, on
// both routes; the documents around it on the page are read as usual, and
// the page counts as full for paging.
func TestMalformedDocumentRefusedAlone(t *testing.T) {
	tests := []struct {
		name   string
		kind   string
		spoil  func(*Trade)
		field  string
		value  string
		inHint string
	}{
		{"fractional quantity", Kind, func(tr *Trade) { tr.GoodsList[0].Num = "1.5000" }, "goods_list[0].num", "1.5000", "整数"},
		{"fractional quantity, 奇门", KindQimen, func(tr *Trade) { tr.GoodsList[0].Num = "1.5000" }, "goods_list[0].num", "1.5000", "整数"},
		{"zero quantity", Kind, func(tr *Trade) { tr.GoodsList[0].Num = "0.0000" }, "goods_list[0].num", "0.0000", "数量"},
		{"pay time that is not a time", Kind, func(tr *Trade) { tr.PayTime = "yesterday" }, "pay_time", "yesterday", "时间"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{t: at("2026-01-05 12:00:00")}
			sim := NewSim(simConfig(clk))
			srv := startSim(t, sim)
			var trades []Trade
			for i := range 5 {
				trades = append(trades, trade(fmt.Sprintf("JY-%d", i), fmt.Sprintf("2026-01-05 10:1%d:00", i)))
			}
			tt.spoil(&trades[2])
			if err := sim.PutTrades(trades...); err != nil {
				t.Fatal(err)
			}
			c := newClient(t, tt.kind, srv, clk, nil)
			p, err := c.Pull(context.Background(), connector.PullRequest{API: APITrades, From: at("2026-01-05 10:00:00"), To: at("2026-01-05 10:59:59"), PageSize: 5})
			if err != nil {
				t.Fatalf("the page failed: %v", err)
			}
			var good []string
			for _, d := range p.Docs {
				good = append(good, d.Order.OrderNo)
			}
			if strings.Join(good, " ") != "JY-0 JY-1 JY-3 JY-4" || p.Total != 5 || p.Len() != 5 {
				t.Fatalf("documents %v, total %d, len %d; want the four good ones of five", good, p.Total, p.Len())
			}
			if len(p.Refused) != 1 {
				t.Fatalf("refused %+v, want JY-2 alone", p.Refused)
			}
			r := p.Refused[0]
			if r.No != "JY-2" || !r.Modified.Equal(at("2026-01-05 10:12:00")) || r.Field != tt.field || r.Value != tt.value ||
				!strings.Contains(r.Reason, "JY-2") || !strings.Contains(r.Hint, tt.inHint) || !strings.Contains(string(r.Raw), `"trade_no":"JY-2"`) {
				t.Fatalf("refused %+v", r)
			}
		})
	}
}

// A document that is not even an object is refused under a key made from
// its text, as long as its number cannot be read.
func TestUnreadableDocumentRefusedByItsText(t *testing.T) {
	can := &canned{}
	srv := httptest.NewServer(can)
	defer srv.Close()
	clk := &clock{t: at("2026-01-05 12:00:00")}
	c := newClient(t, Kind, srv, clk, nil)
	can.set(200, `{"code":0,"message":"","total_count":2,"trades":[["not","a","trade"],{"trade_no":"JY-9","trade_status":"x"}]}`)
	p, err := c.Pull(context.Background(), connector.PullRequest{API: APITrades, From: at("2026-01-05 10:00:00"), To: at("2026-01-05 10:59:59"), PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Docs) != 0 || len(p.Refused) != 2 {
		t.Fatalf("docs %d, refused %+v", len(p.Docs), p.Refused)
	}
	if r := p.Refused[0]; !strings.HasPrefix(r.No, "?") || len(r.No) != 13 || !strings.Contains(r.Reason, "cannot be read") {
		t.Fatalf("an array as a trade: %+v", r)
	}
	if r := p.Refused[1]; r.No != "JY-9" || r.Hint == "" {
		t.Fatalf("a trade with a bad status: %+v", r)
	}
}

// TestSettings: the YAML loads into these kinds with its key
// names, and bad values are refused with the key named.
func TestSettings(t *testing.T) {
	const file = `
systems:
  wdt:
    kind: wdt
    base_url: https://api.wangdian.cn/openapi2
    sid: mysid
    appkey: myappkey
    appsecret: ${WDT_APPSECRET}
  wdt_qm:
    kind: wdt_qimen
    base_url: http://hu3cgwt0tc.api.taobao.com/router/qm
    app_key: ${QIMEN_APP_KEY}
    app_secret: ${QIMEN_APP_SECRET}
    target_app_key: ${WDT_QIMEN_KEY}
    sid: mysid
`
	env := map[string]string{"WDT_APPSECRET": "s", "QIMEN_APP_KEY": "k", "QIMEN_APP_SECRET": "qs", "WDT_QIMEN_KEY": "t"}
	lookup := func(n string) (string, bool) { v, ok := env[n]; return v, ok }
	cfg, err := config.Parse([]byte(file), "orderhub.yaml", lookup)
	if err != nil {
		t.Fatal(err)
	}
	w := cfg.Systems["wdt"].Settings.(*Settings)
	q := cfg.Systems["wdt_qm"].Settings.(*QimenSettings)
	if w.SID != "mysid" || w.AppKey != "myappkey" || w.AppSecret.Reveal() != "s" || q.AppKey != "k" || q.AppSecret.Reveal() != "qs" || q.TargetAppKey != "t" || q.SID != "mysid" {
		t.Fatalf("settings %+v %+v", w, q)
	}
	for _, sys := range cfg.Systems {
		p, err := connector.NewPuller(connector.Env{System: sys})
		if err != nil || p == nil {
			t.Fatalf("%s: %v", sys.Name, err)
		}
	}
	bad := []struct{ yaml, want string }{
		{"systems:\n  w: {kind: wdt, sid: a, appkey: b, appsecret: c, sign_length: words}\n", "sign_length"},
		{"systems:\n  w: {kind: wdt, sid: a, appkey: b, appsecret: c, stockin_page_size: 500}\n", "stockin_page_size"},
		{"systems:\n  w: {kind: wdt, sid: a, appkey: b, appsecret: c, retry_codes: [0]}\n", "retry_codes"},
		{"systems:\n  w: {kind: wdt, sid: a, appkey: b}\n", "appsecret"},
		{"systems:\n  w: {kind: wdt_qimen, app_key: a, app_secret: b, target_app_key: c, sid: d, sign_method: sha1}\n", "sign_method"},
		{"systems:\n  w: {kind: wdt_qimen, app_key: a, app_secret: b, target_app_key: c, sid: d, method_prefix: a.b.}\n", "method_prefix"},
		{"systems:\n  w: {kind: wdt_qimen, app_key: a, app_secret: b, sid: d}\n", "target_app_key"},
	}
	for _, b := range bad {
		_, err := config.Parse([]byte(b.yaml), "orderhub.yaml", lookup)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%q: %v; want an error naming %s", b.yaml, err, b.want)
		}
	}
	schema, err := config.Schema()
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"appsecret"`, `"target_app_key"`, `"sign_method"`, `"stockin_page_size"`, `"retry_codes"`, `"method_prefix"`, `"sign_length"`} {
		if !strings.Contains(string(schema), key) {
			t.Errorf("the JSON Schema lacks %s", key)
		}
	}
	k, ok := connector.Lookup(KindQimen)
	if !ok || k.Pull == nil {
		t.Fatal("wdt_qimen is not registered for pulls")
	}
	if a, ok := k.Pull.API(APIStockins); !ok || a.MaxSpan != 30*24*time.Hour || a.PageSize != 100 {
		t.Fatalf("stock-in API %+v", a)
	}
	if a, _ := k.Pull.API(APITrades); a.MaxSpan != time.Hour || a.PageSize != 100 {
		t.Fatalf("trade API %+v", a)
	}
}

// TestMethodPrefix: method_prefix sends the generated-SDK method names.
func TestMethodPrefix(t *testing.T) {
	var got []string
	var mu sync.Mutex
	clk := &clock{t: at("2026-01-05 12:00:00")}
	sim := NewSim(simConfig(clk))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		mu.Lock()
		got = append(got, r.PostForm.Get("method"))
		mu.Unlock()
		sim.ServeHTTP(w, r)
	}))
	defer srv.Close()
	c := newClient(t, KindQimen, srv, clk, func(s any) { s.(*QimenSettings).MethodPrefix = "hu3cgwt0tc" })
	for _, api := range []string{APITrades, APIStockins} {
		if _, err := c.Pull(context.Background(), connector.PullRequest{API: api, From: at("2026-01-05 10:00:00"), To: at("2026-01-05 10:59:59"), PageSize: 50}); err != nil {
			t.Fatal(err)
		}
	}
	if s := strings.Join(got, " "); s != "hu3cgwt0tc.wdt.trade.query hu3cgwt0tc.wdt.stockin.order.query.refund" {
		t.Fatalf("methods sent: %s", s)
	}
}

// TestLostAnswerIsRetry: a query whose answer was lost changed nothing,
// so it is sent again rather than verified.
func TestLostAnswerIsRetry(t *testing.T) {
	clk := &clock{t: at("2026-01-05 12:00:00")}
	sim := NewSim(simConfig(clk))
	srv := startSim(t, sim)
	for _, kind := range []string{Kind, KindQimen} {
		c := newClient(t, kind, srv, clk, nil)
		sim.Faults().Inject(simFaultLose())
		_, err := c.Pull(context.Background(), connector.PullRequest{API: APITrades, From: at("2026-01-05 10:00:00"), To: at("2026-01-05 10:59:59"), PageSize: 50})
		if connector.ClassOf(err) != connector.Retry || errors.Is(err, context.Canceled) {
			t.Fatalf("%s: a dropped answer: %v (%s), want retry", kind, err, connector.ClassOf(err))
		}
		if got := sim.Faults().Injected()[simfault.LoseAnswer]; got == 0 {
			t.Fatal("no answer was dropped")
		}
	}
}
