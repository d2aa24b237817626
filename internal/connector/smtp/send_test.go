package smtp

import (
	"context"
	"strings"
	"testing"

	"orderhub/internal/connector"
	"orderhub/internal/testutil/mailpit"
)

// One mail reaches a real SMTP server under each tls setting, with what a
// person sees and what their mail client reads: subject, sender,
// recipient, the text and HTML alternatives, the unsubscribe headers and
// the Message-ID Send reported.
func TestSendsToMailpit(t *testing.T) {
	cases := []struct {
		name  string
		tls   string
		srv   func(t *testing.T) *mailpit.Server
		login bool
	}{
		{"none to loopback", TLSNone, plainServer, false},
		// A server with users takes MAIL FROM only after a login (530
		// otherwise, TestConnectionClasses): a mail received is a login made.
		{"none to loopback with login", TLSNone, func(t *testing.T) *mailpit.Server {
			return mailpit.Start(t, mailpit.Options{Users: map[string]string{testUser: testPass}, InsecureAuth: true})
		}, true},
		{"starttls and login", TLSStartTLS, func(t *testing.T) *mailpit.Server { return authServer(t, "starttls", mailpit.Options{}) }, true},
		{"implicit and login", TLSImplicit, func(t *testing.T) *mailpit.Server { return authServer(t, "implicit", mailpit.Options{}) }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := tc.srv(t)
			res, err := clientFor(t, srv, tc.tls, func(o *Options) {
				if tc.login {
					o.Username, o.Password = testUser, testPass
				}
			}).Send(context.Background(), sample())
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			if res.Code != "250" || res.Cut {
				t.Errorf("result %+v; want code 250, not cut", res)
			}
			got := only(t, srv)
			if got.Subject != "大额订单 ¥5,999.00 "+testOrder {
				t.Errorf("subject %q", got.Subject)
			}
			if got.From.Name != "订单中心" || got.From.Address != "orders@example.com" {
				t.Errorf("from %+v", got.From)
			}
			if len(got.To) != 1 || got.To[0].Name != "张三" || got.To[0].Address != "zhang@example.com" {
				t.Errorf("to %+v", got.To)
			}
			if got.MessageID != res.MessageID || !strings.HasSuffix(got.MessageID, "@example.com") {
				t.Errorf("Message-ID %q, Send said %q", got.MessageID, res.MessageID)
			}
			for _, want := range []string{"大额订单 " + testOrder, "¥5,999.00（已付款）", "138****1234", "查看订单: " + testLink, unsubscribeLine + testUnsubZ} {
				if !strings.Contains(got.Text, want) {
					t.Errorf("text part lacks %q:\n%s", want, got.Text)
				}
			}
			for _, want := range []string{
				`<h3 style="` + styleH1 + `">大额订单 ` + testOrder + `</h3>`,
				`<strong>¥5,999.00</strong>（已付款）`,
				`<li style="` + styleItem + `">店铺：旗舰店</li>`,
				`<td style="` + styleCell + `;text-align:right">¥199.00</td>`,
				`<a href="` + testLink + `" style="color:#E8590C">查看订单</a>`,
				`border-top:4px solid #E8590C`,
				`<a href="` + testUnsubZ + `" style="color:#8f959e;">退订此类邮件</a>`,
			} {
				if !strings.Contains(got.HTML, want) {
					t.Errorf("HTML part lacks %s:\n%s", want, got.HTML)
				}
			}
			// The page reads alike in most mail clients: by caniemail's
			// tables, as mailpit applies them, next to nothing it uses is
			// unsupported (today 1 %, the background on <body>, which the
			// outer table repeats).
			if hc := srv.CheckHTML(t, got.ID); hc.Total.Unsupported > 2 {
				t.Errorf("mailpit's HTML check: %.1f %% unsupported, %+v", hc.Total.Unsupported, hc.Warnings)
			}
			if strings.Contains(got.HTML, "查看详情") {
				t.Error("the HTML has a button to the order although the body links to it")
			}
			if got.ListUnsubscribe.Header != "<"+testUnsubZ+">" || got.ListUnsubscribe.HeaderPost != "List-Unsubscribe=One-Click" || got.ListUnsubscribe.Errors != "" {
				t.Errorf("List-Unsubscribe as mailpit reads it: %+v", got.ListUnsubscribe)
			}

			h := srv.Headers(t, got.ID)
			for name, want := range map[string]string{
				"Auto-Submitted":           "auto-generated",
				"X-Auto-Response-Suppress": "All",
				"Importance":               "high",
				"Date":                     "Thu, 26 Nov 2026 10:00:15 +0800",
			} {
				if v := h[name]; len(v) != 1 || v[0] != want {
					t.Errorf("header %s = %q, want %q", name, v, want)
				}
			}
			m := parseMIME(t, srv.Raw(t, got.ID))
			if m.MediaType != "multipart/alternative" {
				t.Fatalf("Content-Type %s, want multipart/alternative", m.MediaType)
			}
			if len(m.Parts) != 2 || m.Parts["text/plain"] != got.Text || !strings.Contains(m.Parts["text/html"], "<!DOCTYPE html>") {
				t.Errorf("parts %v; want text/plain and text/html", keys(m.Parts))
			}
		})
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// The same message sent again (after a lost answer, or a retry) carries
// the same Message-ID; another recipient or another message does not.
func TestMessageIDIsStable(t *testing.T) {
	srv := plainServer(t)
	c := clientFor(t, srv, TLSNone)
	ctx := context.Background()
	first, err := c.Send(ctx, sample())
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.Send(ctx, sample())
	if err != nil {
		t.Fatal(err)
	}
	other := sample()
	other.To = []connector.Recipient{{Person: "li", Name: "李四", Email: "li@example.com"}}
	toLi, err := c.Send(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	paid := sample()
	paid.Key = "paid/shop/" + testOrder + "/paid"
	paidRes, err := c.Send(ctx, paid)
	if err != nil {
		t.Fatal(err)
	}
	if first.MessageID != again.MessageID {
		t.Errorf("a message sent again has Message-ID %s, first %s", again.MessageID, first.MessageID)
	}
	if toLi.MessageID == first.MessageID || paidRes.MessageID == first.MessageID || toLi.MessageID == paidRes.MessageID {
		t.Errorf("Message-IDs collide: %s %s %s", first.MessageID, toLi.MessageID, paidRes.MessageID)
	}
	var ids []string
	for _, m := range srv.Messages(t) {
		ids = append(ids, m.MessageID)
	}
	want := map[string]int{first.MessageID: 2, toLi.MessageID: 1, paidRes.MessageID: 1}
	for _, id := range ids {
		want[id]--
	}
	for id, n := range want {
		if n != 0 {
			t.Errorf("mailpit holds Message-IDs %v; %s off by %d", ids, id, n)
		}
	}
}

// Several recipients get a mail each, addressed to them alone, with their
// own unsubscribe link; a recipient without an address is passed over and
// one address given twice gets one mail.
func TestEachRecipientGetsTheirOwnMail(t *testing.T) {
	srv := plainServer(t)
	m := sample()
	m.To = []connector.Recipient{
		{Person: "zhang", Name: "张三", Email: "zhang@example.com"},
		{Person: "li", Name: "李四", Email: "li@example.com"},
		{Person: "wang", Name: "王五", Mobile: "13800001234"},
		{Person: "zhang2", Name: "张三", Email: "Zhang@Example.com"},
	}
	res, err := clientFor(t, srv, TLSNone).Send(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Fields(res.MessageID)); n != 2 {
		t.Errorf("MessageID %q; want the two mails' ids", res.MessageID)
	}
	got := srv.Messages(t)
	if len(got) != 2 {
		t.Fatalf("mailpit received %d mails, want 2", len(got))
	}
	seen := map[string]string{}
	for _, s := range got {
		if len(s.To) != 1 {
			t.Fatalf("a mail is addressed to %+v; want one recipient each", s.To)
		}
		full := srv.Message(t, s.ID)
		seen[s.To[0].Address] = full.ListUnsubscribe.Header
	}
	if seen["zhang@example.com"] != "<"+testUnsubZ+">" || seen["li@example.com"] != "<http://127.0.0.1:8080/v1/unsubscribe?person=li>" {
		t.Errorf("unsubscribe links by recipient: %v", seen)
	}
}

// A message none of whose recipients has an address is refused before any
// connection, with a hint to fill in the person's email.
func TestNoEmailIsPermanent(t *testing.T) {
	srv := plainServer(t)
	m := sample()
	m.To = []connector.Recipient{{Person: "wang", Name: "王五", Mobile: "13800001234"}}
	_, err := clientFor(t, srv, TLSNone).Send(context.Background(), m)
	ce := wantClass(t, err, connector.Permanent)
	if !strings.Contains(ce.Hint, "email") || ce.Code != "no_email" {
		t.Errorf("refusal %+v; want code no_email and a hint naming email", ce)
	}
	if n := len(srv.Messages(t)); n != 0 {
		t.Fatalf("mailpit received %d mails", n)
	}
}

// The unsubscribe link of an https template is one-click, as RFC 8058 has
// it; the person's key is escaped into it.
func TestHTTPSUnsubscribeIsOneClick(t *testing.T) {
	srv := plainServer(t)
	c := clientFor(t, srv, TLSNone, func(o *Options) { o.UnsubscribeURL = "https://shop.example/unsubscribe?person={person}&email={email}" })
	m := sample()
	m.To[0].Person = "zhang san"
	if _, err := c.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := only(t, srv)
	want := "https://shop.example/unsubscribe?person=zhang+san&email=zhang%40example.com"
	if got.ListUnsubscribe.Header != "<"+want+">" || got.ListUnsubscribe.HeaderPost != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe %+v, want <%s> and one-click", got.ListUnsubscribe, want)
	}
	if len(got.ListUnsubscribe.Links) != 1 || got.ListUnsubscribe.Links[0] != want {
		t.Errorf("mailpit reads the links as %v", got.ListUnsubscribe.Links)
	}
}
