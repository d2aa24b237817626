package imtext

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// Cut returns s when fits(s); otherwise the longest prefix of whole lines
// that fits with lineTail after it. When that would keep less than half of
// what fits (the next line is very long, or there is only one line), the
// next line is cut on a character boundary instead and runeTail follows.
// fits must be monotone: a prefix of a string that fits fits too. The
// boolean reports that s was cut.
func Cut(s string, fits func(string) bool, lineTail, runeTail string) (string, bool) {
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

// FitBody builds the body for s and returns it when it fits; otherwise it
// cuts s (see Cut) and builds the body of what is kept. build reports
// whether its body fits. The boolean reports that s was cut.
func FitBody(s string, build func(string) ([]byte, bool), lineTail, runeTail string) ([]byte, bool) {
	if b, ok := build(s); ok {
		return b, false
	}
	kept, _ := Cut(s, func(x string) bool { _, ok := build(x); return ok }, lineTail, runeTail)
	b, _ := build(kept)
	return b, true
}

// Ellipsis ends a text that was cut.
const Ellipsis = "…"

// TruncateBytes cuts s to at most max bytes on a rune boundary, ending it
// with Ellipsis when it cuts.
func TruncateBytes(s string, max int) (string, bool) {
	if len(s) <= max {
		return s, false
	}
	n := max - len(Ellipsis)
	if n <= 0 {
		return "", true
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strings.TrimRight(s[:n], " \n") + Ellipsis, true
}

// RunePrefix is the longest start of s of at most n bytes that does not
// split a character.
func RunePrefix(s string, n int) string {
	if n >= len(s) {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// CutRunes bounds s to max bytes on a character boundary and marks a cut
// with Ellipsis after them (the mark is not counted), for titles and error
// snippets where the bound is loose.
func CutRunes(s string, max int) string {
	if len(s) <= max {
		return s
	}
	return RunePrefix(s, max) + Ellipsis
}
