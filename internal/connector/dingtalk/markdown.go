package dingtalk

import (
	"regexp"
	"strings"
)

// DingTalk's markdown is a subset: headings, quotes, bold, italic, links,
// images and lists. It has no tables, no code and no strikethrough, and a
// single newline inside a paragraph does not break the line unless the line
// ends with two spaces. toDingMarkdown rewrites the common subset the
// templates use into it.

var (
	tableSep = regexp.MustCompile(`^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$`)
	strike   = regexp.MustCompile(`~~(.+?)~~`)
	mdImage  = regexp.MustCompile(`!\[([^\]]*)\]\(([^)\s]+)\)`)
	mdLink   = regexp.MustCompile(`\[([^\]]*)\]\(([^)\s]+)\)`)
	mdBold   = regexp.MustCompile(`\*\*(.+?)\*\*|__(.+?)__`)
	mdItalic = regexp.MustCompile(`(^|[^*\w])\*([^*\s](?:[^*]*[^*\s])?)\*`)
	mdCode   = regexp.MustCompile("`([^`]+)`")
	heading  = regexp.MustCompile(`^#{1,6}\s+`)
)

func toDingMarkdown(md string) string {
	lines := splitLines(md)
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
		l = mdCode.ReplaceAllString(l, "$1")
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
	lines := splitLines(md)
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
		l = heading.ReplaceAllString(l, "")
		l = strings.TrimPrefix(l, "> ")
		l = mdImage.ReplaceAllString(l, "$1")
		l = mdLink.ReplaceAllStringFunc(l, func(m string) string {
			s := mdLink.FindStringSubmatch(m)
			if s[1] == "" || s[1] == s[2] {
				return s[2]
			}
			return s[1] + " " + s[2]
		})
		l = mdBold.ReplaceAllString(l, "$1$2")
		l = mdItalic.ReplaceAllString(l, "$1$2")
		l = strike.ReplaceAllString(l, "$1")
		l = mdCode.ReplaceAllString(l, "$1")
		out = append(out, strings.TrimRight(l, " "))
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

// mdLinks lists the [title](url) links of a Markdown text, each URL once.
func mdLinks(md string) [][2]string {
	var out [][2]string
	seen := map[string]bool{}
	for _, m := range mdLink.FindAllStringSubmatchIndex(md, -1) {
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

func splitLines(s string) []string {
	return strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
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
