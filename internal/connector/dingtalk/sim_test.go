package dingtalk

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"orderhub/internal/config"
	"orderhub/internal/connector"
	"orderhub/internal/connector/simfault"
)

// post sends a raw body to the simulator and returns the answer's errcode
// and errmsg.
func post(t *testing.T, r *rig, rawURL, contentType, body string) (int, string) {
	t.Helper()
	resp, err := r.srv.Client().Post(rawURL, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("HTTP %d: %s (DingTalk answers 200 to every business error)", resp.StatusCode, b)
	}
	var a struct {
		ErrCode int    `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("answer %s: %v", b, err)
	}
	return a.ErrCode, a.ErrMsg
}

// signed is the robot's webhook with a good 加签 at the simulator's now.
func (r *rig) signed(token, secret string) string {
	ts := r.clock.Now().UnixMilli()
	return r.webhook(token) + "&timestamp=" + strconv.FormatInt(ts, 10) + "&sign=" + url.QueryEscape(Sign(secret, ts))
}

const okText = `{"msgtype":"text","text":{"content":"订单 D1 已付款"}}`

func TestSimRefuses(t *testing.T) {
	r := newRig(t, SimConfig{})
	r.sim.SetRobot(Robot{Token: "open"})                                     // no security at all
	r.sim.SetRobot(Robot{Token: "walled", AllowIPs: []string{"10.0.0.0/8"}}) // loopback is outside
	r.sim.SetRobot(Robot{Token: "stopped", Disabled: true})
	ts := r.clock.Now().UnixMilli()
	at := func(ts int64, sign string) string {
		return r.webhook(testToken) + "&timestamp=" + strconv.FormatInt(ts, 10) + "&sign=" + sign
	}
	const json = "application/json"
	big := `{"msgtype":"text","text":{"content":"订单 ` + strings.Repeat("x", MaxBytes) + `"}}`
	cases := []struct {
		name, url, ct, body string
		code                int
		msg                 string
	}{
		{"no token", r.srv.URL + PathSend, json, okText, CodeNoToken, "token is not exist"},
		{"unknown token", r.webhook("nope"), json, okText, CodeNoToken, "token is not exist"},
		{"disabled robot", r.webhook("stopped"), json, okText, CodeDisabled, "机器人已停用"},
		{"form content type", r.signed(testToken, testSecret), "application/x-www-form-urlencoded", okText, CodeContentType, "无效的HTTP HEADER Content-Type"},
		{"not JSON", r.signed(testToken, testSecret), json, `msgtype=text`, CodeNoJSON, "缺少参数 json"},
		{"JSON array", r.signed(testToken, testSecret), json, `[]`, CodeNoJSON, "缺少参数 json"},
		{"oversized body", r.signed(testToken, testSecret), json, big, CodeTooLong, "message too long, exceed 20000 bytes"},
		{"image type", r.signed(testToken, testSecret), json, `{"msgtype":"image","image":{"picURL":"https://x/1.png"}}`, CodeBadMsgType, "不支持的消息类型"},
		{"text without content", r.signed(testToken, testSecret), json, `{"msgtype":"text","text":{}}`, CodeParamOrToken, "param error"},
		{"markdown without title", r.signed(testToken, testSecret), json, `{"msgtype":"markdown","markdown":{"text":"订单"}}`, CodeParamOrToken, "param error"},
		{"link with messageURL", r.signed(testToken, testSecret), json, `{"msgtype":"link","link":{"title":"订单","text":"t","messageURL":"https://x/o"}}`, CodeParamOrToken, "param error"},
		{"feedCard with picUrl", r.signed(testToken, testSecret), json, `{"msgtype":"feedCard","feedCard":{"links":[{"title":"订单","messageURL":"https://x/o","picUrl":"https://x/p.png"}]}}`, CodeParamOrToken, "param error"},
		{"actionCard numeric btnOrientation", r.signed(testToken, testSecret), json, `{"msgtype":"actionCard","actionCard":{"title":"订单","text":"t","btnOrientation":0,"singleTitle":"看","singleURL":"https://x/o"}}`, CodeParamOrToken, "param error"},
		{"actionCard without button", r.signed(testToken, testSecret), json, `{"msgtype":"actionCard","actionCard":{"title":"订单","text":"t"}}`, CodeParamOrToken, "param error"},
		{"actionCard btn actionUrl", r.signed(testToken, testSecret), json, `{"msgtype":"actionCard","actionCard":{"title":"订单","text":"t","btns":[{"title":"a","actionUrl":"https://x/a"}]}}`, CodeParamOrToken, "param error"},
		{"ip not allowed", r.webhook("walled"), json, okText, CodeSecurity, "ip 127.0.0.1 not in whitelist"},
		{"no signature", r.webhook(testToken), json, okText, CodeSecurity, "invalid timestamp"},
		{"timestamp without sign", r.webhook(testToken) + "&timestamp=" + strconv.FormatInt(ts, 10), json, okText, CodeSecurity, "sign not match"},
		{"wrong secret", r.signed(testToken, "SECwrong"), json, okText, CodeSecurity, "sign not match"},
		{"stale timestamp", at(ts-61*60*1000, url.QueryEscape(Sign(testSecret, ts-61*60*1000))), json, okText, CodeSecurity, "invalid timestamp"},
		{"future timestamp", at(ts+61*60*1000, url.QueryEscape(Sign(testSecret, ts+61*60*1000))), json, okText, CodeSecurity, "invalid timestamp"},
		{"seconds timestamp", at(ts/1000, url.QueryEscape(Sign(testSecret, ts/1000))), json, okText, CodeSecurity, "invalid timestamp"},
		{"signed over seconds", at(ts, url.QueryEscape(Sign(testSecret, ts/1000))), json, okText, CodeSecurity, "sign not match"},
		{"double-encoded sign", at(ts, url.QueryEscape(url.QueryEscape(Sign(testSecret, ts)))), json, okText, CodeSecurity, "sign not match"},
		{"missing keyword", r.signed(testToken, testSecret), json, `{"msgtype":"text","text":{"content":"D1 已付款"}}`, CodeSecurity, "keywords not in content"},
		{"keyword only in a link", r.signed(testToken, testSecret), json, `{"msgtype":"link","link":{"title":"D1","text":"t","messageUrl":"https://x/订单"}}`, CodeSecurity, "keywords not in content"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, msg := post(t, r, c.url, c.ct, c.body)
			if code != c.code || msg != c.msg {
				t.Fatalf("answer %d %q, want %d %q", code, msg, c.code, c.msg)
			}
		})
	}
	if n := r.sim.Len(); n != 0 {
		t.Fatalf("refused calls stored %d messages", n)
	}
	if n := len(r.sim.Rejected()); n != len(cases) {
		t.Fatalf("%d rejections recorded, want %d", n, len(cases))
	}
}

func TestSimAcceptsEveryType(t *testing.T) {
	r := newRig(t, SimConfig{})
	for _, c := range []struct{ body, text string }{
		{okText, "订单 D1 已付款"},
		{`{"msgtype":"markdown","markdown":{"title":"订单 D1","text":"### D1\n- 已付款"}}`, "订单 D1\n### D1\n- 已付款"},
		{`{"msgtype":"link","link":{"title":"订单 D1","text":"已付款","messageUrl":"https://x/o","picUrl":""}}`, "订单 D1\n已付款"},
		{`{"msgtype":"actionCard","actionCard":{"title":"订单 D1","text":"已付款","btnOrientation":"1","hideAvatar":"0","singleTitle":"查看","singleURL":"https://x/o"}}`, "订单 D1\n已付款\n查看"},
		{`{"msgtype":"actionCard","actionCard":{"title":"订单 D1","text":"审核","btns":[{"title":"通过","actionURL":"https://x/a"},{"title":"拒绝","actionURL":"https://x/r"}]}}`, "订单 D1\n审核\n通过\n拒绝"},
		{`{"msgtype":"feedCard","feedCard":{"links":[{"title":"订单 D1","messageURL":"https://x/o","picURL":"https://x/p.png"}]}}`, "订单 D1"},
	} {
		if code, msg := post(t, r, r.signed(testToken, testSecret), "application/json;charset=utf-8", c.body); code != 0 {
			t.Fatalf("%s: %d %s", c.body, code, msg)
		}
		got := r.sim.Received()
		if last := got[len(got)-1]; last.Text != c.text || string(last.Body) != c.body {
			t.Errorf("recorded %q, want %q", last.Text, c.text)
		}
	}
	// A body of exactly the limit is taken.
	pad := MaxBytes - len(`{"msgtype":"text","text":{"content":"订单 "}}`)
	exact := `{"msgtype":"text","text":{"content":"订单 ` + strings.Repeat("x", pad) + `"}}`
	if code, msg := post(t, r, r.signed(testToken, testSecret), "application/json", exact); code != 0 || len(exact) != MaxBytes {
		t.Fatalf("a body of %d bytes: %d %s", len(exact), code, msg)
	}
}

// im.md section 6's D-2 vector, as it appears on the wire, is taken by the
// simulator at that instant; the simulator's check is pinned too.
func TestSimTakesTheVector(t *testing.T) {
	r := newRig(t, SimConfig{Now: func() time.Time { return time.UnixMilli(1700000000000 + 30000) }})
	r.sim.AddRobot("v", "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	u := r.webhook("v") + "&timestamp=1700000000000&sign=bTgY2yDbep%2BwesS7jKiNj%2BsrsHoADES4%2BC4f8LCHFtU%3D"
	if code, msg := post(t, r, u, "application/json", okText); code != 0 {
		t.Fatalf("D-2 refused: %d %s", code, msg)
	}
	u = r.webhook("v") + "&timestamp=1700000000000&sign=iEkiU6%2BJqL9W0KhRcIEOjtBmIGV%2BLOK6Fbl81zDv%2Byc%3D"
	if code, _ := post(t, r, u, "application/json", okText); code != CodeSecurity {
		t.Fatalf("the seconds-signed negative vector was taken (%d)", code)
	}
	for _, sign := range []string{
		"bTgY2yDbep%252BwesS7jKiNj%252BsrsHoADES4%252BC4f8LCHFtU%253D", // double-encoded
		"bTgY2yDbep+wesS7jKiNj+srsHoADES4+C4f8LCHFtU=",                 // not encoded: + reads as a space
	} {
		if code, _ := post(t, r, r.webhook("v")+"&timestamp=1700000000000&sign="+sign, "application/json", okText); code != CodeSecurity {
			t.Fatalf("sign=%s was taken (%d)", sign, code)
		}
	}
}

// The 21st message within a minute is refused with the real code and body,
// the robot stays blocked for 10 minutes, and other robots are not touched.
func TestSimRateLimit(t *testing.T) {
	for _, c := range []struct {
		code int
		body string
	}{
		{0, `{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}`},
		{CodeTooFastDoc, `{"errcode":410100,"errmsg":"发送速度太快而限流"}`},
		{CodeTooFastNew, `{"errcode":660026,"errmsg":"sending too many messages per minute"}`},
	} {
		t.Run(c.body, func(t *testing.T) {
			r := newRig(t, SimConfig{ThrottleCode: c.code})
			r.sim.AddRobot("other", "", "")
			for i := range 20 {
				if code, msg := post(t, r, r.signed(testToken, testSecret), "application/json", okText); code != 0 {
					t.Fatalf("message %d: %d %s", i+1, code, msg)
				}
				r.clock.Add(2 * time.Second) // 20 messages in 40 s
			}
			resp, err := r.srv.Client().Post(r.signed(testToken, testSecret), "application/json", strings.NewReader(okText))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(b) != c.body {
				t.Fatalf("21st: HTTP %d %s, want 200 %s", resp.StatusCode, b, c.body)
			}
			if code, _ := post(t, r, r.webhook("other"), "application/json", okText); code != 0 {
				t.Fatalf("another robot was throttled too (%d)", code)
			}
			r.clock.Add(time.Minute) // the window has passed, the block has not
			if code, _ := post(t, r, r.signed(testToken, testSecret), "application/json", okText); code == 0 {
				t.Fatal("taken within the 10-minute block")
			}
			r.clock.Add(10 * time.Minute)
			if code, msg := post(t, r, r.signed(testToken, testSecret), "application/json", okText); code != 0 {
				t.Fatalf("after the block: %d %s", code, msg)
			}
			if n := len(r.sim.ReceivedBy(testToken)); n != 21 {
				t.Fatalf("the robot holds %d messages, want 21", n)
			}
		})
	}
}

// A sliding window: 20 spread over a minute, then one more is refused
// until the oldest is 60 s old.
func TestSimRateWindowSlides(t *testing.T) {
	r := newRig(t, SimConfig{Block: time.Millisecond})
	for range 20 {
		if code, _ := post(t, r, r.signed(testToken, testSecret), "application/json", okText); code != 0 {
			t.Fatal("refused inside the limit")
		}
		r.clock.Add(time.Second)
	}
	// The oldest is 20 s old.
	if code, _ := post(t, r, r.signed(testToken, testSecret), "application/json", okText); code != CodeTooFast {
		t.Fatalf("the 21st within 60 s got %d", code)
	}
	r.clock.Add(40 * time.Second)
	if code, _ := post(t, r, r.signed(testToken, testSecret), "application/json", okText); code != 0 {
		t.Fatalf("once the oldest is 60 s old: %d", code)
	}
}

func TestSimNoRateLimit(t *testing.T) {
	r := newRig(t, SimConfig{NoRateLimit: true})
	for i := range 100 {
		if code, msg := post(t, r, r.signed(testToken, testSecret), "application/json", okText); code != 0 {
			t.Fatalf("message %d: %d %s", i+1, code, msg)
		}
	}
}

// Several robots, each with its own secret, keyword and limit.
func TestSimRobotsAreSeparate(t *testing.T) {
	r := newRig(t, SimConfig{})
	r.sim.AddRobot("a", "SECa", "发货")
	r.sim.SetRobot(Robot{Token: "b", Secret: "SECb", Keywords: []string{"退款", "订单"}, PerMinute: 2})
	if code, _ := post(t, r, r.signed("a", "SECb"), "application/json", `{"msgtype":"text","text":{"content":"发货"}}`); code != CodeSecurity {
		t.Fatal("robot a took robot b's signature")
	}
	if code, msg := post(t, r, r.signed("a", "SECa"), "application/json", okText); code != CodeSecurity || msg != "keywords not in content" {
		t.Fatalf("robot a took robot b's keyword: %d %s", code, msg)
	}
	for i := range 2 {
		if code, _ := post(t, r, r.signed("b", "SECb"), "application/json", okText); code != 0 {
			t.Fatalf("robot b message %d refused", i+1)
		}
	}
	if code, _ := post(t, r, r.signed("b", "SECb"), "application/json", okText); code != CodeTooFast {
		t.Fatal("robot b's own limit of 2 is not kept")
	}
	if code, _ := post(t, r, r.signed(testToken, testSecret), "application/json", okText); code != 0 {
		t.Fatal("the first robot was throttled by b's limit")
	}
}

func TestSimMsgUUIDAndLostAnswer(t *testing.T) {
	r := newRig(t, SimConfig{})
	c := r.client(t, goodSettings())
	r.sim.Faults().Inject(simfault.Fault{Kind: simfault.LoseAnswer, Count: 1})
	_, err := c.Send(context.Background(), sample)
	if cls := connector.ClassOf(err); cls != connector.Unknown {
		t.Fatalf("a lost answer is %q (%v), want unknown_outcome", cls, err)
	}
	if _, err := c.Send(context.Background(), sample); err != nil {
		t.Fatalf("sending again: %v", err)
	}
	if n := r.sim.Len(); n != 1 {
		t.Fatalf("the group shows the message %d times; msgUuid must make it once", n)
	}
	other := sample
	other.Key = "new_order/shop/D2/created"
	if _, err := c.Send(context.Background(), other); err != nil || r.sim.Len() != 2 {
		t.Fatalf("another key: %v, %d messages", err, r.sim.Len())
	}
}

// Mentions are honoured by text and markdown; DingTalk highlights those whose
// @token appears in the content.
func TestSimMentions(t *testing.T) {
	r := newRig(t, SimConfig{})
	body := `{"msgtype":"markdown","markdown":{"title":"订单","text":"订单 @13800001234"},"at":{"atMobiles":["13800001234","13900005678"],"isAtAll":false}}`
	if code, msg := post(t, r, r.signed(testToken, testSecret), "application/json", body); code != 0 {
		t.Fatalf("%d %s", code, msg)
	}
	got := r.sim.Received()[0]
	if fmt.Sprint(got.AtMobiles) != "[13800001234 13900005678]" || fmt.Sprint(got.Mentioned) != "[13800001234]" {
		t.Fatalf("at %v, mentioned %v", got.AtMobiles, got.Mentioned)
	}
}

func TestSimFaults(t *testing.T) {
	r := newRig(t, SimConfig{})
	r.sim.Faults().Inject(simfault.Fault{Kind: simfault.ServerError, Count: 1})
	resp, err := r.srv.Client().Post(r.signed(testToken, testSecret), "application/json", strings.NewReader(okText))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("server error fault: HTTP %d", resp.StatusCode)
	}
	r.sim.Faults().Inject(simfault.Fault{Kind: simfault.Throttle, Count: 1})
	if code, msg := post(t, r, r.signed(testToken, testSecret), "application/json", okText); code != CodeTooFast || msg != "send too fast, exceed 20 times per minute" {
		t.Fatalf("throttle fault: %d %s", code, msg)
	}
	if code, _ := post(t, r, r.signed(testToken, testSecret), "application/json", okText); code != 0 {
		t.Fatal("a throttle fault blocked the robot")
	}
}

func TestSimMonthlyQuota(t *testing.T) {
	r := newRig(t, SimConfig{MonthlyQuota: 2, NoRateLimit: true})
	for range 2 {
		post(t, r, r.signed(testToken, testSecret), "application/json", okText)
	}
	if code, msg := post(t, r, r.signed(testToken, testSecret), "application/json", okText); code != CodeMonthlyQuota || msg != "webhook over limit" {
		t.Fatalf("over the quota: %d %s", code, msg)
	}
	r.clock.Add(40 * 24 * time.Hour)
	if code, _ := post(t, r, r.signed(testToken, testSecret), "application/json", okText); code != 0 {
		t.Fatal("the quota did not renew with the month")
	}
}

func TestSimBadTokenCode(t *testing.T) {
	r := newRig(t, SimConfig{BadTokenCode: CodeNoTokenDoc})
	if code, msg := post(t, r, r.webhook("nope"), "application/json", okText); code != CodeNoTokenDoc || msg != "access_token不存在" {
		t.Fatalf("%d %s", code, msg)
	}
}

// Concurrent senders, several robots: every message arrives once, and the
// pacing check sees each robot's calls.
func TestSimConcurrentAndMaxCallsIn(t *testing.T) {
	r := newRig(t, SimConfig{NoRateLimit: true})
	r.sim.AddRobot("b", "SECb", "订单")
	ca := r.client(t, goodSettings())
	sb := goodSettings()
	sb.Webhook, sb.Secret = config.Secret(r.webhook("b")), "SECb"
	cb := r.client(t, sb)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := range 100 {
		c := ca
		if i%2 == 1 {
			c = cb
		}
		wg.Go(func() {
			m := sample
			m.Key = fmt.Sprint("k", i)
			if _, err := c.Send(context.Background(), m); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if a, b := len(r.sim.ReceivedBy(testToken)), len(r.sim.ReceivedBy("b")); a != 50 || b != 50 {
		t.Fatalf("robots took %d and %d, want 50 each", a, b)
	}
	if n := r.sim.MaxCallsIn(testToken, time.Minute); n != 50 {
		t.Fatalf("MaxCallsIn = %d, want 50 (all at one instant)", n)
	}
}

func TestSimMaxCallsInSlides(t *testing.T) {
	r := newRig(t, SimConfig{})
	for range 25 { // 25 calls 10 s apart: 20 taken, then refused ones count too
		post(t, r, r.signed(testToken, testSecret), "application/json", okText)
		r.clock.Add(10 * time.Second)
	}
	if n := r.sim.MaxCallsIn(testToken, time.Minute); n != 6 {
		t.Fatalf("MaxCallsIn(1m) = %d, want 6", n)
	}
	if n := r.sim.MaxCallsIn(testToken, time.Hour); n != 25 {
		t.Fatalf("MaxCallsIn(1h) = %d, want 25", n)
	}
}

func TestSimInspect(t *testing.T) {
	r := newRig(t, SimConfig{})
	post(t, r, r.signed(testToken, testSecret), "application/json", okText)
	post(t, r, r.webhook("nope"), "application/json", okText)
	resp, err := r.srv.Client().Get(r.srv.URL + PathInspect)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var got struct {
		Received []Received  `json:"received"`
		Rejected []Rejection `json:"rejected"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Received) != 1 || got.Received[0].Text != "订单 D1 已付款" || len(got.Rejected) != 1 || got.Rejected[0].ErrCode != CodeNoToken {
		t.Fatalf("inspection: %s", b)
	}
	if strings.Contains(string(b), testToken) {
		t.Fatal("the inspection lists access tokens")
	}
}

func TestSimCountOnly(t *testing.T) {
	r := newRig(t, SimConfig{NoRateLimit: true, CountOnly: true})
	c := r.client(t, goodSettings())
	for i := range 30 {
		m := sample
		m.Key = fmt.Sprint(i % 25) // five repeats: shown once each
		if _, err := c.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	if n, kept := r.sim.Len(), len(r.sim.Received()); n != 25 || kept != 0 {
		t.Fatalf("Len %d, kept %d; want 25 counted, none kept", n, kept)
	}
}
