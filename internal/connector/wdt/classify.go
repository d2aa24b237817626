package wdt

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"orderhub/internal/connector"
)

// DefaultRetryCodes are the 旺店通 codes answered when the service is busy
// or throttling: 1012 by a production client's account, the rest retried
// after 30 s by a public client (erp.md 1.6; no official table exists, so
// the set is the retry_codes setting).
var DefaultRetryCodes = []int{1012, 1013, 1020, 1030, 1040, 1200, 1610}

// DefaultRetryAfter is how long to wait after a busy answer.
const DefaultRetryAfter = 30 * time.Second

// classifier turns 旺店通's and 奇门's refusals into CallErrors.
type classifier struct {
	system     string
	qimen      bool
	retry      map[int64]bool
	retryAfter time.Duration
}

func newClassifier(system string, qimen bool, codes []int, after time.Duration) classifier {
	if len(codes) == 0 {
		codes = DefaultRetryCodes
	}
	if after <= 0 {
		after = DefaultRetryAfter
	}
	c := classifier{system: system, qimen: qimen, retry: map[int64]bool{}, retryAfter: after}
	for _, n := range codes {
		c.retry[int64(n)] = true
	}
	return c
}

// code classifies a non-zero 旺店通 code: busy codes are SlowDown, every
// other code is a refusal that sending again will not change. The codes
// themselves are not documented, so the hint comes from the message's
// words (签名, 时间戳, sid, appkey, …).
func (c classifier) code(op string, code int64, msg string) *connector.CallError {
	ce := &connector.CallError{System: c.system, Op: op, Code: strconv.FormatInt(code, 10), Message: msg, Class: connector.Permanent}
	if c.retry[code] {
		ce.Class, ce.RetryAfter = connector.SlowDown, c.retryAfter
		ce.Hint = fmt.Sprintf("旺店通繁忙或限流（code %d）：系统会在 %s 后自动重试，不需要处理", code, c.retryAfter)
		return ce
	}
	ce.Hint = c.hint(msg)
	return ce
}

// hint says in Chinese what a person should fix for a refusal message.
func (c classifier) hint(msg string) string {
	m := strings.ToLower(msg)
	secret, key := "appsecret", "appkey"
	if c.qimen {
		secret, key = "app_secret", "app_key"
	}
	switch {
	case strings.Contains(m, "签名") || strings.Contains(m, "sign"):
		if c.qimen {
			return "签名错误：检查 app_secret 是否为你的奇门应用的密钥，sign_method 是否与应用设置一致"
		}
		return "签名错误：检查 appsecret 是否与旺店通「自助对接」中该接口账号的密钥一致；若旺店通按字节计长，设置 sign_length: bytes"
	case strings.Contains(m, "时间戳") || strings.Contains(m, "timestamp"):
		return "时间戳超出旺店通允许的范围：校准运行 orderhub 的服务器的时钟"
	case strings.Contains(m, "target_app_key"):
		return "奇门拒绝了 target_app_key：填写旺店通授权邮件中给出的奇门 appkey，并确认授权未过期"
	case strings.Contains(m, "sid") || strings.Contains(m, "卖家"):
		return "卖家账号 sid 不存在或已停用：检查该系统配置中的 sid"
	case strings.Contains(m, "appkey") || strings.Contains(m, "app_key") || strings.Contains(m, "接口账号"):
		return "接口账号不存在或已停用：检查该系统配置中的 " + key + "，并确认它在旺店通中已启用（对应密钥为 " + secret + "）"
	case strings.Contains(m, "ip") && (strings.Contains(m, "白名单") || strings.Contains(m, "whitelist")):
		return "请求来源 IP 不在接口白名单中：在旺店通「自助对接」中添加 orderhub 服务器的出口 IP"
	case strings.Contains(m, "权限") || strings.Contains(m, "授权") || strings.Contains(m, "permission"):
		return "该账号无权调用此接口：在旺店通（或奇门）中为该账号开通此接口后重试"
	default:
		return "旺店通拒绝了查询：" + msg + "；按提示检查该系统的配置与同步参数后重试"
	}
}

// The TOP gateway codes 奇门 answers in error_response (the public TOP
// error table): 7 is the app's call limit, the rest are refusals of the
// request itself.
const (
	topCallLimited   = 7
	topUnavailable   = 10
	topISVPermission = 11
	topUserPerm      = 12
	topRemoteError   = 15
	topMissingMethod = 21
	topInvalidMethod = 22
	topMissingSign   = 24
	topInvalidSign   = 25
	topMissingKey    = 28
	topInvalidKey    = 29
	topMissingTime   = 30
	topInvalidTime   = 31
	topInvalidArgs   = 41
)

// gateway classifies a 奇门 error_response.
func (c classifier) gateway(op string, code int64, msg, subCode, subMsg string) *connector.CallError {
	ce := &connector.CallError{System: c.system, Op: op, Code: "奇门 " + strconv.FormatInt(code, 10), Message: msg, Class: connector.Permanent}
	if subCode != "" {
		ce.Code += " " + subCode
	}
	if subMsg != "" {
		ce.Message = strings.TrimSpace(msg + ": " + subMsg)
	}
	switch {
	case code == topCallLimited || strings.Contains(subCode, "limited"):
		ce.Class, ce.RetryAfter = connector.SlowDown, c.retryAfter
		ce.Hint = fmt.Sprintf("奇门限流（App Call Limited）：系统会在 %s 后自动重试，不需要处理", c.retryAfter)
	case code == topUnavailable || strings.HasPrefix(subCode, "isp."):
		// The service side failed; a read is safe to send again.
		ce.Class, ce.Hint = connector.Retry, "奇门或旺店通服务暂时不可用：系统会自动重试"
	case code == topMissingSign || code == topInvalidSign:
		ce.Hint = "奇门签名错误：检查 app_secret 是否为你的奇门应用的密钥，sign_method 是否与应用设置一致"
	case code == topMissingKey || code == topInvalidKey:
		ce.Hint = "奇门不认识 app_key：填写你在奇门（淘宝开放平台）创建的应用的 AppKey"
	case code == topMissingTime || code == topInvalidTime:
		ce.Hint = "奇门认为时间戳无效：校准运行 orderhub 的服务器的时钟（奇门按北京时间，允许误差 10 分钟）"
	case code == topISVPermission || code == topUserPerm:
		ce.Hint = "奇门拒绝了调用权限：确认 target_app_key 是旺店通授权邮件中给出的 appkey，且授权未过期"
	case code == topMissingMethod || code == topInvalidMethod:
		ce.Hint = "奇门不认识该接口方法：检查 method_prefix（如 hu3cgwt0tc.）是否与旺店通给出的路由一致"
	default:
		ce.Hint = c.hint(ce.Message)
	}
	return ce
}

// business classifies a 奇门 answer that passed the gateway but carries
// 旺店通's refusal: {"response": {"flag": "failure", "code", "message",
// "sub_code", "sub_message"}}. The 旺店通 code is whichever of code and
// sub_code is a number.
func (c classifier) business(op, code, msg, subCode, subMsg string) *connector.CallError {
	text := msg
	if subMsg != "" && subMsg != msg {
		text = strings.TrimSpace(msg + ": " + subMsg)
	}
	for _, s := range []string{code, subCode} {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n != 0 {
			return c.code(op, n, text)
		}
	}
	ce := &connector.CallError{System: c.system, Op: op, Code: strings.Trim(code+" "+subCode, " "), Message: text, Class: connector.Permanent}
	if strings.HasPrefix(subCode, "isp.") {
		ce.Class, ce.Hint = connector.Retry, "旺店通服务暂时出错：系统会自动重试"
		return ce
	}
	ce.Hint = c.hint(text)
	return ce
}

// local is a request the client refuses before sending it.
func (c classifier) local(op, msg, hint string) *connector.CallError {
	return &connector.CallError{System: c.system, Op: op, Class: connector.Permanent, Message: msg, Hint: hint}
}
