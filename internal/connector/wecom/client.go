package wecom

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"orderhub/internal/connector"
)

// Config is one robot endpoint.
type Config struct {
	// System is the configured system's name, for errors.
	System string
	// Webhook is the URL as the group shows it (see ParseWebhook).
	Webhook string
	// MsgType is markdown (default), markdown_v2, text or news.
	MsgType string
	// HTTP is the client to call with; http.DefaultClient when nil.
	HTTP *http.Client
	// Now is the clock, for how long a throttled robot should wait.
	Now func() time.Time
	Log *slog.Logger
}

// Sender sends messages to one WeCom robot. It is safe for concurrent use.
type Sender struct {
	system  string
	url     string
	msgType string
	http    *http.Client
	now     func() time.Time
	log     *slog.Logger
}

// New returns a sender for cfg, or an error saying what to fix in it.
func New(cfg Config) (*Sender, error) {
	u, err := ParseWebhook(cfg.Webhook)
	if err != nil {
		return nil, fmt.Errorf("wecom: %w", err)
	}
	s := &Sender{system: cfg.System, url: u.String(), msgType: cfg.MsgType, http: cfg.HTTP, now: cfg.Now, log: cfg.Log}
	switch s.msgType {
	case "":
		s.msgType = TypeMarkdown
	case TypeMarkdown, TypeMarkdownV2, TypeText, TypeNews:
	default:
		return nil, fmt.Errorf("wecom: msgtype %q is not one of markdown, markdown_v2, text, news", cfg.MsgType)
	}
	if s.http == nil {
		s.http = http.DefaultClient
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// Send implements connector.Sender.
func (s *Sender) Send(ctx context.Context, msg connector.Message) (connector.SendResult, error) {
	body, msgType, cut, err := Build(s.msgType, msg)
	if err != nil {
		return connector.SendResult{}, &connector.CallError{Class: connector.Permanent, System: s.system, Op: "webhook/send",
			Message: err.Error(), Hint: "消息无法按企业微信的格式组成：检查规则的模板"}
	}
	op := "webhook/send " + msgType
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return connector.SendResult{}, fmt.Errorf("wecom: %s: building the request: %w", s.system, err)
	}
	req.Header.Set("Content-Type", "application/json")
	status, ans, err := connector.Do(s.http, s.system, op, req)
	if err != nil {
		return connector.SendResult{}, err
	}
	if status != http.StatusOK {
		return connector.SendResult{}, connector.StatusError(s.system, op, status, ans, true)
	}
	var a answer
	if err := json.Unmarshal(ans, &a); err != nil || a.ErrCode == nil {
		// The robot answered something that is not its JSON: whether the
		// message was posted cannot be told.
		return connector.SendResult{}, &connector.CallError{Class: connector.Unknown, System: s.system, Op: op,
			Code: "HTTP 200", Message: snippet(ans), Hint: "企业微信的应答无法识别：检查 webhook 是否指向企业微信的群机器人地址"}
	}
	if *a.ErrCode != CodeOK {
		return connector.SendResult{}, classify(s.system, op, *a.ErrCode, a.ErrMsg, s.now())
	}
	if cut {
		s.log.Debug("wecom: message cut to the robot's size limit", "system", s.system, "key", msg.Key, "msgtype", msgType)
	}
	return connector.SendResult{Code: "0", Cut: cut}, nil
}

// classify maps an errcode to its class, with a hint of what to fix in the
// group's robot settings.
func classify(system, op string, code int, errmsg string, now time.Time) *connector.CallError {
	ce := &connector.CallError{System: system, Op: op, Code: strconv.Itoa(code), Message: errmsg, Class: connector.Permanent}
	switch code {
	case CodeFreqOutOfLimit:
		// 20 a minute per robot: what is left of this minute is the wait.
		ce.Class, ce.Hint = connector.SlowDown, "机器人每分钟最多 20 条消息，已限流；稍后自动重发"
		ce.RetryAfter = now.Truncate(time.Minute).Add(time.Minute).Sub(now)
		if ce.RetryAfter < time.Second {
			ce.RetryAfter = time.Second
		}
	case CodeBusy:
		ce.Class, ce.Hint = connector.Retry, "企业微信系统繁忙，稍后自动重发"
	case CodeInvalidURL:
		ce.Hint = "webhook 地址无效：机器人已被移出群或 key 不对；在群聊 → 群机器人 中复制机器人的 webhook 地址填入 webhook"
	case CodeInvalidType:
		ce.Hint = "企业微信不接受这种消息类型：msgtype 用 markdown、markdown_v2、text 或 news"
	case CodeInvalidParam:
		ce.Hint = "企业微信拒绝了消息内容（字段缺失或超长）：检查规则的模板"
	default:
		ce.Hint = "企业微信拒绝了消息（错误码 " + ce.Code + "）：按应答中的 more info 链接查看原因，修改群机器人设置或模板"
	}
	return ce
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = truncate(s, 200) + "…"
	}
	return s
}

func truncate(s string, n int) string {
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// Render returns the body Send would post for msg, and whether it was cut,
// without sending it: what `orderhub rules test` shows per channel.
func (s *Sender) Render(msg connector.Message) (body []byte, cut bool, err error) {
	body, _, cut, err = Build(s.msgType, msg)
	return body, cut, err
}
