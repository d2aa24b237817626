package webhookout

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"orderhub/internal/connector"
	"orderhub/internal/connector/imtext"
	"orderhub/internal/connector/stdwebhook"
)

// Options configure a Client.
type Options struct {
	System string // configured system name, for errors and logs
	// URL is the receiver's address.
	URL string
	// BaseURL, when set, replaces the URL's scheme and host.
	BaseURL string
	// Secret is the whsec_<base64> signing secret.
	Secret string
	// HTTP is the client to call with; its Timeout bounds one attempt.
	// Redirects are never followed (see classify).
	HTTP *http.Client
	Now  func() time.Time
	// Log names the system already (connector.Env.Log does); without one,
	// the default logger with the system's name.
	Log *slog.Logger
}

// Client sends messages to one receiver. It is safe for concurrent use.
type Client struct {
	system string
	url    string
	key    []byte
	http   *http.Client
	now    func() time.Time
	log    *slog.Logger
}

var _ connector.Sender = (*Client)(nil)

// New returns a client for the receiver the options describe.
func New(o Options) (*Client, error) {
	u, err := parseURL(o.URL)
	if err != nil {
		return nil, fmt.Errorf("webhookout: system %q: %w", o.System, err)
	}
	if o.BaseURL != "" {
		b, err := url.Parse(o.BaseURL)
		if err != nil || b.Scheme == "" || b.Host == "" {
			return nil, fmt.Errorf("webhookout: system %q: base_url %q is not an absolute URL", o.System, o.BaseURL)
		}
		u.Scheme, u.Host = b.Scheme, b.Host
	}
	key, err := stdwebhook.ParseSecret(o.Secret)
	if err != nil {
		return nil, fmt.Errorf("webhookout: system %q: secret: %w", o.System, err)
	}
	if o.HTTP == nil {
		o.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	// A copy, so the shared client keeps following redirects for others:
	// the spec asks senders not to follow them (the receiver should be
	// given its new address instead), and a redirected POST would go out
	// unsigned for the new address's eyes anyway.
	hc := *o.HTTP
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		// The hub's logger already names the system (connector.Env.Log).
		o.Log = slog.Default().With("system", o.System)
	}
	if plainHTTP(u) {
		o.Log.Warn("webhookout: url uses plain http; orders, buyers' phone numbers and addresses included, travel unencrypted",
			"host", u.Host)
	}
	u.Fragment = ""
	return &Client{system: o.System, url: u.String(), key: key, http: &hc, now: o.Now, log: o.Log}, nil
}

// opSend names the call in errors and the delivery log.
const opSend = "webhook POST"

// maxAnswer is how much of a receiver's answer is read: only a snippet of
// it is ever shown.
const maxAnswer = 64 << 10

// Send implements connector.Sender: one signed attempt. The hub retries
// by the error's class; every retry of a message carries the same
// webhook-id, so a receiver that took an attempt whose answer was lost
// recognises the next one.
func (c *Client) Send(ctx context.Context, m connector.Message) (connector.SendResult, error) {
	body, err := Body(m)
	if err != nil {
		return connector.SendResult{}, &connector.CallError{Class: connector.Permanent, System: c.system, Op: opSend, Err: err,
			Hint: "消息没有可发送的内容：检查该规则的模板，或事件数据（payload）是否为 JSON"}
	}
	id := MessageID(m.Key, body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return connector.SendResult{}, &connector.CallError{Class: connector.Permanent, System: c.system, Op: opSend, Err: err, Hint: "url 无法使用：检查配置"}
	}
	stdwebhook.Headers(req.Header, c.key, id, c.now(), body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "orderhub")

	start := time.Now()
	resp, err := c.do(req)
	if err != nil {
		c.log.Info("webhookout: attempt failed", "webhook_id", id, "class", connector.ClassOf(err), "err", err, "took", time.Since(start))
		return connector.SendResult{}, err
	}
	ce := classify(c.system, resp.status, resp.header, resp.body, c.now())
	if ce != nil {
		c.log.Info("webhookout: receiver refused", "webhook_id", id, "status", resp.status,
			"class", ce.Class, "answer", ce.Message, "took", time.Since(start))
		return connector.SendResult{MessageID: id, Code: strconv.Itoa(resp.status)}, ce
	}
	c.log.Debug("webhookout: delivered", "webhook_id", id, "status", resp.status, "bytes", len(body), "took", time.Since(start))
	return connector.SendResult{MessageID: id, Code: strconv.Itoa(resp.status)}, nil
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

// do sends req, telling a failure before the request was written (Retry:
// nothing reached the receiver) from one after it (Unknown: the receiver
// may have taken it).
func (c *Client) do(req *http.Request) (answer, error) {
	var sent atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) {
		if i.Err == nil {
			sent.Store(true)
		}
	}}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	resp, err := c.http.Do(req)
	if err != nil {
		return answer{}, transportError(c.system, err, sent.Load())
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil && (resp.StatusCode < 200 || resp.StatusCode > 299) {
		// The status came and the rest of the answer did not: whatever the
		// receiver said is lost with it.
		return answer{}, transportError(c.system, err, true)
	}
	// A 2xx whose body broke off is still a 2xx: the receiver took it.
	return answer{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

// transportError is connector.TransportError with hints about this
// channel: the receiver dedupes by webhook-id, so a resend is harmless.
func transportError(system string, err error, sent bool) *connector.CallError {
	ce := connector.TransportError(system, opSend, err, sent)
	var dns *net.DNSError
	switch {
	case errors.Is(err, context.Canceled):
		// keep the shared hint: the hub is stopping
	case errors.As(err, &dns):
		ce.Hint = "域名解析失败：检查 url 的主机名"
	case ce.Class == connector.Unknown:
		ce.Hint = "请求已发出，但没有收到接收方的应答（超时或连接中断），对方是否已收到未知；系统会用相同的 webhook-id 重发，接收方可据此去重。应答过慢时请对方先答 2xx 再处理，或调大该系统的 timeout"
	default:
		ce.Hint = "连接不上接收方：检查 url 与网络，以及对方服务是否在运行；系统会自动重试"
	}
	return ce
}

// Body is the request body for m: its Payload (the event and the order as
// JSON) as given, or, for a message that carries only text, its title,
// text, link and key as a JSON object, so that a rule without a payload
// still sends something a receiver can read.
func Body(m connector.Message) ([]byte, error) {
	if len(bytes.TrimSpace(m.Payload)) > 0 {
		if !json.Valid(m.Payload) {
			return nil, errors.New("the message's payload is not valid JSON")
		}
		return m.Payload, nil
	}
	if m.Title == "" && m.Markdown == "" && m.Text == "" {
		return nil, errors.New("the message has no payload, title or body")
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // keep < > & readable for the people reading the receiver's log
	if err := enc.Encode(textBody{Title: m.Title, Markdown: m.Markdown, Text: m.Text, Link: m.Link, Key: m.Key}); err != nil {
		return nil, fmt.Errorf("encoding the message: %w", err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte{'\n'}), nil
}

type textBody struct {
	Title    string `json:"title"`
	Markdown string `json:"markdown,omitempty"`
	Text     string `json:"text,omitempty"`
	Link     string `json:"link,omitempty"`
	Key      string `json:"key,omitempty"`
}

// MessageID is the webhook-id of a message: derived from its key (rule,
// order, event), so that every retry, on any node and after a restart,
// carries the same id and the receiver can dedupe. A message without a key
// takes its id from its body, which is as stable.
func MessageID(key string, body []byte) string {
	var sum [sha256.Size]byte
	if key != "" {
		sum = sha256.Sum256([]byte(key))
	} else {
		sum = sha256.Sum256(body)
	}
	return "msg_" + hex.EncodeToString(sum[:16])
}

// snippet is the start of an answer, for the delivery log.
func snippet(b []byte) string {
	return imtext.CutRunes(string(bytes.TrimSpace(b)), 200)
}
