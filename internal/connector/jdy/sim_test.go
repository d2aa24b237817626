package jdy

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawCall is one hand-built gateway request, signed correctly unless a
// test spoils it.
type rawCall struct {
	method, path string
	query        url.Values
	body         string
	nonce, ts    string
	header       map[string]string // set after signing; "" deletes
	secret       string            // signing secret, default the sim's
}

// do sends c to p's simulator and returns the status and decoded answer.
func (p *simPair) do(t *testing.T, c rawCall) (int, map[string]any) {
	t.Helper()
	sc := p.sim.Config()
	if c.method == "" {
		c.method = http.MethodPost
	}
	if c.ts == "" {
		c.ts = strconv.FormatInt(p.clock.Now().UnixMilli(), 10)
	}
	if c.nonce == "" {
		p.nonce++
		c.nonce = strconv.FormatInt(7_000_000_000+p.nonce, 10)
	}
	if c.secret == "" {
		c.secret = sc.ClientSecret
	}
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequest(c.method, p.srv.URL+c.path+"?"+EncodeQuery(c.query), body)
	if err != nil {
		t.Fatal(err)
	}
	h := map[string]string{
		HeaderClientID: sc.ClientID, HeaderAuthVersion: AuthVersion, HeaderTimestamp: c.ts, HeaderNonce: c.nonce,
		HeaderSignHeaders: SignHeaders, HeaderSignature: Signature(c.secret, StringToSign(c.method, c.path, c.query, c.nonce, c.ts)),
		"Content-Type": "application/json",
	}
	if c.path != PathToken {
		h[HeaderAppToken] = p.token(t)
		h[HeaderRouterAddr] = sc.Domain
	}
	for k, v := range c.header {
		h[k] = v
	}
	for k, v := range h {
		if v != "" {
			req.Header[k] = []string{v}
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("answer %d is not JSON: %s", resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

// token is an app-token fetched by hand (once per pair).
func (p *simPair) token(t *testing.T) string {
	t.Helper()
	if p.tok != "" {
		return p.tok
	}
	sc := p.sim.Config()
	st, ans := p.do(t, rawCall{method: http.MethodGet, path: PathToken, query: url.Values{
		"app_key": {sc.AppKey}, "app_signature": {AppSignature(sc.AppKey, sc.AppSecret)}}})
	data, _ := ans["data"].(map[string]any)
	tok, _ := data["app-token"].(string)
	if st != 200 || tok == "" || data["domain"] != sc.Domain {
		t.Fatalf("token call: %d %v", st, ans)
	}
	p.tok = tok
	return tok
}

func errcode(ans map[string]any) int {
	f, _ := ans["errcode"].(float64)
	return int(f)
}

func sample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSimIsStrict sends hand-built requests, each wrong in one way, and
// expects the gateway's refusal; a good request proves each is wrong only
// in the way it says.
func TestSimIsStrict(t *testing.T) {
	good := `{"billdate":"2026-11-11","billno":"JY-S","customerid_number":"SHOP-A","material_entity":[{"materialid_number":"SKU-RED-M","qty":"1"}]}`
	line := func(fields string) string {
		return `{"billdate":"2026-11-11","billno":"JY-L","customerid_number":"SHOP-A","material_entity":[{` + fields + `}]}`
	}
	min := 60_000
	cases := []struct {
		name     string
		call     func(p *simPair) rawCall
		status   int
		code     int
		descHas  string
		noEffect bool
	}{
		{"good bill", func(p *simPair) rawCall { return rawCall{path: PathSalOrderSave, body: good} }, 200, 0, "success", false},
		{"bad signature", func(p *simPair) rawCall {
			return rawCall{path: PathSalOrderSave, body: good, secret: "wrong"}
		}, 401, CodeSignature, "签名", true},
		{"signature over another path", func(p *simPair) rawCall {
			c := rawCall{path: PathSalOrderSave, body: good}
			c.header = map[string]string{HeaderSignature: Signature(p.sim.Config().ClientSecret, StringToSign("POST", PathSalOrderList, nil, "42", strconv.FormatInt(p.clock.Now().UnixMilli(), 10)))}
			c.nonce = "42"
			return c
		}, 401, CodeSignature, "签名", true},
		{"timestamp 6 minutes old", func(p *simPair) rawCall {
			return rawCall{path: PathSalOrderSave, body: good, ts: strconv.FormatInt(p.clock.Now().UnixMilli()-int64(6*min), 10)}
		}, 401, CodeTimestamp, "TimeStamp", true},
		{"timestamp 6 minutes ahead", func(p *simPair) rawCall {
			return rawCall{path: PathSalOrderSave, body: good, ts: strconv.FormatInt(p.clock.Now().UnixMilli()+int64(6*min), 10)}
		}, 401, CodeTimestamp, "TimeStamp", true},
		{"timestamp in seconds", func(p *simPair) rawCall {
			return rawCall{path: PathSalOrderSave, body: good, ts: strconv.FormatInt(p.clock.Now().Unix(), 10)}
		}, 401, CodeTimestamp, "TimeStamp", true},
		{"missing nonce", func(p *simPair) rawCall {
			return rawCall{path: PathSalOrderSave, body: good, header: map[string]string{HeaderNonce: ""}}
		}, 401, CodeHeader, HeaderNonce, true},
		{"nonce not a number", func(p *simPair) rawCall { return rawCall{path: PathSalOrderSave, body: good, nonce: "abc"} }, 401, CodeHeader, "正整数", true},
		{"auth version 1.0", func(p *simPair) rawCall {
			return rawCall{path: PathSalOrderSave, body: good, header: map[string]string{HeaderAuthVersion: "1.0"}}
		}, 401, CodeHeader, "2.0", true},
		{"signheaders without nonce", func(p *simPair) rawCall {
			return rawCall{path: PathSalOrderSave, body: good, header: map[string]string{HeaderSignHeaders: "X-Api-TimeStamp"}}
		}, 401, CodeHeader, "SignHeaders", true},
		{"unknown client id", func(p *simPair) rawCall {
			return rawCall{path: PathSalOrderSave, body: good, header: map[string]string{HeaderClientID: "someone-else"}}
		}, 401, CodeClientID, "ClientID", true},
		{"no app-token", func(p *simPair) rawCall {
			return rawCall{path: PathSalOrderSave, body: good, header: map[string]string{HeaderAppToken: ""}}
		}, 401, CodeTokenInvalid, "app-token", true},
		{"unknown app-token", func(p *simPair) rawCall {
			return rawCall{path: PathSalOrderSave, body: good, header: map[string]string{HeaderAppToken: "forged"}}
		}, 401, CodeTokenInvalid, "app-token", true},
		{"expired app-token", func(p *simPair) rawCall {
			p.token(t)
			p.clock.Advance(24*time.Hour + time.Second)
			return rawCall{path: PathSalOrderSave, body: good}
		}, 401, CodeTokenInvalid, "过期", true},
		{"wrong router address", func(p *simPair) rawCall {
			return rawCall{path: PathSalOrderSave, body: good, header: map[string]string{HeaderRouterAddr: "https://tf2.jdy.com"}}
		}, 400, CodeRouterAddr, "X-GW-Router-Addr", true},
		{"no router address", func(p *simPair) rawCall {
			return rawCall{path: PathSalOrderSave, body: good, header: map[string]string{HeaderRouterAddr: ""}}
		}, 400, CodeRouterAddr, "X-GW-Router-Addr", true},
		{"not JSON content", func(p *simPair) rawCall {
			return rawCall{path: PathSalOrderSave, body: good, header: map[string]string{"Content-Type": "text/plain"}}
		}, 200, CodeInvalid, "application/json", true},
		{"no billdate", func(p *simPair) rawCall {
			return rawCall{path: PathSalOrderSave, body: strings.Replace(good, `"billdate":"2026-11-11",`, "", 1)}
		}, 200, CodeInvalid, "billdate", true},
		{"billdate with slashes", func(p *simPair) rawCall {
			return rawCall{path: PathSalOrderSave, body: strings.Replace(good, "2026-11-11", "2026/11/11", 1)}
		}, 200, CodeInvalid, "yyyy-MM-dd", true},
		{"billdate with a time", func(p *simPair) rawCall {
			return rawCall{path: PathSalOrderSave, body: strings.Replace(good, "2026-11-11", "2026-11-11 10:00:00", 1)}
		}, 200, CodeInvalid, "yyyy-MM-dd", true},
		{"no customer", func(p *simPair) rawCall {
			return rawCall{path: PathSalOrderSave, body: strings.Replace(good, `"customerid_number":"SHOP-A",`, "", 1)}
		}, 200, CodeInvalid, "客户不能为空", true},
		{"unknown customer", func(p *simPair) rawCall {
			return rawCall{path: PathSalOrderSave, body: strings.Replace(good, "SHOP-A", "SHOP-Z", 1)}
		}, 200, CodeNotFound, "客户编码[SHOP-Z]不存在", true},
		{"no lines", func(p *simPair) rawCall {
			return rawCall{path: PathSalOrderSave, body: `{"billdate":"2026-11-11","billno":"JY-L","customerid_number":"SHOP-A","material_entity":[]}`}
		}, 200, CodeInvalid, "material_entity", true},
		{"unknown material", func(p *simPair) rawCall {
			return rawCall{path: PathSalOrderSave, body: line(`"materialid_number":"SKU-Z","qty":"1"`)}
		}, 200, CodeNotFound, "第1行商品编码[SKU-Z]不存在", true},
		{"unknown material id", func(p *simPair) rawCall {
			return rawCall{path: PathSalOrderSave, body: line(`"materialid_id":"1","qty":"1"`)}
		}, 200, CodeNotFound, "商品id[1]不存在", true},
		{"line without material", func(p *simPair) rawCall { return rawCall{path: PathSalOrderSave, body: line(`"qty":"1"`)} }, 200, CodeInvalid, "商品不能为空", true},
		{"qty zero", func(p *simPair) rawCall {
			return rawCall{path: PathSalOrderSave, body: line(`"materialid_number":"SKU-RED-M","qty":"0"`)}
		}, 200, CodeInvalid, "qty", true},
		{"qty missing", func(p *simPair) rawCall {
			return rawCall{path: PathSalOrderSave, body: line(`"materialid_number":"SKU-RED-M"`)}
		}, 200, CodeInvalid, "qty", true},
		{"unit of another material", func(p *simPair) rawCall {
			return rawCall{path: PathSalOrderSave, body: line(`"materialid_number":"SKU-RED-M","qty":"1","unit_id":"1420169116878110001"`)}
		}, 200, CodeNotFound, "不是商品[SKU-RED-M]的计量单位", true},
		{"unknown stock", func(p *simPair) rawCall {
			return rawCall{path: PathSalOrderSave, body: line(`"materialid_number":"SKU-RED-M","qty":"1","stockid_number":"WH-Z"`)}
		}, 200, CodeNotFound, "仓库编码[WH-Z]不存在", true},
		{"is_free yes", func(p *simPair) rawCall {
			return rawCall{path: PathSalOrderSave, body: line(`"materialid_number":"SKU-RED-M","qty":"1","is_free":"yes"`)}
		}, 200, CodeInvalid, "is_free", true},
		{"negative taxprice", func(p *simPair) rawCall {
			return rawCall{path: PathSalOrderSave, body: line(`"materialid_number":"SKU-RED-M","qty":"1","taxprice":"-1"`)}
		}, 200, CodeInvalid, "taxprice", true},
		{"update of an unknown id", func(p *simPair) rawCall {
			return rawCall{path: PathSalOrderSave, body: strings.Replace(good, `{`, `{"id":"123",`, 1)}
		}, 200, CodeNotFound, "单据[123]不存在", true},
		{"unknown path", func(p *simPair) rawCall { return rawCall{path: "/jdy/sal/nothing", body: good} }, 404, CodeHeader, "接口不存在", true},
		{"list page 0", func(p *simPair) rawCall {
			return rawCall{method: "GET", path: PathSalOrderList, query: url.Values{"page": {"0"}}}
		}, 200, CodeInvalid, "page", true},
		{"list page_size 101", func(p *simPair) rawCall {
			return rawCall{method: "GET", path: PathSalOrderList, query: url.Values{"page_size": {"101"}}}
		}, 200, CodeInvalid, "page_size", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := newSimPair(t, SimConfig{})
			st, ans := p.do(t, tc.call(p))
			desc, _ := ans["description"].(string)
			if st != tc.status || errcode(ans) != tc.code || !strings.Contains(desc, tc.descHas) {
				t.Fatalf("answer %d %v; want %d errcode %d with %q", st, ans, tc.status, tc.code, tc.descHas)
			}
			if tc.noEffect && p.sim.Len() != 0 {
				t.Fatalf("a refused call left %d bills", p.sim.Len())
			}
		})
	}
}

func TestSimNonceIsNotReusedWithinTheWindow(t *testing.T) {
	p := newSimPair(t, SimConfig{})
	call := rawCall{method: "GET", path: PathSalOrderList, nonce: "5551234"}
	if st, ans := p.do(t, call); st != 200 || errcode(ans) != 0 {
		t.Fatalf("first use: %d %v", st, ans)
	}
	p.clock.Advance(4 * time.Minute)
	call.ts = "" // a fresh timestamp, the same nonce
	if st, ans := p.do(t, call); st != 401 || errcode(ans) != CodeNonce {
		t.Fatalf("nonce reused 4 min later: %d %v; want %d", st, ans, CodeNonce)
	}
	// A nonce with a spoiled signature is not remembered.
	if st, ans := p.do(t, rawCall{method: "GET", path: PathSalOrderList, nonce: "777", secret: "wrong"}); errcode(ans) != CodeSignature {
		t.Fatalf("bad signature: %d %v", st, ans)
	}
	if st, ans := p.do(t, rawCall{method: "GET", path: PathSalOrderList, nonce: "777"}); st != 200 {
		t.Fatalf("nonce after a refused call: %d %v", st, ans)
	}
}

func TestSimTokenEndpoint(t *testing.T) {
	p := newSimPair(t, SimConfig{})
	sc := p.sim.Config()
	tokenCall := func(q url.Values) (int, map[string]any) {
		return p.do(t, rawCall{method: "GET", path: PathToken, query: q})
	}
	right := url.Values{"app_key": {sc.AppKey}, "app_signature": {AppSignature(sc.AppKey, sc.AppSecret)}}
	if st, ans := tokenCall(url.Values{"app_key": {"other"}, "app_signature": right["app_signature"]}); st != 200 || errcode(ans) != CodeAppKey {
		t.Fatalf("unknown app_key: %d %v", st, ans)
	}
	if st, ans := tokenCall(url.Values{"app_key": {sc.AppKey}, "app_signature": {AppSignature(sc.AppKey, "rotated")}}); errcode(ans) != CodeAuthKey {
		t.Fatalf("wrong app_signature: %d %v; want %d", st, ans, CodeAuthKey)
	}
	// Two calls a minute are answered; a third within the minute is 429.
	// (The two refusals above count: the limit is on calls, not on tokens.)
	p.clock.Advance(time.Minute)
	for i := range 2 {
		if st, ans := tokenCall(right); st != 200 || errcode(ans) != 0 {
			t.Fatalf("token call %d: %d %v", i+1, st, ans)
		}
	}
	if st, _ := tokenCall(right); st != http.StatusTooManyRequests {
		t.Fatalf("third token call in a minute: %d; want 429", st)
	}
	p.clock.Advance(time.Minute)
	if st, ans := tokenCall(right); st != 200 || errcode(ans) != 0 {
		t.Fatalf("a minute later: %d %v", st, ans)
	}
	if p.sim.TokensIssued() != 3 {
		t.Fatalf("issued %d tokens, want 3", p.sim.TokensIssued())
	}
	if st, ans := p.do(t, rawCall{method: "POST", path: PathToken, query: right}); st != http.StatusMethodNotAllowed {
		t.Fatalf("POST to the token endpoint: %d %v", st, ans)
	}
}

func TestSimAccountThrottle(t *testing.T) {
	p := newSimPair(t, SimConfig{AccountPerMinute: 3})
	for i := range 3 {
		if st, ans := p.do(t, rawCall{method: "GET", path: PathSalOrderList}); st != 200 {
			t.Fatalf("call %d: %d %v", i+1, st, ans)
		}
	}
	st, ans := p.do(t, rawCall{method: "GET", path: PathSalOrderList})
	if st != http.StatusTooManyRequests || ans["code"] != "429" {
		t.Fatalf("fourth call in a minute: %d %v; want 429", st, ans)
	}
	p.clock.Advance(61 * time.Second)
	if st, _ := p.do(t, rawCall{method: "GET", path: PathSalOrderList}); st != 200 {
		t.Fatalf("a minute later: %d", st)
	}
}

func TestSimSaveCreateDuplicateUpdate(t *testing.T) {
	p := newSimPair(t, SimConfig{})
	body := sample(t, "sal_order_save_seed001.json")
	st, ans := p.do(t, rawCall{path: PathSalOrderSave, body: body})
	data, _ := ans["data"].(map[string]any)
	ids, _ := data["ids"].([]any)
	pks, _ := data["successPkIds"].([]any)
	if st != 200 || errcode(ans) != 0 || len(ids) != 1 || len(pks) != 1 || ids[0] != pks[0] {
		t.Fatalf("create: %d %v; want errcode 0 with the id in both ids and successPkIds", st, ans)
	}
	id := ids[0].(string)
	b, ok := p.sim.Bill("JY24111100012")
	if !ok || b.ID != id || len(b.Lines) != 2 || !b.Lines[1].IsFree || b.Lines[0].UnitID != "1420169116878110000" || b.CustomerID != "1420169116878110101" {
		t.Fatalf("stored bill %+v", b)
	}
	if !bytes.Contains(b.Body, []byte("custom_field__4__2obgp309axx5_number")) {
		t.Fatal("the custom field was not kept")
	}
	_, ans = p.do(t, rawCall{path: PathSalOrderSave, body: body})
	if errcode(ans) != CodeDuplicate || ans["description"] != "单据编号[JY24111100012]已存在" {
		t.Fatalf("second create: %v", ans)
	}
	upd := strings.Replace(strings.Replace(body, `{`, `{"id":"`+id+`",`, 1), `"qty": "2"`, `"qty": "5"`, 1)
	_, ans = p.do(t, rawCall{path: PathSalOrderSave, body: upd})
	if errcode(ans) != 0 {
		t.Fatalf("update: %v", ans)
	}
	if b, _ := p.sim.Bill("JY24111100012"); b.Saves != 2 || b.Lines[0].Qty != "5" || p.sim.Count("JY24111100012") != 1 || p.sim.Len() != 1 {
		t.Fatalf("after the update: %+v, %d held", b, p.sim.Len())
	}
	// Without a billno the service numbers the bill itself.
	_, ans = p.do(t, rawCall{path: PathSalOrderSave, body: `{"billdate":"2026-11-11","customerid_number":"SHOP-B","material_entity":[{"materialid_number":"SKU-BLK-L","qty":1.5,"is_free":false}]}`})
	if errcode(ans) != 0 || p.sim.Len() != 2 {
		t.Fatalf("auto-numbered create: %v", ans)
	}
}

func TestSimDuplicateBillNoAllowed(t *testing.T) {
	p := newSimPair(t, SimConfig{DuplicateBillNoAllowed: true})
	for range 2 {
		if _, ans := p.do(t, rawCall{path: PathSalOrderSave, body: sample(t, "sal_order_save_minimal.json")}); errcode(ans) != 0 {
			t.Fatal(ans)
		}
	}
	if n := p.sim.Count("JY24111100013"); n != 2 {
		t.Fatalf("Count = %d, want 2 on an account without unique numbers", n)
	}
}

// The sample bodies in testdata are what a seed 001 mapping produces; the
// simulator seeded with SeedDemo accepts each.
func TestSampleBodiesAreAccepted(t *testing.T) {
	for _, name := range []string{"sal_order_save_seed001.json", "sal_order_save_minimal.json", "sal_order_save_seed001_ids.json"} {
		t.Run(name, func(t *testing.T) {
			p := newSimPair(t, SimConfig{})
			if st, ans := p.do(t, rawCall{path: PathSalOrderSave, body: sample(t, name)}); st != 200 || errcode(ans) != 0 {
				t.Fatalf("%d %v", st, ans)
			}
		})
	}
}

func TestSimListPages(t *testing.T) {
	p := newSimPair(t, SimConfig{})
	for i := range 25 {
		body := strings.Replace(sample(t, "sal_order_save_minimal.json"), "JY24111100013", "JY-P-"+strconv.Itoa(i), 1)
		if _, ans := p.do(t, rawCall{path: PathSalOrderSave, body: body}); errcode(ans) != 0 {
			t.Fatal(ans)
		}
	}
	_, ans := p.do(t, rawCall{method: "GET", path: PathSalOrderList, query: url.Values{"search": {"JY-P-1"}, "page": {"1"}, "page_size": {"5"}}})
	data := ans["data"].(map[string]any)
	// JY-P-1 and JY-P-10 … JY-P-19: eleven matches, three pages of five.
	if data["count"] != float64(11) || data["total_page"] != float64(3) || len(data["rows"].([]any)) != 5 {
		t.Fatalf("search page 1: %v", data)
	}
	_, ans = p.do(t, rawCall{method: "GET", path: PathSalOrderList, query: url.Values{"search": {"JY-P-1"}, "page": {"3"}, "page_size": {"5"}}})
	if rows := ans["data"].(map[string]any)["rows"].([]any); len(rows) != 1 {
		t.Fatalf("search page 3: %v", rows)
	}
}
