package aliyunsms

import (
	"strings"
	"time"
)

// answer is SendSms's JSON answer, and the gateway's error body
// (RequestId, HostId, Code, Message, Recommend), which share Code and
// Message.
type answer struct {
	Code      string `json:"Code"`
	Message   string `json:"Message"`
	BizID     string `json:"BizId,omitempty"`
	RequestID string `json:"RequestId"`
	HostID    string `json:"HostId,omitempty"`
	Recommend string `json:"Recommend,omitempty"`
}

// CodeOK is the Code of an accepted submission (accepted, not delivered).
const CodeOK = "OK"

// timeFormat is x-acs-date's and V1 Timestamp's format (UTC).
const timeFormat = "2006-01-02T15:04:05Z"

// mainland returns a mainland China mobile number in the 11-digit form
// SendSms is sent, from the ways people write one: with +86, 0086 or 86 in
// front, spaces, dashes or brackets. A + followed by another country code
// is not mainland, though its digits may look so (+1 415 555 0100).
func mainland(s string) (string, bool) {
	s = strings.TrimLeft(strings.TrimSpace(s), "(") // (+86) 138…
	plus := strings.HasPrefix(s, "+")
	var b strings.Builder
	for _, r := range strings.TrimPrefix(s, "+") {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '(' || r == ')':
		default:
			return "", false
		}
	}
	d := b.String()
	if plus {
		if !strings.HasPrefix(d, "86") {
			return "", false
		}
		d = d[2:]
	}
	for _, p := range []string{"0086", "86"} {
		if len(d) == 11+len(p) && strings.HasPrefix(d, p) {
			d = d[len(p):]
			break
		}
	}
	if len(d) != 11 || d[0] != '1' || d[1] < '3' {
		return "", false
	}
	return d, true
}

// beijing is the zone the service's days are counted in (China keeps no
// daylight saving time, so a fixed offset is exact).
var beijing = time.FixedZone("CST", 8*3600)

// nextDay is the next midnight in Beijing after now.
func nextDay(now time.Time) time.Time {
	t := now.In(beijing)
	return time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, beijing)
}
