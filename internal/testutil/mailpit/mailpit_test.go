package mailpit_test

import (
	"crypto/tls"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"

	"orderhub/internal/testutil/mailpit"
)

const raw = "From: a@example.com\r\nTo: b@example.com\r\nSubject: hello\r\nMessage-ID: <m1@example.com>\r\nX-Test: 1\r\n\r\nbody line\r\n"

// send speaks SMTP with the standard library, a client independent of the
// connector the helper serves.
func send(srv *mailpit.Server, startTLS bool, auth smtp.Auth) error {
	c, err := smtp.Dial(srv.Addr())
	if err != nil {
		return err
	}
	defer c.Close()
	if startTLS {
		if err := c.StartTLS(&tls.Config{RootCAs: srv.RootCAs, ServerName: "127.0.0.1"}); err != nil {
			return err
		}
	}
	if auth != nil {
		if err := c.Auth(auth); err != nil {
			return err
		}
	}
	if err := c.Mail("a@example.com"); err != nil {
		return err
	}
	if err := c.Rcpt("b@example.com"); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(raw)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func TestServer(t *testing.T) {
	cases := []struct {
		name     string
		opts     mailpit.Options
		startTLS bool
		auth     smtp.Auth
		chaos    *mailpit.Chaos
		wantCode int // 0: taken
	}{
		{name: "plain", opts: mailpit.Options{}},
		{name: "starttls and login", opts: mailpit.Options{TLS: "starttls", RequireTLS: true, Users: map[string]string{"u": "p"}},
			startTLS: true, auth: smtp.PlainAuth("", "u", "p", "127.0.0.1")},
		{name: "wrong password", opts: mailpit.Options{TLS: "starttls", RequireTLS: true, Users: map[string]string{"u": "p"}},
			startTLS: true, auth: smtp.PlainAuth("", "u", "wrong", "127.0.0.1"), wantCode: 535},
		{name: "recipient not allowed", opts: mailpit.Options{AllowedRecipients: `@example\.org$`}, wantCode: 550},
		{name: "chaos on RCPT", opts: mailpit.Options{Chaos: true}, chaos: &mailpit.Chaos{Recipient: mailpit.Trigger{ErrorCode: 452, Probability: 100}}, wantCode: 452},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := mailpit.Start(t, tc.opts)
			if tc.chaos != nil {
				srv.SetChaos(t, *tc.chaos)
			}
			err := send(srv, tc.startTLS, tc.auth)
			if tc.wantCode != 0 {
				te, ok := err.(*textproto.Error)
				if !ok || te.Code != tc.wantCode {
					t.Fatalf("send: %v; want the server's %d", err, tc.wantCode)
				}
				if n := len(srv.Messages(t)); n != 0 {
					t.Fatalf("a refused message was stored (%d)", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("send: %v\n%s", err, srv.Log())
			}
			list := srv.Messages(t)
			if len(list) != 1 || list[0].MessageID != "m1@example.com" || list[0].Subject != "hello" {
				t.Fatalf("messages %+v", list)
			}
			m := srv.Message(t, list[0].ID)
			if strings.TrimSpace(m.Text) != "body line" || m.From.Address != "a@example.com" {
				t.Errorf("message %+v", m)
			}
			if h := srv.Headers(t, m.ID); len(h["X-Test"]) != 1 || h["X-Test"][0] != "1" {
				t.Errorf("headers %v", h)
			}
			if !strings.Contains(string(srv.Raw(t, m.ID)), "X-Test: 1\r\n") {
				t.Error("raw source lacks the header")
			}
			srv.DeleteAll(t)
			if n := len(srv.Messages(t)); n != 0 {
				t.Errorf("%d messages after DeleteAll", n)
			}
		})
	}
}
