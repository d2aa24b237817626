package aliyunsms

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"orderhub/internal/connector"
	"orderhub/internal/connector/simfault"
)

// A shipping notice to a buyer and a person: the numbers written with and
// without +86 become one call's PhoneNumbers, the duplicate and the
// recipient without a mobile are left out, and each phone shows the
// approved text with the order's values.
func TestRoundTrip(t *testing.T) {
	r := newRig(t, SimConfig{})
	c := r.client(t, goodSettings())
	m := shipped("+86 138-0000-1234", "13900005678", "8613800001234")
	m.To = append(m.To, connector.Recipient{Person: "li", Email: "li@example.com"})
	res, err := c.Send(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	got := r.sim.Received()
	if len(got) != 2 {
		t.Fatalf("received %+v; want one SMS to each of two numbers", got)
	}
	want := "【某某商城】您的订单D1已由顺丰速运发出，运单号SF1234567890，请留意查收。"
	for i, n := range []string{"13800001234", "13900005678"} {
		g := got[i]
		if g.Number != n || g.Text != want || g.TemplateCode != codeShipped || g.SignName != testSign || g.Signature != "V3" {
			t.Errorf("SMS %d: %+v; want %s to show %s", i, g, n, want)
		}
		if g.BizID != res.MessageID || g.OutID != m.Key {
			t.Errorf("SMS %d: BizId %s, OutId %s; the result says %s, the key is %s", i, g.BizID, g.OutID, res.MessageID, m.Key)
		}
	}
	if res.Code != "OK" || res.MessageID == "" {
		t.Fatalf("result %+v", res)
	}
	if rej := r.sim.Rejected(); len(rej) != 0 {
		t.Fatalf("rejected %+v", rej)
	}
	// The inspection endpoint lists what one number received.
	resp, err := r.srv.Client().Get(r.srv.URL + PathInspect + "?number=13900005678")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct{ Received []Received }
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || len(list.Received) != 1 || list.Received[0].Text != want {
		t.Fatalf("inspect: %+v, %v", list, err)
	}
}

// What cannot be sent as SMS is refused before any call, for good, with a
// hint: a rule template without an SMS template, no recipient with a
// mobile, a number that is not mainland, a value the template needs that
// the message lacks.
func TestRefusedBeforeTheCall(t *testing.T) {
	r := newRig(t, SimConfig{})
	c := r.client(t, goodSettings())
	noTemplate := shipped("13800001234")
	noTemplate.Template = "big_order"
	unnamed := shipped("13800001234")
	unnamed.Template = ""
	noVar := shipped("13800001234")
	delete(noVar.Vars, "tracking")
	for _, tc := range []struct {
		name string
		msg  connector.Message
		hint string
	}{
		{"no SMS template", noTemplate, "templates 中加入 big_order"},
		{"no template", unnamed, "template:"},
		{"no mobile", connector.Message{Template: "shipped", Vars: shipped().Vars, To: []connector.Recipient{{Person: "li", Email: "li@example.com"}}}, "mobile"},
		{"no recipient", shipped(), "mobile"},
		{"not mainland", shipped("+1 415 555 0100", "12345"), "中国大陆手机号"},
		{"missing value", noVar, "tracking"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Send(context.Background(), tc.msg)
			ce, ok := connector.AsCallError(err)
			if !ok || ce.Class != connector.Permanent || !strings.Contains(ce.Hint, tc.hint) {
				t.Fatalf("%v (%+v); want permanent with a hint naming %q", err, ce, tc.hint)
			}
		})
	}
	if n := len(r.sim.Received()) + len(r.sim.Rejected()); n != 0 {
		t.Fatalf("the simulator saw %d calls", n)
	}
}

// Each per-number limit of im.md 5.5 is SlowDown with the wait until the
// oldest send that fills it leaves its span, and a send after that wait
// goes through.
func TestNumberLimits(t *testing.T) {
	cases := []struct {
		name     string
		limits   SimLimits
		template string
		sends    []time.Duration // accepted, at these offsets
		at       time.Duration   // refused here
		level    string
		wait     time.Duration
	}{
		{"verification per minute", SimLimits{}, "verify", []time.Duration{0}, 20 * time.Second, "分钟", 40 * time.Second},
		{"verification per hour", SimLimits{}, "verify",
			[]time.Duration{0, time.Minute, 2 * time.Minute, 3 * time.Minute, 4 * time.Minute}, 10 * time.Minute, "小时", 50 * time.Minute},
		{"verification per day", SimLimits{VerifyPerHour: 100}, "verify", every(10, time.Hour), 12 * time.Hour, "天", 12 * time.Hour},
		{"platform-wide verification per day", SimLimits{VerifyPerHour: 100, VerifyPerDay: 100, PlatformVerifyPerDay: 3}, "verify",
			every(3, 2*time.Minute), 10 * time.Minute, "天", 24*time.Hour - 10*time.Minute},
		{"notification per template per day", SimLimits{}, "shipped", every(50, time.Minute), 60 * time.Minute, "天", 24*time.Hour - 60*time.Minute},
		{"notification limit set lower", SimLimits{TemplatePerDay: 2}, "shipped", every(2, time.Hour), 3 * time.Hour, "天", 21 * time.Hour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, SimConfig{Limits: tc.limits})
			c := r.client(t, goodSettings())
			start := r.clock.Now()
			msg := shipped("13800001234")
			msg.Template = tc.template
			for i, off := range tc.sends {
				r.clock.Add(start.Add(off).Sub(r.clock.Now()))
				if _, err := c.Send(context.Background(), msg); err != nil {
					t.Fatalf("send %d at +%v: %v", i, off, err)
				}
			}
			r.clock.Add(start.Add(tc.at).Sub(r.clock.Now()))
			_, err := c.Send(context.Background(), msg)
			ce, ok := connector.AsCallError(err)
			if !ok || ce.Class != connector.SlowDown || ce.Code != CodeLimitControl || !strings.Contains(ce.Message, tc.level+"级流控") {
				t.Fatalf("at +%v: %v; want SlowDown %s at the %s level", tc.at, err, CodeLimitControl, tc.level)
			}
			if ce.RetryAfter != tc.wait {
				t.Fatalf("RetryAfter %v, want %v", ce.RetryAfter, tc.wait)
			}
			// A moment too early is still refused; after the wait it goes.
			r.clock.Add(tc.wait - time.Second)
			if _, err := c.Send(context.Background(), msg); connector.ClassOf(err) != connector.SlowDown {
				t.Fatalf("a second before the wait ends: %v", err)
			}
			r.clock.Add(time.Second)
			if _, err := c.Send(context.Background(), msg); err != nil {
				t.Fatalf("after the wait: %v", err)
			}
		})
	}
}

func every(n int, step time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i) * step
	}
	return out
}

// Sends the client did not see (another node, a restart) leave it the
// whole span to wait; a whitelisted number has no limit.
func TestNumberLimitsUnseenAndWhitelist(t *testing.T) {
	r := newRig(t, SimConfig{Whitelist: []string{"+8613900005678"}})
	msg := shipped("13800001234")
	msg.Template = "verify"
	if _, err := r.client(t, goodSettings()).Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	r.clock.Add(10 * time.Second)
	_, err := r.client(t, goodSettings()).Send(context.Background(), msg)
	if ce, ok := connector.AsCallError(err); !ok || ce.RetryAfter != time.Minute {
		t.Fatalf("%v; want a wait of the whole minute", err)
	}
	white := shipped("13900005678")
	white.Template = "verify"
	c := r.client(t, goodSettings())
	for i := range 3 {
		if _, err := c.Send(context.Background(), white); err != nil {
			t.Fatalf("whitelisted send %d: %v", i, err)
		}
	}
}

// A call to several numbers with one over its limit: refused whole by
// default, taken for the others with PartialLimit.
func TestLimitInAMultiNumberCall(t *testing.T) {
	for _, partial := range []bool{false, true} {
		r := newRig(t, SimConfig{PartialLimit: partial})
		c := r.client(t, goodSettings())
		one := shipped("13800001234")
		one.Template = "verify"
		if _, err := c.Send(context.Background(), one); err != nil {
			t.Fatal(err)
		}
		both := shipped("13800001234", "13900005678")
		both.Template = "verify"
		_, err := c.Send(context.Background(), both)
		got := len(r.sim.ReceivedBy("13900005678"))
		switch {
		case !partial && (connector.ClassOf(err) != connector.SlowDown || got != 0):
			t.Errorf("whole call: %v, the other number got %d", err, got)
		case partial && (err != nil || got != 1):
			t.Errorf("partial: %v, the other number got %d", err, got)
		}
		if partial {
			rej := r.sim.Rejected()
			if len(rej) != 1 || len(rej[0].Numbers) != 1 || rej[0].Numbers[0] != "13800001234" {
				t.Errorf("rejected %+v", rej)
			}
		}
	}
}

// More than one call's numbers go in batches; a batch the service took is
// not sent again when the message is retried after a later one failed.
func TestBatches(t *testing.T) {
	r := newRig(t, SimConfig{})
	s := goodSettings()
	c := r.client(t, s)
	c.maxNumbers = 2
	var calls atomic.Int32
	r.sim.Faults().Inject(simfault.Fault{Kind: simfault.Throttle, Count: 1, Match: func(*http.Request) bool { return calls.Add(1) == 2 }})
	msg := shipped("13800000001", "13800000002", "13800000003", "13800000004", "13800000005")
	_, err := c.Send(context.Background(), msg)
	if connector.ClassOf(err) != connector.SlowDown {
		t.Fatalf("second batch: %v; want the throttle", err)
	}
	if n := len(r.sim.Received()); n != 2 {
		t.Fatalf("%d SMS after the first batch, want 2", n)
	}
	res, err := c.Send(context.Background(), msg)
	if err != nil {
		t.Fatal(err)
	}
	got := r.sim.Received()
	if len(got) != 5 {
		t.Fatalf("%d SMS, want one to each of 5 numbers", len(got))
	}
	seen := map[string]int{}
	for _, g := range got {
		seen[g.Number]++
	}
	for n, k := range seen {
		if k != 1 {
			t.Errorf("%s got %d SMS", n, k)
		}
	}
	if ids := strings.Split(res.MessageID, ","); len(ids) != 3 || ids[0] != got[0].BizID {
		t.Errorf("MessageID %s; want the three batches' BizIds", res.MessageID)
	}
}

// The simulator's signature checks: what a client gets wrong, the
// simulator refuses with the gateway's code.
func TestSimSignatureChecks(t *testing.T) {
	cases := []struct {
		name   string
		tweak  func(o *Options, r *rig)
		prep   func(r *rig, c *Client) // a call made first
		status int
		code   string
	}{
		{"wrong secret", func(o *Options, _ *rig) { o.AccessKeySecret = "not-the-secret" }, nil, 400, CodeSignatureMismatch},
		{"unknown AccessKey", func(o *Options, _ *rig) { o.AccessKeyID = "LTAI5tUnknown" }, nil, 404, CodeAKNotFound},
		{"clock 16 min fast", func(o *Options, r *rig) { o.Now = func() time.Time { return r.clock.Now().Add(16 * time.Minute) } }, nil, 400, CodeTimeExpired},
		{"clock 16 min slow", func(o *Options, r *rig) { o.Now = func() time.Time { return r.clock.Now().Add(-16 * time.Minute) } }, nil, 400, CodeTimeExpired},
		{"nonce replayed", func(o *Options, _ *rig) { o.Nonce = func() string { return "same-nonce" } },
			func(r *rig, c *Client) {
				if _, err := c.Send(context.Background(), shipped("13800001234")); err != nil {
					panic(err)
				}
			}, 400, CodeNonceUsed},
		{"wrong action", func(o *Options, _ *rig) {}, nil, 0, ""},
	}
	for _, tc := range cases[:len(cases)-1] {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, SimConfig{})
			o := Options{System: "sms", BaseURL: r.srv.URL, AccessKeyID: testAK, AccessKeySecret: testSecret, SignName: testSign,
				Templates: testTemplates, HTTP: r.srv.Client(), Now: r.clock.Now}
			tc.tweak(&o, r)
			c, err := New(o)
			if err != nil {
				t.Fatal(err)
			}
			if tc.prep != nil {
				tc.prep(r, c)
			}
			before := len(r.sim.Received())
			_, err = c.Send(context.Background(), shipped("13800001234"))
			ce, ok := connector.AsCallError(err)
			if !ok || ce.Code != tc.code {
				t.Fatalf("%v; want %s", err, tc.code)
			}
			rej := r.sim.Rejected()
			if last := rej[len(rej)-1]; last.Status != tc.status || last.Code != tc.code {
				t.Fatalf("simulator answered %+v; want HTTP %d %s", last, tc.status, tc.code)
			}
			if len(r.sim.Received()) != before {
				t.Fatal("a refused call was delivered")
			}
		})
	}
}

// Raw requests a client should never send: each is refused.
func TestSimRefusesMalformedCalls(t *testing.T) {
	r := newRig(t, SimConfig{})
	now := r.clock.Now().UTC().Format(timeFormat)
	form := url.Values{"PhoneNumbers": {"13800001234"}, "SignName": {testSign}, "TemplateCode": {codeNew}, "TemplateParam": {`{"order_no":"D1","total":"¥1.00"}`}}
	body := form.Encode()
	signed := func(body string, mutate func(h http.Header), extraUnsigned map[string]string) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, r.srv.URL+"/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("x-acs-action", Action)
		req.Header.Set("x-acs-version", APIVersion)
		req.Header.Set("x-acs-date", now)
		req.Header.Set("x-acs-signature-nonce", randomNonce())
		req.Header.Set("x-acs-content-sha256", sha256hex([]byte(body)))
		if mutate != nil {
			mutate(req.Header)
		}
		host := strings.TrimPrefix(r.srv.URL, "http://")
		v3 := V3Request{Method: http.MethodPost, Path: "/", Headers: SignedHeaders(host, req.Header), PayloadHash: req.Header.Get("x-acs-content-sha256")}
		req.Header.Set("Authorization", v3.Authorization(testAK, testSecret))
		for k, v := range extraUnsigned {
			req.Header.Set(k, v)
		}
		return req
	}
	tampered := signed(body, nil, nil)
	tampered.Body = io.NopCloser(strings.NewReader(strings.Replace(body, "13800001234", "13800009999", 1)))
	tampered.ContentLength = int64(len(body))
	cases := []struct {
		name string
		req  *http.Request
		code string
	}{
		{"good", signed(body, nil, nil), CodeOK},
		{"body changed after signing", tampered, CodeSignatureMismatch},
		{"an x-acs header not signed", signed(body, nil, map[string]string{"x-acs-extra": "1"}), CodeIncompleteSignature},
		{"another action", signed(body, func(h http.Header) { h.Set("x-acs-action", "QuerySendDetails") }, nil), CodeActionNotFound},
		{"another version", signed(body, func(h http.Header) { h.Set("x-acs-version", "2018-01-01") }, nil), CodeInvalidVersion},
		{"date not ISO", signed(body, func(h http.Header) { h.Set("x-acs-date", "Thu, 26 Nov 2026 10:00:15 GMT") }, nil), CodeTimeFormat},
		{"no nonce", signed(body, func(h http.Header) { h.Del("x-acs-signature-nonce") }, nil), "MissingSignatureNonce"},
		{"no authorization scheme", signed(body, nil, map[string]string{"Authorization": "HMAC-SHA256 x"}), CodeIncompleteSignature},
		{"no sign name", signed(url.Values{"PhoneNumbers": {"13800001234"}, "TemplateCode": {codeNew}}.Encode(), nil, nil), "MissingSignName"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := r.srv.Client().Do(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var a answer
			if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || a.Code != tc.code || a.RequestID == "" {
				t.Fatalf("HTTP %d %+v, %v; want %s", resp.StatusCode, a, err, tc.code)
			}
			if (tc.code == CodeOK) != (resp.StatusCode == 200) {
				t.Fatalf("HTTP %d for %s", resp.StatusCode, tc.code)
			}
		})
	}
}

// SendSms's business checks, HTTP 200 with the service's codes.
func TestSimBusinessChecks(t *testing.T) {
	many := make([]string, MaxNumbers+1)
	for i := range many {
		many[i] = "13800001234"
	}
	cases := []struct {
		name    string
		numbers string
		sign    string
		code    string
		param   string
		want    string
	}{
		{"accepted", "13800001234,+8613900005678,008613700001111", testSign, codeNew, `{"order_no":"D1","total":"¥1.00"}`, CodeOK},
		{"bad number", "13800001234,1380000", testSign, codeNew, `{"order_no":"D1","total":"¥1.00"}`, CodeMobileIllegal},
		{"too many numbers", strings.Join(many, ","), testSign, codeNew, `{"order_no":"D1","total":"¥1.00"}`, CodeMobileCount},
		{"unknown sign", "13800001234", "别家商城", codeNew, `{"order_no":"D1","total":"¥1.00"}`, CodeSignIllegal},
		{"unknown template", "13800001234", testSign, "SMS_999", `{"order_no":"D1","total":"¥1.00"}`, CodeTemplateIllegal},
		{"missing variable", "13800001234", testSign, codeNew, `{"order_no":"D1"}`, CodeMissingParams},
		{"no params at all", "13800001234", testSign, codeNew, ``, CodeMissingParams},
		{"number value", "13800001234", testSign, codeNew, `{"order_no":"D1","total":1}`, CodeInvalidJSON},
		{"not JSON", "13800001234", testSign, codeNew, `order_no=D1`, CodeInvalidJSON},
		{"verification-only sign", "13800001234", "验证专用", codeNew, `{"order_no":"D1","total":"¥1.00"}`, CodeSignScene},
	}
	r := newRig(t, SimConfig{})
	r.sim.AddSign(SimSign{Name: "验证专用", VerificationOnly: true})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"PhoneNumbers": {tc.numbers}, "SignName": {tc.sign}, "TemplateCode": {tc.code}}
			if tc.param != "" {
				form.Set("TemplateParam", tc.param)
			}
			a, status := v3Call(t, r, form.Encode())
			if a.Code != tc.want || status != 200 {
				t.Fatalf("HTTP %d %+v; want %s", status, a, tc.want)
			}
		})
	}
}

// v3Call posts a form signed as the client signs it.
func v3Call(t *testing.T, r *rig, body string) (answer, int) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, r.srv.URL+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("x-acs-action", Action)
	req.Header.Set("x-acs-version", APIVersion)
	req.Header.Set("x-acs-date", r.clock.Now().UTC().Format(timeFormat))
	req.Header.Set("x-acs-signature-nonce", randomNonce())
	req.Header.Set("x-acs-content-sha256", sha256hex([]byte(body)))
	v3 := V3Request{Method: http.MethodPost, Path: "/", Headers: SignedHeaders(strings.TrimPrefix(r.srv.URL, "http://"), req.Header), PayloadHash: sha256hex([]byte(body))}
	req.Header.Set("Authorization", v3.Authorization(testAK, testSecret))
	resp, err := r.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a answer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatal(err)
	}
	return a, resp.StatusCode
}

// The simulator takes V1 calls too, as the service does, answering in XML
// unless the call asks for JSON.
func TestSimV1(t *testing.T) {
	r := newRig(t, SimConfig{})
	call := func(method, format, secret, nonce string) (int, string) {
		p := url.Values{
			"AccessKeyId": {testAK}, "Action": {Action}, "Version": {APIVersion}, "RegionId": {"cn-hangzhou"},
			"SignatureMethod": {"HMAC-SHA1"}, "SignatureVersion": {"1.0"}, "SignatureNonce": {nonce},
			"Timestamp":    {r.clock.Now().UTC().Format(timeFormat)},
			"PhoneNumbers": {"13800001234"}, "SignName": {testSign}, "TemplateCode": {codeNew},
			"TemplateParam": {`{"order_no":"D1","total":"¥1.00"}`},
		}
		if format != "" {
			p.Set("Format", format)
		}
		p.Set("Signature", SignV1(method, p, secret))
		var req *http.Request
		if method == http.MethodGet {
			req, _ = http.NewRequest(method, r.srv.URL+"/?"+p.Encode(), nil)
		} else {
			req, _ = http.NewRequest(method, r.srv.URL+"/", strings.NewReader(p.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := r.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, tc := range []struct {
		name, method, format, secret, nonce string
		status                              int
		want                                string
	}{
		{"GET, XML by default", "GET", "", testSecret, "n1", 200, "<SendSmsResponse><RequestId>"},
		{"POST JSON", "POST", "JSON", testSecret, "n2", 200, `"Code":"OK"`},
		{"wrong secret", "GET", "JSON", "wrong", "n3", 400, `"Code":"SignatureDoesNotMatch"`},
		{"nonce replayed", "GET", "JSON", testSecret, "n2", 400, `"Code":"SignatureNonceUsed"`},
		{"XML error", "GET", "XML", "wrong", "n4", 400, "<Error><RequestId>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := call(tc.method, tc.format, tc.secret, tc.nonce)
			if status != tc.status || !strings.Contains(body, tc.want) {
				t.Fatalf("HTTP %d %s; want %d with %s", status, body, tc.status, tc.want)
			}
		})
	}
	if got := r.sim.Received(); len(got) != 2 || got[0].Signature != "V1" {
		t.Fatalf("received %+v", got)
	}
}

// The API's own QPS: the call over it is throttled, the next second's is
// taken.
func TestSimQPS(t *testing.T) {
	r := newRig(t, SimConfig{QPS: 2})
	c := r.client(t, goodSettings())
	msg := shipped("13800001234")
	for i := range 2 {
		msg.Vars["order_no"] = "D" + string(rune('1'+i))
		if _, err := c.Send(context.Background(), msg); err != nil {
			t.Fatal(err)
		}
	}
	_, err := c.Send(context.Background(), msg)
	if ce, ok := connector.AsCallError(err); !ok || ce.Class != connector.SlowDown || ce.Code != CodeThrottlingUser {
		t.Fatalf("third call in a second: %v", err)
	}
	r.clock.Add(time.Second)
	if _, err := c.Send(context.Background(), msg); err != nil {
		t.Fatalf("next second: %v", err)
	}
}

// A lost answer after the service took the message is an unknown outcome:
// SendSms is not idempotent, so the hub must not count on a resend being
// harmless.
func TestLostAnswerIsUnknown(t *testing.T) {
	r := newRig(t, SimConfig{})
	r.sim.Faults().Inject(simfault.Fault{Kind: simfault.LoseAnswer, Count: 1})
	_, err := r.client(t, goodSettings()).Send(context.Background(), shipped("13800001234"))
	if ce, ok := connector.AsCallError(err); !ok || ce.Class != connector.Unknown || !strings.Contains(ce.Hint, "不幂等") {
		t.Fatalf("%v; want unknown_outcome", err)
	}
	if len(r.sim.Received()) != 1 {
		t.Fatal("the simulator did not take the message")
	}
}
