package smtp

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"orderhub/internal/config"
	"orderhub/internal/connector"
)

func parse(t *testing.T, block string, env map[string]string) (*config.Config, error) {
	t.Helper()
	return config.Parse([]byte("systems:\n  mail:"+block+"\n"), "orderhub.yaml", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
}

// The issue's system block, as written there, builds a sender through the
// registry; the same keys pointed at a server on this machine send.
func TestConfigFromTheIssue(t *testing.T) {
	cfg, err := parse(t, `
    kind: smtp
    host: smtp.exmail.qq.com
    port: 465
    username: orders@example.com
    password: ${SMTP_PASSWORD}
    from: "订单中心 <orders@example.com>"
    tls: implicit              # implicit, starttls or none`, map[string]string{"SMTP_PASSWORD": testPass})
	if err != nil {
		t.Fatal(err)
	}
	s, err := connector.NewSender(connector.Env{System: cfg.Systems["mail"]})
	if err != nil {
		t.Fatal(err)
	}
	c := s.(*Client)
	if c.host != "smtp.exmail.qq.com" || c.port != 465 || c.tlsMode != TLSImplicit || c.user != testUser || c.pass.Reveal() != testPass ||
		c.from.Name != "订单中心" || c.from.Address != "orders@example.com" || c.tlsConf.ServerName != "smtp.exmail.qq.com" {
		t.Fatalf("client %+v", c)
	}

	srv := plainServer(t)
	cfg, err = parse(t, `
    kind: smtp
    host: 127.0.0.1
    port: ${MAIL_PORT}
    from: "订单中心 <orders@example.com>"
    tls: none
    unsubscribe_url: "{base}/v1/unsubscribe?person={person}"`, map[string]string{"MAIL_PORT": strconv.Itoa(srv.Port)})
	if err != nil {
		t.Fatal(err)
	}
	s, err = connector.NewSender(connector.Env{System: cfg.Systems["mail"], Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(context.Background(), sample()); err != nil {
		t.Fatalf("send: %v", err)
	}
	if got := only(t, srv); got.ListUnsubscribe.Header != "<"+testUnsubZ+">" {
		t.Errorf("List-Unsubscribe %q", got.ListUnsubscribe.Header)
	}
}

// The port follows the tls setting when it is left out.
func TestDefaultPorts(t *testing.T) {
	for tls, want := range map[string]int{"": 465, "implicit": 465, "starttls": 587, "none": 25} {
		s := Settings{Host: "127.0.0.1", From: testFrom, TLS: tls}
		if got := s.port(); got != want {
			t.Errorf("tls %q: port %d, want %d", tls, got, want)
		}
	}
}

func TestConfigProblems(t *testing.T) {
	const secret = "s3cret-authorisation-code"
	base := "host: smtp.exmail.qq.com\n    from: orders@example.com\n    username: orders@example.com\n    password: " + secret + "\n    "
	cases := []struct{ name, block, want string }{
		{"missing host", "from: orders@example.com\n", "host"},
		{"missing from", "host: smtp.qq.com\n", "from"},
		{"from not an address", "host: smtp.qq.com\n    from: 订单中心\n", "from"},
		{"host with the port", "host: smtp.qq.com:465\n    from: orders@example.com\n", "host"},
		{"tls in the wrong case", base + "tls: STARTTLS\n", "tls"},
		{"plain text to a remote server", base + "tls: none\n", "tls: none"},
		{"465 with starttls", base + "tls: starttls\n    port: 465\n", "port 465"},
		{"587 with implicit", base + "port: 587\n", "port 587"},
		{"port out of range", base + "port: 70000\n", "65535"},
		{"password without username", "host: smtp.qq.com\n    from: orders@example.com\n    password: " + secret + "\n", "username"},
		{"unknown placeholder", base + "unsubscribe_url: \"{base}/v1/unsubscribe?token={token}\"\n", "{token}"},
		{"unsubscribe over http", base + "unsubscribe_url: \"http://shop.example/unsubscribe?person={person}\"\n", "https"},
		{"unsubscribe naming no one", base + "unsubscribe_url: \"https://shop.example/unsubscribe\"\n", "{person}"},
		{"misspelt key", base + "usename: x\n", "usename"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, "\n    kind: smtp\n    "+tc.block, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v; want one naming %s", err, tc.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("the error quotes the password: %v", err)
			}
		})
	}
}
