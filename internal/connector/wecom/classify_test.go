package wecom

import (
	"errors"
	"syscall"
	"testing"
	"time"

	"orderhub/internal/connector"
	"orderhub/internal/connector/connectortest"
)

// Every errcode im.md lists for the robot, and the transport failures.
func TestErrorClasses(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 15, 0, time.UTC)
	code := func(c int, msg string) error { return classify("ops_wecom", "webhook/send markdown", c, msg, now) }
	connectortest.CheckClasses(t, []connectortest.ClassCase{
		{Name: "45009 throttled", Err: code(45009, "api freq out of limit"), Want: connector.SlowDown},
		{Name: "-1 busy", Err: code(-1, "system busy"), Want: connector.Retry},
		{Name: "93000 invalid key", Err: code(93000, "invalid webhook url"), Want: connector.Permanent},
		{Name: "40008 message type", Err: code(40008, "invalid message type"), Want: connector.Permanent},
		{Name: "40058 parameter", Err: code(40058, "markdown.content exceed max length 4096"), Want: connector.Permanent},
		{Name: "unlisted code", Err: code(60020, "not allow to access from your ip"), Want: connector.Permanent},
		{Name: "HTTP 502", Err: connector.StatusError("ops_wecom", "webhook/send", 502, nil, true), Want: connector.Unknown},
		{Name: "connection refused", Err: connector.TransportError("ops_wecom", "webhook/send", syscall.ECONNREFUSED, false), Want: connector.Retry},
		{Name: "reset after the write", Err: connector.TransportError("ops_wecom", "webhook/send", errors.New("connection reset"), true), Want: connector.Unknown},
	})
}

func TestThrottleWaitsToTheEndOfTheMinute(t *testing.T) {
	for _, c := range []struct {
		now  time.Time
		want time.Duration
	}{
		{time.Date(2026, 11, 26, 10, 0, 15, 0, time.UTC), 45 * time.Second},
		{time.Date(2026, 11, 26, 10, 0, 59, 600e6, time.UTC), time.Second}, // never less than a second
		{time.Date(2026, 11, 26, 10, 1, 0, 0, time.UTC), time.Minute},
	} {
		ce := classify("s", "op", CodeFreqOutOfLimit, "api freq out of limit", c.now)
		if ce.RetryAfter != c.want {
			t.Errorf("at %v: RetryAfter %v, want %v", c.now.Format("15:04:05.000"), ce.RetryAfter, c.want)
		}
	}
}

func TestPermanentCodesCarryAChineseHint(t *testing.T) {
	for _, c := range []int{CodeInvalidURL, CodeInvalidType, CodeInvalidParam, 60020} {
		ce := classify("s", "op", c, "x", time.Now())
		if ce.Hint == "" || ce.Code == "" {
			t.Errorf("errcode %d: %+v; want the code and a hint", c, ce)
		}
	}
}
