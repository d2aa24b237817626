// Package smtp sends notifications as email through an SMTP server (a
// company's mail provider: 腾讯企业邮, QQ 邮箱, 163, Exchange, …): one mail
// per recipient, multipart/alternative with the plain text and an HTML
// rendering of the Markdown body in the tenant's colour, a one-click
// List-Unsubscribe link, and a Message-ID that stays the same when a
// message is sent again, so a retry after a lost answer is recognisable.
//
// There is no simulator: the tests send to a real SMTP server (mailpit,
// internal/testutil/mailpit) and read what it received.
package smtp

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strings"

	"orderhub/internal/config"
	"orderhub/internal/connector"
	"orderhub/internal/connector/imhook"
)

// Kind is the system kind (`kind: smtp`).
const Kind = "smtp"

// The values of `tls:`.
const (
	// TLSImplicit speaks TLS from the first byte (SMTPS, port 465).
	TLSImplicit = "implicit"
	// TLSStartTLS connects in plain text and upgrades with STARTTLS before
	// logging in (submission, port 587); a server without STARTTLS is refused.
	TLSStartTLS = "starttls"
	// TLSNone sends in plain text: only to a server on this machine.
	TLSNone = "none"
)

// Settings are an smtp system's keys.
type Settings struct {
	Host     string        `yaml:"host" required:"true" doc:"the SMTP server's host name as its certificate names it, e.g. smtp.exmail.qq.com (腾讯企业邮), smtp.qq.com, smtp.163.com"`
	Port     int           `yaml:"port" min:"1" doc:"the server's port; default 465 for tls: implicit, 587 for starttls, 25 for none"`
	Username string        `yaml:"username" doc:"the account to log in as, usually the full address; leave out for a server that takes mail without logging in"`
	Password config.Secret `yaml:"password" doc:"the account's password; QQ 邮箱, 163 and 126 want the 授权码 generated in the mailbox's settings, not the login password; use ${ENV_VAR}"`
	From     string        `yaml:"from" required:"true" doc:"the sender people see, \"订单中心 <orders@example.com>\"; most servers only take the username's own address"`
	TLS      string        `yaml:"tls" enum:"implicit,starttls,none" doc:"implicit (TLS from the start, port 465; default), starttls (upgraded before login, port 587) or none (plain text, only to a server on this machine)"`
	// UnsubscribeURL replaces the hub's own unsubscribe link.
	UnsubscribeURL string `yaml:"unsubscribe_url" doc:"leave out to use orderhub's own signed one-click link ({base}/u/…, which mutes this channel for the person); or a page of your own, e.g. https://shop.example/unsubscribe?email={email}; {base} is orderhub's address as its order links carry it, {person} the person's key, {email} the address; https for anything but this machine"`
}

// Validate implements config.SettingsValidator. No message quotes the
// password.
func (s *Settings) Validate() []config.FieldProblem {
	var out []config.FieldProblem
	add := func(key, msg, hint string) { out = append(out, config.FieldProblem{Key: key, Msg: msg, Hint: hint}) }
	if s.Host != "" && (strings.ContainsAny(s.Host, ":/ ") && net.ParseIP(s.Host) == nil) {
		add("host", fmt.Sprintf("host %q is not a host name", s.Host), "write the server's name alone, e.g. smtp.exmail.qq.com, and the port under port:")
	}
	if s.Port > 65535 {
		add("port", fmt.Sprintf("port %d is above 65535", s.Port), "SMTP servers listen on 465 (tls: implicit) or 587 (tls: starttls)")
	}
	switch tls := s.tlsMode(); {
	case tls == TLSNone && s.Host != "" && !imhook.IsLoopback(s.Host):
		add("tls", "tls: none sends the password and every mail in plain text; it is only allowed to a server on this machine", "use tls: implicit (port 465) or tls: starttls (port 587)")
	case tls == TLSImplicit && s.Port == 587:
		add("tls", "port 587 takes STARTTLS, not TLS from the first byte", "write tls: starttls for port 587, or use port 465 with tls: implicit")
	case tls != TLSImplicit && s.Port == 465:
		add("tls", "port 465 speaks TLS from the first byte", "write tls: implicit for port 465, or use port 587 with tls: starttls")
	}
	if s.From != "" {
		if _, err := parseFrom(s.From); err != nil {
			add("from", err.Error(), `write it as "订单中心 <orders@example.com>" or orders@example.com`)
		}
	}
	if s.Username == "" && s.Password.Reveal() != "" {
		add("username", "password is set but username is not", "write the account to log in as, usually the full address")
	}
	if s.UnsubscribeURL != "" {
		if err := checkUnsubscribe(s.UnsubscribeURL); err != nil {
			add("unsubscribe_url", err.Error(), "e.g. {base}/v1/unsubscribe?person={person}, or https://shop.example/unsubscribe?email={email}")
		}
	}
	return out
}

func (s *Settings) tlsMode() string {
	if s.TLS == "" {
		return TLSImplicit
	}
	return s.TLS
}

func (s *Settings) port() int {
	if s.Port != 0 {
		return s.Port
	}
	switch s.tlsMode() {
	case TLSStartTLS:
		return 587
	case TLSNone:
		return 25
	}
	return 465
}

// parseFrom reads the from: setting as one address.
func parseFrom(from string) (*mail.Address, error) {
	a, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("from %q is not one mail address (%v)", from, err)
	}
	if !strings.Contains(a.Address, "@") || strings.HasSuffix(a.Address, "@") {
		return nil, fmt.Errorf("from %q has no domain", from)
	}
	return a, nil
}

// The unsubscribe_url placeholders.
var unsubscribeFields = []string{"{base}", "{person}", "{email}"}

// checkUnsubscribe checks a template: known placeholders only, and an
// http(s) URL once they are filled (https unless the host is this
// machine's; {base} is the hub's own address, checked when it is known).
func checkUnsubscribe(tmpl string) error {
	rest := tmpl
	for _, f := range unsubscribeFields {
		rest = strings.ReplaceAll(rest, f, "")
	}
	if i := strings.IndexByte(rest, '{'); i >= 0 {
		end := strings.IndexByte(rest[i:], '}')
		if end < 0 {
			end = len(rest) - i - 1
		}
		return fmt.Errorf("unsubscribe_url has an unknown placeholder %s (known: %s)", rest[i:i+end+1], strings.Join(unsubscribeFields, ", "))
	}
	filled := strings.NewReplacer("{base}", "https://orderhub.example", "{person}", "zhang", "{email}", "zhang%40example.com").Replace(tmpl)
	u, err := url.Parse(filled)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("unsubscribe_url %q is not an absolute http(s) URL", tmpl)
	}
	if u.Scheme == "http" && !imhook.IsLoopback(u.Hostname()) {
		return fmt.Errorf("unsubscribe_url must use https: mail clients only offer one-click unsubscribe for https links (RFC 8058)")
	}
	if !strings.Contains(tmpl, "{person}") && !strings.Contains(tmpl, "{email}") {
		return fmt.Errorf("unsubscribe_url names no one: it needs {person} or {email}, or every link would be the same")
	}
	return nil
}

func init() {
	connector.Register(connector.Kind{
		KindSpec: config.KindSpec{
			Kind:        Kind,
			Summary:     "email through an SMTP server (implicit TLS or STARTTLS): HTML and plain text, one-click unsubscribe",
			NewSettings: func() any { return new(Settings) },
		},
		Send: &connector.SendCapability{
			Addressed: true,
			Tracking:  true,
			Provider:  "邮件",
			CodeName:  "SMTP",
			New:       func(env connector.Env) (connector.Sender, error) { return NewFromEnv(env) },
		},
	})
}

// NewFromEnv builds the sender of a configured smtp system. The system's
// timeout bounds each SMTP step.
func NewFromEnv(env connector.Env) (*Client, error) {
	s, ok := env.System.Settings.(*Settings)
	if !ok {
		return nil, fmt.Errorf("smtp: system %q has no smtp settings", env.System.Name)
	}
	o := Options{
		System:         env.System.Name,
		Host:           s.Host,
		Port:           s.port(),
		Username:       s.Username,
		Password:       s.Password.Reveal(),
		From:           s.From,
		TLS:            s.tlsMode(),
		UnsubscribeURL: s.UnsubscribeURL,
		Now:            env.Clock(),
		Log:            env.Log,
	}
	if env.HTTP != nil {
		o.Timeout = env.HTTP.Timeout
	}
	return New(o)
}
