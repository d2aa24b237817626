package aliyunsms

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

// answering is a SendSms endpoint that gives one fixed answer. Its clock
// says 2026-11-26 10:00:15 UTC (18:00:15 in Beijing).
func answering(t *testing.T, status int, body string) *Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	c, err := New(Options{System: "sms", BaseURL: srv.URL, AccessKeyID: testAK, AccessKeySecret: testSecret, SignName: testSign,
		Templates: testTemplates, HTTP: srv.Client(), Now: newClock().Now})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sendErr(t *testing.T, status int, body string) error {
	t.Helper()
	_, err := answering(t, status, body).Send(context.Background(), shipped("13800001234"))
	return err
}

func biz(code, msg string) string {
	return fmt.Sprintf(`{"Code":%q,"Message":%q,"RequestId":"F655A8D5-B967-440B-8683-DAD6FF8DE990"}`, code, msg)
}

func gw(code, msg string) string {
	return fmt.Sprintf(`{"RequestId":"F655A8D5-B967-440B-8683-DAD6FF8DE990","HostId":"dysmsapi.aliyuncs.com","Code":%q,"Message":%q,"Recommend":"https://api.aliyun.com/troubleshoot?q=%s"}`, code, msg, code)
}

// Every code of im.md 5.4, business and gateway, through a real answer:
// which are retried, which slow down, which are permanent, which leave the
// outcome unknown.
func TestErrorClasses(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		want   connector.Class
	}{
		{"limit per minute", 200, biz(CodeLimitControl, "触发分钟级流控Permits:1"), connector.SlowDown},
		{"limit per hour", 200, biz(CodeLimitControl, "触发小时级流控Permits:5"), connector.SlowDown},
		{"limit per day", 200, biz(CodeLimitControl, "触发天级流控Permits:10"), connector.SlowDown},
		{"limit, message unknown", 200, biz(CodeLimitControl, "业务限流"), connector.SlowDown},
		{"console day cap", 200, biz(CodeDayLimit, "触发日发送限额"), connector.SlowDown},
		{"console month cap", 200, biz(CodeMonthLimit, "触发月发送限额"), connector.Permanent},
		{"bad number", 200, biz(CodeMobileIllegal, "非法手机号"), connector.Permanent},
		{"too many numbers", 200, biz(CodeMobileCount, "手机号码数量超过限制"), connector.Permanent},
		{"missing params", 200, biz(CodeMissingParams, "模板缺少变量"), connector.Permanent},
		{"bad JSON param", 200, biz(CodeInvalidJSON, "JSON参数不合法，只接受字符串值"), connector.Permanent},
		{"bad sign", 200, biz(CodeSignIllegal, "该账号下找不到对应签名"), connector.Permanent},
		{"bad template", 200, biz(CodeTemplateIllegal, "该账号下找不到对应模板"), connector.Permanent},
		{"sign scene", 200, biz(CodeSignScene, "签名和模板类型不一致"), connector.Permanent},
		{"no balance", 200, biz(CodeAmount, "账户余额不足"), connector.Permanent},
		{"out of service", 200, biz(CodeOutOfService, "业务停机"), connector.Permanent},
		{"content", 200, biz(CodeContentIllegal, "短信内容包含禁止发送内容"), connector.Permanent},
		{"IP range", 200, biz(CodeDenyIP, "IP地址所在的地域被禁用"), connector.Permanent},
		{"RAM", 200, biz(CodeRAMDeny, "RAM权限DENY"), connector.Permanent},
		{"system error", 200, biz(CodeSystemError, "系统错误"), connector.Retry},
		{"unlisted isv code", 200, biz("isv.SOMETHING_NEW", "新的错误"), connector.Permanent},
		{"signature", 400, gw(CodeSignatureMismatch, "Specified signature does not match our calculation. server string to sign is:ACS3-HMAC-SHA256\nabc"), connector.Permanent},
		{"incomplete signature", 400, gw(CodeIncompleteSignature, "The request signature does not conform to Aliyun standards."), connector.Permanent},
		{"unknown AccessKey", 404, gw(CodeAKNotFound, "Specified access key is not found."), connector.Permanent},
		{"disabled AccessKey", 400, gw(CodeAKInactive, "Specified access key is disabled."), connector.Permanent},
		{"time format", 400, gw(CodeTimeFormat, "Specified time stamp or date value is not well formatted."), connector.Permanent},
		{"time expired", 400, gw(CodeTimeExpired, "Specified time stamp or date value is expired."), connector.Permanent},
		{"nonce used", 400, gw(CodeNonceUsed, "Specified signature nonce was used already."), connector.Retry},
		{"missing param", 400, gw("MissingPhoneNumbers", "PhoneNumbers is mandatory for this action."), connector.Permanent},
		{"throttling user", 400, gw(CodeThrottlingUser, "Request was denied due to user flow control."), connector.SlowDown},
		{"throttling api", 400, gw(CodeThrottlingAPI, "Request was denied due to api flow control."), connector.SlowDown},
		{"throttling at 503", 503, gw("Throttling", "Request was denied due to flow control."), connector.SlowDown},
		{"action not found", 404, gw(CodeActionNotFound, "Specified api is not found, please check your url and method."), connector.Permanent},
		{"gateway 500 with a code", 500, gw("InternalError", "The request processing has failed due to some unknown error."), connector.Unknown},
		{"gateway 503 with a code", 503, gw("ServiceUnavailable", "The request has failed due to a temporary failure of the server."), connector.Unknown},
		{"HTML at 200", 200, `<html><body>blocked</body></html>`, connector.Unknown},
		{"HTML at 502", 502, `<html>Bad Gateway</html>`, connector.Unknown},
		{"HTTP 429", 429, `too many`, connector.SlowDown},
		{"HTTP 403 page", 403, `forbidden`, connector.Permanent},
		{"OK at HTTP 500", 500, `{"Code":"OK","Message":"OK","BizId":"1^0","RequestId":"r"}`, connector.Unknown},
	}
	var table []connectortest.ClassCase
	for _, c := range cases {
		err := sendErr(t, c.status, c.body)
		table = append(table, connectortest.ClassCase{Name: c.name, Err: err, Want: c.want})
		ce, ok := connector.AsCallError(err)
		if ok && ce.Class != connector.Unknown && (ce.Hint == "" || ce.Code == "") {
			t.Errorf("%s: refusal without code or hint: %+v", c.name, ce)
		}
		if ok && strings.Contains(ce.Error(), "sign is:") {
			t.Errorf("%s: the error quotes the string to sign, numbers and all: %v", c.name, ce)
		}
	}
	connectortest.CheckClasses(t, table)
}

// A per-number limit waits the span it names when the client did not see
// the sends that filled it; the console's day cap waits for Beijing's
// midnight (the clock says 18:00:15 there); the API's throttling a second.
func TestRetryAfter(t *testing.T) {
	for _, c := range []struct {
		status int
		body   string
		want   time.Duration
	}{
		{200, biz(CodeLimitControl, "触发分钟级流控Permits:1"), time.Minute},
		{200, biz(CodeLimitControl, "触发小时级流控Permits:5"), time.Hour},
		{200, biz(CodeLimitControl, "触发天级流控Permits:10"), 24 * time.Hour},
		{200, biz(CodeLimitControl, "业务限流"), 24 * time.Hour},
		{200, biz(CodeDayLimit, "触发日发送限额"), 5*time.Hour + 59*time.Minute + 45*time.Second},
		{400, gw(CodeThrottlingUser, "Request was denied due to user flow control."), time.Second},
	} {
		ce, _ := connector.AsCallError(sendErr(t, c.status, c.body))
		if ce == nil || ce.Class != connector.SlowDown || ce.RetryAfter != c.want {
			t.Errorf("%s: %+v; want SlowDown after %v", c.body, ce, c.want)
		}
	}
}

// The hints say where in the 阿里云 console to fix what.
func TestHints(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{biz(CodeTemplateIllegal, "该账号下找不到对应模板"), "模板管理"},
		{biz(CodeSignIllegal, "该账号下找不到对应签名"), "签名管理"},
		{biz(CodeMissingParams, "模板缺少变量"), "templates 中 shipped 的 code 与 params"},
		{biz(CodeSignScene, "签名和模板类型不一致"), "通用签名"},
		{biz(CodeAmount, "账户余额不足"), "充值"},
		{biz(CodeLimitControl, "触发分钟级流控Permits:1"), "号码 138****1234 触发阿里云短信的分钟级频率限制（同一号码一分钟内最多 1 条）；系统在 1 分钟 后重发"},
		{gw(CodeSignatureMismatch, "Specified signature does not match our calculation."), "access_key_secret"},
	} {
		ce, _ := connector.AsCallError(sendErr(t, 200, c.body))
		if ce == nil || !strings.Contains(ce.Hint, c.want) {
			t.Errorf("%s: hint %q; want one with %q", c.body, ce.Hint, c.want)
		}
	}
}

func TestSuccess(t *testing.T) {
	res, err := answering(t, 200, `{"Code":"OK","Message":"OK","BizId":"900619746936498440^0","RequestId":"r"}`).Send(context.Background(), shipped("13800001234"))
	if err != nil || res.Code != "OK" || res.MessageID != "900619746936498440^0" {
		t.Fatalf("%+v, %v", res, err)
	}
}
