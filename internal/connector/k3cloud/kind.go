package k3cloud

import (
	"fmt"
	"strings"

	"orderhub/internal/config"
	"orderhub/internal/connector"
)

// Kind is the system kind of 金蝶云星空 accounts.
const Kind = "k3cloud"

// The bills this connector writes.
const (
	FormReturnStock = "SAL_RETURNSTOCK" // 销售退货单
	FormSaleOrder   = "SAL_SaleOrder"   // 销售订单
)

// Auth modes.
const (
	AuthPassword  = "password"       // ValidateUser
	AuthAppSecret = "app_secret"     // LoginByAppSecret
	AuthSigned    = "signed_headers" // 第三方系统登录授权 headers on every call
)

// Settings are a 金蝶云星空 account's credentials.
type Settings struct {
	AcctID   string        `yaml:"acct_id" required:"true" doc:"the 数据中心 id (账套 id), e.g. 63f2a1b0c9d8e7"`
	Username string        `yaml:"username" required:"true" doc:"the 金蝶 user the API logs in as"`
	Password config.Secret `yaml:"password" doc:"that user's password, for ValidateUser; use ${ENV_VAR}"`
	AppID    string        `yaml:"app_id" doc:"AppID from 第三方系统登录授权 (<clientId>_<32 characters>), for LoginByAppSecret or signed headers"`
	// AppSecret goes with AppID.
	AppSecret config.Secret `yaml:"app_secret" doc:"AppSecret from 第三方系统登录授权; use ${ENV_VAR}"`
	LCID      int           `yaml:"lcid" doc:"language of the server's messages: 2052 简体中文 (default), 1033 English, 3076 繁體中文" min:"0"`
	// Auth picks the login when both password and app_id are given; by
	// default password wins, then app_secret.
	Auth string `yaml:"auth" doc:"password (ValidateUser), app_secret (LoginByAppSecret) or signed_headers (third-party headers on every call); default from the credentials given" enum:"password,app_secret,signed_headers"`
	// Org is the organisation number signed headers carry.
	Org string `yaml:"org" doc:"organisation number in signed headers' X-Kd-Appdata; default 0"`
	// AutoAudit saves bills straight to audited (IsAutoSubmitAndAudit).
	AutoAudit bool `yaml:"auto_submit_and_audit" doc:"submit and audit bills as they are saved (IsAutoSubmitAndAudit); audited bills can no longer be updated"`
}

// Validate implements config.SettingsValidator.
func (s *Settings) Validate() []config.FieldProblem {
	var out []config.FieldProblem
	mode := s.mode()
	switch {
	case mode == AuthPassword && s.Password.Reveal() == "":
		out = append(out, config.FieldProblem{Key: "password", Msg: "auth password needs password", Hint: "set password: ${K3_PASSWORD}, or give app_id and app_secret instead"})
	case mode == "":
		out = append(out, config.FieldProblem{Key: "password", Msg: "no credentials: neither password nor app_id with app_secret is set",
			Hint: "set password (ValidateUser), or app_id and app_secret from 第三方系统登录授权"})
	case mode != AuthPassword && (s.AppID == "" || s.AppSecret.Reveal() == ""):
		out = append(out, config.FieldProblem{Key: "app_id", Msg: "auth " + mode + " needs both app_id and app_secret", Hint: "copy AppID and AppSecret from 系统管理 → 第三方系统登录授权"})
	}
	if s.AppID != "" && mode == AuthSigned {
		if _, _, err := SplitAppID(s.AppID); err != nil {
			out = append(out, config.FieldProblem{Key: "app_id", Msg: err.Error(), Hint: "copy the whole AppID from 第三方系统登录授权"})
		}
	}
	if s.LCID != 0 && s.LCID != 2052 && s.LCID != 1033 && s.LCID != 3076 {
		out = append(out, config.FieldProblem{Key: "lcid", Msg: fmt.Sprintf("lcid %d is not a language 金蝶云星空 ships", s.LCID), Hint: "use 2052 (简体中文), 1033 (English) or 3076 (繁體中文)"})
	}
	return out
}

// mode is the login the settings ask for, "" when they give no credentials.
func (s *Settings) mode() string {
	switch {
	case s.Auth != "":
		return s.Auth
	case s.Password.Reveal() != "":
		return AuthPassword
	case s.AppID != "" || s.AppSecret.Reveal() != "":
		return AuthAppSecret
	}
	return ""
}

// APIs are the bills a k3cloud target writes.
var APIs = []connector.WriteAPI{
	{Name: FormReturnStock, Summary: "销售退货单 (BatchSave)", MaxBatch: 200, Batch: 50, CanUpdate: true},
	{Name: FormSaleOrder, Summary: "销售订单 (BatchSave)", MaxBatch: 200, Batch: 50, CanUpdate: true},
}

func init() {
	connector.Register(connector.Kind{
		KindSpec: config.KindSpec{
			Kind:        Kind,
			Summary:     "金蝶云星空 (K3Cloud) Web API: BatchSave of 销售退货单 and 销售订单",
			NewSettings: func() any { return new(Settings) },
		},
		Write: &connector.WriteCapability{APIs: APIs, New: newWriter},
	})
}

func newWriter(env connector.Env) (connector.Writer, error) {
	s, ok := env.System.Settings.(*Settings)
	if !ok {
		return nil, fmt.Errorf("k3cloud: settings are %T, not *k3cloud.Settings", env.System.Settings)
	}
	if strings.TrimSpace(env.System.BaseURL) == "" {
		return nil, fmt.Errorf("k3cloud: base_url is empty: set it to the site's root, e.g. https://mycorp.ik3cloud.com/k3cloud")
	}
	if probs := s.Validate(); len(probs) > 0 {
		return nil, fmt.Errorf("k3cloud: %s: %s", probs[0].Key, probs[0].Msg)
	}
	return New(Config{
		System:    env.System.Name,
		BaseURL:   env.System.BaseURL,
		AcctID:    s.AcctID,
		Username:  s.Username,
		Password:  s.Password.Reveal(),
		AppID:     s.AppID,
		AppSecret: s.AppSecret.Reveal(),
		LCID:      s.LCID,
		Auth:      s.mode(),
		Org:       s.Org,
		AutoAudit: s.AutoAudit,
		HTTP:      env.HTTP,
		Now:       env.Now,
		Log:       env.Log,
	})
}
