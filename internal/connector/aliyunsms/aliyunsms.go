// Package aliyunsms sends notifications as SMS through 阿里云短信服务
// (Alibaba Cloud dysmsapi SendSms), signed with the V3 signature
// ACS3-HMAC-SHA256: an approved sign name and template code, the template's
// parameters filled from the message's values, up to 1000 mainland numbers
// a call, and the service's answers (per-number flow control, a bad
// template or sign, balance, throttling) in the hub's four classes. Sim is
// a strict local dysmsapi for tests and the demo.
package aliyunsms

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"orderhub/internal/config"
	"orderhub/internal/connector"
	"orderhub/internal/connector/imhook"
)

// Kind is the system kind (`kind: aliyun_sms`).
const Kind = "aliyun_sms"

// DefaultBaseURL is the service's global endpoint.
const DefaultBaseURL = "https://dysmsapi.aliyuncs.com"

// The API called.
const (
	Action     = "SendSms"
	APIVersion = "2017-05-25"
)

// MaxNumbers is how many numbers one SendSms call takes (PhoneNumbers,
// comma-separated); more get isv.MOBILE_COUNT_OVER_LIMIT.
const MaxNumbers = 1000

// Limits are the provider limits the hub keeps for an aliyun_sms system:
// none. The API takes 5000 calls a second per account, beyond any pace the
// hub sends at; the limits that matter are per number (im.md 5.5), which
// the service keeps and the sender answers as SlowDown with the wait the
// limit implies. A pace here would also make the hub send one message at a
// time. The body carries the approved template's parameters, not a text
// the hub writes, so there is no size to cut to.
var Limits = connector.SendLimits{}

// Settings are an aliyun_sms system's keys.
type Settings struct {
	AccessKeyID     string        `yaml:"access_key_id" required:"true" doc:"the AccessKey ID of a RAM user allowed dysms:SendSms (RAM 访问控制 → 用户 → 创建 AccessKey); use ${ENV_VAR}"`
	AccessKeySecret config.Secret `yaml:"access_key_secret" required:"true" doc:"that AccessKey's secret; use ${ENV_VAR}"`
	SignName        string        `yaml:"sign_name" required:"true" doc:"an approved 短信签名 exactly as 短信服务控制台 → 国内消息 → 签名管理 shows it, without 【】"`
	// Templates maps a rule's template name to the approved SMS template
	// that says the same: SendSms sends only approved texts.
	Templates map[string]Template `yaml:"templates" doc:"by the rules' template name (e.g. shipped): the approved SMS template to send instead, {code: SMS_123456789, params: [order_no, company, tracking]}; a rule whose template has no entry here cannot send SMS"`
}

// Template is one approved SMS template and the message values it takes.
type Template struct {
	Code   string   `yaml:"code" required:"true" doc:"the approved template's 模板 CODE (短信服务控制台 → 国内消息 → 模板管理), e.g. SMS_123456789"`
	Params []string `yaml:"params" doc:"the template's variables: each names a message value (order_no, source, shop, total, status, event, company, tracking, buyer, link, created_at) passed under the same name, so the template writes ${order_no}; leave out for a template without variables"`
}

var (
	templateCode = regexp.MustCompile(`^SMS_[0-9]+$`)
	paramName    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// Validate implements config.SettingsValidator. It never quotes the secret.
func (s *Settings) Validate() []config.FieldProblem {
	var out []config.FieldProblem
	if s.AccessKeyID != "" && strings.ContainsAny(s.AccessKeyID, " \t,=") {
		out = append(out, config.FieldProblem{Key: "access_key_id", Msg: "access_key_id holds spaces, commas or =", Hint: "copy the AccessKey ID alone (it looks like LTAI…)"})
	}
	if sec := s.AccessKeySecret.Reveal(); sec != "" && strings.TrimSpace(sec) != sec {
		out = append(out, config.FieldProblem{Key: "access_key_secret", Msg: "access_key_secret starts or ends with white space", Hint: "copy the AccessKey Secret without spaces or a line break"})
	}
	if n := s.SignName; n != "" {
		switch {
		case strings.HasPrefix(n, "【") || strings.HasSuffix(n, "】"):
			out = append(out, config.FieldProblem{Key: "sign_name", Msg: fmt.Sprintf("sign_name %q carries the brackets 【】", n), Hint: "write the sign name without 【】: the phone shows them, SendSms takes the name alone"})
		case strings.TrimSpace(n) != n:
			out = append(out, config.FieldProblem{Key: "sign_name", Msg: fmt.Sprintf("sign_name %q starts or ends with white space", n), Hint: "write the sign name exactly as 签名管理 shows it"})
		}
	}
	if len(s.Templates) == 0 {
		out = append(out, config.FieldProblem{Key: "templates", Msg: "no templates: SendSms sends only approved templates, so this system could send nothing",
			Hint: "map each rule template this system sends to an approved SMS template, e.g. templates: {shipped: {code: SMS_123456789, params: [order_no, company, tracking]}}"})
	}
	for name, t := range s.Templates {
		key := "templates." + name
		if t.Code != "" && !templateCode.MatchString(t.Code) {
			out = append(out, config.FieldProblem{Key: key + ".code", Msg: fmt.Sprintf("code %q is not a template CODE", t.Code), Hint: "copy the 模板 CODE from 模板管理; it looks like SMS_123456789"})
		}
		seen := map[string]bool{}
		for _, p := range t.Params {
			switch {
			case !paramName.MatchString(p):
				out = append(out, config.FieldProblem{Key: key + ".params", Msg: fmt.Sprintf("param %q is not a variable name", p), Hint: "name message values such as order_no, company or tracking, as the template's ${…} writes them"})
			case seen[p]:
				out = append(out, config.FieldProblem{Key: key + ".params", Msg: fmt.Sprintf("param %s is listed twice", p), Hint: "list each variable once"})
			}
			seen[p] = true
		}
	}
	return out
}

// checkBaseURL accepts what the configuration check accepts, an absolute
// http(s) URL, so that a configuration that passes the check starts.
func checkBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("base_url %q is not an absolute http(s) URL", raw)
	}
	return u, nil
}

// plainRemote reports a base_url that would carry the recipients' numbers
// unencrypted to another machine.
func plainRemote(u *url.URL) bool { return u.Scheme == "http" && !imhook.IsLoopback(u.Hostname()) }

func init() {
	connector.Register(connector.Kind{
		KindSpec: config.KindSpec{
			Kind:        Kind,
			Summary:     "阿里云短信 (Alibaba Cloud SMS, dysmsapi SendSms): approved templates to people's mobiles, V3 signature",
			NewSettings: func() any { return new(Settings) },
		},
		Send: &connector.SendCapability{
			Addressed: true,
			Limits:    Limits,
			Provider:  "阿里云短信",
			CodeName:  "Code",
			New:       func(env connector.Env) (connector.Sender, error) { return NewFromEnv(env) },
		},
	})
}

// NewFromEnv builds the sender of a configured aliyun_sms system.
func NewFromEnv(env connector.Env) (*Client, error) {
	s, ok := env.System.Settings.(*Settings)
	if !ok {
		return nil, fmt.Errorf("aliyunsms: system %q has no aliyun_sms settings", env.System.Name)
	}
	return New(Options{
		System:          env.System.Name,
		BaseURL:         env.System.BaseURL,
		AccessKeyID:     s.AccessKeyID,
		AccessKeySecret: s.AccessKeySecret.Reveal(),
		SignName:        s.SignName,
		Templates:       s.Templates,
		HTTP:            env.HTTP,
		Now:             env.Clock(),
		Log:             env.Log,
	})
}
