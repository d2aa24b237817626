package webhookout

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"orderhub/internal/connector"
)

// maxRetryAfter caps a receiver's Retry-After: the hub's retries of one
// message span about a day, and a receiver asking for more is better
// asked again.
const maxRetryAfter = 24 * time.Hour

// classify maps a receiver's answer to a class, following the spec's
// status handling: 2xx is delivered (nil); 410 Gone means the receiver has
// disabled the endpoint; 429, and 503 with Retry-After, ask the hub to
// slow down; other 5xx (and 408) are retried: the receiver dedupes by
// webhook-id, so sending again is safe even if the first attempt took
// effect; 3xx and other 4xx are refusals a person must look at.
func classify(system string, status int, h http.Header, body []byte, now time.Time) *connector.CallError {
	if status >= 200 && status <= 299 {
		return nil
	}
	ce := &connector.CallError{System: system, Op: opSend, Code: "HTTP " + strconv.Itoa(status), Message: snippet(body), Class: connector.Permanent}
	wait, hasWait := retryAfter(h.Get("Retry-After"), now)
	switch {
	case status == http.StatusGone:
		ce.Hint = "接收方答 410 Gone：它已停用这个端点，不再接收推送。与对方确认后改 url，或从规则的 channels 中去掉该系统；之后可在投递记录中重发"
	case status == http.StatusTooManyRequests:
		ce.Class, ce.RetryAfter = connector.SlowDown, wait
		ce.Hint = "接收方限流（429），系统会按其 Retry-After 稍后重发"
	case status == http.StatusServiceUnavailable && hasWait:
		ce.Class, ce.RetryAfter = connector.SlowDown, wait
		ce.Hint = "接收方暂时无法处理（503），系统会按其 Retry-After 稍后重发"
	case status >= 500:
		ce.Class = connector.Retry
		ce.Hint = fmt.Sprintf("接收方出错（HTTP %d），系统会稍后重发；webhook-id 不变，接收方可据此去重", status)
	case status == http.StatusRequestTimeout:
		// The receiver gave up reading the request: nothing was taken.
		ce.Class = connector.Retry
		ce.Hint = "接收方读取请求超时（408），系统会稍后重发"
	case status >= 300 && status <= 399:
		ce.Hint = fmt.Sprintf("接收方要求跳转（HTTP %d%s）；Webhook 不跟随跳转：把 url 改成对方的新地址", status, location(h.Get("Location")))
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		ce.Hint = fmt.Sprintf("接收方拒绝了签名或来源（HTTP %d）：核对对方配置的 whsec_ 密钥与该系统的 secret 是否一致、双方时钟是否准确（相差 5 分钟以上会被拒），以及对方是否限制了来源 IP", status)
	case status == http.StatusNotFound || status == http.StatusMethodNotAllowed:
		ce.Hint = fmt.Sprintf("接收方没有这个地址（HTTP %d）：检查 url 的路径，以及对方是否接受 POST", status)
	case status == http.StatusRequestEntityTooLarge:
		ce.Hint = "接收方认为消息体过大（413）：请对方放宽大小限制"
	case status == http.StatusUnsupportedMediaType:
		ce.Hint = "接收方不接受 application/json（415）：请对方按 JSON 接收"
	case status >= 400 && status <= 499:
		ce.Hint = fmt.Sprintf("接收方拒绝了消息（HTTP %d）：按其应答修正数据或对方的设置后，可在投递记录中重发", status)
	default:
		// 1xx as a final answer, or a status outside HTTP's: whether the
		// receiver took the message cannot be told.
		ce.Class = connector.Unknown
		ce.Hint = fmt.Sprintf("接收方的应答无法识别（HTTP %d）；系统会用相同的 webhook-id 重发", status)
	}
	return ce
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		if n > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true
		}
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
		if d < 0 {
			d = 0
		}
	} else {
		return 0, false
	}
	return min(d, maxRetryAfter), true
}

// location is a redirect's target for a hint, without its query (which
// may hold a token).
func location(v string) string {
	u, err := url.Parse(v)
	if err != nil || v == "" {
		return ""
	}
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return " → " + u.String()
}
