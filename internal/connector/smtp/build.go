package smtp

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"orderhub/internal/connector"
	"orderhub/internal/connector/imhook"
)

// outgoing is one recipient's mail, ready to send.
type outgoing struct {
	who       string // the person's key, or the address masked
	addr      string
	messageID string // without <>
	msg       *gomail.Msg
}

// compose builds one mail per distinct address. Recipients whose address is
// not one come back as refused; a message with no address at all, or with
// nothing to say, is refused as a whole.
func (c *Client) compose(m connector.Message) ([]*outgoing, []result, error) {
	subject := subjectOf(m)
	if subject == "" && strings.TrimSpace(m.Markdown) == "" && strings.TrimSpace(m.Text) == "" {
		return nil, nil, &connector.CallError{Class: connector.Permanent, System: c.system, Op: opSend, Code: "empty",
			Message: "the message has no title and no body", Hint: "模板渲染出的消息为空：检查该规则模板的 title 与 markdown"}
	}
	body, err := c.renderBody(m.Markdown, m.Text, m.Color)
	if err != nil {
		return nil, nil, &connector.CallError{Class: connector.Permanent, System: c.system, Op: opSend, Err: err,
			Hint: "无法把消息正文转换为 HTML：检查模板的 markdown；若持续出现请报告此问题"}
	}
	now := c.now()
	seen := map[string]bool{}
	var mails []*outgoing
	var refused []result
	for _, r := range m.To {
		if strings.TrimSpace(r.Email) == "" {
			continue
		}
		who := r.Person
		addr, err := parseRecipient(r.Email)
		if err != nil {
			if who == "" {
				who = "?"
			}
			refused = append(refused, result{who: who, err: &connector.CallError{Class: connector.Permanent, System: c.system, Op: opSend,
				Code: "bad_address", Message: err.Error(), Field: "email",
				Hint: fmt.Sprintf("收件人 %s 的 email 不是有效的邮箱地址：在 people: 中改正它（如 zhang@example.com）", who)}})
			continue
		}
		if seen[strings.ToLower(addr)] {
			continue
		}
		seen[strings.ToLower(addr)] = true
		if who == "" {
			who = maskEmail(addr)
		}
		// The hub's signed link for this person and channel, unless the
		// system names a page of its own.
		unsub := r.UnsubscribeURL
		if c.unsub != "" {
			unsub = c.unsubscribeLink(m.Link, r, addr)
		}
		id := messageID(m.Key, addr, c.domain)
		msg, err := c.mail(m, subject, body, r.Name, addr, id, unsub, now)
		if err != nil {
			refused = append(refused, result{who: who, err: &connector.CallError{Class: connector.Permanent, System: c.system, Op: opSend,
				Code: "bad_address", Err: err, Field: "email",
				Hint: fmt.Sprintf("无法给收件人 %s 写信：检查其 email 与姓名", who)}})
			continue
		}
		mails = append(mails, &outgoing{who: who, addr: addr, messageID: id, msg: msg})
	}
	if len(mails) == 0 && len(refused) == 0 {
		return nil, nil, &connector.CallError{Class: connector.Permanent, System: c.system, Op: opSend, Code: "no_email",
			Err: errNoRecipient, Field: "email",
			Hint: "收件人没有邮箱地址：在 people: 中为该人员填写 email（如 zhang: {email: zhang@example.com}）；发给买家时订单上须有买家邮箱"}
	}
	return mails, refused, nil
}

// mail is one recipient's message: headers, the plain text, the HTML.
func (c *Client) mail(m connector.Message, subject string, body rendered, name, addr, id, unsub string, now time.Time) (*gomail.Msg, error) {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(c.from)
	msg.ToMailAddress(&mail.Address{Name: name, Address: addr})
	msg.Subject(subject)
	msg.SetMessageIDWithValue(id)
	msg.SetDateWithValue(now)
	msg.SetUserAgent("orderhub")
	// A notification, not a person writing: no out-of-office replies
	// (RFC 3834; Exchange reads the second).
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	msg.SetGenHeader(gomail.Header("X-Auto-Response-Suppress"), "All")
	switch m.Priority {
	case "critical":
		msg.SetImportance(gomail.ImportanceUrgent)
	case "high":
		msg.SetImportance(gomail.ImportanceHigh)
	case "low":
		msg.SetImportance(gomail.ImportanceLow)
	}
	if unsub != "" {
		if err := setUnsubscribe(msg, unsub); err != nil {
			return nil, err
		}
	}
	msg.SetBodyString(gomail.TypeTextPlain, plainText(m, unsub))
	html, err := c.page(m, subject, body, unsub)
	if err != nil {
		return nil, err
	}
	msg.AddAlternativeString(gomail.TypeTextHTML, html)
	return msg, nil
}

// setUnsubscribe sets List-Unsubscribe and, for a link that takes a
// one-click POST (https, or this machine's), List-Unsubscribe-Post (RFC
// 8058).
func setUnsubscribe(msg *gomail.Msg, link string) error {
	u, err := url.Parse(link)
	if err != nil {
		return fmt.Errorf("unsubscribe link: %w", err)
	}
	if u.Scheme == "https" {
		return msg.SetListUnsubscribeOneClick(link)
	}
	msg.SetListUnsubscribe(link)
	if imhook.IsLoopback(u.Hostname()) {
		msg.SetListUnsubscribePost()
	}
	return nil
}

// subjectOf is the title, or the body's first line when there is none.
func subjectOf(m connector.Message) string {
	if t := oneLine(m.Title); t != "" {
		return t
	}
	for _, body := range []string{m.Text, m.Markdown} {
		for _, line := range strings.Split(body, "\n") {
			if t := oneLine(strings.TrimLeft(line, "# ")); t != "" {
				return t
			}
		}
	}
	return ""
}

// oneLine folds a title onto one line: a header cannot hold a line break.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// plainText is the text/plain part: the text body (the Markdown when there
// is none), the link when the body does not carry it, the unsubscribe line.
func plainText(m connector.Message, unsub string) string {
	text := m.Text
	if strings.TrimSpace(text) == "" {
		text = m.Markdown
	}
	text = strings.TrimRight(text, "\n ")
	if m.Link != "" && !strings.Contains(text, m.Link) {
		text += "\n\n" + m.Link
	}
	if unsub != "" {
		text += "\n\n--\n" + unsubscribeLine + unsub
	}
	return text + "\n"
}

const unsubscribeLine = "不想再收到这类邮件？退订："

// parseRecipient checks an address and returns it bare.
func parseRecipient(s string) (string, error) {
	a, err := mail.ParseAddress(strings.TrimSpace(s))
	if err != nil {
		return "", fmt.Errorf("%q is not a mail address", s)
	}
	if at := strings.LastIndexByte(a.Address, '@'); at <= 0 || at == len(a.Address)-1 {
		return "", fmt.Errorf("%q is not a mail address", s)
	}
	return a.Address, nil
}

// messageID is the Message-ID of one message to one address: the same for
// every attempt, so that a mail sent again after an answer was lost is
// recognisably the same mail, and different per recipient. A message
// without a key gets a random one.
func messageID(key, addr, domain string) string {
	if key == "" {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		return hex.EncodeToString(b) + "@" + domain
	}
	h := sha256.New()
	h.Write([]byte("orderhub\x00"))
	h.Write([]byte(key))
	h.Write([]byte{0})
	h.Write([]byte(strings.ToLower(addr)))
	return hex.EncodeToString(h.Sum(nil)[:16]) + "@" + domain
}

// unsubscribeLink fills the unsubscribe_url template for one recipient.
// {base} is the hub's address as the message's link carries it (the part
// before /v1/); without it there is no link.
func (c *Client) unsubscribeLink(link string, r connector.Recipient, addr string) string {
	if c.unsub == "" {
		return ""
	}
	base := ""
	if i := strings.Index(link, "/v1/"); i > 0 {
		base = link[:i]
	}
	if base == "" && strings.Contains(c.unsub, "{base}") {
		c.log.Warn("smtp: no unsubscribe link: the message has no orderhub link to take {base} from", "system", c.system)
		return ""
	}
	return strings.NewReplacer(
		"{base}", base,
		"{person}", url.QueryEscape(r.Person),
		"{email}", url.QueryEscape(addr),
	).Replace(c.unsub)
}

// Render returns the mails Send would send for m, as sent, one after the
// other, without sending them: what `orderhub rules test` shows. A
// recipient refused before sending is an error, as Send would answer.
func (c *Client) Render(m connector.Message) (body []byte, cut bool, err error) {
	mails, refused, err := c.compose(m)
	if err != nil {
		return nil, false, err
	}
	if len(refused) > 0 {
		return nil, false, refused[0].err
	}
	var b bytes.Buffer
	for i, om := range mails {
		if i > 0 {
			b.WriteString("\n")
		}
		if _, err := om.msg.WriteTo(&b); err != nil {
			return nil, false, fmt.Errorf("smtp: system %q: %w", c.system, err)
		}
	}
	return b.Bytes(), false, nil
}
