package feishu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"orderhub/internal/connector"
)

// Stamp is a message's 签名校验 fields; the zero Stamp is an unsigned
// message.
type Stamp struct {
	Timestamp string
	Sign      string
}

// NewStamp signs a message sent at unix (seconds) with secret; "" secret
// gives the zero Stamp.
func NewStamp(secret string, unix int64) Stamp {
	if secret == "" {
		return Stamp{}
	}
	return Stamp{Timestamp: strconv.FormatInt(unix, 10), Sign: Sign(secret, unix)}
}

// Build turns m into the body Feishu takes for msgType (interactive when
// empty), carrying keyword in its title or text and stamped with st. cut
// reports that the text was shortened to fit MaxBody.
func Build(msgType string, m connector.Message, keyword string, st Stamp) (body []byte, cut bool, err error) {
	m = validUTF8(m)
	if strings.TrimSpace(m.Title+m.Markdown+m.Text) == "" {
		return nil, false, fmt.Errorf("the message has no title and no body")
	}
	switch msgType {
	case "", TypeInteractive:
		body, cut = buildCard(m, keyword, st)
	case TypePost:
		body, cut = buildPost(m, keyword, st)
	case TypeText:
		body, cut = buildText(m, keyword, st)
	default:
		return nil, false, fmt.Errorf("msgtype %q is not one of interactive, post, text", msgType)
	}
	if len(body) > MaxBody {
		return nil, cut, fmt.Errorf("the message is %d bytes even after cutting its text, over Feishu's %d (too many mentions?)", len(body), MaxBody)
	}
	return body, cut, nil
}

// orElse returns the first of its arguments that shows anything: a body
// the dialect emptied (a Markdown of only a code fence) falls back to the
// text, then to the title, since a card or post must hold something.
func orElse(s ...string) string {
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// titled returns the title a card or post shows: the message's, with the
// keyword in front when the title lacks it, since a title is never cut.
func titled(title, keyword string) string {
	if keyword != "" && !strings.Contains(title, keyword) {
		return "【" + keyword + "】" + title
	}
	return title
}

// dropTitleLine removes a first line that only repeats the title (a
// template's "### <title>"), which a card header or post title already
// shows.
func dropTitleLine(body, title string) string {
	first, rest, _ := strings.Cut(strings.TrimLeft(body, "\n"), "\n")
	if title != "" && strings.Trim(first, "*# ") == title {
		return strings.TrimLeft(rest, "\n")
	}
	return body
}

func buildCard(m connector.Message, keyword string, st Stamp) ([]byte, bool) {
	body := m.Text
	if m.Markdown != "" {
		body = larkMD(m.Markdown)
	}
	body = orElse(dropTitleLine(body, m.Title), m.Text, m.Title)
	title := titled(m.Title, keyword)
	var at strings.Builder
	for _, id := range m.AtUserIDs {
		at.WriteString("<at id=" + id + "></at>")
	}
	if m.AtAll {
		at.WriteString("<at id=all></at>")
	}
	after := ""
	if at.Len() > 0 {
		after = "\n" + at.String()
	}
	c := card{Config: &cardConfig{WideScreenMode: true}}
	if title != "" {
		c.Header = &cardHeader{Title: cardText{Tag: "plain_text", Content: title}, Template: template(m.Color)}
	}
	text := &cardText{Tag: "lark_md"}
	c.Elements = []cardElement{{Tag: "div", Text: text}}
	linkTail := ""
	if m.Link != "" {
		linkTail = "\n[查看详情](" + m.Link + ")"
		c.Elements = append(c.Elements, cardElement{Tag: "action", Actions: []cardButton{{
			Tag: "button", Text: cardText{Tag: "plain_text", Content: "查看详情"}, URL: m.Link, Type: "primary"}}})
	}
	return fitBody(body, func(s string) ([]byte, bool) {
		text.Content = s + after
		b := encode(outgoing{Timestamp: st.Timestamp, Sign: st.Sign, MsgType: TypeInteractive, Card: &c})
		return b, len(b) <= MaxBody
	}, "\n\n…"+linkTail, "…"+linkTail)
}

func buildPost(m connector.Message, keyword string, st Stamp) ([]byte, bool) {
	src := m.Text
	if m.Markdown != "" {
		src = postSource(m.Markdown)
	}
	src = orElse(dropTitleLine(src, m.Title), m.Text, m.Title)
	linkTail := ""
	if m.Link != "" {
		linkTail = "\n[查看详情](" + m.Link + ")"
		if !strings.Contains(src, m.Link) {
			src += linkTail
		}
	}
	var mentions []postNode
	for _, id := range m.AtUserIDs {
		mentions = append(mentions, postNode{Tag: "at", UserID: id})
	}
	if m.AtAll {
		mentions = append(mentions, postNode{Tag: "at", UserID: "all", UserName: "所有人"})
	}
	loc := postLocale{Title: titled(m.Title, keyword)}
	return fitBody(src, func(s string) ([]byte, bool) {
		loc.Content = paragraphs(s)
		if len(mentions) > 0 {
			loc.Content = append(loc.Content, mentions)
		}
		b := encode(outgoing{Timestamp: st.Timestamp, Sign: st.Sign, MsgType: TypePost,
			Content: postContent{Post: map[string]postLocale{"zh_cn": loc}}})
		return b, len(b) <= MaxBody
	}, "\n…"+linkTail, "…"+linkTail)
}

// paragraphs turns post source into paragraphs, one a line, with each
// http(s) [label](url) an a node: Feishu refuses an a node whose href is
// not a valid address, so anything else stays text.
func paragraphs(s string) [][]postNode {
	var out [][]postNode
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var p []postNode
		rest := line
		for {
			loc := linkRE.FindStringSubmatchIndex(rest)
			if loc == nil {
				break
			}
			label, href := rest[loc[2]:loc[3]], rest[loc[4]:loc[5]]
			if !validHref(href) {
				p = append(p, postNode{Tag: "text", Text: rest[:loc[1]]})
				rest = rest[loc[1]:]
				continue
			}
			if loc[0] > 0 {
				p = append(p, postNode{Tag: "text", Text: rest[:loc[0]]})
			}
			if label == "" {
				label = href
			}
			p = append(p, postNode{Tag: "a", Text: label, Href: href})
			rest = rest[loc[1]:]
		}
		if rest != "" {
			p = append(p, postNode{Tag: "text", Text: rest})
		}
		out = append(out, mergeText(p))
	}
	return out
}

// mergeText joins neighbouring text nodes.
func mergeText(p []postNode) []postNode {
	out := p[:0]
	for _, n := range p {
		if k := len(out) - 1; k >= 0 && n.Tag == "text" && out[k].Tag == "text" {
			out[k].Text += n.Text
			continue
		}
		out = append(out, n)
	}
	return out
}

func validHref(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func buildText(m connector.Message, keyword string, st Stamp) ([]byte, bool) {
	base := m.Text
	if base == "" {
		base = plainText(m.Markdown)
	}
	if m.Title != "" && !strings.Contains(base, m.Title) {
		base = m.Title + "\n" + base
	}
	// The keyword goes on the first line, which a cut keeps.
	if first, _, _ := strings.Cut(base, "\n"); keyword != "" && !strings.Contains(first, keyword) {
		base = "【" + keyword + "】" + base
	}
	linkTail := ""
	if m.Link != "" {
		linkTail = "\n" + m.Link
		if !strings.Contains(base, m.Link) {
			base += linkTail
		}
	}
	var at strings.Builder
	for _, id := range m.AtUserIDs {
		at.WriteString(`<at user_id="` + id + `"></at>`)
	}
	if m.AtAll {
		at.WriteString(`<at user_id="all">所有人</at>`)
	}
	after := ""
	if at.Len() > 0 {
		after = "\n" + at.String()
	}
	return fitBody(base, func(s string) ([]byte, bool) {
		b := encode(outgoing{Timestamp: st.Timestamp, Sign: st.Sign, MsgType: TypeText, Content: textContent{Text: s + after}})
		return b, len(b) <= MaxBody
	}, "\n…"+linkTail, "…"+linkTail)
}

// templates are the card header colours Feishu offers, with the RGB each
// shows, so a brand colour maps to the nearest.
var templates = []struct {
	name    string
	r, g, b int
}{
	{"blue", 0x33, 0x70, 0xff}, {"wathet", 0x4d, 0xc9, 0xf5}, {"turquoise", 0x2b, 0xbd, 0xb0},
	{"green", 0x34, 0xc7, 0x24}, {"yellow", 0xff, 0xc6, 0x0a}, {"orange", 0xff, 0x88, 0x00},
	{"red", 0xf5, 0x4a, 0x45}, {"carmine", 0xe0, 0x3e, 0x7d}, {"violet", 0xd1, 0x36, 0xd1},
	{"purple", 0x7f, 0x3b, 0xf5}, {"indigo", 0x4e, 0x61, 0xd9}, {"grey", 0x8f, 0x95, 0x9e},
}

// template is the header template nearest to a #RRGGBB colour; blue, the
// default, when there is none.
func template(color string) string {
	c := strings.TrimPrefix(strings.TrimSpace(color), "#")
	v, err := strconv.ParseUint(c, 16, 32)
	if len(c) != 6 || err != nil {
		return "blue"
	}
	r, g, b := int(v>>16), int(v>>8&0xff), int(v&0xff)
	best, bestD := "blue", -1
	for _, t := range templates {
		d := (r-t.r)*(r-t.r) + (g-t.g)*(g-t.g) + (b-t.b)*(b-t.b)
		if bestD < 0 || d < bestD {
			best, bestD = t.name, d
		}
	}
	return best
}

// encode writes v as JSON without HTML escaping, which would turn every
// < and > of an <at> tag into six bytes.
func encode(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("feishu: encoding a request: %v", err)) // only strings, slices and raw JSON it wrote: cannot fail
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'})
}

// fitBody builds the body for s and returns it when it fits; otherwise it
// cuts s (see cut) and builds the body of what is kept. build reports
// whether its body fits.
func fitBody(s string, build func(string) ([]byte, bool), lineTail, runeTail string) ([]byte, bool) {
	if b, ok := build(s); ok {
		return b, false
	}
	kept, _ := cut(s, func(x string) bool { _, ok := build(x); return ok }, lineTail, runeTail)
	b, _ := build(kept)
	return b, true
}

// validUTF8 replaces invalid bytes in the text fields, as the JSON encoder
// would: measuring the replaced text keeps the byte counts of a cut equal
// to what the provider receives.
func validUTF8(m connector.Message) connector.Message {
	for _, f := range []*string{&m.Title, &m.Markdown, &m.Text, &m.Link} {
		*f = strings.ToValidUTF8(*f, "\uFFFD")
	}
	return m
}
