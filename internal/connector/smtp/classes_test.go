package smtp

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"orderhub/internal/connector"
	"orderhub/internal/connector/connectortest"
	"orderhub/internal/testutil/mailpit"
)

// Every reply class a real server gives, from mailpit: its own refusals
// (a wrong password, a recipient it does not take) and the codes its
// chaos triggers answer MAIL FROM, RCPT TO and AUTH with. 4xx is sent
// again, 5xx is final and says what to fix.
func TestReplyClasses(t *testing.T) {
	trig := func(code int) mailpit.Trigger { return mailpit.Trigger{ErrorCode: code, Probability: 100} }
	cases := []struct {
		name     string
		chaos    mailpit.Chaos
		password string // "" for the right one
		to       string // "" for the sample's
		want     connector.Class
		code     string // the CallError's code, as the delivery log shows it
		hint     string // part of the hint
	}{
		{name: "421 at RCPT", chaos: mailpit.Chaos{Recipient: trig(421)}, want: connector.Retry, code: "421", hint: "421"},
		{name: "450 at RCPT", chaos: mailpit.Chaos{Recipient: trig(450)}, want: connector.Retry, code: "450", hint: "灰名单"},
		{name: "451 at MAIL", chaos: mailpit.Chaos{Sender: trig(451)}, want: connector.Retry, code: "451", hint: "451"},
		{name: "452 at RCPT", chaos: mailpit.Chaos{Recipient: trig(452)}, want: connector.Retry, code: "452", hint: "452"},
		{name: "454 at AUTH", chaos: mailpit.Chaos{Authentication: trig(454)}, want: connector.Retry, code: "454", hint: "登录"},
		{name: "535 at AUTH", chaos: mailpit.Chaos{Authentication: trig(535)}, want: connector.Permanent, code: "535", hint: "授权码"},
		{name: "wrong password", password: "not-the-password", want: connector.Permanent, code: "535 5.7.8", hint: "授权码"},
		{name: "550 at RCPT", chaos: mailpit.Chaos{Recipient: trig(550)}, want: connector.Permanent, code: "550", hint: "email"},
		{name: "mailbox the server refuses", to: "nobody@elsewhere.test", want: connector.Permanent, code: "550 5.1.0", hint: "收件邮箱不存在或不可用"},
		{name: "553 at MAIL", chaos: mailpit.Chaos{Sender: trig(553)}, want: connector.Permanent, code: "553", hint: "from 的地址与 username"},
		{name: "554 at RCPT", chaos: mailpit.Chaos{Recipient: trig(554)}, want: connector.Permanent, code: "554", hint: "垃圾邮件"},
		{name: "552 at RCPT", chaos: mailpit.Chaos{Recipient: trig(552)}, want: connector.Permanent, code: "552", hint: "邮箱已满"},
	}
	// One server: each case sets its own triggers (none turns them off).
	srv := authServer(t, "starttls", mailpit.Options{Chaos: true, AllowedRecipients: `@example\.com$`})
	var table []connectortest.ClassCase
	for _, tc := range cases {
		srv.SetChaos(t, tc.chaos)
		c := clientFor(t, srv, TLSStartTLS, func(o *Options) {
			if tc.password != "" {
				o.Password = tc.password
			}
		})
		m := sample()
		if tc.to != "" {
			m.To[0].Email = tc.to
		}
		_, err := c.Send(context.Background(), m)
		table = append(table, connectortest.ClassCase{Name: tc.name, Err: err, Want: tc.want})
		ce, ok := connector.AsCallError(err)
		if !ok {
			continue // CheckClasses reports it
		}
		if ce.Code != tc.code || !strings.Contains(ce.Hint, tc.hint) || ce.Message == "" {
			t.Errorf("%s: code %q, message %q, hint %q; want code %q and a hint with %q", tc.name, ce.Code, ce.Message, ce.Hint, tc.code, tc.hint)
		}
		if n := len(srv.Messages(t)); n != 0 {
			t.Errorf("%s: a refused mail was stored", tc.name)
		}
	}
	connectortest.CheckClasses(t, table)
}

// Failures without a reply: nothing listening is sent again; a tls
// setting that does not match the server is a setting to fix, whatever
// the attempt.
func TestConnectionClasses(t *testing.T) {
	plain := plainServer(t)
	starttls := authServer(t, "starttls", mailpit.Options{})
	implicit := authServer(t, "implicit", mailpit.Options{})
	cases := []struct {
		name string
		srv  *mailpit.Server
		tls  string
		mod  func(*Options)
		want connector.Class
		code string
		hint string
	}{
		{name: "nothing listening", srv: plain, tls: TLSNone, mod: func(o *Options) { o.Port = deadPort(t) }, want: connector.Retry, hint: "拒绝连接"},
		{name: "implicit to a plain port", srv: plain, tls: TLSImplicit, want: connector.Permanent, code: "TLS", hint: "tls: starttls"},
		{name: "starttls to an implicit TLS port", srv: implicit, tls: TLSStartTLS, mod: func(o *Options) { o.Timeout = time.Second },
			want: connector.Retry, hint: "tls 须为 implicit"},
		{name: "starttls to a server without it", srv: plain, tls: TLSStartTLS, want: connector.Permanent, code: "TLS", hint: "没有提供 STARTTLS"},
		{name: "certificate not trusted", srv: implicit, tls: TLSImplicit, mod: func(o *Options) { o.TLSConfig = nil }, want: connector.Permanent, code: "TLS", hint: "证书"},
		{name: "certificate for another name", srv: starttls, tls: TLSStartTLS,
			mod:  func(o *Options) { o.TLSConfig = &tls.Config{RootCAs: starttls.RootCAs, ServerName: "smtp.example.com"} },
			want: connector.Permanent, code: "TLS", hint: "证书上的名字"},
		{name: "login on a server without AUTH", srv: plain, tls: TLSNone, mod: func(o *Options) { o.Username, o.Password = testUser, testPass },
			want: connector.Permanent, code: "AUTH", hint: "登录"},
		{name: "no login where the server wants one", srv: starttls, tls: TLSStartTLS, mod: func(o *Options) { o.Username, o.Password = "", "" },
			want: connector.Permanent, code: "530 5.7.0", hint: "要求登录"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var mod []func(*Options)
			if tc.mod != nil {
				mod = append(mod, tc.mod)
			}
			_, err := clientFor(t, tc.srv, tc.tls, mod...).Send(context.Background(), sample())
			ce := wantClass(t, err, tc.want)
			if ce.Code != tc.code || !strings.Contains(ce.Hint, tc.hint) {
				t.Errorf("code %q, hint %q; want code %q and a hint with %q", ce.Code, ce.Hint, tc.code, tc.hint)
			}
		})
	}
	for _, srv := range []*mailpit.Server{plain, starttls, implicit} {
		if n := len(srv.Messages(t)); n != 0 {
			t.Errorf("mailpit on %s stored %d mails", srv.Addr(), n)
		}
	}
}

// A cancelled send is sent again later, never reported as a failure.
func TestCancelledIsRetry(t *testing.T) {
	srv := plainServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := clientFor(t, srv, TLSNone).Send(ctx, sample())
	wantClass(t, err, connector.Retry)
}

// One of two recipients refused: the other has their mail, and the error
// says who did not, so the delivery log shows both.
func TestOneRecipientRefused(t *testing.T) {
	srv := mailpit.Start(t, mailpit.Options{AllowedRecipients: `@example\.com$`})
	m := sample()
	m.To = append(m.To, connector.Recipient{Person: "li", Name: "李四", Email: "li@elsewhere.test"})
	res, err := clientFor(t, srv, TLSNone).Send(context.Background(), m)
	ce := wantClass(t, err, connector.Permanent)
	if !strings.HasPrefix(ce.Message, "li: 550 5.1.0") || !strings.HasPrefix(ce.Hint, "2 位收件人中 1 位已收到") {
		t.Errorf("message %q, hint %q", ce.Message, ce.Hint)
	}
	got := only(t, srv)
	if got.To[0].Address != "zhang@example.com" || res.MessageID != got.MessageID {
		t.Errorf("stored %+v; result %+v", got.To, res)
	}
}
