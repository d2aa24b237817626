package smtp

import (
	"strings"
	"testing"

	"orderhub/internal/connector"
)

func offline(t *testing.T, mod ...func(*Options)) *Client {
	t.Helper()
	o := Options{System: "mail", Host: "smtp.example.com", Port: 465, From: testFrom, UnsubscribeURL: testUnsub}
	for _, f := range mod {
		f(&o)
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The Markdown body as HTML: each element styled inline, the brand colour
// on links and quotes, and nothing of the body's own HTML or scripts.
func TestHTMLBody(t *testing.T) {
	cases := []struct {
		name, md, color string
		want, absent    []string
		titled          bool
	}{
		{name: "heading first", md: "### 新订单 D1\n\n正文", titled: true,
			want: []string{`<h3 style="` + styleH1 + `">新订单 D1</h3>`, `<p style="` + styleP + `">正文</p>`}},
		{name: "no heading", md: "正文", want: []string{`<p style="` + styleP + `">正文</p>`}},
		{name: "link in the brand colour", md: "[查看](https://hub.example/v1/orders/s/1)", color: "#00AA55",
			want: []string{`<a href="https://hub.example/v1/orders/s/1" style="color:#00AA55">查看</a>`}},
		{name: "bare link made a link", md: "见 https://hub.example/x", color: "#00AA55",
			want: []string{`<a href="https://hub.example/x" style="color:#00AA55">https://hub.example/x</a>`}},
		{name: "colour that is not one", md: "[x](https://a.example)", color: "red;background:url(x)",
			want: []string{`style="color:` + DefaultColor + `"`}, absent: []string{"url(x)"}},
		{name: "raw HTML dropped", md: "备注：<script>alert(1)</script><b onclick=x>粗</b>",
			absent: []string{"<script", "onclick", "<b"}},
		{name: "javascript link refused", md: "[点我](javascript:alert(1))", absent: []string{"javascript:"}},
		{name: "line breaks kept", md: "第一行\n第二行", want: []string{"第一行<br>\n第二行"}},
		{name: "masked phone stays", md: "- 买家：138****1234", want: []string{"买家：138****1234"}},
		{name: "table", md: "| 订单 | 金额 |\n|---|---:|\n| D1 | ¥1.00 |",
			want: []string{`<table style="` + styleTable + `">`, `<th style="` + styleHeadCell + `">订单</th>`, `<td style="` + styleCell + `;text-align:right">¥1.00</td>`}},
		{name: "quote and code", md: "> 备注 `SKU-1`", color: "#123456",
			want: []string{`<blockquote style="margin:0 0 12px;padding:4px 12px;border-left:3px solid #123456;color:#646a73">`, `<code style="` + styleCode + `">SKU-1</code>`}},
	}
	c := offline(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := c.renderBody(tc.md, "", tc.color)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(b.html, w) {
					t.Errorf("lacks %s:\n%s", w, b.html)
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(b.html, a) {
					t.Errorf("has %s:\n%s", a, b.html)
				}
			}
			if b.titled != tc.titled {
				t.Errorf("titled %v, want %v", b.titled, tc.titled)
			}
		})
	}
}

// A text-only message becomes escaped lines, and the page shows the title
// and a button to the order it does not otherwise link.
func TestTextOnlyPage(t *testing.T) {
	c := offline(t)
	m := connector.Message{Title: "新订单 D1", Text: "金额 <¥1.00>\n买家 138****1234", Link: "https://hub.example/v1/orders/s/D1"}
	b, err := c.renderBody(m.Markdown, m.Text, m.Color)
	if err != nil {
		t.Fatal(err)
	}
	html, err := c.page(m, subjectOf(m), b, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"金额 &lt;¥1.00&gt;<br>\n买家 138****1234", `font-weight:600;line-height:1.4;">新订单 D1</td>`, `<a href="https://hub.example/v1/orders/s/D1"`, "查看详情"} {
		if !strings.Contains(html, w) {
			t.Errorf("page lacks %s:\n%s", w, html)
		}
	}
	if strings.Contains(html, "退订") {
		t.Error("a page without an unsubscribe link offers to unsubscribe")
	}
}

func TestPlainText(t *testing.T) {
	cases := []struct {
		name  string
		m     connector.Message
		unsub string
		want  string
	}{
		{"text as it is", connector.Message{Text: "新订单 D1\n查看: https://h/v1/o", Link: "https://h/v1/o"}, "", "新订单 D1\n查看: https://h/v1/o\n"},
		{"link added when missing", connector.Message{Text: "新订单 D1", Link: "https://h/v1/o"}, "", "新订单 D1\n\nhttps://h/v1/o\n"},
		{"markdown when no text", connector.Message{Markdown: "### 新订单 D1"}, "", "### 新订单 D1\n"},
		{"unsubscribe line", connector.Message{Text: "新订单 D1"}, "https://h/u?p=zhang", "新订单 D1\n\n--\n" + unsubscribeLine + "https://h/u?p=zhang\n"},
	}
	for _, tc := range cases {
		if got := plainText(tc.m, tc.unsub); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestSubject(t *testing.T) {
	cases := []struct {
		m    connector.Message
		want string
	}{
		{connector.Message{Title: "大额订单\n ¥5,999.00  D1"}, "大额订单 ¥5,999.00 D1"},
		{connector.Message{Markdown: "\n### 新订单 D2\n正文"}, "新订单 D2"},
		{connector.Message{Text: "\n\n退款 D3\n"}, "退款 D3"},
		{connector.Message{}, ""},
	}
	for _, tc := range cases {
		if got := subjectOf(tc.m); got != tc.want {
			t.Errorf("%+v: subject %q, want %q", tc.m, got, tc.want)
		}
	}
}

func TestUnsubscribeLink(t *testing.T) {
	zhang := connector.Recipient{Person: "zhang", Email: "zhang@example.com"}
	cases := []struct {
		name, tmpl, link, want string
	}{
		{"base from the order link", "{base}/v1/unsubscribe?person={person}", "https://hub.example/orderhub/v1/orders/s/1", "https://hub.example/orderhub/v1/unsubscribe?person=zhang"},
		{"digest link", "{base}/u?e={email}", "http://127.0.0.1:8080/v1/deliveries?digest=3", "http://127.0.0.1:8080/u?e=zhang%40example.com"},
		{"no link to take base from", "{base}/u?p={person}", "", ""},
		{"absolute", "https://shop.example/u?p={person}", "", "https://shop.example/u?p=zhang"},
	}
	for _, tc := range cases {
		c := offline(t, func(o *Options) { o.UnsubscribeURL = tc.tmpl })
		if got := c.unsubscribeLink(tc.link, zhang, zhang.Email); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestMessageIDs(t *testing.T) {
	a := messageID("k1", "Zhang@Example.com", "example.com")
	if a != messageID("k1", "zhang@example.com", "example.com") || !strings.HasSuffix(a, "@example.com") || len(a) != 32+len("@example.com") {
		t.Errorf("Message-ID %q is not stable across the address's case, or not of the form hex@domain", a)
	}
	for _, other := range []string{messageID("k2", "zhang@example.com", "example.com"), messageID("k1", "li@example.com", "example.com"), messageID("", "zhang@example.com", "example.com")} {
		if other == a {
			t.Errorf("Message-ID %q repeats for another key or recipient", other)
		}
	}
	if messageID("", "zhang@example.com", "example.com") == messageID("", "zhang@example.com", "example.com") {
		t.Error("a message without a key got a fixed Message-ID")
	}
}

// A send with several recipients reports the failure most worth acting on.
func TestOutcomeRanks(t *testing.T) {
	perm := &connector.CallError{Class: connector.Permanent, Code: "550", Message: "no such user", Hint: "h1"}
	retry := &connector.CallError{Class: connector.Retry, Code: "451", Message: "try later", Hint: "h2"}
	unknown := &connector.CallError{Class: connector.Unknown, Hint: "h3"}
	cases := []struct {
		name string
		rs   []result
		want connector.Class
		msg  string
	}{
		{"all taken", []result{{who: "a", messageID: "1@x"}, {who: "b", messageID: "2@x"}}, "", ""},
		{"one refused", []result{{who: "a", messageID: "1@x"}, {who: "b", err: perm}}, connector.Permanent, "b: 550 no such user"},
		{"retry over refusal", []result{{who: "a", err: perm}, {who: "b", err: retry}}, connector.Retry, "a: 550 no such user; b: 451 try later"},
		{"one failure for all", []result{{who: "a", err: retry}, {who: "b", err: retry}}, connector.Retry, "try later"},
		{"unknown over retry", []result{{who: "a", err: retry}, {who: "b", err: unknown}}, connector.Unknown, "a: 451 try later; b: "},
	}
	c := offline(t)
	for _, tc := range cases {
		res, err := c.outcome(tc.rs)
		if got := connector.ClassOf(err); got != tc.want {
			t.Errorf("%s: class %q, want %q", tc.name, got, tc.want)
			continue
		}
		if err == nil {
			if res.MessageID != "1@x 2@x" || res.Code != "250" {
				t.Errorf("%s: %+v", tc.name, res)
			}
			continue
		}
		ce, _ := connector.AsCallError(err)
		if ce.Message != tc.msg {
			t.Errorf("%s: message %q, want %q", tc.name, ce.Message, tc.msg)
		}
	}
	if perm.Message != "no such user" {
		t.Error("outcome changed a recipient's own error")
	}
}

func TestEnhancedCode(t *testing.T) {
	for msg, want := range map[string]string{
		"5.1.1 <x@y>: Recipient address rejected": "5.1.1",
		"4.7.0 Try again later":                   "4.7.0",
		"Chaos recipient error":                   "",
		"5.1 short":                               "",
		"2.0.0 Ok: queued as x":                   "2.0.0",
		"6.1.1 nonsense":                          "",
	} {
		if got := enhancedCode(msg); got != want {
			t.Errorf("%q: %q, want %q", msg, got, want)
		}
	}
	if got := maskEmail("zhang@example.com"); got != "z***@example.com" {
		t.Errorf("masked %q", got)
	}
}

// Render shows the mails as they would go, without a server.
func TestRender(t *testing.T) {
	c := offline(t)
	body, cut, err := c.Render(sample())
	if err != nil || cut {
		t.Fatalf("render: cut %v, %v", cut, err)
	}
	m := parseMIME(t, body)
	if m.MediaType != "multipart/alternative" || m.Header.Get("List-Unsubscribe") != "<"+testUnsubZ+">" {
		t.Errorf("rendered %s with List-Unsubscribe %q", m.MediaType, m.Header.Get("List-Unsubscribe"))
	}
	noone := sample()
	noone.To = nil
	if _, _, err := c.Render(noone); connector.ClassOf(err) != connector.Permanent {
		t.Errorf("a message to no one rendered: %v", err)
	}
}

// Replies as Chinese providers word them, classed and hinted by step and
// text (mailpit's chaos answers carry no text of this kind).
func TestProviderReplies(t *testing.T) {
	cases := []struct {
		name string
		ph   phase
		code int
		msg  string
		want connector.Class
		hint string
	}{
		{"QQ 授权码", phaseConnect, 535, "Login Fail. Please enter your authorization code to login.", connector.Permanent, "授权码"},
		{"163 auth", phaseConnect, 535, "Error: authentication failed", connector.Permanent, "授权码"},
		{"QQ content", phaseEnd, 550, "Mail content denied.", connector.Permanent, "垃圾邮件"},
		{"163 spam", phaseEnd, 554, "DT:SPM 163 smtp14,EsCowAD3", connector.Permanent, "垃圾邮件"},
		{"exmail sender", phaseMail, 501, "mail from address must be same as authorization user", connector.Permanent, "from 的地址与 username"},
		{"no such user", phaseRcpt, 550, "User not found: nobody@example.com", connector.Permanent, "收件邮箱不存在"},
		{"STARTTLS first", phaseMail, 530, "5.7.0 Must issue a STARTTLS command first", connector.Permanent, "tls 改为 starttls"},
		{"greylisted", phaseRcpt, 450, "4.7.1 Greylisted, try again later", connector.Retry, "灰名单"},
		{"too many connections", phaseConnect, 421, "Too many connections", connector.Retry, "421"},
		{"blocked IP at greeting", phaseConnect, 554, "IP in blacklist", connector.Permanent, "黑名单"},
	}
	c := offline(t)
	for _, tc := range cases {
		class, hint := c.replyClass(tc.ph, tc.code, tc.msg)
		if class != tc.want || !strings.Contains(hint, tc.hint) {
			t.Errorf("%s: %s, %q; want %s and a hint with %q", tc.name, class, hint, tc.want, tc.hint)
		}
	}
}
