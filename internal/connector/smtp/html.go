package smtp

import (
	"bytes"
	"fmt"
	"html"
	"html/template"
	"regexp"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	ghtml "github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"

	"orderhub/internal/connector"
)

// markdown turns the common Markdown body into HTML: GitHub's tables and
// strikethrough, bare links made links, and a line break where the
// template has one (IM channels show them, so templates are written so).
// Raw HTML in the body is dropped, not passed on: order data (a buyer's
// remark) reaches the body, and goldmark also refuses javascript: links.
var markdown = goldmark.New(
	goldmark.WithExtensions(extension.Table, extension.Strikethrough, extension.Linkify),
	goldmark.WithRendererOptions(ghtml.WithHardWraps()),
)

// DefaultColor is the brand colour when the message carries none.
const DefaultColor = "#1677FF"

var colorRE = regexp.MustCompile(`^#(?:[0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})$`)

// brandColor is the message's colour when it is one, else DefaultColor; it
// goes into CSS, so nothing else gets through.
func brandColor(c string) string {
	if colorRE.MatchString(c) {
		return c
	}
	return DefaultColor
}

// rendered is the body rendered once per message.
type rendered struct {
	html string
	// titled: the body starts with a heading (the shipped templates repeat
	// the title there), so the page shows no title of its own.
	titled bool
}

// Inline styles: many mail clients drop <style> blocks, none drop style=.
const (
	styleH1        = "margin:0 0 12px;font-size:20px;line-height:1.4;color:#1f2329"
	styleH2        = "margin:16px 0 8px;font-size:17px;line-height:1.4;color:#1f2329"
	styleP         = "margin:0 0 12px"
	styleList      = "margin:0 0 12px;padding-left:22px"
	styleItem      = "margin:0 0 4px"
	styleTable     = "border-collapse:collapse;margin:0 0 12px;font-size:14px"
	styleCell      = "border:1px solid #e5e6eb;padding:6px 10px"
	styleHeadCell  = "border:1px solid #e5e6eb;padding:6px 10px;background:#f7f8fa;font-weight:600"
	styleCode      = "background:#f2f3f5;padding:1px 4px;border-radius:3px;font-family:Menlo,Consolas,monospace;font-size:13px"
	styleRule      = "border:none;border-top:1px solid #e5e6eb;margin:16px 0"
	styleQuoteTmpl = "margin:0 0 12px;padding:4px 12px;border-left:3px solid %s;color:#646a73"
	styleLinkTmpl  = "color:%s"
)

// renderBody converts the Markdown and styles each element inline in the
// brand colour.
func (c *Client) renderBody(md, plain, color string) (rendered, error) {
	if strings.TrimSpace(md) == "" {
		// A text-only message: its lines as they are.
		esc := template.HTMLEscapeString(strings.TrimSpace(plain))
		return rendered{html: `<p style="` + styleP + `">` + strings.ReplaceAll(esc, "\n", "<br>\n") + "</p>"}, nil
	}
	src := []byte(md)
	doc := markdown.Parser().Parse(text.NewReader(src))
	brand := brandColor(color)
	_, titled := doc.FirstChild().(*ast.Heading)
	err := ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			if n.Level <= 3 && n == doc.FirstChild() {
				n.SetAttributeString("style", styleH1)
			} else {
				n.SetAttributeString("style", styleH2)
			}
		case *ast.Paragraph:
			n.SetAttributeString("style", styleP)
		case *ast.List:
			n.SetAttributeString("style", styleList)
		case *ast.ListItem:
			n.SetAttributeString("style", styleItem)
		case *ast.Link, *ast.AutoLink:
			n.SetAttributeString("style", fmt.Sprintf(styleLinkTmpl, brand))
		case *ast.CodeSpan:
			n.SetAttributeString("style", styleCode)
		case *ast.Blockquote:
			n.SetAttributeString("style", fmt.Sprintf(styleQuoteTmpl, brand))
		case *ast.ThematicBreak:
			n.SetAttributeString("style", styleRule)
		case *east.Table:
			n.SetAttributeString("style", styleTable)
		case *east.TableCell:
			if n.Parent() != nil && n.Parent().Kind() == east.KindTableHeader {
				n.SetAttributeString("style", styleHeadCell)
			} else {
				n.SetAttributeString("style", styleCell)
			}
		}
		return ast.WalkContinue, nil
	})
	if err != nil {
		return rendered{}, err
	}
	var b bytes.Buffer
	if err := markdown.Renderer().Render(&b, src, doc); err != nil {
		return rendered{}, fmt.Errorf("markdown to HTML: %w", err)
	}
	return rendered{html: b.String(), titled: titled}, nil
}

// pageData is what the layout shows.
type pageData struct {
	Lang        string
	Title       string
	ShowTitle   bool
	Body        template.HTML
	Color       template.CSS
	Link        string
	LinkLabel   string
	Unsubscribe string
	Footer      string
	UnsubLabel  string
	Pixel       string
}

// page is the whole HTML part: a white card on a grey ground, the brand
// colour as a bar on top and on links, at most 600 px wide so it reads on
// a phone and in a desktop client alike.
var page = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
</head>
<body style="margin:0;padding:0;background:#f5f6f7;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background:#f5f6f7;">
<tr><td align="center" style="padding:24px 12px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:600px;background:#ffffff;border-top:4px solid {{.Color}};border-radius:4px;font-family:-apple-system,BlinkMacSystemFont,'PingFang SC','Microsoft YaHei','Helvetica Neue',Arial,sans-serif;font-size:15px;line-height:1.6;color:#1f2329;">
{{- if .ShowTitle}}
<tr><td style="padding:20px 24px 0;font-size:20px;font-weight:600;line-height:1.4;">{{.Title}}</td></tr>
{{- end}}
<tr><td style="padding:20px 24px 8px;">
{{.Body}}
</td></tr>
{{- if .Link}}
<tr><td style="padding:0 24px 24px;"><a href="{{.Link}}" style="display:inline-block;padding:8px 20px;background:{{.Color}};color:#ffffff;text-decoration:none;border-radius:4px;">{{.LinkLabel}}</a></td></tr>
{{- end}}
</table>
<p style="max-width:600px;margin:12px auto 0;font-family:Arial,sans-serif;font-size:12px;line-height:1.5;color:#8f959e;">{{.Footer}}
{{- if .Unsubscribe}} <a href="{{.Unsubscribe}}" style="color:#8f959e;">{{.UnsubLabel}}</a>{{end}}</p>
</td></tr>
</table>
{{- if .Pixel}}
<img src="{{.Pixel}}" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0;">
{{- end}}
</body>
</html>
`))

// page renders the HTML part for one recipient. The link to the order gets
// a button unless the body already links to it.
func (c *Client) page(m connector.Message, subject string, b rendered, unsub string) (string, error) {
	d := pageData{
		Lang:        "zh-CN",
		Title:       subject,
		ShowTitle:   !b.titled,
		Body:        template.HTML(b.html), // goldmark's output, raw HTML dropped
		Color:       template.CSS(brandColor(m.Color)),
		LinkLabel:   "查看详情",
		Unsubscribe: unsub,
		Footer:      "这是系统自动发送的通知邮件，请勿直接回复。",
		UnsubLabel:  "退订此类邮件",
	}
	if m.Link != "" && !strings.Contains(m.Markdown, m.Link) {
		d.Link = m.Link
	}
	if t := m.Track; t != nil {
		// The unsubscribe link is never tracked: it must work as it reads.
		d.Pixel = t.OpenPixel
		if t.Click != nil {
			d.Body = template.HTML(trackLinks(b.html, t.Click))
			if d.Link != "" {
				d.Link = t.Click(d.Link)
			}
		}
	}
	var out bytes.Buffer
	if err := page.Execute(&out, d); err != nil {
		return "", fmt.Errorf("smtp: HTML page: %w", err)
	}
	return out.String(), nil
}

// hrefRE finds the links goldmark wrote: href="…", the value HTML-escaped.
var hrefRE = regexp.MustCompile(`href="([^"]*)"`)

// trackLinks points every http(s) link of the rendered body at click's
// tracked address of it. The body is goldmark's output, whose attributes
// are always double-quoted and escaped, so this sees every link it wrote.
func trackLinks(body string, click func(string) string) string {
	return hrefRE.ReplaceAllStringFunc(body, func(attr string) string {
		target := html.UnescapeString(hrefRE.FindStringSubmatch(attr)[1])
		if !strings.HasPrefix(target, "https://") && !strings.HasPrefix(target, "http://") {
			return attr // mailto:, tel: and anchors go as they are
		}
		return `href="` + html.EscapeString(click(target)) + `"`
	})
}
