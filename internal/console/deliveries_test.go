package console

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"orderhub/internal/config"
	"orderhub/internal/connector"
	"orderhub/internal/notify"
	"orderhub/internal/order"
	"orderhub/internal/store"
)

// deliveriesFixture is a store with two orders and these deliveries, by
// their index in want:
//
//	0 ops_ding   new_order A1 sent
//	1 ops_feishu new_order A1 failed (permanent, with a hint)
//	2 ops_ding   big_order A1 failed, @mentions a mobile
//	3 ops_ding   new_order A2 queued
//	4 ops_ding   hourly    A1 merged into 6
//	5 ops_ding   hourly    A2 merged into 6
//	6 ops_ding   hourly    digest, sent
//	7 old_robot  new_order A2 queued (a system no longer configured)
type deliveriesFixture struct {
	srv   *httptest.Server
	store *store.Store
	ids   []int64
}

// The message of delivery 2, as the rules consumer records it.
const mentionMsg = `{"title":"大额订单 A1","markdown":"### 大额订单 A1\n金额 **¥3.00**","text":"大额订单 A1","link":"http://127.0.0.1:8080/v1/orders/shop/A1","at_mobiles":["13800001234"],"key":"big_order/shop/A1/paid"}`

func newDeliveriesFixture(t *testing.T, tokens []config.APIToken) *deliveriesFixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "hub.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	out, err := st.Apply(ctx, []store.Incoming{
		{Order: mkOrder("shop", "A1", order.StatusPaid), Raw: []byte("A1"), ReceivedAt: placed},
		{Order: mkOrder("shop", "A2", order.StatusPaid), Raw: []byte("A2"), ReceivedAt: placed},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	a1, a2 := out[0].OrderID, out[1].OrderID
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
	mk := func(system, rule string, orderID int64, no, event string) store.NewDelivery {
		key := rule + "/shop/" + no + "/" + event
		return store.NewDelivery{System: system, Rule: rule, Key: key, Kind: store.KindMessage, OrderID: orderID, Source: "shop", OrderNo: no,
			Event: event, Total: "3.00", Status: "paid", Lang: "zh-CN", Priority: 1, State: store.DeliveryQueued,
			Message: fmt.Appendf(nil, `{"title":"新订单 %s","markdown":"**新订单** %s","link":"http://127.0.0.1:8080/v1/orders/shop/%s","key":%q}`, no, no, no, key)}
	}
	big := mk("ops_ding", "big_order", a1, "A1", "paid")
	big.Message = []byte(mentionMsg)
	hourly := []store.NewDelivery{mk("ops_ding", "hourly", a1, "A1", "created"), mk("ops_ding", "hourly", a2, "A2", "created")}
	for i := range hourly {
		hourly[i].State, hourly[i].DueAt, hourly[i].Wait = store.DeliveryCollecting, placed.Add(time.Hour), "digest"
	}
	ds := []store.NewDelivery{mk("ops_ding", "new_order", a1, "A1", "created"), mk("ops_feishu", "new_order", a1, "A1", "created"), big,
		mk("ops_ding", "new_order", a2, "A2", "created"), hourly[0], hourly[1]}
	inTx(func(tx *sql.Tx) error { _, err := st.QueueDeliveries(ctx, tx, ds, placed); return err })
	listed, err := st.ListDeliveries(ctx, store.DeliveryFilter{})
	if err != nil || len(listed) != len(ds) {
		t.Fatalf("queued %d: %v", len(listed), err)
	}
	var ids []int64
	for i := range listed {
		ids = append(ids, listed[len(listed)-1-i].ID)
	}
	sentAt := placed.Add(time.Minute)
	inTx(func(tx *sql.Tx) error {
		if err := st.StartAttempts(ctx, tx, "ops_ding", []store.AttemptStart{{DeliveryID: ids[0], Attempt: 1}, {DeliveryID: ids[2], Attempt: 1}}, placed); err != nil {
			return err
		}
		return st.StartAttempts(ctx, tx, "ops_feishu", []store.AttemptStart{{DeliveryID: ids[1], Attempt: 1}}, placed)
	})
	inTx(func(tx *sql.Tx) error {
		return st.FinishAttempts(ctx, tx, []store.AttemptOutcome{
			{DeliveryID: ids[0], Attempt: 1, State: store.DeliverySent, Outcome: "sent", Code: "0", MessageID: "m-1"},
			{DeliveryID: ids[1], Attempt: 1, State: store.DeliveryFailed, Outcome: "permanent", Code: "19021",
				Error: store.DeliveryError{Class: "permanent", Code: "19021", Message: "sign match fail", Hint: "飞书机器人的签名校验失败：核对「安全设置」里的签名密钥"}},
			{DeliveryID: ids[2], Attempt: 1, State: store.DeliveryFailed, Outcome: "permanent", Code: "310000",
				Error: store.DeliveryError{Class: "permanent", Code: "310000", Message: "keywords not in content", Hint: "消息缺少关键词"}},
		}, sentAt)
	})
	digestAt := placed.Add(time.Hour)
	inTx(func(tx *sql.Tx) error {
		id, err := st.NewDigest(ctx, tx, store.NewDelivery{System: "ops_ding", Rule: "hourly", Key: fmt.Sprintf("digest/%d", ids[4]), Lang: "zh-CN",
			Priority: 1, Wait: "digest"}, ids[4:6], digestAt)
		if err != nil {
			return err
		}
		ids = append(ids, id)
		if err := st.SetMessage(ctx, tx, id, []byte(`{"title":"另有 2 笔新订单","markdown":"| 订单 | 金额 |\n|---|---|\n| A1 | 3.00 |\n| A2 | 3.00 |"}`)); err != nil {
			return err
		}
		return st.StartAttempts(ctx, tx, "ops_ding", []store.AttemptStart{{DeliveryID: id, Attempt: 1}}, digestAt)
	})
	inTx(func(tx *sql.Tx) error {
		return st.FinishAttempts(ctx, tx, []store.AttemptOutcome{{DeliveryID: ids[6], Attempt: 1, State: store.DeliverySent, Outcome: "sent", Code: "0"}}, digestAt)
	})
	inTx(func(tx *sql.Tx) error {
		_, err := st.QueueDeliveries(ctx, tx, []store.NewDelivery{mk("old_robot", "new_order", a2, "A2", "created")}, digestAt)
		return err
	})
	old, err := st.ListDeliveries(ctx, store.DeliveryFilter{System: "old_robot"})
	if err != nil || len(old) != 1 {
		t.Fatalf("old_robot: %v %v", old, err)
	}
	ids = append(ids, old[0].ID)
	inTx(func(tx *sql.Tx) error {
		return st.SetEndpoint(ctx, tx, store.Endpoint{System: "ops_ding", PausedUntil: time.Now().Add(time.Hour).Truncate(time.Second),
			PauseReason: "throttled: 130101", Failures: 0})
	})
	inTx(func(tx *sql.Tx) error {
		return st.SetEndpoint(ctx, tx, store.Endpoint{System: "ops_feishu", PausedUntil: placed, PauseReason: "retry: timeout", Failures: 3})
	})

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	stage := notify.NewStage(st, log, nil)
	stage.SetSetup(&notify.Setup{Endpoints: map[string]*notify.Endpoint{
		"ops_ding":   {System: "ops_ding", Kind: "dingtalk_robot", Limits: connector.SendLimits{PerMinute: 20}},
		"ops_feishu": {System: "ops_feishu", Kind: "feishu_bot", Limits: connector.SendLimits{PerMinute: 100, PerSecond: 5}},
		"ops_wecom":  {System: "ops_wecom", Kind: "wecom_robot", Limits: connector.SendLimits{PerMinute: 20}},
	}})
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	api := NewAPI(st, orTestToken(tokens), loc, log)
	api.Register(mux)
	api.RegisterDeliveries(mux, stage)
	srv := httptest.NewServer(withTestToken(mux, tokens))
	t.Cleanup(srv.Close)
	return &deliveriesFixture{srv: srv, store: st, ids: ids}
}

func (f *deliveriesFixture) do(t *testing.T, method, path, token string) reply {
	t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header.Get("Content-Type"), b}
}

// pick is the ids of the fixture's deliveries i…, newest first.
func (f *deliveriesFixture) pick(is ...int) []int64 {
	out := make([]int64, len(is))
	for k, i := range is {
		out[len(is)-1-k] = f.ids[i]
	}
	return out
}

// deliveryReply is a delivery as a client reads it: times as text.
type deliveryReply struct {
	ID        int64           `json:"id"`
	System    string          `json:"system"`
	Rule      string          `json:"rule"`
	Kind      string          `json:"kind"`
	Source    string          `json:"source"`
	OrderNo   string          `json:"order_no"`
	State     string          `json:"state"`
	Message   json.RawMessage `json:"message"`
	DigestID  int64           `json:"digest_id"`
	Merged    int             `json:"merged"`
	Wait      string          `json:"wait"`
	Attempts  int             `json:"attempts"`
	DueAt     string          `json:"due_at"`
	CreatedAt string          `json:"created_at"`
	UpdatedAt string          `json:"updated_at"`
	SentAt    string          `json:"sent_at"`
	MessageID string          `json:"message_id"`
	Code      string          `json:"code"`
	Error     struct {
		Class, Code, Message, Hint string
	} `json:"error"`
}

type deliveryListReply struct {
	Deliveries []deliveryReply `json:"deliveries"`
	NextBefore int64           `json:"next_before"`
	HasMore    *bool           `json:"has_more"`
}

func (f *deliveriesFixture) list(t *testing.T, q url.Values) deliveryListReply {
	t.Helper()
	r := f.do(t, http.MethodGet, "/v1/deliveries?"+q.Encode(), "")
	if r.status != 200 {
		t.Fatalf("GET /v1/deliveries?%s: %d %s", q.Encode(), r.status, r.body)
	}
	var l deliveryListReply
	if err := json.Unmarshal(r.body, &l); err != nil {
		t.Fatal(err)
	}
	if l.Deliveries == nil || l.HasMore == nil {
		t.Fatalf("deliveries or has_more missing: %s", r.body)
	}
	return l
}

func deliveryIDs(ds []deliveryReply) []int64 {
	var out []int64
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

func TestDeliveriesFilters(t *testing.T) {
	f := newDeliveriesFixture(t, nil)
	for _, tc := range []struct {
		query url.Values
		want  []int64
	}{
		{nil, f.pick(0, 1, 2, 3, 4, 5, 6, 7)},
		{url.Values{"rule": {"new_order"}}, f.pick(0, 1, 3, 7)},
		{url.Values{"system": {"ops_feishu"}}, f.pick(1)},
		{url.Values{"status": {"failed"}}, f.pick(1, 2)},
		{url.Values{"status": {"merged"}}, f.pick(4, 5)},
		{url.Values{"status": {"collecting"}}, nil},
		{url.Values{"order": {"shop/A2"}}, f.pick(3, 5, 7)},
		{url.Values{"order": {"shop/A1"}, "system": {"ops_ding"}}, f.pick(0, 2, 4)},
		{url.Values{"order": {"shop/A1"}, "status": {"failed"}, "rule": {"big_order"}}, f.pick(2)},
		{url.Values{"digest": {fmt.Sprint(f.ids[6])}}, f.pick(4, 5)},
		{url.Values{"digest": {fmt.Sprint(f.ids[0])}}, nil},
		{url.Values{"rule": {"nobody"}}, nil},
	} {
		if got := deliveryIDs(f.list(t, tc.query).Deliveries); !slices.Equal(got, tc.want) {
			t.Errorf("?%s: %v, want %v", tc.query.Encode(), got, tc.want)
		}
	}
}

func TestDeliveriesShown(t *testing.T) {
	f := newDeliveriesFixture(t, []config.APIToken{{Name: "ops", Token: "tok-ops-0123456789"}, {Name: "cs", Token: "tok-cs-0123456789", PII: true}})
	r := f.do(t, http.MethodGet, "/v1/deliveries?status=failed", "tok-ops-0123456789")
	var l deliveryListReply
	if err := json.Unmarshal(r.body, &l); err != nil || r.status != 200 || len(l.Deliveries) != 2 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	feishu, big := l.Deliveries[1], l.Deliveries[0]
	if feishu.System != "ops_feishu" || feishu.Error.Code != "19021" || !strings.Contains(feishu.Error.Hint, "签名密钥") || feishu.Code != "19021" ||
		feishu.Attempts != 1 || feishu.OrderNo != "A1" || feishu.Source != "shop" {
		t.Errorf("failed delivery: %+v", feishu)
	}
	// Every time in the configured zone; a message never sent has no sent_at.
	if feishu.CreatedAt != "2026-11-25T10:00:00+08:00" || feishu.DueAt != "2026-11-25T10:00:00+08:00" || feishu.UpdatedAt != "2026-11-25T10:01:00+08:00" ||
		feishu.SentAt != "" {
		t.Errorf("times: %+v", feishu)
	}
	// The message is the one sent, except that the mobile it @mentions is
	// masked for a token that may not see PII.
	var m map[string]any
	if err := json.Unmarshal(big.Message, &m); err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	json.Unmarshal([]byte(mentionMsg), &want)
	want["at_mobiles"] = []any{"138****1234"}
	if fmt.Sprint(m) != fmt.Sprint(want) {
		t.Errorf("message:\n got %v\nwant %v", m, want)
	}
	if bytes.Contains(r.body, []byte("13800001234")) {
		t.Errorf("a masked read shows the mobile: %s", r.body)
	}
	// The fields keep the order they were recorded in.
	if masked := strings.Replace(mentionMsg, "13800001234", "138****1234", 1); string(big.Message) != masked {
		t.Errorf("message:\n got %s\nwant %s", big.Message, masked)
	}
	for _, path := range []string{"/v1/deliveries?pii=1&status=failed", fmt.Sprintf("/v1/deliveries/%d?pii=1", f.ids[2])} {
		if r := f.do(t, http.MethodGet, path, "tok-ops-0123456789"); r.status != 403 || r.problem(t).Code != "pii_forbidden" {
			t.Errorf("%s without the right: %d %s", path, r.status, r.body)
		}
		if r := f.do(t, http.MethodGet, path, "tok-cs-0123456789"); r.status != 200 || !bytes.Contains(r.body, []byte(`"at_mobiles":["13800001234"]`)) {
			t.Errorf("%s with a pii token: %d %s", path, r.status, r.body)
		}
	}
	if r := f.do(t, http.MethodGet, "/v1/deliveries", ""); r.status != 401 || r.problem(t).Code != "sign_in_required" {
		t.Errorf("without a token: %d %s", r.status, r.body)
	}
	// A message without mentions is byte for byte as recorded.
	r = f.do(t, http.MethodGet, "/v1/deliveries?system=ops_feishu", "tok-ops-0123456789")
	if !bytes.Contains(r.body, []byte(`"message":{"title":"新订单 A1","markdown":"**新订单** A1","link":"http://127.0.0.1:8080/v1/orders/shop/A1","key":"new_order/shop/A1/created"}`)) {
		t.Errorf("message not as recorded: %s", r.body)
	}
}

func TestDeliveriesPaging(t *testing.T) {
	f := newDeliveriesFixture(t, nil)
	all := f.pick(0, 1, 2, 3, 4, 5, 6, 7)
	for _, tc := range []struct {
		query url.Values
		want  []int64
	}{
		{url.Values{}, all},
		{url.Values{"system": {"ops_ding"}}, f.pick(0, 2, 3, 4, 5, 6)},
	} {
		for _, limit := range []int{1, 2, 3, 6, 8, 500} {
			t.Run(fmt.Sprintf("%s limit %d", tc.query.Encode(), limit), func(t *testing.T) {
				var got []int64
				q := url.Values{"limit": {fmt.Sprint(limit)}}
				for k, v := range tc.query {
					q[k] = v
				}
				for pages := 1; ; pages++ {
					page := f.list(t, q)
					if len(page.Deliveries) > limit {
						t.Fatalf("a page of %d with limit %d", len(page.Deliveries), limit)
					}
					got = append(got, deliveryIDs(page.Deliveries)...)
					more := len(got) < len(tc.want)
					if *page.HasMore != more || (page.NextBefore != 0) != more {
						t.Fatalf("page %d: has_more %v next_before %d after %d of %d", pages, *page.HasMore, page.NextBefore, len(got), len(tc.want))
					}
					if !more {
						break
					}
					if page.NextBefore != got[len(got)-1] {
						t.Fatalf("next_before %d, the page ended at %d", page.NextBefore, got[len(got)-1])
					}
					q.Set("before", fmt.Sprint(page.NextBefore))
					if pages > len(all) {
						t.Fatal("paging does not end")
					}
				}
				if !slices.Equal(got, tc.want) {
					t.Fatalf("paged through %v, want %v", got, tc.want)
				}
			})
		}
	}
}

func TestDeliveriesBadQuery(t *testing.T) {
	f := newDeliveriesFixture(t, nil)
	for _, tc := range []struct {
		query, code, field, title, detail string
		status                            int
	}{
		{"status=done", "bad_query", "status", `status "done" is not a delivery state`, "collecting, queued, sending, sent, merged, failed", 400},
		{"status=FAILED", "bad_query", "status", "not a delivery state", "use one of", 400},
		{"order=A1", "bad_query", "order", `order "A1" is not <source>/<order_no>`, "shop_orders/A1001", 400},
		{"order=/A1", "bad_query", "order", "is not <source>/<order_no>", "", 400},
		{"order=shop/", "bad_query", "order", "is not <source>/<order_no>", "", 400},
		{"order=shop/NOPE", "order_not_found", "order", `no order "NOPE" from source "shop"`, "GET /v1/orders", 404},
		{"order=other/A1", "order_not_found", "order", `no order "A1" from source "other"`, "", 404},
		{"digest=abc", "bad_query", "digest", `digest "abc" is not a delivery id`, "digest", 400},
		{"digest=0", "bad_query", "digest", "is not a delivery id", "", 400},
		{"before=-3", "bad_query", "before", `before "-3" is not a delivery id`, "next_before", 400},
		{"limit=0", "bad_query", "limit", `limit "0" is not a number from 1 to 500`, "", 400},
		{"limit=501", "bad_query", "limit", "from 1 to 500", "", 400},
		{"limit=ten", "bad_query", "limit", "from 1 to 500", "", 400},
	} {
		t.Run(tc.query, func(t *testing.T) {
			r := f.do(t, http.MethodGet, "/v1/deliveries?"+tc.query, "")
			if r.status != tc.status {
				t.Fatalf("%d: %s", r.status, r.body)
			}
			p := r.problem(t)
			if p.Code != tc.code || p.Field != tc.field || !strings.Contains(p.Title, tc.title) || !strings.Contains(p.Detail, tc.detail) {
				t.Fatalf("problem %+v, want %s on %s saying %q / %q", p, tc.code, tc.field, tc.title, tc.detail)
			}
		})
	}
}

type deliveryDetailReply struct {
	deliveryReply
	Attempts []struct {
		Attempt   int    `json:"attempt"`
		At        string `json:"at"`
		DoneAt    string `json:"done_at"`
		Outcome   string `json:"outcome"`
		Code      string `json:"code"`
		Message   string `json:"message"`
		MessageID string `json:"message_id"`
	} `json:"attempts"`
	Messages     []deliveryReply `json:"messages"`
	MessagesMore bool            `json:"messages_more"`
}

func (f *deliveriesFixture) detail(t *testing.T, id int64) deliveryDetailReply {
	t.Helper()
	r := f.do(t, http.MethodGet, fmt.Sprintf("/v1/deliveries/%d", id), "")
	if r.status != 200 {
		t.Fatalf("GET /v1/deliveries/%d: %d %s", id, r.status, r.body)
	}
	var d deliveryDetailReply
	if err := json.Unmarshal(r.body, &d); err != nil {
		t.Fatal(err)
	}
	// Attempts come as a list even when there are none.
	if !bytes.Contains(r.body, []byte(`"attempts":[`)) {
		t.Fatalf("no attempts list: %s", r.body)
	}
	return d
}

func TestDeliveryDetail(t *testing.T) {
	f := newDeliveriesFixture(t, nil)
	sent := f.detail(t, f.ids[0])
	if sent.ID != f.ids[0] || sent.State != "sent" || sent.MessageID != "m-1" || sent.SentAt != "2026-11-25T10:01:00+08:00" || len(sent.Messages) != 0 {
		t.Errorf("sent: %+v", sent)
	}
	if len(sent.Attempts) != 1 || sent.Attempts[0].Outcome != "sent" || sent.Attempts[0].Code != "0" || sent.Attempts[0].MessageID != "m-1" ||
		sent.Attempts[0].At != "2026-11-25T10:00:00+08:00" || sent.Attempts[0].DoneAt != "2026-11-25T10:01:00+08:00" {
		t.Errorf("sent: attempts %+v", sent.Attempts)
	}
	failed := f.detail(t, f.ids[1])
	if failed.State != "failed" || len(failed.Attempts) != 1 || failed.Attempts[0].Outcome != "permanent" || failed.Attempts[0].Message != "sign match fail" {
		t.Errorf("failed: %+v", failed)
	}
	queued := f.detail(t, f.ids[3])
	if queued.State != "queued" || len(queued.Attempts) != 0 {
		t.Errorf("queued: %+v", queued)
	}
	// A digest shows the messages it carried; each points back at it.
	dg := f.detail(t, f.ids[6])
	if dg.Kind != "digest" || dg.Merged != 2 || dg.State != "sent" || !slices.Equal(deliveryIDs(dg.Messages), f.pick(4, 5)) || dg.MessagesMore {
		t.Errorf("digest: %+v", dg)
	}
	if !strings.Contains(string(dg.Message), "另有 2 笔新订单") {
		t.Errorf("digest message: %s", dg.Message)
	}
	for _, m := range dg.Messages {
		if m.State != "merged" || m.DigestID != f.ids[6] || m.Wait != "digest" || !strings.HasSuffix(m.UpdatedAt, "+08:00") {
			t.Errorf("carried: %+v", m)
		}
	}
	if merged := f.detail(t, f.ids[4]); merged.DigestID != f.ids[6] || len(merged.Messages) != 0 {
		t.Errorf("merged: %+v", merged)
	}
	for _, tc := range []struct {
		path   string
		status int
		code   string
	}{
		{"/v1/deliveries/99999", 404, "delivery_not_found"},
		{"/v1/deliveries/abc", 400, "bad_id"},
		{"/v1/deliveries/0", 400, "bad_id"},
	} {
		if r := f.do(t, http.MethodGet, tc.path, ""); r.status != tc.status || r.problem(t).Code != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.path, r.status, r.body, tc.status, tc.code)
		}
	}
}

func TestDeliveryResend(t *testing.T) {
	f := newDeliveriesFixture(t, []config.APIToken{{Name: "ops", Token: "tok-ops-0123456789"}})
	const tok = "tok-ops-0123456789"
	path := func(i int) string { return fmt.Sprintf("/v1/deliveries/%d/resend", f.ids[i]) }
	// Without a token nothing changes.
	if r := f.do(t, http.MethodPost, path(1), ""); r.status != 401 {
		t.Fatalf("without a token: %d %s", r.status, r.body)
	}
	if d, _, _ := f.store.GetDelivery(context.Background(), f.ids[1]); d.State != store.DeliveryFailed {
		t.Fatalf("a refused resend changed the delivery to %s", d.State)
	}
	for _, tc := range []struct {
		name, path string
		status     int
		code, body string
	}{
		{"failed", path(1), 202, "", `"result":"queued"`},
		{"resent already", path(1), 409, "not_failed", "only a failed delivery can be resent"},
		{"sent", path(0), 409, "not_failed", "is sent"},
		{"queued", path(3), 409, "not_failed", "is queued"},
		{"merged", path(4), 409, "not_failed", "is merged"},
		{"unknown", "/v1/deliveries/99999/resend", 404, "delivery_not_found", "no delivery 99999"},
		{"not an id", "/v1/deliveries/x/resend", 400, "bad_id", `is not a delivery id`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.do(t, http.MethodPost, tc.path, tok)
			if r.status != tc.status || !strings.Contains(string(r.body), tc.body) {
				t.Fatalf("%d %s, want %d with %q", r.status, r.body, tc.status, tc.body)
			}
			if tc.code != "" {
				if p := r.problem(t); p.Code != tc.code {
					t.Fatalf("code %s, want %s", p.Code, tc.code)
				}
			}
		})
	}
	d, _, err := f.store.GetDelivery(context.Background(), f.ids[1])
	if err != nil || d.State != store.DeliveryQueued || d.Attempts != 0 || d.Wait != "resend" {
		t.Fatalf("after resend: %+v, %v", d, err)
	}
	// The order's timeline tells of it.
	tl, err := f.store.Timeline(context.Background(), d.OrderID)
	if err != nil || tl[len(tl)-1].Stage != "resend" {
		t.Fatalf("timeline %+v, %v", tl, err)
	}
	if r := f.do(t, http.MethodGet, "/v1/deliveries?status=failed", tok); !strings.Contains(string(r.body), fmt.Sprintf(`"id":%d,`, f.ids[2])) ||
		strings.Contains(string(r.body), fmt.Sprintf(`"id":%d,`, f.ids[1])) {
		t.Fatalf("failed after resend: %s", r.body)
	}
}

func TestEndpoints(t *testing.T) {
	f := newDeliveriesFixture(t, nil)
	r := f.do(t, http.MethodGet, "/v1/endpoints", "")
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var got struct {
		Endpoints []struct {
			System      string         `json:"system"`
			Kind        string         `json:"kind"`
			Configured  bool           `json:"configured"`
			PerMinute   int            `json:"per_minute"`
			PerSecond   int            `json:"per_second"`
			Paused      bool           `json:"paused"`
			PausedUntil string         `json:"paused_until"`
			PauseReason string         `json:"pause_reason"`
			Failures    int            `json:"failures"`
			Deliveries  map[string]int `json:"deliveries"`
		} `json:"endpoints"`
	}
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	counts := func(queued, sent, merged, failed int) map[string]int {
		return map[string]int{"collecting": 0, "queued": queued, "sending": 0, "sent": sent, "merged": merged, "failed": failed}
	}
	type want struct {
		system, kind         string
		configured, paused   bool
		perMinute, perSecond int
		reason               string
		failures             int
		deliveries           map[string]int
	}
	wants := []want{
		{"old_robot", "", false, false, 0, 0, "", 0, counts(1, 0, 0, 0)},
		{"ops_ding", "dingtalk_robot", true, true, 20, 0, "throttled: 130101", 0, counts(1, 2, 2, 1)},
		{"ops_feishu", "feishu_bot", true, false, 100, 5, "retry: timeout", 3, counts(0, 0, 0, 1)},
		{"ops_wecom", "wecom_robot", true, false, 20, 0, "", 0, counts(0, 0, 0, 0)},
	}
	if len(got.Endpoints) != len(wants) {
		t.Fatalf("endpoints: %s", r.body)
	}
	for i, w := range wants {
		e := got.Endpoints[i]
		g := want{e.System, e.Kind, e.Configured, e.Paused, e.PerMinute, e.PerSecond, e.PauseReason, e.Failures, e.Deliveries}
		if fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("endpoint %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
	if until := got.Endpoints[1].PausedUntil; !strings.HasSuffix(until, "+08:00") {
		t.Errorf("paused_until %q, want Asia/Shanghai", until)
	}
	if until := got.Endpoints[2].PausedUntil; until != "2026-11-25T10:00:00+08:00" {
		t.Errorf("a past pause: paused_until %q", until)
	}
	if got.Endpoints[3].PausedUntil != "" {
		t.Errorf("never paused: paused_until %q", got.Endpoints[3].PausedUntil)
	}
}

// TestDeliveryAddressees: a message to people names them with their
// mobiles and emails; without the right to see PII they are masked, as is
// the buyer's name, and everything else reads as recorded.
func TestDeliveryAddressees(t *testing.T) {
	f := newDeliveriesFixture(t, []config.APIToken{{Name: "ops", Token: "tok-ops-0123456789"}, {Name: "cs", Token: "tok-cs-0123456789", PII: true}})
	msg := connector.Message{Title: "订单 A1 已发货", Markdown: "买家 138****1234", AtMobiles: []string{"13900001111"}, Key: "shipped/shop/A1/shipped",
		To: []connector.Recipient{
			{Person: "buyer", Name: "张三丰", Mobile: "13812341234"},
			{Person: "li", Name: "李四", DingUserID: "u-li", Mobile: "13900001111", Email: "li.si@example.com"},
			{DingDept: "42"},
		},
		Template: "shipped", Vars: map[string]string{"buyer": "138****1234", "order_no": "A1"}, Priority: "normal"}
	body, err := json.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tx, err := f.store.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.QueueDeliveries(ctx, tx, []store.NewDelivery{{System: "ops_sms", Rule: "shipped", Key: msg.Key, Kind: store.KindMessage,
		Source: "shop", OrderNo: "A1", Event: "shipped", State: store.DeliveryQueued, Message: body}}, placed); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	ds, err := f.store.ListDeliveries(ctx, store.DeliveryFilter{System: "ops_sms"})
	if err != nil || len(ds) != 1 {
		t.Fatalf("%v %v", ds, err)
	}
	masked := strings.NewReplacer(`"13812341234"`, `"138****1234"`, `"13900001111"`, `"139****1111"`, `"li.si@example.com"`, `"l***@example.com"`,
		`"张三丰"`, `"张**"`).Replace(string(body))
	if !strings.Contains(masked, `"name":"李四"`) || strings.Contains(masked, "13812341234") {
		t.Fatalf("the expected masking is wrong: %s", masked)
	}
	for _, tc := range []struct {
		name, query, token, want string
	}{
		{"without the right", "", "tok-ops-0123456789", masked},
		{"a pii token, masked by default", "", "tok-cs-0123456789", masked},
		{"a pii token asking pii", "?pii=1", "tok-cs-0123456789", string(body)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{fmt.Sprintf("/v1/deliveries/%d", ds[0].ID), "/v1/deliveries?system=ops_sms"} {
				if strings.Contains(path, "?") && tc.query != "" {
					path += "&" + tc.query[1:]
				} else {
					path += tc.query
				}
				r := f.do(t, http.MethodGet, path, tc.token)
				if r.status != 200 || !bytes.Contains(r.body, []byte(`"message":`+tc.want)) {
					t.Errorf("%s: %d\n%s\nwant the message\n%s", path, r.status, r.body, tc.want)
				}
			}
		})
	}
}

func TestMaskContacts(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"title":"x"}`, `{"title":"x"}`},
		{`{"at_mobiles":["13800001234","1380000"],"title":"x"}`, `{"at_mobiles":["138****1234","13****00"],"title":"x"}`},
		{`{"to":[{"person":"buyer","name":"张三","email":"a@b.cn"}],"z":1}`, `{"to":[{"person":"buyer","name":"张*","email":"a***@b.cn"}],"z":1}`},
		{`{"to":null,"at_mobiles":null}`, `{"to":null,"at_mobiles":null}`},
		{` { "title" : "a\"to\"" , "n" : [1, 2] } `, ` { "title" : "a\"to\"" , "n" : [1, 2] } `}, // no contact data: as it is
		{`{"to":"someone"}`, `{}`}, // not the shape written: nothing shown
		{`{"at_mobiles":[1],"t":"x"}`, `{}`},
		{`{"to":[]`, `{}`},
	} {
		if got := string(maskContacts(json.RawMessage(tc.in))); got != tc.want {
			t.Errorf("maskContacts(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
