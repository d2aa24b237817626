package jdy

import (
	"fmt"
	"net/url"
	"strings"

	"orderhub/internal/config"
	"orderhub/internal/connector"
)

// Kind is the system kind (`kind: jdy`).
const Kind = "jdy"

// Settings are a jdy system's keys besides base_url.
type Settings struct {
	ClientID     string        `yaml:"client_id" required:"true" doc:"the developer app's client_id (open.jdy.com → 应用 → client_id)"`
	ClientSecret config.Secret `yaml:"client_secret" required:"true" doc:"the developer app's client_secret, signs every gateway call; use ${ENV_VAR}"`
	AppKey       string        `yaml:"app_key" required:"true" doc:"the app_key the account authorised for this app"`
	AppSecret    config.Secret `yaml:"app_secret" required:"true" doc:"the app_secret of that authorisation; use ${ENV_VAR}"`
	Domain       string        `yaml:"domain" doc:"X-GW-Router-Addr to send instead of the domain the token answer names, e.g. https://tf.jdy.com"`
	UID          string        `yaml:"uid" doc:"user whose app-token to fetch; default the admin who created the app_key"`

	// Knobs for behaviour the vendor does not document; the defaults match
	// the built-in simulator.
	DuplicateCodes []string `yaml:"duplicate_codes" doc:"errcodes meaning the bill number exists (default 2000001002)"`
	DuplicateText  []string `yaml:"duplicate_text" doc:"message fragments meaning the bill number exists, checked with 单据编号 (default 已存在, 已经被使用, 重复)"`
	TokenCodes     []string `yaml:"token_invalid_codes" doc:"errcodes meaning the app-token is invalid or expired (default 1030003001)"`
	FindPath       string   `yaml:"find_path" doc:"GET path used to look a bill up by number (default /jdy/v2/scm/sal_order)"`
	FindParam      string   `yaml:"find_param" doc:"query parameter carrying the bill number for find_path (default search)"`
}

// Validate implements config.SettingsValidator.
func (s *Settings) Validate() []config.FieldProblem {
	var out []config.FieldProblem
	if s.Domain != "" {
		if u, err := url.Parse(s.Domain); err != nil || u.Scheme == "" || u.Host == "" {
			out = append(out, config.FieldProblem{Key: "domain", Msg: fmt.Sprintf("domain %q is not a URL", s.Domain), Hint: "write the data centre's root, e.g. https://tf.jdy.com, or leave domain out"})
		}
	}
	if s.FindPath != "" && !strings.HasPrefix(s.FindPath, "/") {
		out = append(out, config.FieldProblem{Key: "find_path", Msg: "find_path must start with /", Hint: "e.g. /jdy/v2/scm/sal_order"})
	}
	return out
}

func init() {
	connector.Register(connector.Kind{
		KindSpec: config.KindSpec{
			Kind:        Kind,
			Summary:     "金蝶云星辰 behind the Kingdee API gateway: sales orders by sal_order_save",
			NewSettings: func() any { return new(Settings) },
		},
		Write: &connector.WriteCapability{
			APIs: []connector.WriteAPI{{
				Name:      APISalOrderSave,
				Summary:   "新增或修改一张销售订单 (POST /jdy/sal/sal_order_save)",
				MaxBatch:  1,
				Batch:     1,
				CanUpdate: true,
			}},
			New: func(env connector.Env) (connector.Writer, error) { return NewFromEnv(env) },
		},
	})
}

// NewFromEnv builds the client of a configured jdy system.
func NewFromEnv(env connector.Env) (*Client, error) {
	s, ok := env.System.Settings.(*Settings)
	if !ok {
		return nil, fmt.Errorf("jdy: system %q has no jdy settings", env.System.Name)
	}
	return New(Options{
		System:       env.System.Name,
		BaseURL:      env.System.BaseURL,
		ClientID:     s.ClientID,
		ClientSecret: s.ClientSecret.Reveal(),
		AppKey:       s.AppKey,
		AppSecret:    s.AppSecret.Reveal(),
		Domain:       s.Domain,
		UID:          s.UID,
		HTTP:         env.HTTP,
		Now:          env.Clock(),
		Log:          env.Log,
		FindPath:     s.FindPath,
		FindParam:    s.FindParam,
		Codes:        Codes{Duplicate: s.DuplicateCodes, DuplicateText: s.DuplicateText, TokenInvalid: s.TokenCodes},
	})
}
