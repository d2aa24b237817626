package dingtalkapp

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"orderhub/internal/connector"
)

// The errcodes of the legacy app API (im.md 2.1–2.5), and the few of
// DingTalk's global table that these calls meet (marked "global").
const (
	CodeOK           = 0
	CodeBusy         = -1
	CodeAuth         = 88    // 鉴权异常: the real code is in sub_code
	CodeTokenInvalid = 40014 // 不合法的access_token (usually inside 88)
	CodeTokenExpired = 42001 // access_token超时
	CodeBadAppKey    = 40096 // 不合法的appKey或appSecret (as returned)
	CodeBadCorp      = 40089 // 不合法的corpid或corpsecret (documented)
	CodeBadParam     = 40035 // 不合法的参数; also an unknown or old task id
	CodeOrgMinute    = 41047 // the organisation's per-minute recipient cap
	CodeMinuteTotal  = 41048 // the per-minute total cap
	CodeAppQPS       = 90018 // 20 QPS per app per API
	CodeAPIQPS       = 90002 // the API's global limit
	CodeMonthly      = 90020 // the organisation's monthly call quota
	CodeAllBanned    = 90001 // global: all calls from this server temporarily banned
	CodeCorpBanned   = 90006 // global: this app's calls to the API temporarily banned
	CodeNoPermission = 60011 // global: 没有调用该接口的权限 (inside 88)
	CodeIPNotAllowed = 60020 // global: 访问ip不在白名单之中
	CodeBadAgent     = 40056 // global: 不合法的agentid
	CodeNoAgent      = 41011 // global: 缺少agentid
	CodeAgentInvalid = 52019 // global: 无效的agentid
	CodeNoApp        = 70003 // global: agentid对应微应用不存在
	CodeNoAppInOrg   = 70004 // global: 企业下没有对应该agentid的微应用
	CodeNoUser       = 60121 // global: 找不到该用户
	CodeBadUserID    = 33012 // global: 无效的USERID
	statusIPBanned   = 1111  // {"status":1111,"wait":5}: the egress IP is banned for minutes (im.md 1.8)
)

// The new API family's codes (im.md 2.1, 2.2, 2.5), met only when base_url
// points at api.dingtalk.com.
const (
	newBadSecret  = "invalidClientIdOrSecret"
	newBadToken   = "InvalidAuthentication"
	newAppQPS     = "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi"
	newAPIQPS     = "Forbidden.AccessDenied.QpsLimitForApi"
	newOrgMonthly = "Forbidden.AccessDenied.ApiCountLimitForOrg"

	// DING messages (im.md 2.6), HTTP 400.
	CodeDingReceivers = "ding.receivercount.limit"
	CodeDingQuota     = "ding.serverquota.insufficient"
	CodeDingTooFast   = "toomuch.msg"
	CodeDingRobot     = "invalid.chatbotId"
	CodeDingNoStaff   = "miss.staffId"
)

const appPage = "钉钉开发者后台 → 应用开发 → 企业内部应用 → 该应用"

// classify maps a non-zero errcode to a class, with a Chinese hint of what
// to fix. Errcode 88 is read by its sub_code.
func (c *Client) classify(op string, a answer, now time.Time) *connector.CallError {
	n, msg := int(*a.ErrCode), a.ErrMsg
	ce := &connector.CallError{System: c.system, Op: op, Code: codeText(a), Message: msg, Class: connector.Permanent}
	if n == CodeAuth {
		if sub, err := strconv.Atoi(a.SubCode); err == nil {
			n = sub
			if a.SubMsg != "" {
				ce.Message = a.SubMsg
			}
		}
	}
	switch {
	case n == CodeAuth:
		ce.Hint = "钉钉鉴权失败（" + msg + "）：核对 app_key、app_secret 与 agent_id 属于同一个企业内部应用"
	case c.tokenCodes[n] || n == CodeTokenInvalid || n == CodeTokenExpired:
		ce.Hint = "钉钉认为 access_token 无效或已过期：系统会重新获取；若持续出现，核对 app_key 与 app_secret"
	case n == CodeBusy:
		ce.Class, ce.Hint = connector.Retry, "钉钉系统繁忙，稍后自动重试"
	case n == CodeBadAppKey || n == CodeBadCorp:
		ce.Hint = "app_key 或 app_secret 不正确：从" + appPage + " → 凭证与基础信息 重新复制 AppKey 与 AppSecret（重置过 AppSecret 后旧的即失效）"
	case n == CodeNoPermission:
		ce.Hint = "应用没有调用 " + op + " 的权限：在" + appPage + " → 权限管理 中申请该接口的权限，并确认应用已发布、收件人在应用的可使用范围内"
	case n == CodeBadAgent || n == CodeNoAgent || n == CodeAgentInvalid || n == CodeNoApp || n == CodeNoAppInOrg:
		ce.Hint = fmt.Sprintf("agent_id %d 不是该应用的 AgentId：从%s → 凭证与基础信息 复制 AgentId（须与 app_key 同一个应用）", c.agentID, appPage)
	case n == CodeIPNotAllowed:
		ce.Hint = "本机出口 IP 不在应用的服务器出口 IP 名单中：在" + appPage + " → 开发管理 → 服务器出口IP 中加入本机出口 IP"
	case n == CodeNoUser || n == CodeBadUserID:
		ce.Hint = "钉钉找不到该 userid 的员工：检查 people 中此人的 dingtalk_userid（通讯录里的 userid，不是手机号或工号），以及此人是否已离职"
	case n == CodeBadParam && op == opResult:
		ce.Hint = "钉钉不认识这个发送任务：任务 id 有误，或已超过 24 小时，钉钉不再提供已读状态"
	case n == CodeBadParam:
		ce.Hint = "钉钉认为请求参数不对（" + msg + "）：核对 agent_id；若持续出现请报告此问题"
	case n == CodeOrgMinute || n == CodeMinuteTotal:
		ce.Class, ce.RetryAfter = connector.SlowDown, untilNextMinute(now)
		ce.Hint = "企业每分钟工作通知的接收人数已达钉钉上限，已限流；系统会在下一分钟再发"
	case n == CodeAppQPS:
		ce.Class, ce.RetryAfter = connector.SlowDown, time.Second
		ce.Hint = "该应用调用 " + op + " 超过每秒 20 次，已限流；系统会稍后再发"
	case n == CodeAPIQPS:
		ce.Class, ce.RetryAfter = connector.SlowDown, time.Second
		ce.Hint = "钉钉暂时限制了 " + op + " 接口的调用（全局限流）；系统会稍后再发"
	case n == CodeAllBanned || n == CodeCorpBanned:
		ce.Class, ce.RetryAfter = connector.SlowDown, time.Minute
		ce.Hint = "调用钉钉接口过于频繁，被暂时禁用；系统会稍后再发"
	case n == CodeMonthly:
		ce.Hint = "企业本月的钉钉接口调用额度已用完：在钉钉管理后台升级版本或购买调用量，之后可在投递记录中重发"
	default:
		ce.Hint = fmt.Sprintf("钉钉返回了未收录的错误码 %s（%s）：按 errmsg 检查应用设置，修正后可在投递记录中重发", ce.Code, ce.Message)
	}
	return ce
}

// codeText is an answer's code as the delivery log shows it: "40014", or
// "88/40014" for an authorization failure.
func codeText(a answer) string {
	if a.ErrCode == nil {
		return ""
	}
	s := strconv.Itoa(int(*a.ErrCode))
	if int(*a.ErrCode) == CodeAuth && a.SubCode != "" {
		s += "/" + a.SubCode
	}
	return s
}

// classifyNew reads a new-API error body ({"code": "…"}); nil when the
// body is not one.
func (c *Client) classifyNew(op string, status int, body []byte, now time.Time) *connector.CallError {
	var a newAnswer
	if json.Unmarshal(body, &a) != nil || a.Code == "" {
		return nil
	}
	ce := &connector.CallError{System: c.system, Op: op, Code: fmt.Sprintf("HTTP %d %s", status, a.Code), Message: a.Message, Class: connector.Permanent}
	wrongAPI := "（base_url 应为 " + DefaultBaseURL + "，而非新版 api.dingtalk.com）"
	if op == opDing {
		wrongAPI = ""
	}
	switch a.Code {
	case CodeDingReceivers:
		ce.Hint = fmt.Sprintf("DING 的接收人超过钉钉单次上限（应用内 %d 人，短信与电话 %d 人）：请报告此问题", DingMaxApp, DingMaxCall)
	case CodeDingQuota:
		ce.Hint = "短信或电话 DING 的额度不足：在钉钉管理后台购买 DING 加量包，或让规则改用应用内 DING（ding:app）"
	case CodeDingTooFast:
		ce.Class, ce.RetryAfter = connector.SlowDown, untilNextMinute(now)
		ce.Hint = "该机器人每分钟发送的 DING 过多，已限流；系统会在下一分钟再发"
	case CodeDingRobot:
		ce.Hint = "robot_code 不是该应用机器人的 robotCode：在" + appPage + " → 机器人 中查看 RobotCode（企业内部应用通常与 AppKey 相同），并确认已开通 DING 消息（专业版或专属版，权限 Premium.Ding.Write）"
	case CodeDingNoStaff:
		ce.Hint = "DING 缺少接收人：为收件人配置 dingtalk_userid"
	case newBadSecret:
		ce.Hint = "app_key 或 app_secret 不正确：从" + appPage + " → 凭证与基础信息 重新复制" + wrongAPI
	case newBadToken:
		ce.Hint = "钉钉认为 access_token 无效" + wrongAPI
	case newAppQPS, newAPIQPS:
		ce.Class, ce.RetryAfter = connector.SlowDown, time.Second
		ce.Hint = "钉钉接口限流；系统会稍后再发"
	case newOrgMonthly:
		ce.Hint = "企业本月的钉钉接口调用额度已用完：在钉钉管理后台升级版本或购买调用量"
	default:
		if status == http.StatusTooManyRequests {
			ce.Class, ce.RetryAfter, ce.Hint = connector.SlowDown, untilNextMinute(now), "钉钉接口限流；系统会稍后再发"
			break
		}
		if status >= 500 {
			return nil // a gateway's error in JSON: StatusError decides
		}
		ce.Hint = "钉钉拒绝了请求（" + a.Code + "）" + wrongAPI
		if op == opDing && status == http.StatusForbidden {
			ce.Hint = "钉钉拒绝了 DING 消息（" + a.Code + "）：DING 需要专业版或专属版，并在" + appPage + " → 权限管理 中开通 Premium.Ding.Write"
		}
	}
	return ce
}

// ipBanned is the answer DingTalk gives an egress IP that called its APIs
// too often (10 000 calls in 20 s): banned for `wait` minutes.
func (c *Client) ipBanned(op string, a answer) *connector.CallError {
	if a.Status != statusIPBanned {
		ce := &connector.CallError{Class: connector.Retry, System: c.system, Op: op, Code: "status " + strconv.Itoa(a.Status),
			Hint: "钉钉返回了无法识别的应答：检查 base_url 是否指向 " + DefaultBaseURL}
		if op == opSend {
			ce.Class, ce.Hint = connector.Unknown, unknownSendHint
		}
		return ce
	}
	wait := time.Duration(a.Wait) * time.Minute
	if wait <= 0 {
		wait = 5 * time.Minute
	}
	return &connector.CallError{Class: connector.SlowDown, System: c.system, Op: op, Code: "status 1111", RetryAfter: wait,
		Message: "ip banned", Hint: "本机出口 IP 调用钉钉接口过于频繁，被封禁数分钟；系统会在封禁结束后再发"}
}

// untilNextMinute is the rest of the current minute: DingTalk counts the
// per-minute caps by the minute.
func untilNextMinute(now time.Time) time.Duration {
	d := now.Truncate(time.Minute).Add(time.Minute).Sub(now)
	if d < time.Second {
		d = time.Second
	}
	return d
}

// The flow-control codes of getsendresult's forbidden_list (im.md 2.4): a
// recipient the send call accepted and DingTalk then held back.
const (
	ForbiddenAppMinute = "143103"
	ForbiddenOrgMinute = "143104"
	ForbiddenDaily     = "143105"
	ForbiddenDuplicate = "143106"
	ForbiddenContent   = "1430002"
	ForbiddenProtected = "1430004"
	forbiddenISVFirst  = 143203
	forbiddenISVLast   = 143206
)

// ForbiddenHint says in Chinese why DingTalk held a message back from one
// person and what to do about it.
func ForbiddenHint(code string) string {
	switch code {
	case ForbiddenDaily:
		return fmt.Sprintf("此人今天收到本应用的工作通知已达钉钉每日上限（每人每天 %d 条），钉钉不再送达：减少发给此人的通知，或让规则改走其它渠道", PerUserDaily)
	case ForbiddenDuplicate:
		return "今天已向此人发过内容完全相同的工作通知，钉钉只送达一次"
	case ForbiddenAppMinute:
		return "本应用每分钟的工作通知量超过钉钉上限，未送达：放慢该规则的发送速度"
	case ForbiddenOrgMinute:
		return "企业每分钟的工作通知量超过钉钉上限，未送达：放慢发送速度，或错开各应用的发送时间"
	case ForbiddenContent:
		return "钉钉认为消息含有禁止发送的内容，未送达：修改该规则的模板"
	case ForbiddenProtected:
		return "此人受钉钉的高管保护（免打扰），工作通知未送达：改用其它渠道，或请管理员把本应用加入其白名单"
	}
	if n, err := strconv.Atoi(code); err == nil && n >= forbiddenISVFirst && n <= forbiddenISVLast {
		return "第三方应用的工作通知流控（code " + code + "），未送达：稍后再发或减少发送量"
	}
	return "钉钉的流控没有送达这条工作通知（code " + code + "）"
}
