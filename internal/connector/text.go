package connector

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"orderhub/internal/problem"
)

// MaxOrderNo is the longest order number accepted, in characters. Order
// numbers are keys, shown in the console and written to logs; every
// platform we know of stays well under it.
const MaxOrderNo = 64

// CheckOrderNo refuses an order number that is empty, longer than
// MaxOrderNo characters, or holds anything but printable characters:
// control characters (NUL), bidirectional overrides (U+202E) and invisible
// format characters make two different numbers look alike.
func CheckOrderNo(field, no string) *problem.Problem {
	if strings.TrimSpace(no) == "" {
		p := problem.New(http.StatusUnprocessableEntity, "missing_field", "required field "+field+" is missing or empty", "send "+field+": the sender's order number")
		p.Field = field
		return p
	}
	bad := func(title string) *problem.Problem {
		p := problem.New(http.StatusUnprocessableEntity, "invalid_field", title,
			fmt.Sprintf("send the order number as 1 to %d printable characters, without control or direction-changing characters", MaxOrderNo))
		p.Field = field
		return p
	}
	if !utf8.ValidString(no) {
		return bad(field + " is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(no); n > MaxOrderNo {
		return bad(fmt.Sprintf("%s is %d characters long, more than the %d allowed", field, n, MaxOrderNo))
	}
	if no != strings.TrimSpace(no) {
		return bad(fmt.Sprintf("%s %s starts or ends with white space", field, Quote(no)))
	}
	for i, r := range no {
		if r != ' ' && !unicode.IsPrint(r) {
			return bad(fmt.Sprintf("%s has the unprintable character %U at byte %d", field, r, i))
		}
	}
	return nil
}

// Clip cuts s to at most n bytes at a character boundary, saying how much
// was left out, so that a sender's text cannot make a message or a log line
// arbitrarily long.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s…(%d more bytes)", s[:cut], len(s)-cut)
}

// Quote writes a sender's string for a message: quoted, with control and
// invisible characters escaped (a U+202E cannot turn the text around), and
// clipped to 64 bytes.
func Quote(s string) string {
	if len(s) > 64 {
		return strconv.Quote(Clip(s, 64))
	}
	return strconv.Quote(s)
}

// ForLog prepares sender-supplied text for a log line: unprintable
// characters escaped, clipped to 256 bytes.
func ForLog(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || r != ' ' && !unicode.IsPrint(r) {
			clean = false
			break
		}
	}
	if !clean {
		q := strconv.Quote(s)
		s = q[1 : len(q)-1]
	}
	return Clip(s, 256)
}
