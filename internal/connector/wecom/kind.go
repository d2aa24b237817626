package wecom

import (
	"fmt"
	"net/url"
	"strings"

	"orderhub/internal/config"
	"orderhub/internal/connector"
	"orderhub/internal/connector/imhook"
)

// Kind is the system kind of 企业微信 group robots.
const Kind = "wecom_robot"

// The message types a wecom_robot system can send.
const (
	TypeMarkdown   = "markdown"
	TypeMarkdownV2 = "markdown_v2"
	TypeText       = "text"
	TypeNews       = "news"
)

// SendPath is the webhook's path on qyapi.weixin.qq.com.
const SendPath = "/cgi-bin/webhook/send"

// Limits are a WeCom robot's: 20 messages a minute. MaxBytes bounds the
// whole request body; it is the markdown content limit, so a body within it
// always satisfies every content limit too.
var Limits = connector.SendLimits{PerMinute: 20, MaxBytes: 4096}

// Settings are a WeCom group robot's.
type Settings struct {
	// Webhook is a credential: its key is all WeCom asks for.
	Webhook config.Secret `yaml:"webhook" required:"true" doc:"the robot's webhook URL as the group shows it, https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=${WECOM_KEY}"`
	MsgType string        `yaml:"msgtype" enum:"markdown,markdown_v2,text,news" doc:"message type: markdown (default), markdown_v2 (tables; needs WeCom 4.1.36 or later), text or news; messages that @ by mobile or @all go as text, the only type WeCom mentions them in"`
}

// Validate implements config.SettingsValidator.
func (s *Settings) Validate() []config.FieldProblem {
	if _, err := ParseWebhook(s.Webhook.Reveal()); err != nil {
		return []config.FieldProblem{{Key: "webhook", Msg: err.Error(),
			Hint: "copy the whole webhook address from the group's 群机器人 settings, e.g. https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=${WECOM_KEY}"}}
	}
	return nil
}

// ParseWebhook checks a webhook URL and returns it parsed. The scheme must
// be https, except on a loopback host (a local simulator); the path must be
// the robot's send path and the query must hold a key. The URL itself is
// never part of the error: it holds the robot's key.
func ParseWebhook(raw string) (*url.URL, error) {
	u, err := imhook.Parse(raw, "WeCom")
	if err != nil {
		return nil, err
	}
	if strings.TrimSuffix(u.Path, "/") != SendPath {
		return nil, fmt.Errorf("webhook path is %q, want %s", u.Path, SendPath)
	}
	if u.Query().Get("key") == "" {
		return nil, fmt.Errorf("webhook has no key= parameter")
	}
	return u, nil
}

func init() {
	connector.Register(connector.Kind{
		KindSpec: config.KindSpec{
			Kind:        Kind,
			Summary:     "企业微信 group robot (webhook key): markdown, markdown_v2, text or news, @ by mobile or user id",
			NewSettings: func() any { return new(Settings) },
		},
		Send: &connector.SendCapability{Limits: Limits, Provider: "企业微信", CodeName: "errcode", New: newSender},
	})
}

func newSender(env connector.Env) (connector.Sender, error) {
	s, ok := env.System.Settings.(*Settings)
	if !ok {
		return nil, fmt.Errorf("wecom: settings are %T, not *wecom.Settings", env.System.Settings)
	}
	return New(Config{
		System:  env.System.Name,
		Webhook: s.Webhook.Reveal(),
		MsgType: s.MsgType,
		HTTP:    env.HTTP,
		Now:     env.Now,
		Log:     env.Log,
	})
}
