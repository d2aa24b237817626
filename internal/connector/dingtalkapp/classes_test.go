package dingtalkapp

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"orderhub/internal/connector"
	"orderhub/internal/connector/connectortest"
)

// answering is a DingTalk whose gettoken works and whose asyncsend_v2 and
// getsendresult give one fixed answer; tokens counts gettoken calls.
func answering(t *testing.T, status int, body string) (*Client, *atomic.Int32) {
	t.Helper()
	var tokens atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		if r.URL.Path == PathToken {
			n := tokens.Add(1)
			fmt.Fprintf(w, `{"errcode":0,"errmsg":"ok","access_token":"tok%d","expires_in":7200}`, n)
			return
		}
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	c, err := New(Options{System: "ding_app", BaseURL: srv.URL, AppKey: testAppKey, AppSecret: testAppSecret, AgentID: testAgentID,
		HTTP: srv.Client(), Log: quiet, Now: func() time.Time { return time.Date(2026, 11, 26, 10, 0, 45, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	return c, &tokens
}

func sendErr(t *testing.T, status int, body string) error {
	t.Helper()
	c, _ := answering(t, status, body)
	m := sample
	m.To = people("u1")
	_, err := c.Send(context.Background(), m)
	return err
}

func ans(code int, msg string) string { return fmt.Sprintf(`{"errcode":%d,"errmsg":%q}`, code, msg) }

func sub(code, msg string) string {
	return fmt.Sprintf(`{"errcode":88,"sub_code":%q,"sub_msg":%q,"errmsg":"ding talk error[subcode=%s,submsg=%s]"}`, code, msg, code, msg)
}

// Every errcode of im.md 2.1–2.5 (and the global ones these calls meet),
// through a real answer to asyncsend_v2: which are retried, which slow
// down, which are permanent, and what the hint says to fix.
func TestErrorClasses(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		want   connector.Class
		hint   string // a fragment the hint must have
	}{
		{"-1 busy", 200, ans(-1, "系统繁忙"), connector.Retry, "繁忙"},
		{"88/40014 token", 200, sub("40014", "不合法的access_token"), connector.Permanent, "access_token"},
		{"40014 token", 200, ans(40014, "不合法的access_token"), connector.Permanent, "access_token"},
		{"42001 expired", 200, ans(42001, "access_token超时"), connector.Permanent, "access_token"},
		{"88/60011 permission", 200, sub("60011", "没有调用该接口的权限"), connector.Permanent, "权限管理"},
		{"88 without sub_code", 200, ans(88, "鉴权异常"), connector.Permanent, "app_key"},
		{"88/unlisted", 200, sub("99999", "新的错误"), connector.Permanent, "88/99999"},
		{"40096 app key", 200, ans(40096, "不合法的appKey或appSecret"), connector.Permanent, "AppSecret"},
		{"40089 corp secret", 200, ans(40089, "不合法的corpid或corpsecret"), connector.Permanent, "AppSecret"},
		{"40035 param", 200, ans(40035, "不合法的参数"), connector.Permanent, "agent_id"},
		{"40056 agent", 200, ans(40056, "不合法的agentid"), connector.Permanent, "AgentId"},
		{"41011 no agent", 200, ans(41011, "缺少agentid"), connector.Permanent, "AgentId"},
		{"52019 agent", 200, ans(52019, "无效的agentid"), connector.Permanent, "AgentId"},
		{"70003 app", 200, ans(70003, "agentid对应微应用不存在"), connector.Permanent, "AgentId"},
		{"70004 app", 200, ans(70004, "企业下没有对应该agentid的微应用"), connector.Permanent, "AgentId"},
		{"60020 ip", 200, ans(60020, "访问ip不在白名单之中"), connector.Permanent, "服务器出口IP"},
		{"60121 user", 200, ans(60121, "找不到该用户"), connector.Permanent, "dingtalk_userid"},
		{"33012 userid", 200, ans(33012, "无效的USERID"), connector.Permanent, "dingtalk_userid"},
		{"41047 org minute", 200, ans(41047, "超过企业每分钟发送上限"), connector.SlowDown, "下一分钟"},
		{"41048 minute total", 200, ans(41048, "超过每分钟发送总量"), connector.SlowDown, "下一分钟"},
		{"90018 app qps", 200, ans(90018, "应用调用该接口超过每秒限制"), connector.SlowDown, "每秒 20 次"},
		{"88/90018 app qps", 200, sub("90018", "应用调用该接口超过每秒限制"), connector.SlowDown, "每秒 20 次"},
		{"90002 api qps", 200, ans(90002, "接口全局限流"), connector.SlowDown, "全局限流"},
		{"90001 banned", 200, ans(90001, "请求都被暂时禁用了"), connector.SlowDown, "暂时禁用"},
		{"90006 banned", 200, ans(90006, "请求被暂时禁用了"), connector.SlowDown, "暂时禁用"},
		{"90020 monthly", 200, ans(90020, "企业调用量已达上限"), connector.Permanent, "额度"},
		{"unlisted code", 200, ans(123456, "something new"), connector.Permanent, "123456"},
		{"string errcode", 200, `{"errcode":"40056","errmsg":"不合法的agentid"}`, connector.Permanent, "AgentId"},
		{"IP banned", 200, `{"status":1111,"wait":5,"source":"x5","punish":"deny"}`, connector.SlowDown, "封禁"},
		{"HTML at 200", 200, `<html><body>blocked</body></html>`, connector.Unknown, "相同内容只送达一次"},
		{"no task_id", 200, `{"errcode":0,"request_id":"x"}`, connector.Unknown, "相同内容只送达一次"},
		{"new API bad secret", 400, `{"requestid":"r","code":"invalidClientIdOrSecret","message":"无效的clientId或者clientSecret"}`, connector.Permanent, "oapi.dingtalk.com"},
		{"new API bad token", 400, `{"requestid":"r","code":"InvalidAuthentication","message":"不合法的access_token"}`, connector.Permanent, "oapi.dingtalk.com"},
		{"new API app qps", 403, `{"requestid":"r","code":"Forbidden.AccessDenied.QpsLimitForAppkeyAndApi","message":"qps"}`, connector.SlowDown, "限流"},
		{"new API api qps", 403, `{"requestid":"r","code":"Forbidden.AccessDenied.QpsLimitForApi","message":"qps"}`, connector.SlowDown, "限流"},
		{"new API monthly", 403, `{"requestid":"r","code":"Forbidden.AccessDenied.ApiCountLimitForOrg","message":"quota"}`, connector.Permanent, "额度"},
		{"HTTP 429", 429, `too many`, connector.SlowDown, "限流"},
		{"HTTP 502", 502, `Bad Gateway`, connector.Unknown, "相同内容只送达一次"},
		{"HTTP 503", 503, ``, connector.Unknown, "相同内容只送达一次"},
	}
	var table []connectortest.ClassCase
	for _, c := range cases {
		err := sendErr(t, c.status, c.body)
		table = append(table, connectortest.ClassCase{Name: c.name, Err: err, Want: c.want})
		ce, ok := connector.AsCallError(err)
		if !ok {
			t.Errorf("%s: %v is not a CallError", c.name, err)
			continue
		}
		if ce.Code == "" || !strings.Contains(ce.Hint, c.hint) {
			t.Errorf("%s: code %q, hint %q; want a code and a hint with %q", c.name, ce.Code, ce.Hint, c.hint)
		}
	}
	connectortest.CheckClasses(t, table)
}

// The throttling codes wait as DingTalk asks: the rest of the minute for
// the per-minute caps (the clock says 10:00:45), a second for QPS, the
// minutes an IP ban names.
func TestRetryAfter(t *testing.T) {
	for _, c := range []struct {
		body string
		want time.Duration
	}{
		{ans(41047, "x"), 15 * time.Second},
		{ans(41048, "x"), 15 * time.Second},
		{ans(90018, "x"), time.Second},
		{ans(90002, "x"), time.Second},
		{ans(90006, "x"), time.Minute},
		{`{"status":1111,"wait":5}`, 5 * time.Minute},
	} {
		ce, _ := connector.AsCallError(sendErr(t, 200, c.body))
		if ce == nil || ce.RetryAfter != c.want {
			t.Errorf("%s: %+v; want RetryAfter %v", c.body, ce, c.want)
		}
	}
}

// A token DingTalk refuses is fetched again once, not more: a second
// refusal is the answer, with a hint that the fresh token failed too.
func TestTokenRefusedTwice(t *testing.T) {
	for _, body := range []string{sub("40014", "不合法的access_token"), ans(42001, "access_token超时")} {
		c, tokens := answering(t, 200, body)
		m := sample
		m.To = people("u1")
		_, err := c.Send(context.Background(), m)
		ce, _ := connector.AsCallError(err)
		if ce == nil || ce.Class != connector.Permanent || !strings.Contains(ce.Hint, "刚发放") {
			t.Errorf("%s: %+v", body, ce)
		}
		if n := tokens.Load(); n != 2 {
			t.Errorf("%s: %d gettoken calls, want 2 (the first and one refresh)", body, n)
		}
	}
}

// token_invalid_codes replaces the codes that mean "fetch a new token".
func TestTokenCodesConfigurable(t *testing.T) {
	c, tokens := answering(t, 200, ans(40001, "invalid credential"))
	c.tokenCodes = map[int]bool{40001: true}
	m := sample
	m.To = people("u1")
	if _, err := c.Send(context.Background(), m); connector.ClassOf(err) != connector.Permanent {
		t.Fatalf("%v", err)
	}
	if n := tokens.Load(); n != 2 {
		t.Errorf("%d gettoken calls; 40001 was configured as a token code, want one refresh", n)
	}
}

// The flow-control codes of getsendresult's forbidden_list each say why
// one person did not get the message.
func TestForbiddenHints(t *testing.T) {
	for _, c := range []struct{ code, want string }{
		{"143105", "每日上限"},
		{"143106", "相同"},
		{"143103", "本应用每分钟"},
		{"143104", "企业每分钟"},
		{"143203", "第三方应用"},
		{"143206", "第三方应用"},
		{"1430002", "禁止"},
		{"1430004", "高管保护"},
		{"999", "code 999"},
	} {
		if h := ForbiddenHint(c.code); !strings.Contains(h, c.want) {
			t.Errorf("%s: %q, want %q in it", c.code, h, c.want)
		}
	}
}
