package wecom

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"orderhub/internal/connector"
)

// Build turns a message into the body WeCom takes for msgType, and returns
// the type it really used: a message that mentions by mobile or everyone
// goes as text, the only type whose mentioned_mobile_list and @all WeCom
// honours; markdown_v2 with user mentions goes as markdown, which has
// <@userid>; news without a link or anything to title it (both required) goes as markdown.
// cut reports that the content was shortened to fit WeCom's limits.
func Build(msgType string, m connector.Message) (body []byte, used string, cut bool, err error) {
	m = validUTF8(m)
	if strings.TrimSpace(m.Title+m.Markdown+m.Text) == "" {
		return nil, msgType, false, fmt.Errorf("the message has no title and no body")
	}
	used = msgType
	if used == "" {
		used = TypeMarkdown
	}
	if len(m.AtMobiles) > 0 || m.AtAll {
		used = TypeText
	}
	if used == TypeMarkdownV2 && len(m.AtUserIDs) > 0 {
		used = TypeMarkdown
	}
	if used == TypeNews && (m.Link == "" || len(m.AtUserIDs) > 0 || newsTitle(m.Title, newsDesc(m)) == "") {
		used = TypeMarkdown
	}
	switch used {
	case TypeText:
		body, cut = buildText(m)
	case TypeMarkdown, TypeMarkdownV2:
		body, cut = buildMarkdown(used, m)
	case TypeNews:
		body, cut = buildNews(m)
	default:
		return nil, used, false, fmt.Errorf("msgtype %q is not one of markdown, markdown_v2, text, news", msgType)
	}
	if len(body) > Limits.MaxBytes {
		return nil, used, cut, fmt.Errorf("the message is %d bytes even after cutting its text, over WeCom's %d (too many mentions?)", len(body), Limits.MaxBytes)
	}
	return body, used, cut, nil
}

func buildText(m connector.Message) ([]byte, bool) {
	base := m.Text
	if base == "" {
		base = plainText(m.Markdown)
	}
	if m.Title != "" && !strings.Contains(base, m.Title) {
		base = m.Title + "\n" + base
	}
	linkTail := ""
	if m.Link != "" {
		linkTail = "\n" + m.Link
		if !strings.Contains(base, m.Link) {
			base += linkTail
		}
	}
	t := &text{MentionedMobileList: m.AtMobiles}
	t.MentionedList = append(t.MentionedList, m.AtUserIDs...)
	if m.AtAll {
		t.MentionedList = append(t.MentionedList, "@all")
	}
	req := request{MsgType: TypeText, Text: t}
	return fitBody(base, func(c string) ([]byte, bool) {
		t.Content = c
		b := encode(req)
		return b, len(c) <= TextMax && len(b) <= Limits.MaxBytes
	}, "\n…"+linkTail, "…"+linkTail)
}

func buildMarkdown(msgType string, m connector.Message) ([]byte, bool) {
	var base string
	switch {
	case m.Markdown == "":
		base = m.Text
	case msgType == TypeMarkdownV2:
		base = markdownV2(m.Markdown)
	default:
		base = markdownV1(m.Markdown)
	}
	if strings.TrimSpace(base) == "" {
		base = m.Text // the Markdown held only what the dialect drops
	}
	if m.Title != "" && !strings.Contains(base, m.Title) {
		base = "**" + m.Title + "**\n" + base
	}
	// Mentions follow whatever is kept, so a cut never drops them.
	var at strings.Builder
	for _, id := range m.AtUserIDs {
		at.WriteString("<@" + id + ">")
	}
	after := ""
	if at.Len() > 0 {
		after = "\n" + at.String()
	}
	linkTail := ""
	if m.Link != "" {
		linkTail = "\n\n[查看详情](" + m.Link + ")"
		if !strings.Contains(base, m.Link) {
			base += linkTail
		}
	}
	md := &markdown{}
	req := request{MsgType: msgType}
	if msgType == TypeMarkdownV2 {
		req.MarkdownV2 = md
	} else {
		req.Markdown = md
	}
	return fitBody(base, func(c string) ([]byte, bool) {
		md.Content = c + after
		b := encode(req)
		return b, len(md.Content) <= MarkdownMax && len(b) <= Limits.MaxBytes
	}, "\n\n…"+linkTail, "…"+linkTail)
}

// newsDesc is a news article's description: the text, or the Markdown
// without markup.
func newsDesc(m connector.Message) string {
	if m.Text != "" {
		return m.Text
	}
	return plainText(m.Markdown)
}

// newsTitle is an article's title, which WeCom requires: the message's,
// or else the description's first line that shows anything.
func newsTitle(title, desc string) string {
	title = strings.TrimSpace(title)
	for _, l := range strings.Split(desc, "\n") {
		if title != "" {
			break
		}
		title = strings.TrimSpace(l)
	}
	return title
}

func buildNews(m connector.Message) ([]byte, bool) {
	desc := newsDesc(m)
	title := newsTitle(m.Title, desc)
	// WeCom truncates these itself, mid-character; cutting here keeps the
	// characters whole and marks the cut.
	title, cutTitle := truncateBytes(title, NewsTitleMax)
	desc, cutDesc := truncateBytes(desc, NewsDescMax)
	req := request{MsgType: TypeNews, News: &news{Articles: []article{{Title: title, Description: desc, URL: m.Link}}}}
	return encode(req), cutTitle || cutDesc
}

// encode writes v as JSON without HTML escaping, which would triple the
// bytes of every <, > and & and count against WeCom's limits.
func encode(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("wecom: encoding a request: %v", err)) // only strings and slices: cannot fail
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
