// Package dingtalk sends notifications to a 钉钉 (DingTalk) custom group
// robot: the webhook the group shows, signed with 加签 when the robot has a
// secret, carrying the robot's 自定义关键词, as markdown, text, actionCard or
// feedCard, with @mentions DingTalk's way and cut to DingTalk's body limit.
// Sim is a strict local robot for tests, the demo and benchmarks.
package dingtalk

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"

	"orderhub/internal/config"
	"orderhub/internal/connector"
	"orderhub/internal/connector/imhook"
)

// Kind is the system kind (`kind: dingtalk_robot`).
const Kind = "dingtalk_robot"

// The message types a system may choose with `msgtype:`.
const (
	TypeMarkdown   = "markdown"
	TypeText       = "text"
	TypeActionCard = "actionCard"
	TypeFeedCard   = "feedCard"
)

// MaxBytes is the largest request body a robot takes: DingTalk answers
// 460101 "message too long, exceed 20000 bytes" above it.
const MaxBytes = 20000

// PerMinute is how many messages a robot takes a minute; the 21st is
// refused with a throttling code and the robot is throttled for 10 minutes.
const PerMinute = 20

// MaxMentions is how many people one message may @.
const MaxMentions = 50

// Limits are a robot's provider limits, which the hub keeps.
var Limits = connector.SendLimits{PerMinute: PerMinute, MaxBytes: MaxBytes}

// Settings are a dingtalk_robot system's keys.
type Settings struct {
	// Webhook is the URL the group's robot settings show; its access_token
	// is the robot's credential, so it is kept as a secret.
	Webhook config.Secret `yaml:"webhook" required:"true" doc:"the robot's Webhook as the group shows it (群设置 → 机器人 → 自定义机器人), https://oapi.dingtalk.com/robot/send?access_token=…; use ${ENV_VAR} for the token"`
	Secret  config.Secret `yaml:"secret" doc:"the SEC… string of 加签, when the robot's security settings have 加签 on; use ${ENV_VAR}"`
	Keyword string        `yaml:"keyword" doc:"one of the robot's 自定义关键词, when that security setting is on; every message is made to carry it"`
	MsgType string        `yaml:"msgtype" enum:"markdown,text,actionCard,feedCard" doc:"the DingTalk message type to send: markdown (default), text, actionCard (with a button to the order) or feedCard (needs pic_url)"`
	PicURL  string        `yaml:"pic_url" doc:"picture shown beside each feedCard entry (feedCard needs one)"`
	IP      string        `yaml:"ip" doc:"the egress IPv4 address or CIDR entered in the robot's IP 地址（段） setting, when that security setting is on; only used to explain a refusal"`
}

// Validate implements config.SettingsValidator. Its messages never quote
// the webhook: its access_token is a credential.
func (s *Settings) Validate() []config.FieldProblem {
	var out []config.FieldProblem
	if w := s.Webhook.Reveal(); w != "" {
		if _, err := parseWebhook(w); err != nil {
			out = append(out, config.FieldProblem{Key: "webhook", Msg: err.Error(), Hint: "copy the robot's Webhook from the group's robot settings; it looks like https://oapi.dingtalk.com/robot/send?access_token=…"})
		}
	}
	if sec := s.Secret.Reveal(); sec != "" && !strings.HasPrefix(sec, "SEC") {
		out = append(out, config.FieldProblem{Key: "secret", Msg: "the 加签 secret does not start with SEC", Hint: "copy the whole secret shown under 加签 in the robot's security settings, SEC included"})
	}
	if s.Keyword != "" && strings.TrimSpace(s.Keyword) == "" {
		out = append(out, config.FieldProblem{Key: "keyword", Msg: "keyword is only spaces", Hint: "write one of the robot's 自定义关键词, or leave keyword out"})
	}
	if s.MsgType == TypeFeedCard && s.PicURL == "" {
		out = append(out, config.FieldProblem{Key: "pic_url", Msg: "msgtype feedCard needs pic_url: DingTalk refuses a feedCard entry without a picture", Hint: "add pic_url: https://… (a logo, say), or use msgtype markdown"})
	}
	if s.PicURL != "" {
		if u, err := url.Parse(s.PicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			out = append(out, config.FieldProblem{Key: "pic_url", Msg: fmt.Sprintf("pic_url %q is not an http(s) URL", s.PicURL), Hint: "write the picture's full address, e.g. https://shop.example/logo.png"})
		}
	}
	if s.IP != "" && !validIPNote(s.IP) {
		out = append(out, config.FieldProblem{Key: "ip", Msg: fmt.Sprintf("ip %q is not an IPv4 address or CIDR", s.IP), Hint: "write it as the robot setting takes it, e.g. 1.2.3.4 or 1.2.3.0/24 (DingTalk does not take IPv6)"})
	}
	return out
}

func validIPNote(s string) bool {
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Addr().Is4()
	}
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is4()
}

// parseWebhook checks a webhook URL and returns it parsed. It must name an
// access_token: that is how DingTalk knows the robot.
func parseWebhook(w string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(w))
	if err != nil {
		// url's error quotes the URL, token and all.
		return nil, fmt.Errorf("webhook is not a URL")
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("webhook must be an absolute http(s) URL")
	}
	if u.Scheme == "http" && !imhook.IsLoopback(u.Hostname()) {
		return nil, fmt.Errorf("webhook must use https (plain http only to a simulator on this machine)")
	}
	if u.Query().Get("access_token") == "" {
		return nil, fmt.Errorf("webhook has no access_token parameter")
	}
	return u, nil
}

func init() {
	connector.Register(connector.Kind{
		KindSpec: config.KindSpec{
			Kind:        Kind,
			Summary:     "钉钉 custom group robot (webhook with 加签 and keyword): markdown, text, actionCard or feedCard",
			NewSettings: func() any { return new(Settings) },
		},
		Send: &connector.SendCapability{
			Limits:   Limits,
			Provider: "钉钉",
			CodeName: "errcode",
			New:      func(env connector.Env) (connector.Sender, error) { return NewFromEnv(env) },
		},
	})
}

// NewFromEnv builds the sender of a configured dingtalk_robot system. A
// base_url, when set, replaces the webhook's scheme and host (to point a
// real webhook at a simulator); path and query stay as the group shows them.
func NewFromEnv(env connector.Env) (*Client, error) {
	s, ok := env.System.Settings.(*Settings)
	if !ok {
		return nil, fmt.Errorf("dingtalk: system %q has no dingtalk_robot settings", env.System.Name)
	}
	return New(Options{
		System:  env.System.Name,
		Webhook: s.Webhook.Reveal(),
		BaseURL: env.System.BaseURL,
		Secret:  s.Secret.Reveal(),
		Keyword: s.Keyword,
		MsgType: s.MsgType,
		PicURL:  s.PicURL,
		IP:      s.IP,
		HTTP:    env.HTTP,
		Now:     env.Clock(),
		Log:     env.Log,
	})
}
