package feishu

import (
	"errors"
	"syscall"
	"testing"

	"orderhub/internal/connector"
	"orderhub/internal/connector/connectortest"
)

// Every code im.md lists for the bot, and the transport failures.
func TestErrorClasses(t *testing.T) {
	code := func(c int) error { return classify("ops_feishu", "bot/v2/hook interactive", c, codeMsg[c]) }
	connectortest.CheckClasses(t, []connectortest.ClassCase{
		{Name: "11232 frequency limited", Err: code(CodeFrequency), Want: connector.SlowDown},
		{Name: "9499 bad request", Err: code(CodeBadRequest), Want: connector.Permanent},
		{Name: "19001 token invalid", Err: code(CodeTokenInvalid), Want: connector.Permanent},
		{Name: "19021 sign failed", Err: code(CodeSignFailed), Want: connector.Permanent},
		{Name: "19022 ip not allowed", Err: code(CodeIPNotAllowed), Want: connector.Permanent},
		{Name: "19024 keyword missing", Err: code(CodeKeywordsMiss), Want: connector.Permanent},
		{Name: "unlisted code", Err: code(19002), Want: connector.Permanent},
		{Name: "HTTP 502", Err: connector.StatusError("ops_feishu", "bot/v2/hook", 502, nil, true), Want: connector.Unknown},
		{Name: "connection refused", Err: connector.TransportError("ops_feishu", "bot/v2/hook", syscall.ECONNREFUSED, false), Want: connector.Retry},
		{Name: "reset after the write", Err: connector.TransportError("ops_feishu", "bot/v2/hook", errors.New("connection reset"), true), Want: connector.Unknown},
	})
}

func TestAnswersCarryCodeAndHint(t *testing.T) {
	for _, c := range []int{CodeBadRequest, CodeTokenInvalid, CodeSignFailed, CodeIPNotAllowed, CodeKeywordsMiss, 19002} {
		ce := classify("s", "op", c, "x")
		if ce.Hint == "" || ce.Code == "" {
			t.Errorf("code %d: %+v; want the code and a hint", c, ce)
		}
	}
	if ce := classify("s", "op", CodeFrequency, "frequency limited"); ce.RetryAfter <= 0 {
		t.Errorf("11232 gives no wait: %+v", ce)
	}
}
