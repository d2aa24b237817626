// Package dingtalkapp sends 钉钉 work notifications (工作通知) through an
// enterprise internal app: an access token from gettoken with the app's
// AppKey and AppSecret, cached and shared, then
// topapi/message/corpconversation/asyncsend_v2 to users, departments or the
// whole company, split into calls within the API's recipient limits, as a
// markdown or action_card message cut to the 2048-byte msg limit. Read
// status comes afterwards from getsendresult. DingSender sends the strong
// reminder, a DING message in the app, by SMS or by phone, through the
// app's robot on the new API. Sim is a strict local DingTalk for tests,
// the demo and benchmarks.
package dingtalkapp

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"orderhub/internal/config"
	"orderhub/internal/connector"
	"orderhub/internal/connector/imhook"
)

// Kind is the system kind (`kind: dingtalk_app`).
const Kind = "dingtalk_app"

// DefaultBaseURL is the legacy open API root the app's calls go to.
const DefaultBaseURL = "https://oapi.dingtalk.com"

// The message types a system may choose with `msgtype:`. DingTalk spells
// the card in snake_case here, unlike the robot's actionCard.
const (
	TypeMarkdown   = "markdown"
	TypeActionCard = "action_card"
)

// The API's limits (im.md 2.3 and 2.5).
const (
	// MaxMsgBytes is the largest msg object asyncsend_v2 takes. The
	// markdown page allows 5000 characters of text, which the 2048-byte
	// cap on msg makes moot; max_msg_bytes changes it if DingTalk does.
	MaxMsgBytes = 2048
	// MaxUsers and MaxDepts are how many userids and department ids one
	// call may carry.
	MaxUsers = 100
	MaxDepts = 20
	// PerSecond is the per-app, per-API rate of the standard edition.
	PerSecond = 20
	// PerUserDaily is how many work notifications one person takes from an
	// internal app a day; DingTalk drops the rest silently (143105).
	PerUserDaily = 500
)

// Limits are the app's provider limits, which the hub keeps. MaxBytes is
// the msg object's, the part of the request DingTalk bounds.
var Limits = connector.SendLimits{PerSecond: PerSecond, MaxBytes: MaxMsgBytes}

// Settings are a dingtalk_app system's keys besides base_url.
type Settings struct {
	AppKey    string        `yaml:"app_key" required:"true" doc:"the internal app's AppKey (钉钉开发者后台 → 应用开发 → 企业内部应用 → 凭证与基础信息)"`
	AppSecret config.Secret `yaml:"app_secret" required:"true" doc:"the app's AppSecret from the same page; use ${ENV_VAR}"`
	AgentID   int64         `yaml:"agent_id" required:"true" min:"1" doc:"the app's AgentId, shown on the same page: work notifications are sent in its name"`
	MsgType   string        `yaml:"msgtype" enum:"markdown,action_card" doc:"the message type: markdown (default) or action_card (markdown with a button to the order)"`

	// DING messages (强提醒) go through the app's robot on the new API.
	RobotCode    string `yaml:"robot_code" doc:"the app robot's RobotCode for DING messages (default app_key, as an internal app's robot has it)"`
	APIBaseURL   string `yaml:"api_base_url" doc:"root of DingTalk's new API, where DING messages go (default https://api.dingtalk.com)"`
	DingMaxChars int    `yaml:"ding_max_chars" min:"20" doc:"longest DING content in characters; longer ones are cut with … and the link (default 500)"`

	// Knobs for what the documentation leaves open; the defaults follow
	// im.md and the built-in simulator.
	MaxMsgBytes int      `yaml:"max_msg_bytes" min:"256" doc:"largest msg object in bytes (default 2048; the markdown page says 5000 characters of text, the send page 2048 bytes of msg)"`
	TokenCodes  []string `yaml:"token_invalid_codes" doc:"errcodes, or errcode 88's sub_codes, meaning the access token is invalid or expired, after which it is fetched again once (default 40014, 42001)"`
}

// Validate implements config.SettingsValidator. Its messages never quote
// the secret.
func (s *Settings) Validate() []config.FieldProblem {
	var out []config.FieldProblem
	if k := s.AppKey; k != "" && (strings.TrimSpace(k) != k || strings.ContainsAny(k, "&?=# /")) {
		out = append(out, config.FieldProblem{Key: "app_key", Msg: fmt.Sprintf("app_key %q has spaces or URL characters", k),
			Hint: "copy the AppKey as 凭证与基础信息 shows it, e.g. dingxxxxxxxxxxxxxxxx"})
	}
	if sec := s.AppSecret.Reveal(); sec != "" && strings.TrimSpace(sec) != sec {
		out = append(out, config.FieldProblem{Key: "app_secret", Msg: "app_secret starts or ends with white space",
			Hint: "copy the AppSecret again without surrounding spaces or a line break"})
	}
	if s.AgentID < 0 {
		out = append(out, config.FieldProblem{Key: "agent_id", Msg: "agent_id is negative", Hint: "write the app's AgentId, a positive number"})
	}
	if s.APIBaseURL != "" {
		if _, err := checkRoot(s.APIBaseURL, DefaultAPIBaseURL); err != nil {
			out = append(out, config.FieldProblem{Key: "api_base_url", Msg: "api_base_url " + err.Error(), Hint: "leave it out for " + DefaultAPIBaseURL + ", or point it at a simulator on this machine"})
		}
	}
	for _, c := range s.TokenCodes {
		if _, err := strconv.Atoi(strings.TrimSpace(c)); err != nil {
			out = append(out, config.FieldProblem{Key: "token_invalid_codes", Msg: fmt.Sprintf("%q is not a number", c),
				Hint: "list DingTalk errcodes as numbers, e.g. [40014, 42001]"})
		}
	}
	return out
}

// checkBaseURL accepts an absolute http(s) root; plain http only to a
// simulator on this machine, since the calls carry the app's secret.
func checkBaseURL(raw string) (string, error) { return checkRoot(raw, DefaultBaseURL) }

func checkRoot(raw, def string) (string, error) {
	if raw == "" {
		return def, nil
	}
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("%q is not an absolute http(s) URL like %s", raw, def)
	}
	if u.Scheme == "http" && !imhook.IsLoopback(u.Hostname()) {
		return "", fmt.Errorf("%q must use https (plain http only to a simulator on this machine): the calls carry the app's secret", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q must not have a query or fragment", raw)
	}
	return u.String(), nil
}

func init() {
	connector.Register(connector.Kind{
		KindSpec: config.KindSpec{
			Kind:        Kind,
			Summary:     "钉钉 enterprise internal app: work notifications (工作通知) to users, departments or everyone, with read status",
			NewSettings: func() any { return new(Settings) },
		},
		Send: &connector.SendCapability{
			Addressed: true,
			Provider:  "钉钉",
			CodeName:  "errcode",
			Limits:    Limits,
			New:       func(env connector.Env) (connector.Sender, error) { return NewFromEnv(env) },
			// DING (强提醒) by the app's robot: in the app, by SMS or by a
			// phone call, as rule steps ding:app, ding:sms, ding:phone.
			Variants: &connector.SendVariants{Prefix: "ding", Names: []string{"app", "sms", "phone"},
				New: func(base connector.Sender, name string) (connector.Sender, error) {
					c, ok := base.(*Client)
					remind, known := RemindType(name)
					if !ok || !known {
						return nil, fmt.Errorf("dingtalk_app: no DING step %q (app, sms or phone)", name)
					}
					return c.DingSender(remind)
				}},
		},
	})
}

// NewFromEnv builds the sender of a configured dingtalk_app system. It
// keeps its access token in env.Tokens, so that senders of the same app
// (other nodes, other rules) share one token.
func NewFromEnv(env connector.Env) (*Client, error) {
	s, ok := env.System.Settings.(*Settings)
	if !ok {
		return nil, fmt.Errorf("dingtalkapp: system %q has no dingtalk_app settings", env.System.Name)
	}
	var codes []int
	for _, c := range s.TokenCodes {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil {
			return nil, fmt.Errorf("dingtalkapp: system %q: token_invalid_codes: %q is not a number", env.System.Name, c)
		}
		codes = append(codes, n)
	}
	return New(Options{
		System:       env.System.Name,
		BaseURL:      env.System.BaseURL,
		AppKey:       s.AppKey,
		AppSecret:    s.AppSecret.Reveal(),
		AgentID:      s.AgentID,
		MsgType:      s.MsgType,
		MaxMsgBytes:  s.MaxMsgBytes,
		TokenCodes:   codes,
		RobotCode:    s.RobotCode,
		APIBaseURL:   s.APIBaseURL,
		DingMaxChars: s.DingMaxChars,
		Tokens:       env.Tokens,
		HTTP:         env.HTTP,
		Now:          env.Clock(),
		Log:          env.Log,
	})
}
