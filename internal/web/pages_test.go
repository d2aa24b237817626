package web

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"orderhub/internal/store"
)

func (f *fixture) do(t *testing.T, method, target string, form url.Values, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	t.Helper()
	var r *http.Request
	if form != nil {
		r = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		r = httptest.NewRequest(method, target, nil)
	}
	for _, c := range cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	f.handler.ServeHTTP(w, r)
	return w
}

func TestPages(t *testing.T) {
	f := newFixture(t)
	d := func(id int64) string { return strconv.FormatInt(id, 10) }
	tests := []struct {
		name    string
		path    string
		status  int
		want    []string // in the body
		notWant []string
	}{
		{"the dashboard over a day", "/?from=2026-11-25&to=2026-11-26", 200,
			[]string{"<h1>概览</h1>", `id="today-orders"`, `id="chart-orders"`, `"source":"shop"`, `"bucket":"1h"`,
				`src="/assets/vendor/echarts.common.min.js"`, `src="/assets/dashboard.js"`, `aria-current="page">概览`}, nil},
		{"the dashboard refuses a bad period", "/?from=2026-11-26&to=2026-11-25", 400, []string{"时间范围有误"}, nil},
		{"orders, newest first, masked", "/orders", 200,
			[]string{"<h1>订单</h1>", "JY2001", "M1001", "138****1234", "王**", `href="/orders/shop/M1001"`, "2026-11-25 09:30:00", "已付款", "Asia/Shanghai"},
			[]string{buyerPhone, buyerName}},
		{"by order number", "/orders?no=M1002", 200, []string{"M1002"}, []string{"M1001<", "JY2001"}},
		{"by phone, matched whole", "/orders?phone=138+1234+1234", 200, []string{"M1001", "138****1234"}, []string{"M1002", buyerPhone}},
		{"part of a phone finds nothing", "/orders?phone=1381234", 200, []string{"没有符合条件的订单"}, []string{"M1001<"}},
		{"by status and source", "/orders?status=shipped&source=shop", 200, []string{"M1002", "M1004"}, []string{"M1001<", "JY2001"}},
		{"by time range, configured zone", "/orders?from=2026-11-25T09:33&to=2026-11-25T09:35", 200, []string{"M1003", "M1004"}, []string{"M1002", "M1001<"}},
		{"a bad status", "/orders?status=lost", 400, []string{"未知的订单状态"}, nil},
		{"a bad time", "/orders?from=yesterday", 400, []string{"无法识别"}, nil},
		{"a date alone", "/orders?to=2026-11-25", 200, []string{"没有符合条件的订单"}, nil},
		{"a time with seconds", "/orders?from=2026-11-25T09:40:00", 200, []string{"JY2001"}, []string{"M1004"}},
		{"the notice is not where forms return", "/exceptions?done=retried", 200, []string{`name="next" value="/exceptions"`, "已重新排队写入"}, []string{`value="/exceptions?done`}},
		{"a bad cursor", "/orders?before=zzz", 400, []string{"翻页位置无效"}, nil},
		{"an order's page", "/orders/shop/M1001", 200,
			[]string{"订单 M1001", "138****1234", "浙江省杭州市****", "时间线", "<strong>收到</strong>", "字段映射", "写入目标系统", "XSDD-M1001", "100234",
				"消息已发送", "ding-msg-77", "消息发送失败", "阅读状态", "已读", `href="/deliveries/` + d(f.sent) + `"`, "已发送", "发送失败",
				"原始报文", `"receiver_mobile": "138****1234"`, `"receiver_name": "王**"`, "请联系 138****1234", "龙井 250g", "2026-11-25 09:30:00"},
			[]string{buyerPhone, buyerName, buyerAddr}},
		{"an unknown order", "/orders/shop/NOPE", 404, []string{"找不到订单 NOPE"}, nil},
		{"exceptions", "/exceptions", 200,
			[]string{"JY2001", "物料编码 TEA-01 不存在", "在金蝶中新增物料 TEA-01 后重试", "FMaterialId", `action="/exceptions/` + d(f.exception) + `/retry"`, `action="/exceptions/` + d(f.exception) + `/skip"`}, nil},
		{"deliveries", "/deliveries", 200,
			[]string{"ops_ding", "ops_feishu", "sign match fail", `action="/deliveries/` + d(f.failed) + `/resend"`},
			[]string{`action="/deliveries/` + d(f.sent) + `/resend"`}},
		{"deliveries by state", "/deliveries?status=failed", 200, []string{"ops_feishu"}, []string{">ops_ding<"}},
		{"a bad delivery state", "/deliveries?status=lost", 400, []string{"未知的投递状态"}, nil},
		{"a delivery, attempts and answers", "/deliveries/" + d(f.failed), 200,
			[]string{"投递记录 #" + d(f.failed), "第 1 次", "永久失败", "19021", "sign match fail", "飞书机器人的签名校验失败", `id="resend"`, "138****1234"},
			[]string{buyerPhone}},
		{"a sent delivery has no resend", "/deliveries/" + d(f.sent), 200, []string{"ding-msg-77", "成功"}, []string{`id="resend"`}},
		{"an unknown delivery", "/deliveries/999", 404, []string{"找不到投递记录 999"}, nil},
		{"a bad delivery id", "/deliveries/x", 400, nil, nil},
		{"syncs", "/syncs", 200, []string{"<h1>同步</h1>", "没有拉取来源"}, nil},
		{"rules", "/rules", 200, []string{"new_order", "order.total >= 100", "ops_ding → ops_feishu", "高"}, nil},
		{"assets", "/assets/console.css", 200, []string{"@media (max-width: 720px)"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := f.do(t, "GET", tt.path, nil)
			body := html.UnescapeString(w.Body.String())
			if w.Code != tt.status {
				t.Fatalf("GET %s = %d, want %d\n%s", tt.path, w.Code, tt.status, body)
			}
			for _, s := range tt.want {
				if !strings.Contains(body, s) {
					t.Errorf("GET %s: no %q in the page", tt.path, s)
				}
			}
			for _, s := range tt.notWant {
				if strings.Contains(body, s) {
					t.Errorf("GET %s: %q is in the page", tt.path, s)
				}
			}
			if w.Code != http.StatusFound && strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
				checkForms(t, w.Body.String())
				if !strings.Contains(body, `<meta name="csrf-token" content="`+csrfToken+`">`) {
					t.Errorf("GET %s: no csrf-token meta", tt.path)
				}
				for _, nav := range []string{"/orders", "/exceptions", "/deliveries", "/syncs", "/rules"} {
					if !strings.Contains(body, `href="`+nav+`"`) {
						t.Errorf("GET %s: nav has no %s", tt.path, nav)
					}
				}
			}
		})
	}
}

var (
	formRe = regexp.MustCompile(`(?s)<form\b[^>]*>.*?</form>`)
	postRe = regexp.MustCompile(`<form\b[^>]*method="post"`)
)

// checkForms fails unless every POST form on the page carries the
// viewer's CSRF token.
func checkForms(t *testing.T, body string) {
	t.Helper()
	forms := formRe.FindAllString(body, -1)
	if len(forms) == 0 {
		t.Error("no form on the page (the language switch is on every page)")
	}
	for _, form := range forms {
		if postRe.MatchString(form) && !strings.Contains(form, `<input type="hidden" name="csrf_token" value="`+csrfToken+`">`) {
			t.Errorf("a POST form without the csrf_token field: %s", form)
		}
	}
}

func TestOrdersPaging(t *testing.T) {
	f := newFixture(t)
	// 60 more orders: a page holds 50.
	var in []store.Incoming
	for i := range 60 {
		o := mkOrder("bulk", "B"+strconv.Itoa(1000+i), "paid", "13600000000")
		in = append(in, store.Incoming{Order: o, Raw: []byte(`{}`), ReceivedAt: placed.AddDate(0, 0, -1).Add(timeMinutes(i))})
	}
	if _, err := f.store.Apply(context.Background(), in, nil); err != nil {
		t.Fatal(err)
	}
	w := f.do(t, "GET", "/orders?source=bulk", nil)
	body := w.Body.String()
	m := regexp.MustCompile(`href="/orders\?([^"]+)" rel="next"`).FindStringSubmatch(body)
	if w.Code != 200 || m == nil || strings.Count(body, `href="/orders/bulk/`) != 50 || !strings.Contains(body, "B1059") || strings.Contains(body, ">B1009<") {
		t.Fatalf("first page: %d, next %v, %d orders", w.Code, m, strings.Count(body, `href="/orders/bulk/`))
	}
	next := strings.ReplaceAll(m[1], "&amp;", "&")
	if !strings.Contains(next, "source=bulk") {
		t.Fatalf("the next page's link %q drops the filter", next)
	}
	w = f.do(t, "GET", "/orders?"+next, nil)
	body = w.Body.String()
	if w.Code != 200 || strings.Count(body, `href="/orders/bulk/`) != 10 || !strings.Contains(body, ">B1009<") || strings.Contains(body, `rel="next"`) {
		t.Fatalf("second page: %d, %d orders\n%s", w.Code, strings.Count(body, `href="/orders/bulk/`), body)
	}
}

func TestActions(t *testing.T) {
	operator := Viewer{Name: "李运营", Role: RoleOperator, CSRF: csrfToken}
	tests := []struct {
		name     string
		viewer   Viewer
		path     func(f *fixture) string
		form     url.Values
		status   int
		location string // the redirect, for a 303
		changed  bool   // whether the exception or delivery changed
	}{
		{"retry", operator, exPath("retry"), url.Values{"csrf_token": {csrfToken}, "next": {"/exceptions"}}, 303, "/exceptions?done=retried", true},
		{"skip", operator, exPath("skip"), url.Values{"csrf_token": {csrfToken}, "next": {"/exceptions"}}, 303, "/exceptions?done=skipped", true},
		{"retry without the token", operator, exPath("retry"), url.Values{"next": {"/exceptions"}}, 403, "", false},
		{"retry with another token", operator, exPath("retry"), url.Values{"csrf_token": {"forged"}}, 403, "", false},
		{"a viewer may not retry", Viewer{Name: "只读", Role: RoleViewer, CSRF: csrfToken}, exPath("retry"), url.Values{"csrf_token": {csrfToken}}, 403, "", false},
		{"anonymous may not retry", Viewer{}, exPath("retry"), url.Values{"csrf_token": {""}}, 403, "", false},
		{"resend a failed one", operator, func(f *fixture) string { return "/deliveries/" + strconv.FormatInt(f.failed, 10) + "/resend" },
			url.Values{"csrf_token": {csrfToken}, "next": {"/deliveries?status=failed"}}, 303, "/deliveries?done=resent&status=failed", true},
		{"resend a sent one", operator, func(f *fixture) string { return "/deliveries/" + strconv.FormatInt(f.sent, 10) + "/resend" },
			url.Values{"csrf_token": {csrfToken}, "next": {"/deliveries"}}, 303, "/deliveries?err=not_failed", false},
		{"resend without the token", operator, func(f *fixture) string { return "/deliveries/" + strconv.FormatInt(f.failed, 10) + "/resend" },
			url.Values{}, 403, "", false},
		{"next must stay on this server", operator, exPath("retry"), url.Values{"csrf_token": {csrfToken}, "next": {"//evil.example/x"}}, 303, "/orders?done=retried", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.as(tt.viewer)
			w := f.do(t, "POST", tt.path(f), tt.form)
			if w.Code != tt.status || w.Header().Get("Location") != tt.location {
				t.Fatalf("POST %s = %d to %q, want %d to %q\n%s", tt.path(f), w.Code, w.Header().Get("Location"), tt.status, tt.location, w.Body.String())
			}
			it, err := f.store.GetFlowItem(context.Background(), f.exception)
			if err != nil {
				t.Fatal(err)
			}
			dl, _, err := f.store.GetDelivery(context.Background(), f.failed)
			if err != nil {
				t.Fatal(err)
			}
			changed := it.State != store.FlowException || dl.State != store.DeliveryFailed
			if changed != tt.changed {
				t.Fatalf("after POST: exception %s, failed delivery %s; changed = %v, want %v", it.State, dl.State, changed, tt.changed)
			}
			if tt.status == 303 {
				// The page it returns to says what happened.
				page := f.do(t, "GET", tt.location, nil).Body.String()
				if !strings.Contains(page, `class="notice"`) && !strings.Contains(page, `class="alert"`) {
					t.Errorf("GET %s shows no notice", tt.location)
				}
			}
		})
	}
	t.Run("a second retry finds it handled", func(t *testing.T) {
		f := newFixture(t)
		form := url.Values{"csrf_token": {csrfToken}, "next": {"/exceptions"}}
		f.do(t, "POST", exPath("retry")(f), form)
		w := f.do(t, "POST", exPath("retry")(f), form)
		if w.Code != 303 || w.Header().Get("Location") != "/exceptions?err=not_exception" {
			t.Fatalf("second retry = %d to %q", w.Code, w.Header().Get("Location"))
		}
	})
}

func exPath(action string) func(f *fixture) string {
	return func(f *fixture) string { return "/exceptions/" + strconv.FormatInt(f.exception, 10) + "/" + action }
}

func TestRoleHidesButtons(t *testing.T) {
	tests := []struct {
		name    string
		viewer  Viewer
		buttons bool
		header  string
	}{
		{"admin", Viewer{Name: "张管理", Role: RoleAdmin, CSRF: csrfToken}, true, "张管理"},
		{"operator", Viewer{Name: "李运营", Role: RoleOperator, CSRF: csrfToken}, true, "李运营"},
		{"viewer", Viewer{Name: "赵只读", Role: RoleViewer, CSRF: csrfToken}, false, "赵只读"},
		{"anonymous", Viewer{}, false, "未登录（只读）"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.as(tt.viewer)
			for _, p := range []string{"/exceptions", "/deliveries", "/deliveries/" + strconv.FormatInt(f.failed, 10)} {
				body := f.do(t, "GET", p, nil).Body.String()
				has := strings.Contains(body, "/retry\"") || strings.Contains(body, "/resend\"")
				if has != tt.buttons {
					t.Errorf("GET %s as %s: action buttons shown = %v, want %v", p, tt.name, has, tt.buttons)
				}
				if !strings.Contains(body, tt.header) {
					t.Errorf("GET %s: the header does not show %q", p, tt.header)
				}
			}
		})
	}
}

func TestPIIViewer(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		pii  bool
		path string
	}{
		{true, "/orders"}, {true, "/orders/shop/M1001"}, {false, "/orders"}, {false, "/orders/shop/M1001"},
	}
	for _, tt := range tests {
		f.as(Viewer{Name: "张管理", Role: RoleAdmin, CSRF: csrfToken, PII: tt.pii})
		body := html.UnescapeString(f.do(t, "GET", tt.path, nil).Body.String())
		if strings.Contains(body, buyerPhone) != tt.pii || strings.Contains(body, "138****1234") == tt.pii {
			t.Errorf("GET %s with PII %v: unmasked phone shown = %v", tt.path, tt.pii, strings.Contains(body, buyerPhone))
		}
	}
}

func TestLanguage(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name     string
		viewer   Viewer
		form     url.Values
		status   int
		cookie   string // the cookie set, "" for none
		location string
	}{
		{"to English", Viewer{Name: "a", Role: RoleViewer, CSRF: csrfToken}, url.Values{"csrf_token": {csrfToken}, "lang": {"en"}, "next": {"/orders?status=paid"}}, 303, "en", "/orders?status=paid"},
		{"back to Chinese", Viewer{Name: "a", Role: RoleViewer, CSRF: csrfToken}, url.Values{"csrf_token": {csrfToken}, "lang": {"zh-CN"}, "next": {"/exceptions"}}, 303, "zh-CN", "/exceptions"},
		{"without the token", Viewer{Name: "a", Role: RoleViewer, CSRF: csrfToken}, url.Values{"lang": {"en"}}, 403, "", ""},
		{"an unknown language", Viewer{Name: "a", Role: RoleViewer, CSRF: csrfToken}, url.Values{"csrf_token": {csrfToken}, "lang": {"fr"}}, 400, "", ""},
		{"elsewhere is not followed", Viewer{Name: "a", Role: RoleViewer, CSRF: csrfToken}, url.Values{"csrf_token": {csrfToken}, "lang": {"en"}, "next": {"https://evil.example/"}}, 303, "en", "/orders"},
		{"anonymous, no session to check", Viewer{}, url.Values{"lang": {"en"}, "next": {"/rules"}}, 303, "en", "/rules"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.as(tt.viewer)
			w := f.do(t, "POST", "/lang", tt.form)
			var got string
			for _, c := range w.Result().Cookies() {
				if c.Name == langCookie {
					got = c.Value
					if !c.HttpOnly || c.Path != "/" {
						t.Errorf("cookie %+v: want HttpOnly on /", c)
					}
				}
			}
			if w.Code != tt.status || got != tt.cookie || w.Header().Get("Location") != tt.location {
				t.Fatalf("POST /lang = %d, cookie %q, to %q; want %d, %q, %q", w.Code, got, w.Header().Get("Location"), tt.status, tt.cookie, tt.location)
			}
		})
	}
	// A user the store knows keeps the choice.
	if _, err := f.store.CreateUser(context.Background(), "王芳", "viewer", "x", placed); err != nil {
		t.Fatal(err)
	}
	f.as(Viewer{Name: "王芳", Role: RoleViewer, CSRF: csrfToken})
	if w := f.do(t, "POST", "/lang", url.Values{"csrf_token": {csrfToken}, "lang": {"en"}}); w.Code != 303 {
		t.Fatalf("POST /lang as a store user = %d", w.Code)
	}
	if u, err := f.store.GetUser(context.Background(), "王芳"); err != nil || u.Lang != "en" {
		t.Fatalf("the user's language after the switch: %q, %v; want en", u.Lang, err)
	}
	f.as(Viewer{Name: "a", Role: RoleViewer, CSRF: csrfToken})
	en := f.do(t, "GET", "/orders/shop/M1001", nil, &http.Cookie{Name: langCookie, Value: "en"}).Body.String()
	for _, s := range []string{`<html lang="en">`, "Timeline", "Written to target", "Raw payload", ">中文</button>", "Times are in Asia/Shanghai"} {
		if !strings.Contains(en, s) {
			t.Errorf("in English: no %q", s)
		}
	}
	if strings.Contains(en, "时间线") {
		t.Error("the English page still says 时间线")
	}
	// The viewer's own language applies without a cookie.
	f.as(Viewer{Name: "a", Role: RoleViewer, CSRF: csrfToken, Lang: "en"})
	if body := f.do(t, "GET", "/exceptions", nil).Body.String(); !strings.Contains(body, "<h1>Exceptions</h1>") {
		t.Error("a viewer with Lang en does not get English")
	}
}

func TestMaskRaw(t *testing.T) {
	pii := piiOf(mkOrder("shop", "X", "paid", buyerPhone))
	tests := []struct {
		name, raw string
		want      []string
		notWant   []string
	}{
		{"keys that name PII", `{"receiver_mobile":"13900001111","buyer_tel":"13900002222","consignee":"李四","receiver_address":"北京市朝阳区建国路 1 号","address_id":"77"}`,
			[]string{`"139****1111"`, `"139****2222"`, `"李*"`, `"北京市朝阳区****"`, `"address_id": "77"`}, []string{"13900001111", "李四", "建国路"}},
		{"the buyer's data under any key", `{"memo":"致电` + buyerPhone + `","who":"` + buyerName + `"}`, []string{"致电138****1234", `"王**"`}, []string{buyerPhone, buyerName}},
		{"a phone sent as a number", `{"mobile":13900001111}`, []string{`"139****1111"`}, []string{"13900001111"}},
		{"nested", `{"trade":{"receiver":{"mobile":"13900001111"}}}`, []string{"139****1111"}, []string{"13900001111"}},
		{"not JSON", `mobile=` + buyerPhone + `&name=x`, []string{"138****1234"}, []string{buyerPhone}},
		{"other fields kept", `{"goods_name":"龙井","num":2}`, []string{`"goods_name": "龙井"`, `"num": 2`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := maskRaw([]byte(tt.raw), pii)
			for _, s := range tt.want {
				if !strings.Contains(got, s) {
					t.Errorf("maskRaw(%s) = %s: no %s", tt.raw, got, s)
				}
			}
			for _, s := range tt.notWant {
				if strings.Contains(got, s) {
					t.Errorf("maskRaw(%s) = %s: still has %s", tt.raw, got, s)
				}
			}
		})
	}
}

func TestPatternsAllServed(t *testing.T) {
	// Every pattern the server routes here is one Handler answers: none
	// falls through to a 404 of the inner mux.
	f := newFixture(t)
	for _, p := range Patterns() {
		method, path, _ := strings.Cut(p, " ")
		path = strings.NewReplacer("{$}", "", "{source}", "shop", "{order_no}", "M1001", "{id}", strconv.FormatInt(f.failed, 10)).Replace(path)
		if path == "/assets/" {
			path = "/assets/console.js"
		}
		w := f.do(t, method, path, url.Values{})
		if w.Code == http.StatusNotFound || w.Code == http.StatusMethodNotAllowed {
			t.Errorf("%s %s = %d", method, path, w.Code)
		}
	}
}

func timeMinutes(i int) time.Duration { return time.Duration(i) * time.Minute }

// Bulk retry and skip: the list's form asks first on a page naming each
// exception; only the confirmed form acts, with the same role and CSRF
// checks as one retry.
func TestBulkActions(t *testing.T) {
	operator := Viewer{Name: "李运营", Role: RoleOperator, CSRF: csrfToken}
	ids := func(f *fixture) []string { return []string{strconv.FormatInt(f.exception, 10)} }
	tests := []struct {
		name     string
		viewer   Viewer
		form     func(f *fixture) url.Values
		status   int
		location string
		want     string // in the answer's body
		state    store.FlowState
	}{
		{"asks first", operator, func(f *fixture) url.Values {
			return url.Values{"csrf_token": {csrfToken}, "action": {"retry"}, "id": ids(f), "next": {"/exceptions"}}
		}, 200, "", "将重新写入以下 1 条异常", store.FlowException},
		{"retries when confirmed", operator, func(f *fixture) url.Values {
			return url.Values{"csrf_token": {csrfToken}, "action": {"retry"}, "id": ids(f), "confirm": {"1"}, "next": {"/exceptions"}}
		}, 303, "/exceptions?done=bulk_retried", "", store.FlowPending},
		{"skips when confirmed", operator, func(f *fixture) url.Values {
			return url.Values{"csrf_token": {csrfToken}, "action": {"skip"}, "id": append(ids(f), ids(f)...), "confirm": {"1"}}
		}, 303, "/orders?done=bulk_skipped", "", store.FlowSkipped},
		{"nothing ticked", operator, func(f *fixture) url.Values {
			return url.Values{"csrf_token": {csrfToken}, "action": {"retry"}, "confirm": {"1"}, "next": {"/exceptions"}}
		}, 303, "/exceptions?err=none_selected", "", store.FlowException},
		{"an unknown action", operator, func(f *fixture) url.Values {
			return url.Values{"csrf_token": {csrfToken}, "action": {"delete"}, "id": ids(f), "confirm": {"1"}}
		}, 400, "", "未知的批量操作", store.FlowException},
		{"an unknown exception", operator, func(f *fixture) url.Values {
			return url.Values{"csrf_token": {csrfToken}, "action": {"retry"}, "id": {"999999"}, "confirm": {"1"}}
		}, 404, "", "找不到异常", store.FlowException},
		{"without the token", operator, func(f *fixture) url.Values {
			return url.Values{"action": {"retry"}, "id": ids(f), "confirm": {"1"}}
		}, 403, "", "", store.FlowException},
		{"a viewer may not", Viewer{Name: "只读", Role: RoleViewer, CSRF: csrfToken}, func(f *fixture) url.Values {
			return url.Values{"csrf_token": {csrfToken}, "action": {"retry"}, "id": ids(f), "confirm": {"1"}}
		}, 403, "", "", store.FlowException},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.as(tt.viewer)
			w := f.do(t, "POST", "/exceptions/bulk", tt.form(f))
			if w.Code != tt.status || w.Header().Get("Location") != tt.location || !strings.Contains(w.Body.String(), tt.want) {
				t.Fatalf("POST /exceptions/bulk = %d to %q, want %d to %q with %q\n%s", w.Code, w.Header().Get("Location"), tt.status, tt.location, tt.want, w.Body.String())
			}
			it, err := f.store.GetFlowItem(context.Background(), f.exception)
			if err != nil {
				t.Fatal(err)
			}
			if it.State != tt.state {
				t.Errorf("the exception is %s, want %s", it.State, tt.state)
			}
			if tt.status == 200 && !strings.Contains(w.Body.String(), `name="confirm" value="1"`) {
				t.Errorf("the confirmation page has no confirming form:\n%s", w.Body.String())
			}
		})
	}
	t.Run("the list offers it to those who may act", func(t *testing.T) {
		f := newFixture(t)
		f.as(operator)
		body := f.do(t, "GET", "/exceptions", nil).Body.String()
		if !strings.Contains(body, `action="/exceptions/bulk"`) || !strings.Contains(body, `form="bulk"`) {
			t.Errorf("an operator's list has no bulk form:\n%s", body)
		}
		f.as(Viewer{Name: "只读", Role: RoleViewer, CSRF: csrfToken})
		if body := f.do(t, "GET", "/exceptions", nil).Body.String(); strings.Contains(body, `/exceptions/bulk`) || strings.Contains(body, `type="checkbox"`) {
			t.Errorf("a viewer's list offers bulk actions")
		}
	})
}
