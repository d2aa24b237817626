package aliyunsms

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"orderhub/internal/connector"
	"orderhub/internal/connector/imtext"
	"orderhub/internal/order"
)

// Options configure a Client.
type Options struct {
	System string // configured system name, for errors and logs
	// BaseURL is the service's root; default DefaultBaseURL.
	BaseURL         string
	AccessKeyID     string
	AccessKeySecret string
	SignName        string
	// Templates map the rules' template names to approved SMS templates.
	Templates map[string]Template
	// MaxNumbers is how many numbers one call carries; default MaxNumbers.
	MaxNumbers int
	HTTP       *http.Client
	Now        func() time.Time
	// Nonce returns x-acs-signature-nonce, unique per call; default 16
	// random bytes in hex.
	Nonce func() string
	Log   *slog.Logger
}

// Client sends SMS through one AccessKey and sign name. It is safe for
// concurrent use.
type Client struct {
	system     string
	endpoint   string // scheme://host/path
	host, path string
	akID       string
	secret     string
	signName   string
	templates  map[string]Template
	maxNumbers int
	http       *http.Client
	now        func() time.Time
	nonce      func() string
	log        *slog.Logger

	mu   sync.Mutex
	sent history
	// parts keeps, per message key, the batches of a message to more than
	// MaxNumbers numbers that the service took, so that sending it again
	// after a later batch failed does not send the earlier ones twice.
	parts map[string]*parts
}

type parts struct {
	bizIDs []string // per batch, "" until taken
	at     time.Time
}

var _ connector.Sender = (*Client)(nil)

// New returns a client for the account the options describe.
func New(o Options) (*Client, error) {
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	u, err := checkBaseURL(o.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("aliyunsms: system %q: %w", o.System, err)
	}
	if o.AccessKeyID == "" || o.AccessKeySecret == "" {
		return nil, fmt.Errorf("aliyunsms: system %q: access_key_id and access_key_secret are required", o.System)
	}
	if o.SignName == "" {
		return nil, fmt.Errorf("aliyunsms: system %q: sign_name is required", o.System)
	}
	for name, t := range o.Templates {
		if !templateCode.MatchString(t.Code) {
			return nil, fmt.Errorf("aliyunsms: system %q: template %s: code %q is not a template CODE (SMS_…)", o.System, name, t.Code)
		}
	}
	if o.MaxNumbers <= 0 || o.MaxNumbers > MaxNumbers {
		o.MaxNumbers = MaxNumbers
	}
	if o.HTTP == nil {
		o.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Nonce == nil {
		o.Nonce = randomNonce
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if plainRemote(u) {
		o.Log.Warn("aliyunsms: base_url uses plain http to another machine: the recipients' numbers travel unencrypted", "system", o.System, "host", u.Host)
	}
	path := u.Path
	if path == "" {
		path = "/" // RPC APIs are called at the root
	}
	return &Client{
		system: o.System, endpoint: u.Scheme + "://" + u.Host + path, host: u.Host, path: path,
		akID: o.AccessKeyID, secret: o.AccessKeySecret, signName: o.SignName,
		templates: maps.Clone(o.Templates), maxNumbers: o.MaxNumbers,
		http: o.HTTP, now: o.Now, nonce: o.Nonce, log: o.Log,
		sent: history{byNumber: map[string][]sentAt{}}, parts: map[string]*parts{},
	}, nil
}

func randomNonce() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// opSend names the call in errors and the delivery log.
const opSend = "SendSms"

// sendCall is one SendSms call.
type sendCall struct {
	rule    string   // the rule's template name
	code    string   // TemplateCode
	params  string   // TemplateParam JSON, "" for none
	numbers []string // 11-digit mainland numbers
	outID   string
}

// Send implements connector.Sender: one SendSms call for every
// MaxNumbers of the message's recipients with a mainland mobile. The
// message's text is not sent: the approved template named for its rule
// template is, with its params taken from the message's values.
func (c *Client) Send(ctx context.Context, m connector.Message) (connector.SendResult, error) {
	call, err := c.prepare(m)
	if err != nil {
		return connector.SendResult{}, err
	}
	batches := slices.Collect(slices.Chunk(call.numbers, c.maxNumbers))
	p := c.partsOf(m.Key, len(batches))
	ids := make([]string, len(batches))
	for i, nums := range batches {
		if p != nil && p.bizIDs[i] != "" {
			ids[i] = p.bizIDs[i]
			continue
		}
		bc := *call
		bc.numbers = nums
		a, err := c.call(ctx, &bc)
		if err != nil {
			return connector.SendResult{Code: a.Code}, err
		}
		ids[i] = a.BizID
		c.taken(&bc, p, i, a.BizID)
		c.log.Debug("aliyunsms: submitted", "system", c.system, "template", bc.code, "numbers", maskAll(nums), "biz_id", a.BizID)
	}
	c.done(m.Key, p)
	return connector.SendResult{MessageID: strings.Join(ids, ","), Code: CodeOK}, nil
}

// prepare picks the template, fills its params and collects the numbers;
// a message that cannot be sent as SMS is refused for good, saying why.
func (c *Client) prepare(m connector.Message) (*sendCall, error) {
	refuse := func(msg, hint string) error {
		return &connector.CallError{Class: connector.Permanent, System: c.system, Op: opSend, Code: "not sent", Message: msg, Hint: hint}
	}
	tpl, ok := c.templates[m.Template]
	if !ok {
		if m.Template == "" {
			return nil, refuse("the message names no template", "短信只能发送审核通过的模板：该规则需要 template:，并在该系统的 templates 中为它配置短信模板")
		}
		return nil, refuse(fmt.Sprintf("no SMS template for rule template %s", m.Template),
			fmt.Sprintf("短信只能发送审核通过的模板：在该系统的 templates 中加入 %s: {code: SMS_…, params: [order_no, …]}（模板 CODE 见%s → 模板管理）", m.Template, console))
	}
	call := &sendCall{rule: m.Template, code: tpl.Code}
	if len(m.Key) < 256 {
		call.outID = m.Key
	}
	if len(tpl.Params) > 0 {
		vals := make(map[string]string, len(tpl.Params))
		for _, p := range tpl.Params {
			v, ok := m.Vars[p]
			if !ok {
				return nil, refuse(fmt.Sprintf("the message has no value %s for template %s", p, tpl.Code),
					fmt.Sprintf("templates 中 %s 的 params 列出了 %s，但消息没有这个值：改成消息提供的值（%s）", m.Template, p, strings.Join(sortedKeys(m.Vars), ", ")))
			}
			vals[p] = v
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false) // a link's & stays &, as the phone shows it
		if err := enc.Encode(vals); err != nil {
			return nil, fmt.Errorf("aliyunsms: template params: %w", err)
		}
		call.params = strings.TrimSuffix(b.String(), "\n")
	}
	seen := map[string]bool{}
	withMobile := 0
	var bad []string
	for _, r := range m.To {
		if r.Mobile == "" {
			continue
		}
		withMobile++
		n, ok := mainland(r.Mobile)
		if !ok {
			bad = append(bad, who(r))
			continue
		}
		if !seen[n] {
			seen[n] = true
			call.numbers = append(call.numbers, n)
		}
	}
	if len(bad) > 0 {
		c.log.Warn("aliyunsms: recipients without a mainland mobile number left out", "system", c.system, "key", m.Key, "recipients", strings.Join(bad, ", "))
	}
	switch {
	case withMobile == 0:
		return nil, refuse("no recipient has a mobile number",
			"短信需要手机号：在 people 中为收件人填写 mobile（买家则需订单上有手机号）")
	case len(call.numbers) == 0:
		return nil, refuse("no recipient has a mainland China mobile number ("+strings.Join(bad, ", ")+")",
			"收件人的 mobile 不是有效的中国大陆手机号（11 位，1 开头，可带 +86）：在 people 中改正")
	}
	return call, nil
}

// who names a recipient for a log line without the number in full.
func who(r connector.Recipient) string {
	name := r.Person
	if name == "" {
		name = r.Name
	}
	return name + " " + connector.Quote(order.MaskPhone(r.Mobile))
}

func sortedKeys(m map[string]string) []string {
	k := slices.Collect(maps.Keys(m))
	sort.Strings(k)
	return k
}

// call makes one SendSms call, V3-signed, its parameters in a form body.
func (c *Client) call(ctx context.Context, call *sendCall) (answer, error) {
	form := url.Values{
		"PhoneNumbers": {strings.Join(call.numbers, ",")},
		"SignName":     {c.signName},
		"TemplateCode": {call.code},
	}
	if call.params != "" {
		form.Set("TemplateParam", call.params)
	}
	if call.outID != "" {
		form.Set("OutId", call.outID)
	}
	body := []byte(form.Encode())
	hash := sha256hex(body)
	now := c.now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return answer{}, &connector.CallError{Class: connector.Permanent, System: c.system, Op: opSend, Err: err, Hint: "base_url 无法使用：检查配置"}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("x-acs-action", Action)
	req.Header.Set("x-acs-version", APIVersion)
	req.Header.Set("x-acs-date", now.UTC().Format(timeFormat))
	req.Header.Set("x-acs-signature-nonce", c.nonce())
	req.Header.Set("x-acs-content-sha256", hash)
	v3 := V3Request{Method: http.MethodPost, Path: c.path, Headers: SignedHeaders(c.host, req.Header), PayloadHash: hash}
	req.Header.Set("Authorization", v3.Authorization(c.akID, c.secret))

	status, raw, err := connector.Do(c.http, c.system, opSend, req)
	if err != nil {
		if ce, ok := connector.AsCallError(err); ok && ce.Class == connector.Unknown {
			ce.Hint = "请求已发出但没有收到阿里云的应答，短信是否已发出未知（SendSms 不幂等）"
		}
		return answer{}, err
	}
	var a answer
	if json.Unmarshal(raw, &a) != nil || a.Code == "" {
		if status != http.StatusOK {
			return answer{}, connector.StatusError(c.system, opSend, status, raw, true)
		}
		return answer{}, &connector.CallError{Class: connector.Unknown, System: c.system, Op: opSend, Code: "HTTP 200",
			Message: imtext.CutRunes(string(bytes.TrimSpace(raw)), 200), Hint: "阿里云返回了无法识别的应答；短信是否已发出未知"}
	}
	if a.Code == CodeOK && status == http.StatusOK {
		return a, nil
	}
	return a, c.classify(a, status, call, now)
}

// --- what was sent ---------------------------------------------------------

// taken records a batch the service accepted: its numbers' sends, for the
// wait of a per-number limit, and the batch, for a message sent again.
func (c *Client) taken(call *sendCall, p *parts, i int, bizID string) {
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range call.numbers {
		c.sent.add(n, call.code, now)
	}
	if p != nil {
		p.bizIDs[i] = bizID
	}
}

// partsOf returns the batches already taken of a message of more than one
// batch.
func (c *Client) partsOf(key string, batches int) *parts {
	if key == "" || batches < 2 {
		return nil
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, p := range c.parts {
		if now.Sub(p.at) > 24*time.Hour {
			delete(c.parts, k)
		}
	}
	p := c.parts[key]
	if p == nil || len(p.bizIDs) != batches {
		p = &parts{bizIDs: make([]string, batches), at: now}
		c.parts[key] = p
	}
	return p
}

func (c *Client) done(key string, p *parts) {
	if p == nil {
		return
	}
	c.mu.Lock()
	delete(c.parts, key)
	c.mu.Unlock()
}

// limitWait is how long until a per-number limit of permits in span lets
// every number of call through, from the sends this client made; the whole
// span when it made too few to explain the refusal (another node or system
// sent them).
func (c *Client) limitWait(call *sendCall, span time.Duration, permits int, now time.Time) time.Duration {
	var wait time.Duration
	c.mu.Lock()
	for _, n := range call.numbers {
		if at, ok := c.sent.freeAt(n, call.code, span, permits, now); ok {
			wait = max(wait, at.Sub(now))
		}
	}
	c.mu.Unlock()
	if wait <= 0 {
		wait = span
	}
	return max(wait, time.Second)
}

// history is the sends to each number in the last 24 h, the longest span
// a per-number limit counts in.
type history struct {
	byNumber map[string][]sentAt
	swept    time.Time
}

type sentAt struct {
	at   time.Time
	code string
}

// keepPerNumber bounds one number's history: no limit counts more than 50.
const keepPerNumber = 64

func (h *history) add(n, code string, now time.Time) {
	s := append(h.byNumber[n], sentAt{now, code})
	if len(s) > keepPerNumber {
		s = s[len(s)-keepPerNumber:]
	}
	h.byNumber[n] = s
	if now.Sub(h.swept) > time.Hour {
		h.swept = now
		for k, v := range h.byNumber {
			if now.Sub(v[len(v)-1].at) > 24*time.Hour {
				delete(h.byNumber, k)
			}
		}
	}
}

// freeAt is when the permits-th latest send to n within span leaves it:
// first counting sends of the same template (the notification limit is per
// template), then all of them (the verification limit is per sign).
func (h *history) freeAt(n, code string, span time.Duration, permits int, now time.Time) (time.Time, bool) {
	if permits <= 0 {
		return time.Time{}, false
	}
	for _, same := range []bool{true, false} {
		var in []time.Time
		for _, s := range h.byNumber[n] {
			if now.Sub(s.at) < span && (!same || s.code == code) {
				in = append(in, s.at)
			}
		}
		if len(in) >= permits {
			return in[len(in)-permits].Add(span), true
		}
	}
	return time.Time{}, false
}

// Render returns the parameters Send would submit for m, the numbers
// masked, without sending: what `orderhub rules test` shows per channel.
// A message Send would refuse is an error saying why.
func (c *Client) Render(m connector.Message) (body []byte, cut bool, err error) {
	call, err := c.prepare(m)
	if err != nil {
		return nil, false, err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	err = enc.Encode(struct {
		PhoneNumbers  string `json:"PhoneNumbers"`
		SignName      string `json:"SignName"`
		TemplateCode  string `json:"TemplateCode"`
		TemplateParam string `json:"TemplateParam,omitempty"`
		OutID         string `json:"OutId,omitempty"`
	}{maskAll(call.numbers), c.signName, call.code, call.params, call.outID})
	return bytes.TrimSpace(b.Bytes()), false, err
}
