package smtp

import (
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/url"
	"strings"
	"testing"

	"orderhub/internal/connector"
)

// With Track set, every http(s) link of the HTML part goes through the
// hub's click address and an open pixel ends the page; mailto: links, the
// unsubscribe link and the plain text stay as they are. Without it the
// mail has neither. The recipient's signed unsubscribe link is used when
// the system names no page of its own.
func TestTrackedMail(t *testing.T) {
	const unsub = "https://hub.example/u/TOKEN"
	click := func(target string) string { return "https://hub.example/t/c/SIG?u=" + url.QueryEscape(target) }
	msg := func(track bool) connector.Message {
		m := connector.Message{Title: "新订单 D1", Key: "k1", Link: "https://hub.example/v1/orders/s/D1",
			Markdown: "[订单](https://hub.example/v1/orders/s/D1?a=1&b=2) 或 [邮件](mailto:ops@example.com)，见 https://shop.example/x",
			To:       []connector.Recipient{{Person: "zhang", Email: "zhang@example.com", UnsubscribeURL: unsub}}}
		if track {
			m.Track = &connector.Tracking{OpenPixel: "https://hub.example/t/o/PIX.gif", Click: click}
		}
		return m
	}
	cases := []struct {
		name         string
		track        bool
		want, absent []string
	}{
		{"tracked", true,
			[]string{
				`href="https://hub.example/t/c/SIG?u=` + strings.ReplaceAll(url.QueryEscape("https://hub.example/v1/orders/s/D1?a=1&b=2"), "&", "&amp;") + `"`,
				`href="https://hub.example/t/c/SIG?u=` + url.QueryEscape("https://shop.example/x") + `"`,
				`href="mailto:ops@example.com"`,
				`<img src="https://hub.example/t/o/PIX.gif" width="1" height="1"`,
				`href="` + unsub + `"`,
				"List-Unsubscribe: <" + unsub + ">",
				"List-Unsubscribe-Post: List-Unsubscribe=One-Click",
			},
			[]string{`href="https://shop.example/x"`}},
		{"not tracked", false,
			[]string{`href="https://shop.example/x"`, `href="` + unsub + `"`, "List-Unsubscribe: <" + unsub + ">"},
			[]string{"/t/c/", "/t/o/", "<img"}},
	}
	c := offline(t, func(o *Options) { o.UnsubscribeURL = "" })
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw, _, err := c.Render(msg(tc.track))
			if err != nil {
				t.Fatal(err)
			}
			mail := decodeQP(string(raw))
			for _, w := range tc.want {
				if !strings.Contains(mail, w) {
					t.Errorf("lacks %s", w)
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(mail, a) {
					t.Errorf("has %s", a)
				}
			}
			if t.Failed() {
				t.Log(mail)
			}
		})
	}
}

// decodeQP is a rendered mail as text: its headers, then each part's body
// decoded from its transfer encoding.
func decodeQP(raw string) string {
	m, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		return raw
	}
	var b strings.Builder
	for k, vs := range m.Header {
		for _, v := range vs {
			b.WriteString(k + ": " + v + "\n")
		}
	}
	_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		return b.String()
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if err != nil {
			break
		}
		var r io.Reader = p
		switch strings.ToLower(p.Header.Get("Content-Transfer-Encoding")) {
		case "quoted-printable":
			r = quotedprintable.NewReader(p)
		case "base64":
			r = base64.NewDecoder(base64.StdEncoding, p)
		}
		body, _ := io.ReadAll(r)
		b.Write(body)
		b.WriteString("\n")
	}
	return b.String()
}
