package feishu

import (
	"fmt"
	"net/url"
	"strings"

	"orderhub/internal/config"
	"orderhub/internal/connector"
	"orderhub/internal/connector/imhook"
)

// Kind is the system kind of 飞书 custom group bots.
const Kind = "feishu_bot"

// The message types a feishu_bot system can send.
const (
	TypeInteractive = "interactive"
	TypePost        = "post"
	TypeText        = "text"
)

// HookPath is the webhook's path before the bot's token.
const HookPath = "/open-apis/bot/v2/hook/"

// Limits are a Feishu bot's: 100 requests a minute and 5 a second, and a
// body of at most MaxBody bytes.
var Limits = connector.SendLimits{PerMinute: 100, PerSecond: 5, MaxBytes: MaxBody}

// Settings are a Feishu custom bot's.
type Settings struct {
	// Webhook is a credential: its token is what Feishu checks first.
	Webhook config.Secret `yaml:"webhook" required:"true" doc:"the bot's webhook URL as the group shows it, https://open.feishu.cn/open-apis/bot/v2/hook/${FEISHU_TOKEN}"`
	Secret  config.Secret `yaml:"secret" doc:"the 签名校验 secret, when signing is on in the bot's security settings; use ${FEISHU_SECRET}"`
	Keyword string        `yaml:"keyword" doc:"the 自定义关键词, when keywords are on; orderhub makes every message's title or text carry it"`
	MsgType string        `yaml:"msgtype" enum:"interactive,post,text" doc:"message type: interactive (default; a card with a coloured header and Markdown), post (rich text) or text"`
}

// Validate implements config.SettingsValidator.
func (s *Settings) Validate() []config.FieldProblem {
	var out []config.FieldProblem
	if _, err := ParseWebhook(s.Webhook.Reveal()); err != nil {
		out = append(out, config.FieldProblem{Key: "webhook", Msg: err.Error(),
			Hint: "copy the whole webhook address from the group's 设置 → 群机器人, e.g. https://open.feishu.cn/open-apis/bot/v2/hook/${FEISHU_TOKEN}"})
	}
	if s.Keyword != strings.TrimSpace(s.Keyword) || strings.ContainsAny(s.Keyword, "\n\r") {
		out = append(out, config.FieldProblem{Key: "keyword", Msg: "keyword has surrounding spaces or line breaks, which Feishu would have to find in the message too",
			Hint: "write the keyword exactly as in the bot's security settings, e.g. keyword: 订单"})
	}
	return out
}

// ParseWebhook checks a webhook URL and returns it parsed. The scheme must
// be https, except on a loopback host (a local simulator); the path must be
// the hook path followed by the token. The URL is never part of the error:
// it holds the bot's token.
func ParseWebhook(raw string) (*url.URL, error) {
	u, err := imhook.Parse(raw, "Feishu")
	if err != nil {
		return nil, err
	}
	token, ok := strings.CutPrefix(u.Path, HookPath)
	switch {
	case !ok:
		return nil, fmt.Errorf("webhook path does not start with %s", HookPath)
	case token == "" || strings.Contains(token, "/"):
		return nil, fmt.Errorf("webhook has no token after %s", HookPath)
	}
	return u, nil
}

func init() {
	connector.Register(connector.Kind{
		KindSpec: config.KindSpec{
			Kind:        Kind,
			Summary:     "飞书 custom group bot (webhook token, optional 签名校验 and keyword): card, post or text, @ by user id or all",
			NewSettings: func() any { return new(Settings) },
		},
		Send: &connector.SendCapability{Limits: Limits, Provider: "飞书", CodeName: "code", New: newSender},
	})
}

func newSender(env connector.Env) (connector.Sender, error) {
	s, ok := env.System.Settings.(*Settings)
	if !ok {
		return nil, fmt.Errorf("feishu: settings are %T, not *feishu.Settings", env.System.Settings)
	}
	return New(Config{
		System:  env.System.Name,
		Webhook: s.Webhook.Reveal(),
		Secret:  s.Secret.Reveal(),
		Keyword: s.Keyword,
		MsgType: s.MsgType,
		HTTP:    env.HTTP,
		Now:     env.Now,
		Log:     env.Log,
	})
}
