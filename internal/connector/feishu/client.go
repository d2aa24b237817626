package feishu

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"orderhub/internal/connector"
)

// Config is one bot endpoint.
type Config struct {
	// System is the configured system's name, for errors.
	System string
	// Webhook is the URL as the group shows it (see ParseWebhook).
	Webhook string
	// Secret is the 签名校验 secret; "" sends unsigned messages.
	Secret string
	// Keyword is the 自定义关键词 every message must carry; "" for none.
	Keyword string
	// MsgType is interactive (default), post or text.
	MsgType string
	// HTTP is the client to call with; http.DefaultClient when nil.
	HTTP *http.Client
	// Now is the clock the signature's timestamp is read from.
	Now func() time.Time
	Log *slog.Logger
}

// Sender sends messages to one Feishu bot. It is safe for concurrent use.
type Sender struct {
	cfg        Config
	url        string
	mobileOnce sync.Once
}

// New returns a sender for cfg, or an error saying what to fix in it.
func New(cfg Config) (*Sender, error) {
	u, err := ParseWebhook(cfg.Webhook)
	if err != nil {
		return nil, fmt.Errorf("feishu: %w", err)
	}
	switch cfg.MsgType {
	case "":
		cfg.MsgType = TypeInteractive
	case TypeInteractive, TypePost, TypeText:
	default:
		return nil, fmt.Errorf("feishu: msgtype %q is not one of interactive, post, text", cfg.MsgType)
	}
	if cfg.HTTP == nil {
		cfg.HTTP = http.DefaultClient
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Sender{cfg: cfg, url: u.String()}, nil
}

// Send implements connector.Sender.
func (s *Sender) Send(ctx context.Context, msg connector.Message) (connector.SendResult, error) {
	op := "bot/v2/hook " + s.cfg.MsgType
	if len(msg.AtMobiles) > 0 {
		// A custom bot cannot look a mobile up, and Feishu has no mention
		// by mobile: say so once rather than on every message.
		s.mobileOnce.Do(func() {
			s.cfg.Log.Warn("feishu: mentions by mobile are not possible for a custom bot; give the rule's at user ids (open_id) instead", "system", s.cfg.System)
		})
	}
	body, cut, err := Build(s.cfg.MsgType, msg, s.cfg.Keyword, NewStamp(s.cfg.Secret, s.cfg.Now().Unix()))
	if err != nil {
		return connector.SendResult{}, &connector.CallError{Class: connector.Permanent, System: s.cfg.System, Op: op,
			Message: err.Error(), Hint: "消息无法按飞书的格式组成：检查规则的模板与 @ 的人数"}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return connector.SendResult{}, fmt.Errorf("feishu: %s: building the request: %w", s.cfg.System, err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	status, ans, err := connector.Do(s.cfg.HTTP, s.cfg.System, op, req)
	if err != nil {
		return connector.SendResult{}, err
	}
	var a answer
	jsonErr := json.Unmarshal(ans, &a)
	code := a.Code
	if code == nil {
		code = a.StatusCode
	}
	msgText := a.Msg
	if msgText == "" {
		msgText = a.StatusMessage
	}
	switch {
	case jsonErr == nil && code != nil && *code != CodeOK:
		// Feishu's refusals are bodies, whatever the status.
		return connector.SendResult{}, classify(s.cfg.System, op, *code, msgText)
	case status != http.StatusOK:
		return connector.SendResult{}, connector.StatusError(s.cfg.System, op, status, ans, true)
	case jsonErr != nil || code == nil:
		return connector.SendResult{}, &connector.CallError{Class: connector.Unknown, System: s.cfg.System, Op: op,
			Code: "HTTP 200", Message: snippet(ans), Hint: "飞书的应答无法识别：检查 webhook 是否指向飞书群机器人的地址"}
	}
	if cut {
		s.cfg.Log.Debug("feishu: message cut to the bot's size limit", "system", s.cfg.System, "key", msg.Key)
	}
	return connector.SendResult{Code: "0", Cut: cut}, nil
}

// classify maps a code to its class, with a hint of what to fix in the
// bot's settings.
func classify(system, op string, code int, msg string) *connector.CallError {
	ce := &connector.CallError{System: system, Op: op, Code: strconv.Itoa(code), Message: msg, Class: connector.Permanent}
	switch code {
	case CodeFrequency:
		// The hub keeps 100 a minute and 5 a second itself, so this is
		// Feishu's own load (on the hour and half hour) or another sender on
		// the same bot: a short wait; repeated answers back off further.
		ce.Class, ce.RetryAfter = connector.SlowDown, time.Second
		ce.Hint = "飞书机器人限流（每分钟 100 次、每秒 5 次，整点与半点更易触发）；稍后自动重发"
	case CodeTokenInvalid:
		ce.Hint = "webhook 地址无效：机器人已被移除或地址不完整；在群设置 → 群机器人 中复制机器人的 webhook 地址填入 webhook"
	case CodeSignFailed:
		ce.Hint = "签名校验失败：secret 须与机器人安全设置中“签名校验”的密钥一致，且本机时钟与标准时间相差不超过 1 小时"
	case CodeIPNotAllowed:
		ce.Hint = "本机 IP 不在机器人安全设置的 IP 白名单中：把 orderhub 的出口 IP 加入白名单，或关闭 IP 白名单"
	case CodeKeywordsMiss:
		ce.Hint = "消息不含机器人安全设置中的自定义关键词：在 keyword 中填写其中一个关键词"
	case CodeBadRequest:
		ce.Hint = "飞书拒绝了请求（格式错误或超过 20 KB）：检查规则的模板"
	default:
		ce.Hint = "飞书拒绝了消息（错误码 " + ce.Code + "）：检查群机器人的设置与规则的模板"
	}
	return ce
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		n := 200
		for n > 0 && s[n]&0xC0 == 0x80 {
			n--
		}
		s = s[:n] + "…"
	}
	return s
}

// Render returns the body Send would post for msg now (signed when a
// secret is set), and whether it was cut, without sending it: what
// `orderhub rules test` shows per channel.
func (s *Sender) Render(msg connector.Message) (body []byte, cut bool, err error) {
	return Build(s.cfg.MsgType, msg, s.cfg.Keyword, NewStamp(s.cfg.Secret, s.cfg.Now().Unix()))
}
