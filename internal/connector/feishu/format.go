package feishu

import (
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// The common Markdown subset the hub's templates write: headings, bold,
// italics, lists, links, images, inline code, quotes, fenced code and
// pipe tables. Feishu shows less of it; the rest is rewritten so nothing
// shows as raw syntax.
var (
	imageRE = regexp.MustCompile(`!\[([^\]]*)\]\(([^)\s]+)\)`)
	linkRE  = regexp.MustCompile(`\[([^\]]*)\]\(([^)\s]+)\)`)
	boldRE  = regexp.MustCompile(`\*\*([^*\n]+)\*\*|__([^_\n]+)__`)
	codeRE  = regexp.MustCompile("`([^`\n]+)`")
	headRE  = regexp.MustCompile(`^#{1,6}\s+`)
	sepRE   = regexp.MustCompile(`^:?-+:?$`)
)

// larkMD rewrites the common subset into a card's lark_md, which has bold,
// italics, strikethrough, links and line breaks but no headings, tables or
// images: a heading becomes a bold line, a table one line per row (the
// header in bold), an image a link to it; code fences are dropped around
// their lines.
func larkMD(md string) string {
	var b strings.Builder
	for _, blk := range blocks(md) {
		switch {
		case blk.table != nil:
			writeRows(&b, blk.table, " | ", true)
		case blk.fence:
		default:
			l := blk.line
			if h := heading(l); h != "" {
				if rest := strings.TrimSpace(l[len(h):]); rest != "" {
					l = "**" + strings.Trim(rest, "*") + "**"
				}
			}
			b.WriteString(replaceIf(imageRE, l, "[$1]($2)", "!["))
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
	for _, blk := range blocks(md) {
		switch {
		case blk.table != nil:
			writeRows(&b, blk.table, "  ", false)
		case blk.fence:
		default:
			l := stripHeading(blk.line)
			if strings.HasPrefix(l, "> ") || l == ">" {
				l = strings.TrimPrefix(strings.TrimPrefix(l, ">"), " ")
			}
			l = replaceIf(imageRE, l, "[$1]($2)", "![")
			l = replaceIf(boldRE, l, "$1$2", "**", "__")
			l = replaceIf(codeRE, l, "$1", "`")
			b.WriteString(strings.TrimRight(l, " "))
			b.WriteByte('\n')
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

func writeRows(b *strings.Builder, rows [][]string, sep string, boldHeader bool) {
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

// plainText is the Markdown as a person would read it without markup, for
// text and news: links keep their address after the label, tables become
// rows of cells.
func plainText(md string) string {
	var b strings.Builder
	for _, blk := range blocks(md) {
		switch {
		case blk.table != nil:
			writeRows(&b, blk.table, "  ", false)
		case blk.fence:
		default:
			l := stripHeading(blk.line)
			if strings.HasPrefix(l, "> ") || l == ">" {
				l = strings.TrimPrefix(strings.TrimPrefix(l, ">"), " ")
			}
			l = replaceIf(imageRE, l, "$1", "![")
			if strings.Contains(l, "](") {
				l = linkRE.ReplaceAllStringFunc(l, func(m string) string {
					sub := linkRE.FindStringSubmatch(m)
					if sub[1] == "" || sub[1] == sub[2] {
						return sub[2]
					}
					return sub[1] + " " + sub[2]
				})
			}
			l = replaceIf(boldRE, l, "$1$2", "**", "__")
			l = replaceIf(codeRE, l, "$1", "`")
			b.WriteString(strings.TrimRight(l, " "))
			b.WriteByte('\n')
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// block is one line of Markdown, a fence line, or a whole table.
type block struct {
	line  string
	fence bool
	table [][]string // rows of trimmed cells, without the separator row
}

func blocks(md string) []block {
	var out []block
	lines := strings.Split(strings.ReplaceAll(md, "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		t := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(t, "```"):
			out = append(out, block{fence: true})
		case strings.HasPrefix(t, "|"):
			var rows [][]string
			for ; i < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[i]), "|"); i++ {
				if row := cells(lines[i]); !isSeparator(row) {
					rows = append(rows, row)
				}
			}
			i--
			out = append(out, block{table: rows})
		default:
			out = append(out, block{line: l})
		}
	}
	return out
}

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

func isSeparator(row []string) bool {
	for _, c := range row {
		if !sepRE.MatchString(c) {
			return false
		}
	}
	return len(row) > 0
}

// cut returns s when fits(s); otherwise the longest prefix of whole lines
// that fits with lineTail after it. When that would keep less than half of
// what fits (the next line is very long, or there is only one line), the
// next line is cut on a character boundary instead and runeTail follows.
// fits must be monotone: a prefix of a string that fits fits too. The
// boolean reports that s was cut.
func cut(s string, fits func(string) bool, lineTail, runeTail string) (string, bool) {
	if fits(s) {
		return s, false
	}
	var ends []int // ends of lines, each a candidate without its newline
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			ends = append(ends, i)
		}
	}
	byLine := func(i int) string { return strings.TrimRight(s[:ends[i]], " \t\n") + lineTail }
	// sort.Search finds the first candidate that does not fit.
	n := sort.Search(len(ends), func(i int) bool { return !fits(byLine(i)) })
	lineCut := ""
	if n > 0 && strings.TrimSpace(s[:ends[n-1]]) != "" {
		lineCut = byLine(n - 1)
	}
	// The line that did not fit, cut inside.
	from, to := 0, len(s)
	if n > 0 {
		from = ends[n-1] + 1
	}
	if n < len(ends) {
		to = ends[n]
	}
	var stops []int
	for i := range s[from:to] {
		if i > 0 {
			stops = append(stops, from+i)
		}
	}
	byRune := func(i int) string { return s[:stops[i]] + runeTail }
	r := sort.Search(len(stops), func(i int) bool { return !fits(byRune(i)) })
	switch {
	case r > 0 && (lineCut == "" || len(lineCut)*2 < stops[r-1]):
		return byRune(r - 1), true
	case lineCut != "":
		return lineCut, true
	}
	return runeTail, true
}

// truncateBytes cuts s to at most max bytes on a rune boundary, ending it
// with "…" when it cuts.
func truncateBytes(s string, max int) (string, bool) {
	if len(s) <= max {
		return s, false
	}
	const ell = "…"
	n := max - len(ell)
	if n <= 0 {
		return "", true
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strings.TrimRight(s[:n], " \n") + ell, true
}

// replaceIf applies re only to a line holding one of its markers: most
// lines hold none, and a substring test costs far less than the regexp.
func replaceIf(re *regexp.Regexp, s, repl string, markers ...string) string {
	for _, m := range markers {
		if strings.Contains(s, m) {
			return re.ReplaceAllString(s, repl)
		}
	}
	return s
}

// heading returns a line's heading marker ("### "), or "".
func heading(l string) string {
	if !strings.HasPrefix(l, "#") {
		return ""
	}
	return headRE.FindString(l)
}

func stripHeading(l string) string { return l[len(heading(l)):] }
