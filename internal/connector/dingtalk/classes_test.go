package dingtalk

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"orderhub/internal/connector"
	"orderhub/internal/connector/connectortest"
)

// answering is a robot endpoint that gives one fixed answer.
func answering(t *testing.T, status int, body string) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	c, err := New(Options{System: "ops_ding", Webhook: WebhookURL(srv.URL, testToken), Secret: testSecret, Keyword: testKeyword,
		HTTP: srv.Client(), Now: func() time.Time { return time.Date(2026, 11, 26, 10, 0, 45, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var sample = connector.Message{Title: "新订单 D1", Markdown: "### 新订单 D1", Link: "http://127.0.0.1:8080/orders/shop/D1", Key: "new_order/shop/D1/created"}

func sendErr(t *testing.T, status int, body string) error {
	t.Helper()
	_, err := answering(t, status, body).Send(context.Background(), sample)
	return err
}

// Every errcode of im.md 1.7 (and the IP ban of 1.8), through a real
// answer: which are retried, which slow down, which are permanent.
func TestErrorClasses(t *testing.T) {
	ans := func(code int, msg string) string { return fmt.Sprintf(`{"errcode":%d,"errmsg":%q}`, code, msg) }
	cases := []struct {
		name   string
		status int
		body   string
		want   connector.Class
	}{
		{"-1 busy", 200, ans(-1, "系统繁忙"), connector.Retry},
		{"310000 keywords", 200, ans(310000, "keywords not in content"), connector.Permanent},
		{"310000 timestamp", 200, ans(310000, "invalid timestamp"), connector.Permanent},
		{"310000 sign", 200, ans(310000, "sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"), connector.Permanent},
		{"310000 ip", 200, ans(310000, "ip 203.0.113.7 not in whitelist"), connector.Permanent},
		{"130101 too fast", 200, ans(130101, "send too fast, exceed 20 times per minute"), connector.SlowDown},
		{"410100 too fast (doc)", 200, ans(410100, "发送速度太快而限流"), connector.SlowDown},
		{"660026 too many", 200, ans(660026, "sending too many messages per minute"), connector.SlowDown},
		{"460101 too long", 200, ans(460101, "message too long, exceed 20000 bytes"), connector.Permanent},
		{"400101 no token (doc)", 200, ans(400101, "access_token不存在"), connector.Permanent},
		{"300001 token", 200, ans(300001, "token is not exist"), connector.Permanent},
		{"300001 param", 200, ans(300001, "param error"), connector.Permanent},
		{"300005 token", 200, ans(300005, "token is not exist"), connector.Permanent},
		{"400102 disabled", 200, ans(400102, "机器人已停用"), connector.Permanent},
		{"400105 msgtype", 200, ans(400105, "不支持的消息类型"), connector.Permanent},
		{"400106 not in group", 200, ans(400106, "机器人不存在"), connector.Permanent},
		{"400013 group dissolved", 200, ans(400013, "群已被解散"), connector.Permanent},
		{"40035 no json", 200, ans(40035, "缺少参数 json"), connector.Permanent},
		{"43004 content type", 200, ans(43004, "无效的HTTP HEADER Content-Type"), connector.Permanent},
		{"430101 unsafe link", 200, ans(430101, "含有不安全的外链"), connector.Permanent},
		{"430102 text", 200, ans(430102, "含有不合适的文本"), connector.Permanent},
		{"430103 image", 200, ans(430103, "含有不合适的图片"), connector.Permanent},
		{"430104 content", 200, ans(430104, "含有不合适的内容"), connector.Permanent},
		{"90030 monthly quota", 200, ans(90030, "webhook over limit"), connector.Permanent},
		{"unlisted code", 200, ans(123456, "something new"), connector.Permanent},
		{"string errcode", 200, `{"errcode":"310000","errmsg":"sign not match"}`, connector.Permanent},
		{"IP banned", 200, `{"status":1111,"wait":5,"source":"x5","punish":"deny"}`, connector.SlowDown},
		{"HTML at 200", 200, `<html><body>blocked</body></html>`, connector.Unknown},
		{"HTTP 429", 429, `too many`, connector.SlowDown},
		{"HTTP 502", 502, `Bad Gateway`, connector.Unknown},
		{"HTTP 503", 503, ``, connector.Unknown},
	}
	var table []connectortest.ClassCase
	for _, c := range cases {
		err := sendErr(t, c.status, c.body)
		table = append(table, connectortest.ClassCase{Name: c.name, Err: err, Want: c.want})
		if ce, ok := connector.AsCallError(err); ok && ce.Class == connector.Permanent && (ce.Hint == "" || ce.Code == "") {
			t.Errorf("%s: permanent refusal without code or hint: %+v", c.name, ce)
		}
	}
	connectortest.CheckClasses(t, table)
}

// Throttling waits for the rest of the minute (the clock says 10:00:45);
// an IP ban for the minutes it names.
func TestRetryAfter(t *testing.T) {
	for _, c := range []struct {
		body string
		want time.Duration
	}{
		{`{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}`, 15 * time.Second},
		{`{"errcode":410100,"errmsg":"发送速度太快而限流"}`, 15 * time.Second},
		{`{"errcode":660026,"errmsg":"sending too many messages per minute"}`, 15 * time.Second},
		{`{"status":1111,"wait":5}`, 5 * time.Minute},
	} {
		ce, _ := connector.AsCallError(sendErr(t, 200, c.body))
		if ce == nil || ce.RetryAfter != c.want {
			t.Errorf("%s: %+v; want RetryAfter %v", c.body, ce, c.want)
		}
	}
}

// 310000 covers four settings; the hint names the one to fix.
func TestSecurityHints(t *testing.T) {
	for _, c := range []struct{ errmsg, want string }{
		{"keywords not in content", "自定义关键词"},
		{"invalid timestamp", "时钟"},
		{"sign not match", "加签"},
		{"ip 203.0.113.7 not in whitelist", "IP 地址（段）中加入 203.0.113.7"},
	} {
		ce, _ := connector.AsCallError(sendErr(t, 200, fmt.Sprintf(`{"errcode":310000,"errmsg":%q}`, c.errmsg)))
		if ce == nil || !strings.Contains(ce.Hint, c.want) || ce.Code != "310000" || ce.Message != c.errmsg {
			t.Errorf("%s: %+v; want code 310000 and a hint with %q", c.errmsg, ce, c.want)
		}
	}
	// A robot with 加签 on and no secret configured: the hint says to add it.
	c, err := New(Options{System: "s", Webhook: "https://oapi.dingtalk.com/robot/send?access_token=x"})
	if err != nil {
		t.Fatal(err)
	}
	if h := c.securityHint("sign not match"); !strings.Contains(h, "填入该系统的 secret") {
		t.Errorf("hint without a secret: %s", h)
	}
}

func TestSuccessAnswers(t *testing.T) {
	for _, body := range []string{`{"errcode":0,"errmsg":"ok"}`, `{"errcode":"0","errmsg":"ok"}`} {
		res, err := answering(t, 200, body).Send(context.Background(), sample)
		if err != nil || res.Code != "0" {
			t.Errorf("%s: %+v, %v", body, res, err)
		}
	}
}
