// Package webhookout sends notifications to a team's own systems as
// outgoing webhooks signed the Standard Webhooks way
// (https://www.standardwebhooks.com/): the event and the order as JSON,
// with webhook-id (the same on every retry, so receivers dedupe),
// webhook-timestamp and webhook-signature, so that any receiver verifies
// them with the spec's own libraries, and another orderhub's webhook source
// with `scheme: standard` takes them as they are. Sim is a local receiver
// for tests, the demo and benchmarks that checks the signature.
package webhookout

import (
	"fmt"
	"net/url"
	"strings"

	"orderhub/internal/config"
	"orderhub/internal/connector"
	"orderhub/internal/connector/imhook"
	"orderhub/internal/connector/stdwebhook"
)

// Kind is the system kind (`kind: webhook_out`).
const Kind = "webhook_out"

// Settings are a webhook_out system's keys. timeout, which every system
// has, bounds one attempt (30s by default, within the 15–30s the spec
// recommends for receivers to answer in).
type Settings struct {
	URL    string        `yaml:"url" required:"true" doc:"the receiver's address, https://… (plain http sends the order, buyer included, unencrypted; use it only inside a trusted network)"`
	Secret config.Secret `yaml:"secret" required:"true" doc:"the signing secret shared with the receiver, whsec_ followed by base64 of at least 24 random bytes (e.g. whsec_$(openssl rand -base64 32)); use ${ENV_VAR}"`
}

// Validate implements config.SettingsValidator. Its messages never quote
// the secret, nor the URL's query (a receiver may take a token there).
func (s *Settings) Validate() []config.FieldProblem {
	var out []config.FieldProblem
	if s.URL != "" {
		if _, err := parseURL(s.URL); err != nil {
			out = append(out, config.FieldProblem{Key: "url", Msg: err.Error(), Hint: "write the receiver's full address, e.g. https://erp.example.com/hooks/orders"})
		}
	}
	if sec := s.Secret.Reveal(); sec != "" {
		if _, err := stdwebhook.ParseSecret(sec); err != nil {
			out = append(out, config.FieldProblem{Key: "secret", Msg: err.Error(), Hint: stdwebhook.SecretHint})
		}
	}
	return out
}

// parseURL checks the receiver's address.
func parseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("url is not a URL") // url's error quotes the URL, query and all
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("url must be an absolute http(s) address")
	}
	if u.User != nil {
		return nil, fmt.Errorf("url carries a user name or password; the signature is what authenticates orderhub")
	}
	return u, nil
}

// plainHTTP reports a URL that sends the order in clear over the network.
func plainHTTP(u *url.URL) bool {
	return u.Scheme == "http" && !imhook.IsLoopback(u.Hostname())
}

func init() {
	connector.Register(connector.Kind{
		KindSpec: config.KindSpec{
			Kind:        Kind,
			Summary:     "outgoing webhook to your own system: the event and the order as JSON, signed with Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature)",
			NewSettings: func() any { return new(Settings) },
		},
		Send: &connector.SendCapability{
			// The body is the event and the order (Message.Payload).
			Payload: true,
			// The spec states no rate and no size limit; a receiver that is
			// overwhelmed answers 429 or 503, and the hub waits.
			Provider: "Webhook",
			CodeName: "HTTP",
			New:      func(env connector.Env) (connector.Sender, error) { return NewFromEnv(env) },
		},
	})
}

// NewFromEnv builds the sender of a configured webhook_out system. A
// base_url, when set, replaces the url's scheme and host (to point a real
// receiver's address at a simulator).
func NewFromEnv(env connector.Env) (*Client, error) {
	s, ok := env.System.Settings.(*Settings)
	if !ok {
		return nil, fmt.Errorf("webhookout: system %q has no webhook_out settings", env.System.Name)
	}
	return New(Options{
		System:  env.System.Name,
		URL:     s.URL,
		BaseURL: env.System.BaseURL,
		Secret:  s.Secret.Reveal(),
		HTTP:    env.HTTP,
		Now:     env.Clock(),
		Log:     env.Log,
	})
}
