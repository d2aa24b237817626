package dingtalk

import (
	"regexp"
	"strings"

	"orderhub/internal/connector/imtext"
)

// DingTalk's markdown is a subset: headings, quotes, bold, italic, links,
// images and lists. It has no tables, no code and no strikethrough, and a
// single newline inside a paragraph does not break the line unless the line
// ends with two spaces. toDingMarkdown rewrites the common subset the
// templates use into it (see imtext for the parts every provider reads
// alike). Its own reading of tables, bold, italics and strikethrough stays
// here.

var (
	tableSep = regexp.MustCompile(`^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$`)
	strike   = regexp.MustCompile(`~~(.+?)~~`)
	mdBold   = regexp.MustCompile(`\*\*(.+?)\*\*|__(.+?)__`)
	mdItalic = regexp.MustCompile(`(^|[^*\w])\*([^*\s](?:[^*]*[^*\s])?)\*`)
)

func toDingMarkdown(md string) string {
	lines := imtext.Lines(md)
	out := make([]string, 0, len(lines))
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			continue // code fences: DingTalk shows the fence itself
		}
		if isTableRow(l) {
			if i+1 < len(lines) && tableSep.MatchString(lines[i+1]) {
				out = append(out, "**"+strings.Join(cells(l), " · ")+"**")
				i++
				continue
			}
			out = append(out, "- "+strings.Join(cells(l), " · "))
			continue
		}
		l = strike.ReplaceAllString(l, "$1")
		l = imtext.CodeRE.ReplaceAllString(l, "$1")
		out = append(out, l)
	}
	// Hard line breaks: two spaces before every newline inside a block.
	for i := 0; i+1 < len(out); i++ {
		if strings.TrimSpace(out[i]) != "" && strings.TrimSpace(out[i+1]) != "" && !strings.HasSuffix(out[i], "  ") {
			out[i] += "  "
		}
	}
	return strings.Join(out, "\n")
}

// toPlain turns the common Markdown subset into plain text, for the text
// message type.
func toPlain(md string) string {
	lines := imtext.Lines(md)
	out := make([]string, 0, len(lines))
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			continue
		}
		if isTableRow(l) {
			if i+1 < len(lines) && tableSep.MatchString(lines[i+1]) {
				i++
			}
			out = append(out, strings.Join(cells(l), "  "))
			continue
		}
		l = imtext.StripHeading(l)
		l = strings.TrimPrefix(l, "> ")
		l = imtext.ImageRE.ReplaceAllString(l, "$1")
		l = imtext.PlainLinks(l)
		l = mdBold.ReplaceAllString(l, "$1$2")
		l = mdItalic.ReplaceAllString(l, "$1$2")
		l = strike.ReplaceAllString(l, "$1")
		l = imtext.CodeRE.ReplaceAllString(l, "$1")
		out = append(out, strings.TrimRight(l, " "))
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// mdLinks lists the [title](url) links of a Markdown text, each URL once.
func mdLinks(md string) [][2]string {
	var out [][2]string
	seen := map[string]bool{}
	for _, m := range imtext.LinkRE.FindAllStringSubmatchIndex(md, -1) {
		if m[0] > 0 && md[m[0]-1] == '!' {
			continue // an image
		}
		title, u := md[m[2]:m[3]], md[m[4]:m[5]]
		if seen[u] {
			continue
		}
		seen[u] = true
		if title == "" {
			title = u
		}
		out = append(out, [2]string{title, u})
	}
	return out
}

func isTableRow(l string) bool {
	t := strings.TrimSpace(l)
	return len(t) > 1 && t[0] == '|' && strings.Count(t, "|") >= 2
}

func cells(row string) []string {
	t := strings.Trim(strings.TrimSpace(row), "|")
	parts := strings.Split(t, "|")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}
