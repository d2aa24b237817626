package imtext

import (
	"regexp"
	"strings"
)

// The inline parts of the common subset. Each applies to one line: none
// matches across a line break.
var (
	// ImageRE is ![alt](url); $1 the alt text, $2 the address.
	ImageRE = regexp.MustCompile(`!\[([^\]]*)\]\(([^)\s]+)\)`)
	// LinkRE is [label](url); $1 the label, $2 the address. It matches an
	// image's link part too: apply ImageRE first.
	LinkRE = regexp.MustCompile(`\[([^\]]*)\]\(([^)\s]+)\)`)
	// BoldRE is **bold** or __bold__ within a line; $1$2 the text.
	BoldRE = regexp.MustCompile(`\*\*([^*\n]+)\*\*|__([^_\n]+)__`)
	// CodeRE is `inline code` within a line; $1 the code.
	CodeRE = regexp.MustCompile("`([^`\n]+)`")

	headRE = regexp.MustCompile(`^#{1,6}\s+`)
	sepRE  = regexp.MustCompile(`^:?-+:?$`)
)

// Lines splits md into its lines, with CRLF read as LF.
func Lines(md string) []string {
	return strings.Split(strings.ReplaceAll(md, "\r\n", "\n"), "\n")
}

// Block is one line of Markdown, a code fence line, or a whole table.
type Block struct {
	Line  string
	Fence bool
	Table [][]string // rows of trimmed cells, without the separator row
}

// Blocks reads md into blocks: every line that starts with | (after
// spaces) belongs to the table of its neighbours, a line starting with ```
// is a fence, anything else a line as it is.
func Blocks(md string) []Block {
	var out []Block
	lines := Lines(md)
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		t := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(t, "```"):
			out = append(out, Block{Fence: true})
		case strings.HasPrefix(t, "|"):
			var rows [][]string
			for ; i < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[i]), "|"); i++ {
				if row := cells(lines[i]); !isSeparator(row) {
					rows = append(rows, row)
				}
			}
			i--
			out = append(out, Block{Table: rows})
		default:
			out = append(out, Block{Line: l})
		}
	}
	return out
}

// cells splits a table row into its trimmed cells, one leading and one
// trailing | taken off.
func cells(line string) []string {
	t := strings.TrimSpace(line)
	t = strings.TrimPrefix(t, "|")
	t = strings.TrimSuffix(t, "|")
	parts := strings.Split(t, "|")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// isSeparator reports a table's |---|:-:| row.
func isSeparator(row []string) bool {
	for _, c := range row {
		if !sepRE.MatchString(c) {
			return false
		}
	}
	return len(row) > 0
}

// WriteRows writes each row of a table as one line, its cells joined by
// sep; with boldHeader the first row's non-empty cells are in **bold**.
// The rows are not changed.
func WriteRows(b *strings.Builder, rows [][]string, sep string, boldHeader bool) {
	for i, row := range rows {
		if i == 0 && boldHeader {
			row = append([]string(nil), row...)
			for j := range row {
				if row[j] != "" {
					row[j] = "**" + row[j] + "**"
				}
			}
		}
		b.WriteString(strings.Join(row, sep))
		b.WriteByte('\n')
	}
}

// ReplaceIf applies re only to a line holding one of its markers: most
// lines hold none, and a substring test costs far less than the regexp.
func ReplaceIf(re *regexp.Regexp, s, repl string, markers ...string) string {
	for _, m := range markers {
		if strings.Contains(s, m) {
			return re.ReplaceAllString(s, repl)
		}
	}
	return s
}

// Heading returns a line's heading marker ("### " with its spaces), or "".
func Heading(l string) string {
	if !strings.HasPrefix(l, "#") {
		return ""
	}
	return headRE.FindString(l)
}

// StripHeading is l without its heading marker.
func StripHeading(l string) string { return l[len(Heading(l)):] }

// Unquote is l without a leading "> " (or a lone ">").
func Unquote(l string) string {
	if strings.HasPrefix(l, "> ") || l == ">" {
		return strings.TrimPrefix(strings.TrimPrefix(l, ">"), " ")
	}
	return l
}

// PlainLinks writes each [label](url) of l as "label url", or the bare
// url when the label is empty or the url itself, so that a reader of plain
// text still has the address.
func PlainLinks(l string) string {
	if !strings.Contains(l, "](") {
		return l
	}
	return LinkRE.ReplaceAllStringFunc(l, func(m string) string {
		sub := LinkRE.FindStringSubmatch(m)
		if sub[1] == "" || sub[1] == sub[2] {
			return sub[2]
		}
		return sub[1] + " " + sub[2]
	})
}

// Plain is the Markdown as a person would read it without markup: no
// heading marks, quotes or fences, an image as its alt text, links with
// their address after the label, bold and code as their text, a table as
// rows of cells two spaces apart.
func Plain(md string) string {
	var b strings.Builder
	for _, blk := range Blocks(md) {
		switch {
		case blk.Table != nil:
			WriteRows(&b, blk.Table, "  ", false)
		case blk.Fence:
		default:
			l := Unquote(StripHeading(blk.Line))
			l = ReplaceIf(ImageRE, l, "$1", "![")
			l = PlainLinks(l)
			l = ReplaceIf(BoldRE, l, "$1$2", "**", "__")
			l = ReplaceIf(CodeRE, l, "$1", "`")
			b.WriteString(strings.TrimRight(l, " "))
			b.WriteByte('\n')
		}
	}
	return strings.TrimRight(b.String(), "\n")
}
