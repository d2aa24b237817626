package aliyunsms

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"orderhub/internal/connector"
	"orderhub/internal/order"
)

// SendSms's business codes (HTTP 200, Code ≠ OK; im.md 5.4).
const (
	CodeLimitControl    = "isv.BUSINESS_LIMIT_CONTROL" // per-number flow control (5.5)
	CodeDayLimit        = "isv.DAY_LIMIT_CONTROL"      // the console's daily total cap
	CodeMonthLimit      = "isv.MONTH_LIMIT_CONTROL"    // the console's monthly total cap
	CodeMobileIllegal   = "isv.MOBILE_NUMBER_ILLEGAL"
	CodeMobileCount     = "isv.MOBILE_COUNT_OVER_LIMIT"
	CodeMissingParams   = "isv.TEMPLATE_MISSING_PARAMETERS"
	CodeInvalidJSON     = "isv.INVALID_JSON_PARAM"
	CodeSignIllegal     = "isv.SMS_SIGNATURE_ILLEGAL"
	CodeTemplateIllegal = "isv.SMS_TEMPLATE_ILLEGAL"
	CodeSignScene       = "isv.SMS_SIGNATURE_SCENE_ILLEGAL"
	CodeAmount          = "isv.AMOUNT_NOT_ENOUGH"
	CodeOutOfService    = "isv.OUT_OF_SERVICE"
	CodeContentIllegal  = "isv.SMS_CONTENT_ILLEGAL"
	CodeDenyIP          = "isv.DENY_IP_RANGE"
	CodeRAMDeny         = "isp.RAM_PERMISSION_DENY"
	CodeSystemError     = "isp.SYSTEM_ERROR"
)

// The gateway's codes (HTTP 4xx, before the service looks at the call).
const (
	CodeSignatureMismatch   = "SignatureDoesNotMatch"
	CodeIncompleteSignature = "IncompleteSignature"
	CodeAKNotFound          = "InvalidAccessKeyId.NotFound"
	CodeAKInactive          = "InvalidAccessKeyId.Inactive"
	CodeTimeFormat          = "InvalidTimeStamp.Format"
	CodeTimeExpired         = "InvalidTimeStamp.Expired"
	CodeNonceUsed           = "SignatureNonceUsed"
	CodeThrottlingUser      = "Throttling.User"
	CodeThrottlingAPI       = "Throttling.Api"
	CodeActionNotFound      = "InvalidAction.NotFound"
	CodeInvalidVersion      = "InvalidVersion"
)

const console = "短信服务控制台（dysms.console.aliyun.com）→ 国内消息"

// flowControl reads the level and the permits out of a per-number limit's
// message, "触发分钟级流控Permits:1", "触发小时级流控Permits:5",
// "触发天级流控Permits:10".
var flowControl = regexp.MustCompile(`(分钟|小时|天)级流控\s*Permits\s*:\s*(\d+)`)

// window is the span a per-number limit counts in.
func window(level string) time.Duration {
	switch level {
	case "分钟":
		return time.Minute
	case "小时":
		return time.Hour
	}
	return 24 * time.Hour // the "day" is a rolling 24 h
}

// classify maps a code the service or its gateway answered to a class, with
// a Chinese hint of what to fix and where. call is the refused call: its
// numbers pick the wait of a per-number limit.
func (c *Client) classify(a answer, status int, call *sendCall, now time.Time) *connector.CallError {
	ce := &connector.CallError{System: c.system, Op: opSend, Code: a.Code, Message: a.Message, Class: connector.Permanent}
	tplHint := func(what string) string {
		return fmt.Sprintf("%s：检查该系统 templates 中 %s 的 code 与 params，与%s → 模板管理中该模板一致", what, call.rule, console)
	}
	switch code := a.Code; {
	case code == CodeLimitControl:
		ce.Class, ce.PerMessage = connector.SlowDown, true
		level, permits := "天", 0
		if m := flowControl.FindStringSubmatch(a.Message); m != nil {
			level, permits = m[1], atoi(m[2])
		}
		ce.RetryAfter = c.limitWait(call, window(level), permits, now)
		ce.Hint = fmt.Sprintf("号码 %s 触发阿里云短信的%s级频率限制（同一号码%s内最多 %s 条）；系统在%s后重发。验证码类限制可在%s → 设置中调整，通知类每号每天最多 50 条",
			numbersText(call.numbers), level, spanName(level), permitsText(permits), durationText(ce.RetryAfter), console)
	case code == CodeDayLimit:
		// The console's own daily cap: it resets at Beijing midnight.
		ce.Class = connector.SlowDown
		ce.RetryAfter = nextDay(now).Sub(now)
		ce.Hint = "已达到控制台设置的每日发送总量上限；系统在北京时间次日零点后重发。可在" + console + " → 设置 → 发送量阈值中调高"
	case code == CodeMonthLimit:
		// Waiting for next month would tell people far too late: it fails,
		// and the rule's next channel takes over.
		ce.Hint = "已达到控制台设置的每月发送总量上限：在" + console + " → 设置 → 发送量阈值中调高，之后可在投递记录中重发"
	case code == CodeMobileIllegal:
		ce.Hint = "阿里云认为手机号无效：检查 people 中该收件人的 mobile（或订单上买家的手机号），须为中国大陆手机号"
	case code == CodeMobileCount:
		ce.Hint = "一次调用的手机号超过 1000 个（系统本会分批发送，请报告此问题）"
	case code == CodeMissingParams:
		ce.Hint = tplHint("模板缺少变量：params 没有列出模板中的全部 ${…} 变量")
	case code == CodeInvalidJSON:
		ce.Hint = tplHint("模板变量 TemplateParam 不是合法的 JSON（或值不是字符串）")
	case code == CodeSignIllegal:
		ce.Hint = fmt.Sprintf("签名「%s」不存在或未审核通过：把 sign_name 改为%s → 签名管理中已通过审核的签名（不带【】）", c.signName, console)
	case code == CodeTemplateIllegal:
		ce.Hint = tplHint(fmt.Sprintf("模板 %s 不存在、未审核通过或不属于本账号", call.code))
	case code == CodeSignScene:
		ce.Hint = fmt.Sprintf("签名「%s」只能用于验证码，不能发送通知类模板 %s：在%s → 签名管理中申请通用签名，填入 sign_name", c.signName, call.code, console)
	case code == CodeAmount:
		ce.Hint = "阿里云账户余额不足：充值或购买短信资源包后，可在投递记录中重发"
	case code == CodeOutOfService:
		ce.Hint = "阿里云账户已欠费停机：充值后可在投递记录中重发"
	case code == CodeContentIllegal:
		ce.Hint = tplHint("短信内容含有禁止发送的内容（变量值触发了内容审核）")
	case code == CodeDenyIP:
		ce.Hint = "本机出口 IP 不在该 AccessKey 的 IP 白名单中：在" + console + " → 设置 → 通用设置（或 RAM 访问控制）中加入本机出口 IP"
	case code == CodeRAMDeny:
		ce.Hint = "该 AccessKey 的 RAM 用户没有发送短信的权限：在 RAM 访问控制中为它授予 AliyunDysmsFullAccess（或 dysms:SendSms）"
	case code == CodeSystemError:
		// The service answered that it failed: the message was not taken.
		ce.Class = connector.Retry
		ce.Hint = "阿里云短信服务内部错误，稍后自动重试"
	case code == CodeSignatureMismatch || code == CodeIncompleteSignature:
		ce.Message = scrub(a.Message)
		ce.Hint = "签名校验失败：access_key_secret 与 access_key_id 不是同一对 AccessKey，在 RAM 访问控制 → 用户 → AccessKey 中核对并重新复制"
	case code == CodeAKNotFound:
		ce.Hint = "AccessKey ID 不存在：检查 access_key_id（是否已被删除或复制不全）"
	case code == CodeAKInactive:
		ce.Hint = "AccessKey 已被禁用：在 RAM 访问控制 → 用户 → AccessKey 中启用它，或换用有效的 AccessKey"
	case code == CodeTimeExpired || code == CodeTimeFormat:
		ce.Hint = "请求时间与阿里云相差超过 15 分钟：校准本机时钟（NTP）"
	case code == CodeNonceUsed:
		// The gateway refused this one call; a new nonce makes a new call.
		ce.Class = connector.Retry
		ce.Hint = "请求的 SignatureNonce 重复，已拒绝且未发送；系统会以新的 nonce 重试"
	case strings.HasPrefix(code, "Throttling"):
		ce.Class = connector.SlowDown
		ce.RetryAfter = time.Second
		ce.Hint = "阿里云 API 限流（账号每秒调用次数超限），稍后自动重试"
	case code == CodeActionNotFound || code == CodeInvalidVersion || strings.HasPrefix(code, "Missing"):
		ce.Hint = "阿里云不认识这次调用（" + code + "）：base_url 是否指向 dysmsapi（https://dysmsapi.aliyuncs.com）？"
	case status >= 500:
		// A gateway error after the call was sent: the SMS may be out, and
		// SendSms is not idempotent.
		ce.Class = connector.Unknown
		ce.Hint = "阿里云返回服务端错误，短信是否已发出未知"
	default:
		ce.Hint = fmt.Sprintf("阿里云返回了未收录的错误码 %s：按 Message 检查签名、模板与账号设置，修正后可在投递记录中重发", code)
	}
	return ce
}

// scrub cuts the gateway's echo of its string to sign out of a
// SignatureDoesNotMatch message: it holds the recipients' numbers and the
// template's values.
func scrub(msg string) string {
	if i := strings.Index(msg, "server string to sign is:"); i >= 0 {
		return strings.TrimSpace(msg[:i]) + " (the echoed string to sign is left out: it holds the numbers)"
	}
	return msg
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func spanName(level string) string {
	if level == "天" {
		return " 24 小时"
	}
	return "一" + level
}

func permitsText(n int) string {
	if n <= 0 {
		return "若干"
	}
	return strconv.Itoa(n)
}

// numbersText names a call's numbers, masked, in a hint: all of a few.
func numbersText(numbers []string) string {
	if len(numbers) > 3 {
		return maskAll(numbers[:3]) + fmt.Sprintf(" 等 %d 个", len(numbers))
	}
	return maskAll(numbers)
}

// durationText writes a wait for a person: " 40 秒 ", " 1 小时 5 分钟 ".
func durationText(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	var b strings.Builder
	for _, p := range []struct {
		n    int
		unit string
	}{{h, "小时"}, {m, "分钟"}, {s, "秒"}} {
		if p.n > 0 {
			fmt.Fprintf(&b, " %d %s", p.n, p.unit)
		}
	}
	if b.Len() == 0 {
		return " 1 秒 "
	}
	return b.String() + " "
}

// maskAll masks numbers for messages and logs.
func maskAll(numbers []string) string {
	m := make([]string, len(numbers))
	for i, n := range numbers {
		m[i] = order.MaskPhone(n)
	}
	return strings.Join(m, ",")
}
