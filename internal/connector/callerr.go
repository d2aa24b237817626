package connector

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"
)

// Class says what the hub should do after an outgoing call failed. Every
// target and channel maps its provider's answers into these four, so the
// stages that retry, slow down, verify or hand an item to a person never
// need to know a provider's codes.
type Class string

// The classes of a failed call.
const (
	// Retry: the provider did not take the request (connection refused, a
	// gateway error before the request reached the service). Sending it
	// again is safe.
	Retry Class = "retry"
	// SlowDown: the provider is throttling. Wait (RetryAfter when it said
	// how long) and send again; this is not a failure.
	SlowDown Class = "slow_down"
	// Permanent: bad credentials or a business refusal. Sending the same
	// request again gives the same answer; a person must change something.
	Permanent Class = "permanent"
	// Unknown: the request was sent and no answer came back (a timeout, a
	// reset, a 5xx after the write). The effect may have happened: verify
	// before writing again.
	Unknown Class = "unknown_outcome"
)

// CallError is a failed outgoing call, classified. Connectors return it
// from every capability method; Message is the provider's own text and
// Hint says in Chinese what a person should fix.
type CallError struct {
	Class  Class
	System string // configured system name
	Op     string // e.g. "trade.query", "BatchSave SAL_RETURNSTOCK"
	// Code is the provider's code as text ("1012", "MsgCode 11", "HTTP 429").
	Code    string
	Message string
	// Field is the field the provider named, when it named one.
	Field string
	Hint  string
	// RetryAfter is how long the provider asked to wait (SlowDown).
	RetryAfter time.Duration
	// PerMessage reports that a SlowDown is about this message's
	// recipients (one number's limit), not the endpoint: only the message
	// waits, the others go on.
	PerMessage bool
	// Err is the transport error underneath, if any.
	Err error
}

func (e *CallError) Error() string {
	var b strings.Builder
	if e.System != "" {
		fmt.Fprintf(&b, "%s: ", e.System)
	}
	if e.Op != "" {
		fmt.Fprintf(&b, "%s: ", e.Op)
	}
	b.WriteString(string(e.Class))
	if e.Code != "" {
		fmt.Fprintf(&b, " (%s)", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, " [field %s]", e.Field)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

func (e *CallError) Unwrap() error { return e.Err }

// ClassOf returns the class of a failed call. An error that is not a
// *CallError is Unknown: the hub cannot tell what happened, so it verifies.
func ClassOf(err error) Class {
	if err == nil {
		return ""
	}
	var ce *CallError
	if errors.As(err, &ce) {
		return ce.Class
	}
	return Unknown
}

// AsCallError finds a *CallError in err's chain.
func AsCallError(err error) (*CallError, bool) {
	var ce *CallError
	ok := errors.As(err, &ce)
	return ce, ok
}

// TransportError classifies an error from http.Client.Do. sent says whether
// the request had been written completely (see Do); before that, nothing
// reached the provider and the call can be retried; after it, the outcome
// is unknown.
func TransportError(system, op string, err error, sent bool) *CallError {
	ce := &CallError{System: system, Op: op, Err: err, Class: Unknown,
		Hint: "与对方系统的连接中断；系统会先核对单据是否已写入再重试"}
	switch {
	case errors.Is(err, context.Canceled):
		ce.Class, ce.Hint = Retry, "调用被取消（服务正在停止）；重启后会继续"
	case !sent:
		ce.Class, ce.Hint = Retry, "连接不上对方系统：检查 base_url 与网络；系统会自动重试"
	case errors.Is(err, syscall.ECONNREFUSED):
		ce.Class = Retry
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		ce.Class, ce.Hint = Retry, "域名解析失败：检查 base_url 的主机名"
	}
	return ce
}

// StatusError classifies an HTTP status that carried no answer the
// connector understood. write says the call changes the provider's data:
// a 5xx after a write may have taken effect, so it is Unknown; for a read
// it is Retry.
func StatusError(system, op string, status int, body []byte, write bool) *CallError {
	ce := &CallError{System: system, Op: op, Code: fmt.Sprintf("HTTP %d", status), Message: snippet(body)}
	switch {
	case status == http.StatusTooManyRequests:
		ce.Class, ce.Hint = SlowDown, "对方系统限流，稍后自动重试"
	case status >= 500 && write:
		ce.Class, ce.Hint = Unknown, "对方系统出错，写入结果未知；系统会先核对单据是否已存在再重试"
	case status >= 500:
		ce.Class, ce.Hint = Retry, "对方系统暂时出错，稍后自动重试"
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		ce.Class, ce.Hint = Permanent, "认证失败：检查该系统配置中的密钥与账号"
	default:
		ce.Class, ce.Hint = Permanent, "对方系统拒绝了请求：检查 base_url 是否指向正确的接口"
	}
	return ce
}

// snippet is the start of a body, for messages: enough to recognise an
// error page, never a whole document.
func snippet(b []byte) string {
	const max = 200
	s := strings.TrimSpace(string(b))
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}
