package dingtalkapp

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"orderhub/internal/connector"
	"orderhub/internal/connector/imtext"
)

// maxTitle bounds a title in bytes: DingTalk shows it in the conversation
// list and the notification banner, where a long one is cut anyway.
const maxTitle = 128

// The action_card button's limits (im.md 2.3).
const (
	buttonTitle  = "查看订单"
	maxSingleURL = 500
)

var errEmpty = errors.New("the message has no title, markdown or text")

// build turns a Message into the msg object. The body text gives way when
// msg would pass maxBytes: it is cut on a line (or character) boundary and
// ends with "…" and a link to the whole message, so that DingTalk never
// refuses a message for its size.
func (c *Client) build(m connector.Message) (msg []byte, cut bool, err error) {
	m = validUTF8(m)
	if strings.TrimSpace(m.Title+m.Markdown+m.Text) == "" {
		return nil, false, errEmpty
	}
	text := toDingMarkdown(m.Markdown)
	if strings.TrimSpace(text) == "" {
		text = hardBreaks(m.Text) // plain text keeps its lines
	}
	if strings.TrimSpace(text) == "" {
		text = m.Title // DingTalk needs a text
	}
	title := titleOf(m.Title, text)
	linkTail := ""
	if m.Link != "" {
		linkTail = "\n\n[查看完整内容](" + m.Link + ")"
	}
	card := c.msgType == TypeActionCard && m.Link != "" && len(m.Link) <= maxSingleURL
	render := func(s string) ([]byte, bool) {
		w := wireMsg{MsgType: TypeMarkdown, Markdown: &wireMarkdown{Title: title, Text: s}}
		if card {
			// A card without a button is refused; without a usable link
			// the message goes as markdown.
			w = wireMsg{MsgType: TypeActionCard, ActionCard: &wireActionCard{Title: title, Markdown: s, SingleTitle: buttonTitle, SingleURL: m.Link}}
		}
		b := encode(w)
		return b, len(b) <= c.maxBytes
	}
	msg, cut = imtext.FitBody(text, render, "\n\n"+imtext.Ellipsis+linkTail, imtext.Ellipsis+linkTail)
	if len(msg) > c.maxBytes {
		return nil, false, fmt.Errorf("the title and link alone take more than the %d bytes of a work notification", c.maxBytes)
	}
	return msg, cut, nil
}

// titleOf is the message's title, or the first line of its text, bounded.
func titleOf(title, text string) string {
	t := strings.TrimSpace(title)
	if t == "" {
		first, _, _ := strings.Cut(strings.TrimSpace(text), "\n")
		t = strings.TrimSpace(imtext.StripHeading(first))
	}
	if t == "" {
		t = "通知"
	}
	return imtext.CutRunes(t, maxTitle)
}

var strike = regexp.MustCompile(`~~(.+?)~~`)

// toDingMarkdown rewrites the common Markdown subset into DingTalk's: it
// has headings, quotes, bold, links, images and lists, but no tables, code
// or strikethrough, and breaks a line inside a paragraph only after two
// spaces. It reads a table as a bold header line and a list of rows, as
// the group robot does, so a message looks alike in both.
func toDingMarkdown(md string) string {
	var b strings.Builder
	for _, blk := range imtext.Blocks(md) {
		switch {
		case blk.Fence: // DingTalk would show the fence itself
		case blk.Table != nil:
			for i, row := range blk.Table {
				if i == 0 && len(blk.Table) > 1 {
					b.WriteString("**" + strings.Join(row, " · ") + "**\n")
					continue
				}
				b.WriteString("- " + strings.Join(row, " · ") + "\n")
			}
		default:
			l := imtext.ReplaceIf(strike, blk.Line, "$1", "~~")
			l = imtext.ReplaceIf(imtext.CodeRE, l, "$1", "`")
			b.WriteString(l + "\n")
		}
	}
	return hardBreaks(strings.TrimRight(b.String(), "\n"))
}

// hardBreaks ends every line followed by another within a paragraph with
// two spaces, DingTalk's line break.
func hardBreaks(s string) string {
	lines := imtext.Lines(s)
	for i := 0; i+1 < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "" && strings.TrimSpace(lines[i+1]) != "" && !strings.HasSuffix(lines[i], "  ") {
			lines[i] += "  "
		}
	}
	return strings.Join(lines, "\n")
}

func validUTF8(m connector.Message) connector.Message {
	fix := func(s *string) { *s = strings.ToValidUTF8(*s, "\uFFFD") }
	fix(&m.Title)
	fix(&m.Markdown)
	fix(&m.Text)
	fix(&m.Link)
	return m
}

// recipients are a message's addressees as asyncsend_v2 takes them.
type recipients struct {
	users, depts []string
	all          bool
	// unreachable names the addressees with no 钉钉 address, for the log
	// and the hint.
	unreachable []string
}

// addressees reads msg.To: userids and departments each once, in order;
// All wins over lists.
func addressees(to []connector.Recipient) recipients {
	var r recipients
	seenU, seenD := map[string]bool{}, map[string]bool{}
	for _, p := range to {
		u, d := strings.TrimSpace(p.DingUserID), strings.TrimSpace(p.DingDept)
		switch {
		case p.All:
			r.all = true
		case u == "" && d == "":
			r.unreachable = append(r.unreachable, who(p))
		}
		if u != "" && !seenU[u] {
			seenU[u] = true
			r.users = append(r.users, u)
		}
		if d != "" && !seenD[d] {
			seenD[d] = true
			r.depts = append(r.depts, d)
		}
	}
	return r
}

func who(p connector.Recipient) string {
	switch {
	case p.Person != "" && p.Name != "":
		return p.Person + "（" + p.Name + "）"
	case p.Person != "":
		return p.Person
	case p.Name != "":
		return p.Name
	case p.Mobile != "" || p.Email != "":
		return "仅有手机号或邮箱的收件人"
	}
	return "未命名的收件人"
}

// chunk is one asyncsend_v2 call's share of the recipients.
type chunk struct {
	users, depts []string
	all          bool
}

// chunks splits the recipients into calls of at most maxUsers userids and
// maxDepts departments each, a call carrying both kinds where it can.
func (r recipients) chunks(maxUsers, maxDepts int) []chunk {
	if r.all {
		return []chunk{{all: true}}
	}
	n := max(ceilDiv(len(r.users), maxUsers), ceilDiv(len(r.depts), maxDepts))
	out := make([]chunk, n)
	for i := range out {
		out[i].users = window(r.users, i*maxUsers, maxUsers)
		out[i].depts = window(r.depts, i*maxDepts, maxDepts)
	}
	return out
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func window(s []string, from, n int) []string {
	if from >= len(s) {
		return nil
	}
	return s[from:min(from+n, len(s))]
}

// key identifies a chunk among a message's calls, for the progress kept
// across retries.
func (c chunk) key() string {
	if c.all {
		return "all"
	}
	return strings.Join(c.users, ",") + "|" + strings.Join(c.depts, ",")
}
