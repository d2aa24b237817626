package feishu

import (
	"strings"

	"orderhub/internal/connector/imtext"
)

// The hub's templates write the common Markdown subset (see imtext).
// Feishu shows less of it; the rest is rewritten so nothing shows as raw
// syntax.

// larkMD rewrites the common subset into a card's lark_md, which has bold,
// italics, strikethrough, links and line breaks but no headings, tables or
// images: a heading becomes a bold line, a table one line per row (the
// header in bold), an image a link to it; code fences are dropped around
// their lines.
func larkMD(md string) string {
	var b strings.Builder
	for _, blk := range imtext.Blocks(md) {
		switch {
		case blk.Table != nil:
			imtext.WriteRows(&b, blk.Table, " | ", true)
		case blk.Fence:
		default:
			l := blk.Line
			if h := imtext.Heading(l); h != "" {
				if rest := strings.TrimSpace(l[len(h):]); rest != "" {
					l = "**" + strings.Trim(rest, "*") + "**"
				}
			}
			b.WriteString(imtext.ReplaceIf(imtext.ImageRE, l, "[$1]($2)", "!["))
			b.WriteByte('\n')
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// postSource is the Markdown with every line reduced to text and links,
// which is all a post paragraph holds: post turns each line into a
// paragraph and each [label](url) into an a node.
func postSource(md string) string {
	var b strings.Builder
	for _, blk := range imtext.Blocks(md) {
		switch {
		case blk.Table != nil:
			imtext.WriteRows(&b, blk.Table, "  ", false)
		case blk.Fence:
		default:
			l := imtext.Unquote(imtext.StripHeading(blk.Line))
			l = imtext.ReplaceIf(imtext.ImageRE, l, "[$1]($2)", "![")
			l = imtext.ReplaceIf(imtext.BoldRE, l, "$1$2", "**", "__")
			l = imtext.ReplaceIf(imtext.CodeRE, l, "$1", "`")
			b.WriteString(strings.TrimRight(l, " "))
			b.WriteByte('\n')
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// plainText is the Markdown as a person would read it without markup, for
// text: links keep their address after the label, tables become rows of
// cells.
func plainText(md string) string { return imtext.Plain(md) }
