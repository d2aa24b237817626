package jdy

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"orderhub/internal/connector"
	"orderhub/internal/connector/connectortest"
	"orderhub/internal/connector/simfault"
)

// canned is a gateway that issues tokens and answers every business call
// with one fixed answer, to pin how each answer is classified without the
// simulator's own idea of the service.
type canned struct {
	status      int
	body        string
	header      http.Header
	tokenStatus int
	tokenBody   string
	tokens      atomic.Int32
	calls       atomic.Int32
}

func (c *canned) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == PathToken {
		c.tokens.Add(1)
		if c.tokenBody != "" {
			w.WriteHeader(c.tokenStatus)
			io.WriteString(w, c.tokenBody)
			return
		}
		io.WriteString(w, `{"errcode":0,"description":"success","data":{"app-token":"tok-`+itoa(int(c.tokens.Load()))+`","domain":"https://tf.jdy.com","uid":"1"}}`)
		return
	}
	c.calls.Add(1)
	for k, v := range c.header {
		w.Header()[k] = v
	}
	w.WriteHeader(c.status)
	io.WriteString(w, c.body)
}

func cannedClient(t *testing.T, h http.Handler) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := New(Options{System: "xingchen", BaseURL: srv.URL, ClientID: "c", ClientSecret: "s", AppKey: "k", AppSecret: "a",
		HTTP: &http.Client{Timeout: 5 * time.Second}, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// writeErr is the error of writing one good bill: the call's error, or
// the bill's refusal.
func writeOnce(c *Client) (connector.WriteResult, error) {
	res, err := c.Write(context.Background(), APISalOrderSave, []connector.Bill{goodBill("JY1")})
	if err != nil {
		return connector.WriteResult{}, err
	}
	if res[0].Err != nil {
		return res[0], res[0].Err
	}
	return res[0], nil
}

func findOnce(c *Client) error {
	_, _, err := c.Find(context.Background(), APISalOrderSave, "JY1")
	return err
}

func TestAnswersToClasses(t *testing.T) {
	type op func(*Client) error
	write := func(c *Client) error { _, err := writeOnce(c); return err }
	cases := []struct {
		name string
		h    *canned
		op   op
		want connector.Class
	}{
		{"429 on write", &canned{status: 429, body: `{"code":"429","description_cn":"请求过于频繁"}`}, write, connector.SlowDown},
		{"429 on find", &canned{status: 429, body: ``}, findOnce, connector.SlowDown},
		{"502 on write", &canned{status: 502, body: `Bad Gateway`}, write, connector.Unknown},
		{"502 on find", &canned{status: 502, body: `Bad Gateway`}, findOnce, connector.Retry},
		{"519 on write", &canned{status: 519, body: `{"code":519,"description_cn":"网关错误"}`}, write, connector.Unknown},
		{"519 on find", &canned{status: 519, body: `{"code":519,"description_cn":"网关错误"}`}, findOnce, connector.Retry},
		{"system error on write", &canned{status: 200, body: `{"errcode":2000002000,"description":"系统异常，请到开发者社区提单"}`}, write, connector.Unknown},
		{"system error on find", &canned{status: 200, body: `{"errcode":2000002000,"description":"系统异常"}`}, findOnce, connector.Retry},
		{"bad signature", &canned{status: 401, body: `{"errcode":1030001002,"description":"签名校验失败"}`}, write, connector.Permanent},
		{"unknown client id", &canned{status: 401, body: `{"errcode":1030001005,"description":"X-Api-ClientID 无效"}`}, write, connector.Permanent},
		{"stale timestamp", &canned{status: 401, body: `{"errcode":1030001003,"description":"时间戳过期"}`}, write, connector.Permanent},
		{"reused nonce", &canned{status: 401, body: `{"errcode":1030001004,"description":"nonce 重复"}`}, write, connector.Retry},
		{"router address", &canned{status: 400, body: `{"errcode":1030003002,"description":"X-GW-Router-Addr 不一致"}`}, write, connector.Permanent},
		{"token refused twice", &canned{status: 401, body: `{"errcode":1030003001,"description":"app-token 无效或已过期"}`}, write, connector.Retry},
		{"token refused twice on find", &canned{status: 401, body: `{"errcode":1030003001,"description":"app-token 无效或已过期"}`}, findOnce, connector.Retry},
		{"auth key refused twice", &canned{status: 200, body: `{"errcode":1030002006,"description":"授权密钥校验失败"}`}, write, connector.Permanent},
		{"token call: auth key", &canned{tokenStatus: 200, tokenBody: `{"errcode":1030002006,"description":"授权密钥校验失败"}`}, write, connector.Permanent},
		{"token call: unknown app_key", &canned{tokenStatus: 200, tokenBody: `{"errcode":1030002001,"description":"app_key 不存在"}`}, write, connector.Permanent},
		{"token call: 429", &canned{tokenStatus: 429, tokenBody: `{"code":"429"}`}, write, connector.SlowDown},
		{"token call: 502 is retry, no bill was sent", &canned{tokenStatus: 502, tokenBody: `x`}, write, connector.Retry},
		{"token call: no domain", &canned{tokenStatus: 200, tokenBody: `{"errcode":0,"data":{"app-token":"t"}}`}, write, connector.Permanent},
		{"unknown customer", &canned{status: 200, body: `{"errcode":2000001003,"description":"客户编码[SHOP-X]不存在"}`}, write, connector.Permanent},
		{"unknown material, legacy shape", &canned{status: 200, body: `{"success":false,"message":"第1行商品编码[SKU-X]不存在","errorCode":"2000001003","data":{"success":false,"errorInfo":[{"id":"","msg":"第1行商品编码[SKU-X]不存在"}]}}`}, write, connector.Permanent},
		{"zero errcode around success false", &canned{status: 200, body: `{"errcode":0,"success":false,"errorCode":"2000001003","message":"客户编码[SHOP-X]不存在"}`}, write, connector.Permanent},
		{"zero errcode with data.success false", &canned{status: 200, body: `{"errcode":0,"description":"success","data":{"success":false,"errorInfo":[{"msg":"第1行仓库编码[WH-X]不存在"}]}}`}, write, connector.Permanent},
		{"not JSON", &canned{status: 200, body: `<html>login</html>`}, write, connector.Permanent},
		{"HTML 404", &canned{status: 404, body: `<html>not found</html>`}, write, connector.Permanent},
	}
	var classCases []connectortest.ClassCase
	for _, c := range cases {
		if c.h.status == 0 {
			c.h.status = 200
			c.h.body = `{"errcode":0,"description":"success","data":{"ids":["1"]}}`
		}
		err := c.op(cannedClient(t, c.h))
		classCases = append(classCases, connectortest.ClassCase{Name: c.name, Err: err, Want: c.want})
		if ce, ok := connector.AsCallError(err); ok && ce.Class == connector.Permanent && ce.Hint == "" {
			t.Errorf("%s: a permanent error without a hint: %v", c.name, err)
		}
	}
	connectortest.CheckClasses(t, classCases)
}

func TestTokenRefusedOnceIsFetchedAgain(t *testing.T) {
	for _, code := range []string{"1030003001", "1030002006"} {
		t.Run(code, func(t *testing.T) {
			h := &refuseFirst{code: code}
			c := cannedClient(t, h)
			r, err := writeOnce(c)
			if err != nil || r.ID != "42" {
				t.Fatalf("write = %+v, %v; want id 42 after one new token", r, err)
			}
			if n := h.tokens.Load(); n != 2 {
				t.Fatalf("token fetched %d times, want 2", n)
			}
		})
	}
}

// refuseFirst refuses the first business call's token.
type refuseFirst struct {
	code   string
	tokens atomic.Int32
	calls  atomic.Int32
}

func (h *refuseFirst) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == PathToken {
		n := h.tokens.Add(1)
		io.WriteString(w, `{"errcode":0,"data":{"app-token":"tok-`+itoa(int(n))+`","domain":"https://tf.jdy.com"}}`)
		return
	}
	if h.calls.Add(1) == 1 {
		io.WriteString(w, `{"errcode":`+h.code+`,"description":"app-token 已过期"}`)
		return
	}
	if r.Header.Get(HeaderAppToken) != "tok-2" {
		io.WriteString(w, `{"errcode":1030003001,"description":"app-token 无效"}`)
		return
	}
	io.WriteString(w, `{"errcode":0,"data":{"successPkIds":[42]}}`)
}

func TestRetryAfterIsRead(t *testing.T) {
	c := cannedClient(t, &canned{status: 429, body: `{}`, header: http.Header{"Retry-After": {"7"}}})
	_, err := writeOnce(c)
	ce, ok := connector.AsCallError(err)
	if !ok || ce.Class != connector.SlowDown || ce.RetryAfter != 7*time.Second {
		t.Fatalf("429 with Retry-After: 7 = %+v; want SlowDown after 7s", err)
	}
}

func TestRefusalNamesFieldAndHint(t *testing.T) {
	cases := []struct {
		msg, field, hintHas string
		body                map[string]any
	}{
		{"客户编码[SHOP-X]不存在", "customerid_number", "SHOP-X", goodBill("x").Body},
		{"客户id[99]不存在", "customerid_id", "99", map[string]any{"customerid_id": "99"}},
		{"第2行商品编码[SKU-X]不存在", "material_entity[1].materialid_number", "lookup", goodBill("x").Body},
		{"第1行商品id[7]不存在", "material_entity[0].materialid_id", "7", map[string]any{"material_entity": []any{map[string]any{"materialid_id": "7"}}}},
		{"第1行仓库编码[WH-X]不存在", "material_entity[0].stockid_number", "仓库", goodBill("x").Body},
		{"第1行单位[5]不是商品[SKU-RED-M]的计量单位", "material_entity[0].unit_id", "单位", goodBill("x").Body},
		{"第1行数量 qty 须大于 0：\"0\"", "material_entity[0].qty", "qty", goodBill("x").Body},
		{"单据日期 billdate 须为 yyyy-MM-dd：2024/11/11", "billdate", "yyyy-MM-dd", goodBill("x").Body},
	}
	c := cannedClient(t, &canned{status: 200})
	for _, tc := range cases {
		ce := c.refusal("2000001003", tc.msg, tc.body)
		if ce.Class != connector.Permanent || ce.Field != tc.field || ce.Message != tc.msg || !strings.Contains(ce.Hint, tc.hintHas) {
			t.Errorf("%s: class %s field %q hint %q; want permanent, field %q, hint with %q", tc.msg, ce.Class, ce.Field, ce.Hint, tc.field, tc.hintHas)
		}
	}
}

func TestDuplicateIsRecognisedByConfiguredCodeOrText(t *testing.T) {
	cases := []struct {
		name  string
		codes Codes
		body  string
		dup   bool
	}{
		{"default code", Codes{}, `{"errcode":2000001002,"description":"单据编号[JY1]已存在"}`, true},
		{"text under another code", Codes{}, `{"errcode":500,"description":"单据编号JY1已经被使用"}`, true},
		{"configured code", Codes{Duplicate: []string{"1234"}}, `{"errcode":1234,"description":"编号冲突"}`, true},
		{"configured code replaces the default", Codes{Duplicate: []string{"1234"}}, `{"errcode":2000001002,"description":"编号冲突"}`, false},
		{"other refusal", Codes{}, `{"errcode":2000001003,"description":"客户编码[X]不存在"}`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(&canned{status: 200, body: tc.body})
			defer srv.Close()
			c, err := New(Options{BaseURL: srv.URL, ClientID: "c", ClientSecret: "s", AppKey: "k", AppSecret: "a", Codes: tc.codes, Log: quiet})
			if err != nil {
				t.Fatal(err)
			}
			r, _ := writeOnce(c)
			if r.Duplicate != tc.dup || r.Err == nil {
				t.Fatalf("result %+v; want Duplicate %v with an error", r, tc.dup)
			}
		})
	}
}

func TestBillBody(t *testing.T) {
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == PathToken {
			io.WriteString(w, `{"errcode":0,"data":{"app-token":"t","domain":"https://tf.jdy.com"}}`)
			return
		}
		b, _ := io.ReadAll(r.Body)
		got.Store(string(b))
		io.WriteString(w, `{"errcode":0,"data":{"ids":["9"]}}`)
	}))
	defer srv.Close()
	c, _ := New(Options{BaseURL: srv.URL, ClientID: "c", ClientSecret: "s", AppKey: "k", AppSecret: "a", Log: quiet})
	ctx := context.Background()

	body := map[string]any{"billdate": "2026-11-11", "id": "stale"}
	if _, err := c.Write(ctx, APISalOrderSave, []connector.Bill{{No: "JY1", ID: "9", Body: body}}); err != nil {
		t.Fatal(err)
	}
	if s := got.Load().(string); !strings.Contains(s, `"id":"9"`) || !strings.Contains(s, `"billno":"JY1"`) {
		t.Fatalf("update body %s; want id 9 and billno JY1", s)
	}
	if body["id"] != "stale" || body["billno"] != nil {
		t.Fatal("the caller's body was changed")
	}
	if _, err := c.Write(ctx, APISalOrderSave, []connector.Bill{{No: "JY2", Body: map[string]any{"id": "9"}}}); err != nil {
		t.Fatal(err)
	}
	if s := got.Load().(string); strings.Contains(s, `"id"`) {
		t.Fatalf("create body %s carries an id; a bill without ID must be created", s)
	}
	res, err := c.Write(ctx, APISalOrderSave, []connector.Bill{{No: "JY3", Body: map[string]any{"billno": "OTHER"}}})
	if err != nil || res[0].Err == nil || res[0].Err.Class != connector.Permanent || res[0].Err.Field != "billno" {
		t.Fatalf("billno differing from the bill number: %+v, %v; want a permanent refusal on billno", res, err)
	}
	if _, err := c.Write(ctx, "SAL_RETURNSTOCK", []connector.Bill{{No: "JY4"}}); err == nil {
		t.Fatal("an unknown API was accepted")
	}
}

func TestNewNamesMissingSettings(t *testing.T) {
	_, err := New(Options{ClientID: "c", AppKey: "k"})
	if err == nil || !strings.Contains(err.Error(), "client_secret, app_secret") {
		t.Fatalf("New without secrets: %v", err)
	}
	_, err = New(Options{BaseURL: "api.kingdee.com", ClientID: "c", ClientSecret: "s", AppKey: "k", AppSecret: "a"})
	if err == nil || !strings.Contains(err.Error(), "base_url") {
		t.Fatalf("New with a relative base_url: %v", err)
	}
}

// The token endpoint allows about two calls a minute: concurrent writers
// share one token, which lives until shortly before its 24 hours are up.
func TestTokenIsFetchedOnceAndRenewedBeforeExpiry(t *testing.T) {
	p := newSimPair(t, SimConfig{AccountPerMinute: -1})
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := p.client.Write(ctx, APISalOrderSave, []connector.Bill{goodBill("JY-C-" + itoa(i))})
			if err == nil && res[0].Err != nil {
				err = res[0].Err
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := p.sim.TokensIssued(); n != 1 {
		t.Fatalf("20 concurrent writers fetched %d tokens, want 1", n)
	}
	p.clock.Advance(23 * time.Hour)
	if _, err := writeOnce(p.client); err != nil {
		t.Fatal(err)
	}
	if n := p.sim.TokensIssued(); n != 1 {
		t.Fatalf("after 23 h the client fetched %d tokens, want still 1", n)
	}
	p.clock.Advance(55 * time.Minute) // 23 h 55 m: within 10 min of expiry
	if _, _, err := p.client.Find(ctx, APISalOrderSave, "JY-C-1"); err != nil {
		t.Fatal(err)
	}
	if n := p.sim.TokensIssued(); n != 2 {
		t.Fatalf("near expiry the client holds %d tokens issued, want a second one", n)
	}
}

func TestExpiredTokenIsRenewedInside(t *testing.T) {
	p := newSimPair(t, SimConfig{})
	if _, err := writeOnce(p.client); err != nil {
		t.Fatal(err)
	}
	p.sim.ExpireTokens() // the server forgot it; the client still thinks it valid
	id, found, err := p.client.Find(context.Background(), APISalOrderSave, "JY1")
	if err != nil || !found || id == "" {
		t.Fatalf("Find after the server dropped the token = %q, %v, %v", id, found, err)
	}
	if n := p.sim.TokensIssued(); n != 2 {
		t.Fatalf("tokens issued %d, want 2", n)
	}
}

func TestFindMatchesTheNumberExactly(t *testing.T) {
	p := newSimPair(t, SimConfig{})
	ctx := context.Background()
	ids := map[string]string{}
	for _, no := range []string{"JY-10", "JY-1", "JY-100"} {
		res, err := p.client.Write(ctx, APISalOrderSave, []connector.Bill{goodBill(no)})
		if err != nil || res[0].Err != nil {
			t.Fatal(err, res)
		}
		ids[no] = res[0].ID
	}
	for no, want := range ids {
		id, found, err := p.client.Find(ctx, APISalOrderSave, no)
		if err != nil || !found || id != want {
			t.Errorf("Find(%s) = %q, %v, %v; want %q", no, id, found, err, want)
		}
	}
	if _, found, err := p.client.Find(ctx, APISalOrderSave, "JY-"); err != nil || found {
		t.Errorf("Find of a prefix = %v, %v; want not found", found, err)
	}
}

// Credentials and clocks the gateway refuses, against the simulator: each
// is Permanent with a hint that names what to fix.
func TestSimRefusesBadCredentials(t *testing.T) {
	cases := []struct {
		name    string
		tweak   func(*Options)
		hintHas string
	}{
		{"wrong client_secret", func(o *Options) { o.ClientSecret = "wrong" }, "client_secret"},
		{"wrong client_id", func(o *Options) { o.ClientID = "wrong" }, "client_id"},
		{"wrong app_key", func(o *Options) { o.AppKey = "wrong" }, "app_key"},
		{"rotated app_secret", func(o *Options) { o.AppSecret = "rotated" }, "app_secret"},
		{"clock 10 minutes slow", func(o *Options) {
			now := o.Now
			o.Now = func() time.Time { return now().Add(-10 * time.Minute) }
		}, "时钟"},
		{"router address overridden wrongly", func(o *Options) { o.Domain = "https://tf9.jdy.com" }, "domain"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := newSimPair(t, SimConfig{}, tc.tweak)
			_, err := writeOnce(p.client)
			ce, ok := connector.AsCallError(err)
			if !ok || ce.Class != connector.Permanent || !strings.Contains(ce.Hint, tc.hintHas) || ce.Message == "" || ce.Code == "" {
				t.Fatalf("error %v (hint %q); want permanent with the server's code and message and a hint naming %s", err, ce.Hint, tc.hintHas)
			}
			if p.sim.Len() != 0 {
				t.Fatal("a refused call stored a bill")
			}
		})
	}
}

// The list search is fuzzy and pages hold 100 rows: an exact match on the
// second page is still found.
func TestFindPagesThroughFuzzyMatches(t *testing.T) {
	p := newSimPair(t, SimConfig{AccountPerMinute: -1})
	ctx := context.Background()
	for i := range 120 {
		if r, err := writeBill(p.client, fmt.Sprintf("JY-Q-1-%03d", i)); err != nil || r.Err != nil {
			t.Fatal(err, r.Err)
		}
	}
	last, err := writeBill(p.client, "JY-Q-1")
	if err != nil || last.Err != nil {
		t.Fatal(err, last.Err)
	}
	id, found, err := p.client.Find(ctx, APISalOrderSave, "JY-Q-1")
	if err != nil || !found || id != last.ID {
		t.Fatalf("Find(JY-Q-1) = %q, %v, %v; want %q from page 2", id, found, err, last.ID)
	}
}

func writeBill(c *Client, no string) (connector.WriteResult, error) {
	res, err := c.Write(context.Background(), APISalOrderSave, []connector.Bill{goodBill(no)})
	if err != nil {
		return connector.WriteResult{}, err
	}
	return res[0], nil
}

func TestGateway519(t *testing.T) {
	p := newSimPair(t, SimConfig{Gateway519: true})
	if _, _, err := p.client.Find(context.Background(), APISalOrderSave, "JY-WARM"); err != nil {
		t.Fatal(err)
	}
	p.sim.Faults().Inject(simfault.Fault{Kind: simfault.ServerError, Count: 2})
	_, err := writeOnce(p.client)
	if ce, ok := connector.AsCallError(err); !ok || ce.Class != connector.Unknown || ce.Code != "HTTP 519" || ce.Message != "网关处理异常，请稍后重试" {
		t.Fatalf("519 on a write: %v; want unknown_outcome with the gateway's text", err)
	}
	_, _, err = p.client.Find(context.Background(), APISalOrderSave, "JY1")
	if connector.ClassOf(err) != connector.Retry {
		t.Fatalf("519 on a read: %v; want retry", err)
	}
}
