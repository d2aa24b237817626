package config

import (
	"fmt"
	"slices"
	"strings"
)

// suggest returns the candidate the user most likely meant by word: the same
// word in another case, one within two edits (typos, swapped letters), or one
// that starts with it or that it starts with (a truncated or extended key).
func suggest(word string, candidates []string) (string, bool) {
	best, bestScore := "", 1<<30
	n := len([]rune(word))
	for _, c := range candidates {
		score := -1
		switch d := distance(word, c); {
		case strings.EqualFold(word, c):
			score = 0
		case d <= 2 && d < n: // "ab" is two edits from "api" but means nothing
			score = d
		case n >= 3 && len(c) >= 3 && (strings.HasPrefix(c, word) || strings.HasPrefix(word, c)):
			score = 3
		}
		if score >= 0 && (score < bestScore || score == bestScore && c < best) {
			best, bestScore = c, score
		}
	}
	return best, best != ""
}

// didYouMean is the hint for an unknown name: the likely one, else the list of
// valid ones (what is "valid" is named by noun, e.g. "valid keys").
func didYouMean(word string, candidates []string, noun string) string {
	if s, ok := suggest(word, candidates); ok {
		return fmt.Sprintf("did you mean %q?", s)
	}
	if len(candidates) == 0 {
		return ""
	}
	sorted := slices.Clone(candidates)
	slices.Sort(sorted)
	return noun + ": " + strings.Join(sorted, ", ")
}

// distance is the optimal string alignment distance between a and b: the
// number of insertions, deletions, substitutions and transpositions of
// adjacent letters that turn one into the other. Transpositions count as one
// edit because "lsiten" is one slip of the fingers, not two.
func distance(a, b string) int {
	s, t := []rune(a), []rune(b)
	// d[i][j] is the distance between s[:i] and t[:j].
	d := make([][]int, len(s)+1)
	for i := range d {
		d[i] = make([]int, len(t)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(s); i++ {
		for j := 1; j <= len(t); j++ {
			cost := 1
			if s[i-1] == t[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && s[i-1] == t[j-2] && s[i-2] == t[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(s)][len(t)]
}
