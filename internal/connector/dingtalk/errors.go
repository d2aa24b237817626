package dingtalk

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"orderhub/internal/connector"
)

// The robot's errcodes (im.md 1.7). Sources disagree on the codes for
// throttling and for a bad token, so every code seen for one condition
// maps to the same class.
const (
	CodeOK            = 0
	CodeBusy          = -1
	CodeSecurity      = 310000 // keyword, 加签 timestamp or sign, IP allow-list
	CodeTooFast       = 130101 // "send too fast, exceed 20 times per minute" (observed)
	CodeTooFastDoc    = 410100 // 发送速度太快而限流 (documented)
	CodeTooFastNew    = 660026 // "sending too many messages per minute" (observed 2026)
	CodeTooLong       = 460101 // "message too long, exceed 20000 bytes"
	CodeNoTokenDoc    = 400101 // access_token不存在 (documented)
	CodeParamOrToken  = 300001 // "token is not exist", or "param error" / "message msgtype not support"
	CodeNoToken       = 300005 // "token is not exist" (as returned)
	CodeDisabled      = 400102 // 机器人已停用
	CodeBadMsgType    = 400105 // 不支持的消息类型
	CodeNotInGroup    = 400106 // 机器人不存在
	CodeGroupGone     = 400013 // 群已被解散
	CodeNoJSON        = 40035  // 缺少参数 json
	CodeContentType   = 43004  // 无效的HTTP HEADER Content-Type
	CodeUnsafeLink    = 430101 // 含有不安全的外链
	CodeBadText       = 430102 // 含有不合适的文本
	CodeBadImage      = 430103 // 含有不合适的图片
	CodeBadContent    = 430104 // 含有不合适的内容
	CodeMonthlyQuota  = 90030  // "webhook over limit": the organisation's monthly quota (reported once)
	statusIPBanned    = 1111   // {"status":1111,"wait":5}: the egress IP is banned for minutes
	robotSettingsPath = "群设置 → 机器人 → 该自定义机器人 → 设置"
)

// classify maps a non-zero errcode to a class, with a Chinese hint saying
// what to change in the robot's settings. errmsg only picks the hint within
// a code (310000 covers four settings); the class comes from the code alone.
func (c *Client) classify(code int, errmsg string, now time.Time) *connector.CallError {
	ce := &connector.CallError{System: c.system, Op: opSend, Code: strconv.Itoa(code), Message: errmsg, Class: connector.Permanent}
	switch code {
	case CodeTooFast, CodeTooFastDoc, CodeTooFastNew:
		ce.Class = connector.SlowDown
		ce.RetryAfter = untilNextMinute(now)
		ce.Hint = "钉钉机器人每分钟最多 20 条消息，已限流；系统会在下一分钟再发（超限后钉钉可能限流该机器人 10 分钟）"
	case CodeBusy:
		ce.Class = connector.Retry
		ce.Hint = "钉钉系统繁忙，稍后自动重试"
	case CodeSecurity:
		ce.Hint = c.securityHint(errmsg)
	case CodeNoTokenDoc, CodeNoToken:
		ce.Hint = tokenHint
	case CodeParamOrToken:
		if strings.Contains(strings.ToLower(errmsg), "token") {
			ce.Hint = tokenHint
		} else {
			ce.Hint = "钉钉认为消息格式不对（" + errmsg + "）：检查 msgtype 设置；若持续出现请报告此问题"
		}
	case CodeDisabled:
		ce.Hint = "机器人已停用：在" + robotSettingsPath + "中重新启用它"
	case CodeNotInGroup:
		ce.Hint = "机器人已不在群里（被移除或删除）：重新添加自定义机器人，并把新的 Webhook 填入 webhook"
	case CodeGroupGone:
		ce.Hint = "机器人所在的群已解散：换一个群添加自定义机器人，并更新 webhook"
	case CodeBadMsgType:
		ce.Hint = "钉钉不支持该消息类型：把 msgtype 改为 markdown、text、actionCard 或 feedCard"
	case CodeTooLong:
		ce.Hint = "消息超过钉钉的 20000 字节限制：缩短模板（正文过长时系统本会截断，请报告此问题）"
	case CodeNoJSON, CodeContentType:
		ce.Hint = "钉钉没有读到 JSON 消息体：webhook 是否指向钉钉机器人地址（/robot/send）？经代理时检查代理是否改写了请求"
	case CodeUnsafeLink:
		ce.Hint = "钉钉认为消息含不安全的外链：检查模板中的链接（订单链接须是公网可信域名）"
	case CodeBadText, CodeBadImage, CodeBadContent:
		ce.Hint = "钉钉的内容审核拒绝了这条消息：修改模板中的文字或图片"
	case CodeMonthlyQuota:
		ce.Hint = "组织本月的 Webhook 调用额度已用完：在钉钉管理后台升级版本或购买加量包，之后可在投递记录中重发"
	default:
		ce.Hint = fmt.Sprintf("钉钉返回了未收录的错误码 %d：按 errmsg 检查机器人设置，修正后可在投递记录中重发", code)
	}
	return ce
}

const tokenHint = "access_token 无效：机器人可能已被删除或重置了 Webhook；从" + robotSettingsPath + "复制新的 Webhook 填入 webhook"

// securityHint says which of the robot's 安全设置 refused the message.
func (c *Client) securityHint(errmsg string) string {
	m := strings.ToLower(errmsg)
	switch {
	case strings.Contains(m, "keyword"):
		if c.keyword == "" {
			return "机器人开启了「自定义关键词」，消息中没有任何关键词：把其中一个关键词填入该系统的 keyword"
		}
		return fmt.Sprintf("消息中带有 keyword「%s」，但它不在机器人的「自定义关键词」中：在%s → 安全设置中加入「%s」，或把 keyword 改成已有的关键词", c.keyword, robotSettingsPath, c.keyword)
	case strings.Contains(m, "timestamp"):
		if c.secret == "" {
			return "机器人开启了「加签」，请求没有签名：把加签的 SEC 开头的密钥填入该系统的 secret"
		}
		return "加签的 timestamp 与钉钉的时间相差超过 1 小时：校准本机时钟（NTP）"
	case strings.Contains(m, "sign"):
		if c.secret == "" {
			return "机器人开启了「加签」，请求没有签名：把" + robotSettingsPath + " → 安全设置 → 加签 下 SEC 开头的密钥填入该系统的 secret"
		}
		return "加签签名不匹配：secret 与机器人「加签」的密钥不一致，从" + robotSettingsPath + " → 安全设置 → 加签 重新复制完整的 SEC… 密钥填入 secret"
	case strings.Contains(m, "ip") || strings.Contains(m, "whitelist"):
		ip := ipIn(errmsg)
		h := "本机出口 IP 不在机器人的「IP 地址（段）」中：在" + robotSettingsPath + " → 安全设置 → IP 地址（段）中加入 " + ip
		if c.ip != "" {
			h += fmt.Sprintf("（配置的 ip 为 %s，钉钉看到的出口 IP 不在其中）", c.ip)
		}
		return h
	}
	return "机器人的安全设置拒绝了消息（自定义关键词、加签或 IP 地址段）：核对 keyword、secret 与机器人的安全设置"
}

// ipIn picks the address out of "ip 1.2.3.4 not in whitelist".
func ipIn(errmsg string) string {
	for _, f := range strings.Fields(errmsg) {
		if strings.Count(f, ".") == 3 && strings.Trim(f, "0123456789.") == "" {
			return f
		}
	}
	return "本机的出口 IP"
}

// ipBanned is the answer DingTalk gives an egress IP that called its APIs
// too often (10 000 calls / 20 s): banned for `wait` minutes.
func ipBanned(system string, a answer) *connector.CallError {
	if a.Status != statusIPBanned {
		return &connector.CallError{Class: connector.Unknown, System: system, Op: opSend, Code: "status " + strconv.Itoa(a.Status),
			Hint: "钉钉返回了无法识别的应答；消息是否已发出未知"}
	}
	wait := time.Duration(a.Wait) * time.Minute
	if wait <= 0 {
		wait = 5 * time.Minute
	}
	return &connector.CallError{Class: connector.SlowDown, System: system, Op: opSend, Code: "status 1111", RetryAfter: wait,
		Message: "ip banned", Hint: "本机出口 IP 调用钉钉接口过于频繁，被封禁数分钟；系统会在封禁结束后重发"}
}

// untilNextMinute is the rest of the current minute: DingTalk counts a
// robot's messages per minute.
func untilNextMinute(now time.Time) time.Duration {
	d := now.Truncate(time.Minute).Add(time.Minute).Sub(now)
	if d < time.Second {
		d = time.Second
	}
	return d
}
