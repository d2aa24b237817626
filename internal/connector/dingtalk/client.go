package dingtalk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"orderhub/internal/connector"
	"orderhub/internal/connector/imtext"
)

// Options configure a Client.
type Options struct {
	System string // configured system name, for errors and logs
	// Webhook is the robot's URL as the group shows it.
	Webhook string
	// BaseURL, when set, replaces the webhook's scheme and host.
	BaseURL string
	Secret  string // the SEC… string of 加签; "" when 加签 is off
	Keyword string // one of the robot's 自定义关键词; "" when that is off
	MsgType string // markdown (default), text, actionCard or feedCard
	PicURL  string // feedCard entries' picture
	IP      string // the allow-list entry the robot has, for hints
	// MaxBytes is the body limit to cut to; default MaxBytes.
	MaxBytes int
	HTTP     *http.Client
	Now      func() time.Time
	Log      *slog.Logger
}

// Client sends messages to one robot. It is safe for concurrent use.
type Client struct {
	system   string
	endpoint string     // scheme://host/path
	query    url.Values // the webhook's query, access_token included
	rawQuery string
	secret   string
	keyword  string
	msgType  string
	picURL   string
	ip       string
	maxBytes int
	http     *http.Client
	now      func() time.Time
	log      *slog.Logger
}

var _ connector.Sender = (*Client)(nil)

// New returns a client for the robot the options describe.
func New(o Options) (*Client, error) {
	u, err := parseWebhook(o.Webhook)
	if err != nil {
		return nil, fmt.Errorf("dingtalk: system %q: %w", o.System, err)
	}
	if o.BaseURL != "" {
		b, err := url.Parse(o.BaseURL)
		if err != nil || b.Scheme == "" || b.Host == "" {
			return nil, fmt.Errorf("dingtalk: system %q: base_url %q is not an absolute URL", o.System, o.BaseURL)
		}
		u.Scheme, u.Host = b.Scheme, b.Host
	}
	switch o.MsgType {
	case "":
		o.MsgType = TypeMarkdown
	case TypeMarkdown, TypeText, TypeActionCard:
	case TypeFeedCard:
		if o.PicURL == "" {
			return nil, fmt.Errorf("dingtalk: system %q: msgtype feedCard needs pic_url", o.System)
		}
	default:
		return nil, fmt.Errorf("dingtalk: system %q: unknown msgtype %q (markdown, text, actionCard or feedCard)", o.System, o.MsgType)
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = MaxBytes
	}
	if o.HTTP == nil {
		o.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	q := u.Query()
	raw := u.RawQuery
	u.RawQuery, u.Fragment = "", ""
	return &Client{
		system: o.System, endpoint: u.String(), query: q, rawQuery: raw,
		secret: o.Secret, keyword: o.Keyword, msgType: o.MsgType, picURL: o.PicURL, ip: o.IP,
		maxBytes: o.MaxBytes, http: o.HTTP, now: o.Now, log: o.Log,
	}, nil
}

// opSend names the call in errors and the delivery log.
const opSend = "robot/send"

// Send implements connector.Sender.
func (c *Client) Send(ctx context.Context, m connector.Message) (connector.SendResult, error) {
	b, err := c.build(m, c.maxBytes)
	if errors.Is(err, errEmpty) {
		return connector.SendResult{}, &connector.CallError{Class: connector.Permanent, System: c.system, Op: opSend, Err: err,
			Hint: "模板渲染出的消息为空：检查该规则模板的 title 与 markdown"}
	}
	if err != nil {
		return connector.SendResult{}, &connector.CallError{Class: connector.Permanent, System: c.system, Op: opSend, Err: err,
			Hint: "消息的标题、链接或 @ 名单过长，无法放进钉钉的 20000 字节限制：缩短模板的标题或 @ 名单"}
	}
	if b.cut {
		c.log.Debug("dingtalk: message cut to the robot's size limit", "system", c.system, "key", m.Key, "bytes", len(b.body))
	}
	now := c.now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url(now), bytes.NewReader(b.body))
	if err != nil {
		return connector.SendResult{}, &connector.CallError{Class: connector.Permanent, System: c.system, Op: opSend, Err: err, Hint: "webhook 无法使用：检查配置"}
	}
	req.Header.Set("Content-Type", "application/json;charset=utf-8")
	status, body, err := connector.Do(c.http, c.system, opSend, req)
	if err != nil {
		return connector.SendResult{}, err
	}
	if status != http.StatusOK {
		// DingTalk answers 200 for every business error; anything else came
		// from a gateway, and a message it passed on may have been shown.
		return connector.SendResult{}, connector.StatusError(c.system, opSend, status, body, true)
	}
	var a answer
	if err := json.Unmarshal(body, &a); err != nil || (a.ErrCode == nil && a.Status == 0) {
		// Not the robot's answer (an HTML error page): whether the message
		// went out cannot be told.
		return connector.SendResult{}, &connector.CallError{Class: connector.Unknown, System: c.system, Op: opSend, Code: "HTTP 200",
			Message: snippet(body), Hint: "钉钉返回了无法识别的应答；消息是否已发出未知，系统会以相同 msgUuid 重发（钉钉按 msgUuid 去重）"}
	}
	if a.ErrCode == nil {
		return connector.SendResult{}, ipBanned(c.system, a)
	}
	if *a.ErrCode == 0 {
		return connector.SendResult{Code: "0", Cut: b.cut}, nil
	}
	return connector.SendResult{Code: strconv.Itoa(int(*a.ErrCode))}, c.classify(int(*a.ErrCode), a.ErrMsg, now)
}

// url is the address of one call: the webhook as given, with 加签's
// timestamp and sign when the robot has a secret. The sign goes into
// url.Values raw; Encode escapes it once.
func (c *Client) url(now time.Time) string {
	if c.secret == "" {
		if c.rawQuery == "" {
			return c.endpoint
		}
		return c.endpoint + "?" + c.rawQuery
	}
	return c.endpoint + "?" + signedQuery(c.query, c.secret, now.UnixMilli())
}

func signedQuery(base url.Values, secret string, tsMS int64) string {
	q := make(url.Values, len(base)+2)
	for k, v := range base {
		q[k] = v
	}
	q.Set("timestamp", strconv.FormatInt(tsMS, 10))
	q.Set("sign", Sign(secret, tsMS))
	return q.Encode()
}

func snippet(b []byte) string {
	return imtext.CutRunes(string(bytes.TrimSpace(b)), 200)
}

// Render returns the body Send would post for m, and whether it was cut,
// without sending it: what `orderhub rules test` shows per channel.
func (c *Client) Render(m connector.Message) (body []byte, cut bool, err error) {
	b, err := c.build(m, c.maxBytes)
	if err != nil {
		return nil, false, fmt.Errorf("dingtalk: system %q: %w", c.system, err)
	}
	return b.body, b.cut, nil
}
