package dingtalk

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"orderhub/internal/connector"
	"orderhub/internal/connector/imtext"
)

// maxTitle bounds a title: DingTalk shows it only in the conversation list
// and the notification, where a long one is cut anyway.
const maxTitle = 200

// cutMark ends a body that was cut to fit.
const cutMark = "…"

// built is a message ready to post.
type built struct {
	body []byte
	cut  bool
}

// render builds the message for one version of the cuttable body text.
type render func(main string, cut bool) wireMsg

var errEmpty = errors.New("dingtalk: the message has no title, markdown or text")

// build turns a Message into the endpoint's message type. The body text is
// the part that gives way: when the whole request would pass maxBytes, it
// is cut on a line boundary (or, for a single long line, a rune boundary)
// and ends with "…" and the link, while the keyword and the @mentions are
// kept.
func (c *Client) build(m connector.Message, maxBytes int) (built, error) {
	m = validUTF8(m)
	if strings.TrimSpace(m.Title+m.Markdown+m.Text) == "" {
		return built{}, errEmpty
	}
	if n := len(m.AtMobiles) + len(m.AtUserIDs); n > MaxMentions {
		c.log.Warn("dingtalk: a message may @ at most 50 people; the rest are left out", "system", c.system, "mentions", n, "key", m.Key)
	}
	if c.msgType == TypeFeedCard && (len(m.AtMobiles) > 0 || len(m.AtUserIDs) > 0 || m.AtAll) {
		c.log.Warn("dingtalk: a feedCard cannot @ anyone; use msgtype markdown for rules with at", "system", c.system, "key", m.Key)
	}
	var main string
	var r render
	switch c.msgType {
	case TypeText:
		main, r = c.textType(m)
	case TypeActionCard:
		main, r = c.actionCardType(m)
	case TypeFeedCard:
		return c.feedCardType(m, maxBytes)
	default:
		main, r = c.markdownType(m)
	}
	b := encode(r(main, false))
	if len(b) <= maxBytes {
		return built{body: b}, nil
	}
	// What everything but the body text takes, with the keyword added and
	// the cut's ending, whether or not the cut text needs them.
	budget := maxBytes - len(encode(r("", true)))
	for budget > 0 {
		short := cutText(main, budget)
		b = encode(r(short, true))
		if len(b) <= maxBytes {
			return built{body: b, cut: true}, nil
		}
		budget -= len(b) - maxBytes // the estimate was off: tighten
	}
	return built{}, fmt.Errorf("dingtalk: the title, link and mentions alone take more than %d bytes", maxBytes)
}

func (c *Client) markdownType(m connector.Message) (string, render) {
	main := toDingMarkdown(m.Markdown)
	if strings.TrimSpace(main) == "" {
		main = m.Text
	}
	if strings.TrimSpace(main) == "" {
		main = m.Title // DingTalk needs a text
	}
	title := c.title(m, main)
	mobiles, users := mentions(m)
	return main, func(main string, cut bool) wireMsg {
		text := c.withKeyword(main, true)
		if cut {
			text = strings.TrimRight(text, " \n") + "\n\n" + cutMark
			if m.Link != "" {
				text += "\n\n[查看完整内容](" + m.Link + ")"
			}
		}
		text = withMentionTokens(text, mobiles, users, "\n\n")
		return wireMsg{MsgType: TypeMarkdown, Markdown: &wireMarkdown{Title: title, Text: text}, At: at(mobiles, users, m.AtAll), MsgUUID: msgUUID(m.Key)}
	}
}

func (c *Client) textType(m connector.Message) (string, render) {
	main := m.Text
	if strings.TrimSpace(main) == "" {
		main = toPlain(m.Markdown)
	}
	if strings.TrimSpace(main) == "" {
		main = m.Title
	}
	mobiles, users := mentions(m)
	return main, func(main string, cut bool) wireMsg {
		text := c.withKeyword(main, false)
		if cut {
			text = strings.TrimRight(text, " \n") + "\n" + cutMark
		}
		if m.Link != "" && (cut || !strings.Contains(text, m.Link)) {
			text += "\n" + m.Link
		}
		text = withMentionTokens(text, mobiles, users, "\n")
		return wireMsg{MsgType: TypeText, Text: &wireText{Content: text}, At: at(mobiles, users, m.AtAll), MsgUUID: msgUUID(m.Key)}
	}
}

// actionCardType is a card with one button to the order. DingTalk honours
// no at object on cards; @userId written in the text is its way to mention.
func (c *Client) actionCardType(m connector.Message) (string, render) {
	main := toDingMarkdown(m.Markdown)
	if strings.TrimSpace(main) == "" {
		main = m.Text
	}
	if strings.TrimSpace(main) == "" {
		main = m.Title // DingTalk needs a text
	}
	title := c.title(m, main)
	mobiles, users := mentions(m)
	return main, func(main string, cut bool) wireMsg {
		text := c.withKeyword(main, true)
		if cut {
			text = strings.TrimRight(text, " \n") + "\n\n" + cutMark
			if m.Link != "" {
				text += "\n\n[查看完整内容](" + m.Link + ")"
			}
		}
		text = withMentionTokens(text, mobiles, users, "\n\n")
		card := &wireActionCard{Title: title, Text: text, BtnOrientation: "0"}
		if m.Link != "" {
			card.SingleTitle, card.SingleURL = "查看订单", m.Link
		} else {
			// A card needs a button; without a link it is a markdown message.
			return wireMsg{MsgType: TypeMarkdown, Markdown: &wireMarkdown{Title: title, Text: text}, At: at(mobiles, users, m.AtAll), MsgUUID: msgUUID(m.Key)}
		}
		return wireMsg{MsgType: TypeActionCard, ActionCard: card, MsgUUID: msgUUID(m.Key)}
	}
}

// feedCardType lists the message as entries: the title pointing at the
// link, then every link of the body. A feedCard has no text and no @; when
// the entries pass the limit the last ones give way to one "…" entry.
func (c *Client) feedCardType(m connector.Message, maxBytes int) (built, error) {
	first := c.withKeyword(c.title(m, m.Text), false)
	link := m.Link
	entries := []wireFeedLink{{Title: first, MessageURL: link, PicURL: c.picURL}}
	for _, l := range mdLinks(m.Markdown) {
		if l[1] == link {
			continue
		}
		entries = append(entries, wireFeedLink{Title: l[0], MessageURL: l[1], PicURL: c.picURL})
	}
	if link == "" {
		if len(entries) == 1 {
			return built{}, fmt.Errorf("dingtalk: a feedCard needs a link, and the message has none")
		}
		entries = entries[1:]
		entries[0].Title = c.withKeyword(entries[0].Title, false)
	}
	msg := func(es []wireFeedLink) []byte {
		return encode(wireMsg{MsgType: TypeFeedCard, FeedCard: &wireFeedCard{Links: es}, MsgUUID: msgUUID(m.Key)})
	}
	b := msg(entries)
	if len(b) <= maxBytes {
		return built{body: b}, nil
	}
	more := wireFeedLink{Title: cutMark + " 查看完整内容", MessageURL: link, PicURL: c.picURL}
	if link == "" {
		more.MessageURL = entries[0].MessageURL
	}
	for n := len(entries) - 1; n >= 1; n-- {
		if b := msg(append(slices.Clip(entries[:n]), more)); len(b) <= maxBytes {
			return built{body: b, cut: true}, nil
		}
	}
	return built{}, fmt.Errorf("dingtalk: the first feedCard entry alone takes more than %d bytes", maxBytes)
}

// title is the message's title, or the first line of its text, bounded.
func (c *Client) title(m connector.Message, text string) string {
	t := strings.TrimSpace(m.Title)
	if t == "" {
		first, _, _ := strings.Cut(strings.TrimSpace(text), "\n")
		t = strings.TrimSpace(imtext.StripHeading(first))
	}
	if t == "" {
		t = "通知"
	}
	return imtext.CutRunes(t, maxTitle)
}

// withKeyword makes s carry the robot's keyword: DingTalk refuses a message
// whose content lacks all of the robot's 自定义关键词 (310000). The keyword
// goes into the first line, after a Markdown heading's marks.
func (c *Client) withKeyword(s string, md bool) string {
	if c.keyword == "" || strings.Contains(s, c.keyword) {
		return s
	}
	tag := "【" + c.keyword + "】"
	if md {
		if h := imtext.Heading(s); h != "" {
			return h + tag + s[len(h):]
		}
	}
	return tag + s
}

// mentions are the message's @mobiles and @userIds, each once, at most
// MaxMentions in all (DingTalk's cap).
func mentions(m connector.Message) (mobiles, users []string) {
	seen := map[string]bool{}
	n := 0
	take := func(in []string) []string {
		var out []string
		for _, v := range in {
			v = strings.TrimSpace(v)
			if v == "" || seen[v] || n >= MaxMentions {
				continue
			}
			seen[v] = true
			n++
			out = append(out, v)
		}
		return out
	}
	return take(m.AtMobiles), take(m.AtUserIDs)
}

func at(mobiles, users []string, all bool) *wireAt {
	if len(mobiles) == 0 && len(users) == 0 && !all {
		return nil
	}
	return &wireAt{AtMobiles: mobiles, AtUserIDs: users, IsAtAll: all}
}

// withMentionTokens writes @mobile / @userId into the text for each
// mention it does not show yet: DingTalk highlights a mention only where
// its token appears in the content.
func withMentionTokens(text string, mobiles, users []string, sep string) string {
	var toks []string
	for _, v := range slices.Concat(mobiles, users) {
		if !strings.Contains(text, "@"+v) {
			toks = append(toks, "@"+v)
		}
	}
	if len(toks) == 0 {
		return text
	}
	return strings.TrimRight(text, " \n") + sep + strings.Join(toks, " ")
}

// msgUUID is the msgUuid of a message key: the same key, the same uuid, so
// that DingTalk shows a message sent again after a lost answer only once.
func msgUUID(key string) string {
	if key == "" {
		return ""
	}
	h := sha256.Sum256([]byte(key))
	x := hex.EncodeToString(h[:16])
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}

// cutText keeps the longest start of s whose JSON-escaped form fits in
// budget bytes: whole lines while they fit, else the first line cut on a
// rune boundary. Trailing blank lines and a dangling heading are dropped.
func cutText(s string, budget int) string {
	if budget <= 0 {
		return ""
	}
	lines := imtext.Lines(s)
	used, keep := 0, 0
	for i, l := range lines {
		n := escapedLen(l)
		if i > 0 {
			n += 2 // the escaped newline before it
		}
		if used+n > budget {
			break
		}
		used += n
		keep = i + 1
	}
	if keep == 0 {
		return cutEscaped(lines[0], budget)
	}
	kept := lines[:keep]
	for len(kept) > 1 && (strings.TrimSpace(kept[len(kept)-1]) == "" || isHeadingOnly(kept[len(kept)-1])) {
		kept = kept[:len(kept)-1]
	}
	return strings.Join(kept, "\n")
}

// isHeadingOnly reports whether a line is a heading or a converted table
// header, which a cut must not leave without what it introduces.
func isHeadingOnly(line string) bool {
	l := strings.TrimSpace(line)
	return imtext.Heading(l+" ") != "" && strings.Trim(l, "# ") == "" || imtext.Heading(l) != "" ||
		(strings.HasPrefix(l, "**") && strings.HasSuffix(l, "**") && strings.Contains(l, " · "))
}

// cutEscaped cuts s on a rune boundary so that its escaped form fits.
func cutEscaped(s string, budget int) string {
	used := 0
	for i, r := range s {
		n := escapedLen(string(r))
		if used+n > budget {
			return s[:i]
		}
		used += n
	}
	return s
}

func validUTF8(m connector.Message) connector.Message {
	fix := func(s *string) { *s = strings.ToValidUTF8(*s, "\uFFFD") }
	fix(&m.Title)
	fix(&m.Markdown)
	fix(&m.Text)
	fix(&m.Link)
	m.AtMobiles = slices.Clone(m.AtMobiles)
	m.AtUserIDs = slices.Clone(m.AtUserIDs)
	for i := range m.AtMobiles {
		fix(&m.AtMobiles[i])
	}
	for i := range m.AtUserIDs {
		fix(&m.AtUserIDs[i])
	}
	return m
}
