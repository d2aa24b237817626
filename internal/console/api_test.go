package console

import (
	"bytes"
	"context"
	"encoding/base64"
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
	"orderhub/internal/order"
	"orderhub/internal/problem"
	"orderhub/internal/store"
	"orderhub/internal/testutil/logbuf"
)

// The orders every test starts with, in the order they are applied.
var seeded = []struct {
	source, no string
	status     order.Status
}{
	{"shop", "A1", order.StatusPaid},
	{"shop", "A2", order.StatusCreated},
	{"shop", "A3", order.StatusShipped},
	{"hook", "A1", order.StatusPaid},
	{"shop", "A4", order.StatusCancelled},
	{"shop", "A5", order.StatusPaid},
	{"hook", "B1", order.StatusCompleted},
}

var placed = time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC) // 10:00 in Shanghai

func mkOrder(source, no string, s order.Status) order.Order {
	return order.Order{
		Source: source, OrderNo: no, Status: s, Currency: "CNY", Total: 300, Goods: 100, Freight: 200,
		Buyer:     order.Buyer{ID: "7", Name: "张三丰", Phone: "13812341234", Address: "浙江省杭州市西湖区文三路1号"},
		Items:     []order.Item{{SKU: "cce", Name: "cce", Spec: "颜色:黑色", Quantity: 1, UnitPrice: 100, Total: 100}},
		CreatedAt: placed, PaidAt: placed.Add(time.Minute),
	}
}

type fixture struct {
	srv   *httptest.Server
	store *store.Store
	logs  *logbuf.Buffer
}

func newFixture(t *testing.T, tokens []config.APIToken) *fixture {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "hub.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	// The first two one by one, the rest in one batch (equal change times
	// are then ordered by id).
	var in []store.Incoming
	for i, s := range seeded {
		in = append(in, store.Incoming{Order: mkOrder(s.source, s.no, s.status), Raw: []byte(s.source + "/" + s.no), ReceivedAt: placed.Add(time.Duration(i) * time.Second)})
	}
	for _, batch := range [][]store.Incoming{in[:1], in[1:2], in[2:]} {
		if _, err := st.Apply(context.Background(), batch, nil); err != nil {
			t.Fatal(err)
		}
	}
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	logs := &logbuf.Buffer{}
	mux := http.NewServeMux()
	NewAPI(st, orTestToken(tokens), loc, slog.New(slog.NewJSONHandler(logs, nil))).Register(mux)
	srv := httptest.NewServer(withTestToken(mux, tokens))
	t.Cleanup(srv.Close)
	return &fixture{srv: srv, store: st, logs: logs}
}

type reply struct {
	status      int
	contentType string
	body        []byte
}

func (f *fixture) get(t *testing.T, path, token string) reply {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.srv.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header.Get("Content-Type"), b}
}

func (r reply) problem(t *testing.T) problem.Problem {
	t.Helper()
	if !strings.HasPrefix(r.contentType, "application/problem+json") {
		t.Fatalf("Content-Type %q for %d: %s", r.contentType, r.status, r.body)
	}
	var p problem.Problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	if p.Status != r.status || p.Title == "" || p.Detail == "" {
		t.Fatalf("problem %+v answered with %d", p, r.status)
	}
	return p
}

type orderReply struct {
	Order struct {
		Source    string      `json:"source"`
		OrderNo   string      `json:"order_no"`
		Status    string      `json:"status"`
		Total     string      `json:"total"`
		Buyer     order.Buyer `json:"buyer"`
		CreatedAt string      `json:"created_at"`
		PaidAt    string      `json:"paid_at"`
	} `json:"order"`
	Version     int64  `json:"version"`
	FirstSeenAt string `json:"first_seen_at"`
	UpdatedAt   string `json:"updated_at"`
	Events      []struct {
		Type string `json:"type"`
		From string `json:"from"`
		To   string `json:"to"`
		At   string `json:"at"`
	} `json:"events"`
	Timeline []struct {
		At     string          `json:"at"`
		Stage  string          `json:"stage"`
		Detail json.RawMessage `json:"detail"`
	} `json:"timeline"`
}

func (r reply) order(t *testing.T) orderReply {
	t.Helper()
	if r.status != 200 || !strings.HasPrefix(r.contentType, "application/json") {
		t.Fatalf("%d %q: %s", r.status, r.contentType, r.body)
	}
	var o orderReply
	if err := json.Unmarshal(r.body, &o); err != nil {
		t.Fatal(err)
	}
	return o
}

var (
	masked   = order.Buyer{ID: "7", Name: "张**", Phone: "138****1234", Address: "浙江省杭州市****"}
	unmasked = order.Buyer{ID: "7", Name: "张三丰", Phone: "13812341234", Address: "浙江省杭州市西湖区文三路1号"}
)

func TestGetOrderOpen(t *testing.T) {
	f := newFixture(t, nil)
	o := f.get(t, "/v1/orders/shop/A1", "").order(t)
	if o.Order.Source != "shop" || o.Order.OrderNo != "A1" || o.Order.Status != "paid" || o.Order.Total != "3.00" || o.Version != 1 {
		t.Fatalf("order %+v", o)
	}
	if o.Order.Buyer != masked {
		t.Fatalf("buyer %+v, want masked %+v", o.Order.Buyer, masked)
	}
	if bytes.Contains(f.get(t, "/v1/orders/shop/A1", "").body, []byte("13812341234")) {
		t.Fatal("the answer carries the unmasked phone somewhere")
	}
	// Every time in Asia/Shanghai.
	if o.Order.CreatedAt != "2026-11-25T10:00:00+08:00" || o.Order.PaidAt != "2026-11-25T10:01:00+08:00" {
		t.Fatalf("order times %s %s, want +08:00", o.Order.CreatedAt, o.Order.PaidAt)
	}
	if o.FirstSeenAt != "2026-11-25T10:00:00+08:00" {
		t.Fatalf("first_seen_at %s", o.FirstSeenAt)
	}
	if !strings.HasSuffix(o.UpdatedAt, "+08:00") {
		t.Fatalf("updated_at %s", o.UpdatedAt)
	}
	var types []string
	for _, e := range o.Events {
		types = append(types, e.Type)
		if e.To != "paid" || e.From != "" || e.At != "2026-11-25T10:00:00+08:00" {
			t.Fatalf("event %+v", e)
		}
	}
	if !slices.Equal(types, []string{"created", "paid"}) {
		t.Fatalf("events %v", types)
	}
	if len(o.Timeline) != 1 || o.Timeline[0].Stage != "received" || o.Timeline[0].At != "2026-11-25T10:00:00+08:00" {
		t.Fatalf("timeline %+v", o.Timeline)
	}
	var detail struct {
		Result  string   `json:"result"`
		Version int64    `json:"version"`
		Events  []string `json:"events"`
	}
	if err := json.Unmarshal(o.Timeline[0].Detail, &detail); err != nil || detail.Result != "created" || detail.Version != 1 || !slices.Equal(detail.Events, []string{"created", "paid"}) {
		t.Fatalf("timeline detail %s", o.Timeline[0].Detail)
	}

	// The same number from another source is another order.
	if h := f.get(t, "/v1/orders/hook/A1", "").order(t); h.Order.Source != "hook" {
		t.Fatalf("hook/A1: %+v", h.Order)
	}

	// Without tokens nobody may see PII.
	for _, q := range []string{"?pii=1", "?pii=true"} {
		for _, path := range []string{"/v1/orders/shop/A1", "/v1/orders"} {
			r := f.get(t, path+q, "")
			if r.status != 403 || r.problem(t).Code != "pii_forbidden" {
				t.Fatalf("%s%s: %d %s", path, q, r.status, r.body)
			}
		}
	}
	// Asking with pii=0 is just a masked read.
	if o := f.get(t, "/v1/orders/shop/A1?pii=0", "").order(t); o.Order.Buyer != masked {
		t.Fatalf("pii=0: %+v", o.Order.Buyer)
	}
}

func TestGetOrderNotFound(t *testing.T) {
	f := newFixture(t, nil)
	for _, path := range []string{"/v1/orders/shop/NOPE", "/v1/orders/other/A1", "/v1/orders/hook/A2"} {
		r := f.get(t, path, "")
		if r.status != 404 {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
		p := r.problem(t)
		if p.Code != "order_not_found" || !strings.Contains(p.Title, strings.Split(path, "/")[4]) {
			t.Fatalf("%s: %+v", path, p)
		}
	}
}

func TestTokens(t *testing.T) {
	f := newFixture(t, []config.APIToken{{Name: "ops", Token: "tok-ops-0123456789"}, {Name: "cs", Token: "tok-cs-0123456789", PII: true}})
	for _, tc := range []struct {
		name, path, auth string
		status           int
		code             string
		buyer            order.Buyer
	}{
		{"no token", "/v1/orders/shop/A1", "", 401, "sign_in_required", order.Buyer{}},
		{"no token, list", "/v1/orders", "", 401, "sign_in_required", order.Buyer{}},
		{"not bearer", "/v1/orders/shop/A1", "Basic dG9rLW9wcy0wMTIzNDU2Nzg5", 401, "missing_token", order.Buyer{}},
		{"empty bearer", "/v1/orders/shop/A1", "Bearer ", 401, "missing_token", order.Buyer{}},
		{"bad token", "/v1/orders/shop/A1", "Bearer tok-wrong", 401, "bad_token", order.Buyer{}},
		{"token prefix", "/v1/orders/shop/A1", "Bearer tok-ops", 401, "bad_token", order.Buyer{}},
		{"token without pii", "/v1/orders/shop/A1", "Bearer tok-ops-0123456789", 200, "", masked},
		{"token without pii asks pii", "/v1/orders/shop/A1?pii=1", "Bearer tok-ops-0123456789", 403, "pii_forbidden", order.Buyer{}},
		{"token without pii asks pii, list", "/v1/orders?pii=1", "Bearer tok-ops-0123456789", 403, "pii_forbidden", order.Buyer{}},
		{"pii token, masked by default", "/v1/orders/shop/A1", "Bearer tok-cs-0123456789", 200, "", masked},
		{"pii token asks pii", "/v1/orders/shop/A1?pii=1", "Bearer tok-cs-0123456789", 200, "", unmasked},
		{"pii token, not found", "/v1/orders/shop/NOPE?pii=1", "Bearer tok-cs-0123456789", 404, "order_not_found", order.Buyer{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.get(t, tc.path, tc.auth)
			if r.status != tc.status {
				t.Fatalf("%d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.code != "" {
				if p := r.problem(t); p.Code != tc.code {
					t.Fatalf("code %q, want %q", p.Code, tc.code)
				}
				if bytes.Contains(r.body, []byte("tok-")) {
					t.Fatalf("the answer echoes a token: %s", r.body)
				}
				return
			}
			if o := r.order(t); o.Order.Buyer != tc.buyer {
				t.Fatalf("buyer %+v, want %+v", o.Order.Buyer, tc.buyer)
			}
		})
	}
	// Unmasked reads leave a trace naming the token, not its value.
	logs := f.logs.String()
	if !strings.Contains(logs, `"msg":"PII read","token":"cs"`) || strings.Contains(logs, "tok-cs-0123456789") {
		t.Fatalf("logs: %s", logs)
	}
	// The list honours the same rights.
	var page listReply
	r := f.get(t, "/v1/orders?pii=1&source=shop", "Bearer tok-cs-0123456789")
	if err := json.Unmarshal(r.body, &page); err != nil || r.status != 200 || len(page.Orders) != 5 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	for _, o := range page.Orders {
		if o.Order.Buyer != unmasked {
			t.Fatalf("pii list: %+v", o.Order.Buyer)
		}
	}
}

type listReply struct {
	Orders     []orderReply `json:"orders"`
	NextCursor string       `json:"next_cursor"`
	HasMore    *bool        `json:"has_more"`
}

func (f *fixture) list(t *testing.T, query url.Values) listReply {
	t.Helper()
	r := f.get(t, "/v1/orders?"+query.Encode(), "")
	if r.status != 200 {
		t.Fatalf("list %s: %d %s", query.Encode(), r.status, r.body)
	}
	var l listReply
	if err := json.Unmarshal(r.body, &l); err != nil {
		t.Fatal(err)
	}
	if l.Orders == nil || l.HasMore == nil {
		t.Fatalf("orders or has_more missing: %s", r.body)
	}
	return l
}

func keys(l listReply) []string {
	var out []string
	for _, o := range l.Orders {
		out = append(out, o.Order.Source+"/"+o.Order.OrderNo)
	}
	return out
}

func TestListPaging(t *testing.T) {
	f := newFixture(t, nil)
	var all []string
	for _, s := range seeded {
		all = append(all, s.source+"/"+s.no)
	}
	for _, limit := range []int{1, 2, 3, 6, 7, 500} {
		t.Run(fmt.Sprint("limit ", limit), func(t *testing.T) {
			var got []string
			cursor := ""
			for pages := 1; ; pages++ {
				q := url.Values{"limit": {fmt.Sprint(limit)}}
				if cursor != "" {
					q.Set("cursor", cursor)
				}
				page := f.list(t, q)
				if len(page.Orders) > limit {
					t.Fatalf("page of %d with limit %d", len(page.Orders), limit)
				}
				for _, o := range page.Orders {
					if o.Order.Buyer != masked || !strings.HasSuffix(o.Order.CreatedAt, "+08:00") || !strings.HasSuffix(o.UpdatedAt, "+08:00") {
						t.Fatalf("listed %+v", o)
					}
				}
				got = append(got, keys(page)...)
				if len(page.Orders) > 0 && page.NextCursor == "" {
					t.Fatalf("page %d has orders but no cursor", pages)
				}
				more := len(got) < len(all)
				if *page.HasMore != more {
					t.Fatalf("page %d: has_more %v after %d of %d orders", pages, *page.HasMore, len(got), len(all))
				}
				if !more {
					break
				}
				cursor = page.NextCursor
				if pages > len(all) {
					t.Fatal("paging does not end")
				}
			}
			if !slices.Equal(got, all) {
				t.Fatalf("paged through %v, want %v", got, all)
			}
		})
	}
	// No limit: 50 a page, all seven at once.
	last := f.list(t, nil)
	if !slices.Equal(keys(last), all) || *last.HasMore || last.NextCursor == "" {
		t.Fatalf("default page: %v more %v cursor %q", keys(last), *last.HasMore, last.NextCursor)
	}

	// Asking again with the last cursor gives exactly what changed since.
	if again := f.list(t, url.Values{"cursor": {last.NextCursor}}); len(again.Orders) != 0 || *again.HasMore || again.NextCursor != last.NextCursor {
		t.Fatalf("nothing changed, yet: %v more %v cursor %q", keys(again), *again.HasMore, again.NextCursor)
	}
	upd := mkOrder("shop", "A2", order.StatusPaid)
	if _, err := f.store.Apply(context.Background(), []store.Incoming{{Order: upd, Raw: []byte("shop/A2 v2"), ReceivedAt: placed.Add(time.Hour)}}, nil); err != nil {
		t.Fatal(err)
	}
	changed := f.list(t, url.Values{"cursor": {last.NextCursor}})
	if !slices.Equal(keys(changed), []string{"shop/A2"}) || *changed.HasMore || changed.Orders[0].Version != 2 || changed.Orders[0].Order.Status != "paid" {
		t.Fatalf("after an update: %v more %v", keys(changed), *changed.HasMore)
	}
	// A cursor from the middle sees the rest, then the changed order last.
	six := f.list(t, url.Values{"limit": {"6"}})
	if !*six.HasMore {
		t.Fatal("6 of 7: has_more false")
	}
	if rest := f.list(t, url.Values{"cursor": {six.NextCursor}}); !slices.Equal(keys(rest), []string{"shop/A2"}) {
		t.Fatalf("after the sixth: %v", keys(rest))
	}
}

func TestListFilters(t *testing.T) {
	f := newFixture(t, nil)
	for _, tc := range []struct {
		query url.Values
		want  []string
	}{
		{url.Values{"status": {"paid"}}, []string{"shop/A1", "hook/A1", "shop/A5"}},
		{url.Values{"status": {"cancelled"}}, []string{"shop/A4"}},
		{url.Values{"source": {"hook"}}, []string{"hook/A1", "hook/B1"}},
		{url.Values{"source": {"hook"}, "status": {"completed"}}, []string{"hook/B1"}},
		{url.Values{"source": {"nobody"}}, nil},
		{url.Values{"since": {"2000-01-01"}}, []string{"shop/A1", "shop/A2", "shop/A3", "hook/A1", "shop/A4", "shop/A5", "hook/B1"}},
		{url.Values{"since": {time.Now().Add(time.Hour).Format(time.RFC3339)}}, nil},
		{url.Values{"since": {"2999-01-01"}}, nil},
	} {
		if got := keys(f.list(t, tc.query)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.query.Encode(), got, tc.want)
		}
	}
}

func TestListBadQuery(t *testing.T) {
	f := newFixture(t, nil)
	junk := base64.RawURLEncoding.EncodeToString([]byte("nope"))
	for _, tc := range []struct {
		query, field, title string
	}{
		{"status=sent", "status", `status "sent" is not known`},
		{"status=PAID", "status", "not known"},
		{"limit=0", "limit", `limit "0" is not a number from 1 to 500`},
		{"limit=501", "limit", "from 1 to 500"},
		{"limit=-1", "limit", "from 1 to 500"},
		{"limit=ten", "limit", "from 1 to 500"},
		{"since=yesterday", "since", `since "yesterday" is not a time`},
		{"since=2026-11-25T10:00:00", "since", "is not a time"},
		{"since=2026-13-01", "since", "is not a time"},
		{"cursor=!!!", "cursor", "cursor"},
		{"cursor=" + junk, "cursor", "cursor"},
		{"cursor=" + base64.RawURLEncoding.EncodeToString([]byte("1.x")), "cursor", "cursor"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			r := f.get(t, "/v1/orders?"+tc.query, "")
			if r.status != 400 {
				t.Fatalf("%d: %s", r.status, r.body)
			}
			p := r.problem(t)
			if p.Code != "bad_query" || p.Field != tc.field || !strings.Contains(p.Title, tc.title) {
				t.Fatalf("problem %+v, want bad_query on %s saying %q", p, tc.field, tc.title)
			}
		})
	}
}
