package wecom

import (
	"strings"

	"orderhub/internal/connector/imtext"
)

// The hub's templates write the common Markdown subset (see imtext).
// WeCom's markdown shows headings, bold, links, inline code and quotes; the
// rest is rewritten so nothing shows as raw syntax.

// markdownV1 rewrites the common subset into WeCom's markdown: a table
// becomes one line per row (the header in bold), an image becomes a link to
// it, and code fences are dropped around their lines.
func markdownV1(md string) string {
	var b strings.Builder
	for _, blk := range imtext.Blocks(md) {
		switch {
		case blk.Table != nil:
			imtext.WriteRows(&b, blk.Table, " | ", true)
		case blk.Fence:
		default:
			b.WriteString(imtext.ReplaceIf(imtext.ImageRE, blk.Line, "[$1]($2)", "!["))
			b.WriteByte('\n')
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// markdownV2 keeps the subset as it is: markdown_v2 has tables, code blocks
// and images. Only trailing blank lines go.
func markdownV2(md string) string { return strings.TrimRight(md, "\n ") }

// plainText is the Markdown as a person would read it without markup, for
// text and news: links keep their address after the label, tables become
// rows of cells.
func plainText(md string) string { return imtext.Plain(md) }
