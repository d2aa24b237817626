package jdy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"orderhub/internal/connector"
)

// APISalOrderSave is the write API flows name (`api: sal_order_save`).
const APISalOrderSave = "sal_order_save"

// Codes are the answers the client recognises by code or text where the
// service's behaviour is not documented [U]. The zero value of a field
// means the default, which is what the simulator answers.
type Codes struct {
	// Duplicate are the errcodes of "this bill number exists".
	Duplicate []string
	// DuplicateText are fragments of a message meaning the same, for
	// deployments that answer it under a general code.
	DuplicateText []string
	// TokenInvalid are the errcodes of an app-token that is unknown or
	// expired: the client fetches a new token and sends the call again once.
	TokenInvalid []string
	// TokenInvalidText are fragments of such a message.
	TokenInvalidText []string
}

func (c Codes) withDefaults() Codes {
	if c.Duplicate == nil {
		c.Duplicate = []string{itoa(CodeDuplicate)}
	}
	if c.DuplicateText == nil {
		c.DuplicateText = []string{"已存在", "已经被使用", "重复"}
	}
	if c.TokenInvalid == nil {
		c.TokenInvalid = []string{itoa(CodeTokenInvalid)}
	}
	if c.TokenInvalidText == nil {
		c.TokenInvalidText = []string{"app-token", "token失效", "token已过期", "token无效"}
	}
	return c
}

// Options configure a Client.
type Options struct {
	// System is the configured system's name, for errors and logs.
	System string
	// BaseURL is the gateway root, https://api.kingdee.com; the token and
	// business paths are appended to it.
	BaseURL      string
	ClientID     string
	ClientSecret string
	AppKey       string
	AppSecret    string
	// Domain, when set, is sent as X-GW-Router-Addr instead of the domain
	// the token answer names.
	Domain string
	// UID asks for the token of that user rather than the account admin's.
	UID string
	// HTTP is the client calls go through (its Timeout is one call's).
	HTTP *http.Client
	// Now is the clock for timestamps and token expiry.
	Now func() time.Time
	Log *slog.Logger
	// TokenTTL is how long an app-token lives (24 h); the client fetches a
	// new one TokenEarly (10 min) before that.
	TokenTTL, TokenEarly time.Duration
	// FindPath and FindParam say how Find looks a bill up: a GET of
	// FindPath with FindParam=<bill number> (default the V2 list,
	// /jdy/v2/scm/sal_order?search=…) [U]. The answer may be a list
	// (data.rows) or one bill (data); only a row whose number equals the
	// bill number counts.
	FindPath, FindParam string
	Codes               Codes
}

// Client calls 金蝶云星辰 through the Kingdee API gateway. It is safe for
// concurrent use and implements connector.Writer.
type Client struct {
	opt   Options
	base  *url.URL
	http  *http.Client
	now   func() time.Time
	log   *slog.Logger
	codes Codes

	mu     sync.Mutex
	tok    token
	flight singleflight.Group
}

type token struct {
	value, domain string
	refreshAt     time.Time
}

// New returns a client, or an error naming what is missing.
func New(opt Options) (*Client, error) {
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"client_id", opt.ClientID}, {"client_secret", opt.ClientSecret},
		{"app_key", opt.AppKey}, {"app_secret", opt.AppSecret},
	} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("jdy: %s not set: copy them from the 金蝶云星辰 developer app and its authorisation", strings.Join(missing, ", "))
	}
	if opt.BaseURL == "" {
		opt.BaseURL = "https://api.kingdee.com"
	}
	base, err := url.Parse(strings.TrimRight(opt.BaseURL, "/"))
	if err != nil || base.Scheme == "" || base.Host == "" {
		return nil, fmt.Errorf("jdy: base_url %q is not an absolute URL like https://api.kingdee.com", opt.BaseURL)
	}
	if opt.HTTP == nil {
		opt.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	// A copy of the hub's client whose transport also keeps Retry-After,
	// which connector.Do does not return.
	hc := *opt.HTTP
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	hc.Transport = retryAfterTransport{next}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.TokenTTL <= 0 {
		opt.TokenTTL = 24 * time.Hour
	}
	if opt.TokenEarly <= 0 {
		opt.TokenEarly = 10 * time.Minute
	}
	if opt.TokenEarly >= opt.TokenTTL {
		opt.TokenEarly = opt.TokenTTL / 10
	}
	if opt.FindPath == "" {
		opt.FindPath = PathSalOrderList
	}
	if opt.FindParam == "" {
		opt.FindParam = "search"
	}
	return &Client{opt: opt, base: base, http: &hc, now: opt.Now, log: opt.Log, codes: opt.Codes.withDefaults()}, nil
}

// --- the app-token ---------------------------------------------------------

// appToken returns a live token, fetching one when there is none or it is
// about to expire. Concurrent callers share one fetch: the token endpoint
// allows about two calls a minute.
func (c *Client) appToken(ctx context.Context) (token, error) {
	if t, ok := c.cached(); ok {
		return t, nil
	}
	// The shared fetch must not fail because the caller that started it
	// gave up; the HTTP client's timeout still bounds it.
	v, err, _ := c.flight.Do("token", func() (any, error) {
		if t, ok := c.cached(); ok {
			return t, nil
		}
		t, err := c.fetchToken(context.WithoutCancel(ctx))
		if err != nil {
			return token{}, err
		}
		c.mu.Lock()
		c.tok = t
		c.mu.Unlock()
		return t, nil
	})
	if err != nil {
		return token{}, err
	}
	return v.(token), nil
}

func (c *Client) cached() (token, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tok, c.tok.value != "" && c.now().Before(c.tok.refreshAt)
}

// dropToken forgets the token the server refused, unless another caller
// has already replaced it.
func (c *Client) dropToken(bad string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok.value == bad {
		c.tok = token{}
	}
}

const opToken = "kingdee_auth_token"

func (c *Client) fetchToken(ctx context.Context) (token, error) {
	q := url.Values{"app_key": {c.opt.AppKey}, "app_signature": {AppSignature(c.opt.AppKey, c.opt.AppSecret)}}
	if c.opt.UID != "" {
		q.Set("uid", c.opt.UID)
	}
	req, err := c.newRequest(ctx, http.MethodGet, PathToken, q, nil)
	if err != nil {
		return token{}, err
	}
	fetched := c.now()
	req, retryAfter := withRetryAfter(req)
	status, body, err := connector.Do(c.http, c.opt.System, opToken, req)
	if err != nil {
		// Whatever happened to the token call, no bill was sent.
		ce, _ := connector.AsCallError(err)
		if ce != nil && ce.Class == connector.Unknown {
			ce.Class, ce.Hint = connector.Retry, "获取 app-token 时连接中断（单据尚未发送），稍后自动重试"
		}
		return token{}, err
	}
	env, cerr := c.answer(opToken, status, body, false)
	if cerr != nil {
		cerr.RetryAfter = parseRetryAfter(*retryAfter, c.now())
		return token{}, cerr
	}
	if code := env.code(); code != "0" {
		return token{}, c.tokenRefusal(code, env.message())
	}
	var d tokenData
	if err := json.Unmarshal(env.Data, &d); err != nil {
		return token{}, c.malformed(opToken, body, err)
	}
	t := token{value: d.AppToken, domain: d.Domain, refreshAt: fetched.Add(c.opt.TokenTTL - c.opt.TokenEarly)}
	if t.value == "" {
		t.value = d.AppToken2
	}
	if c.opt.Domain != "" {
		t.domain = c.opt.Domain
	}
	if t.value == "" {
		return token{}, c.malformed(opToken, body, errors.New("no app-token in data"))
	}
	if t.domain == "" {
		return token{}, &connector.CallError{Class: connector.Permanent, System: c.opt.System, Op: opToken,
			Message: "the token answer names no domain",
			Hint:    "授权信息里没有 domain：在该系统配置中填写 domain（如 https://tf.jdy.com）"}
	}
	c.log.Debug("jdy app-token fetched", "system", c.opt.System, "domain", t.domain)
	return t, nil
}

// tokenRefusal classifies a refused token call.
func (c *Client) tokenRefusal(code, msg string) *connector.CallError {
	ce := c.gatewayRefusal(opToken, code, msg)
	if ce != nil {
		return ce
	}
	ce = &connector.CallError{Class: connector.Permanent, System: c.opt.System, Op: opToken, Code: code, Message: msg}
	switch code {
	case itoa(CodeAuthKey):
		ce.Hint = "授权密钥校验失败（app_signature 不符）：app_secret 可能已轮换，请在金蝶云星辰开放平台重新获取授权的 app_key / app_secret 并更新配置"
	case itoa(CodeAppKey):
		ce.Hint = "app_key 无效：检查配置中的 app_key 是否为该账套授权给本应用的 app_key"
	case itoa(CodeSystem):
		ce.Class, ce.Hint = connector.Retry, "金蝶系统错误，稍后自动重试"
	default:
		ce.Hint = "获取 app-token 失败：检查 app_key、app_secret 与 uid 配置"
	}
	return ce
}

// --- one gateway call ------------------------------------------------------

// newRequest builds a signed gateway request.
func (c *Client) newRequest(ctx context.Context, method, path string, q url.Values, body []byte) (*http.Request, error) {
	u := *c.base
	u.Path = c.base.Path + path
	u.RawPath = ""
	u.RawQuery = EncodeQuery(q)
	var rd io.Reader // a nil *bytes.Reader would be a non-nil body
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("jdy: building %s %s: %w", method, path, err)
	}
	ts := strconv.FormatInt(c.now().UnixMilli(), 10)
	nonce := strconv.FormatInt(rand.Int64N(math.MaxInt64-1)+1, 10)
	h := req.Header
	h[HeaderClientID] = []string{c.opt.ClientID}
	h[HeaderAuthVersion] = []string{AuthVersion}
	h[HeaderTimestamp] = []string{ts}
	h[HeaderNonce] = []string{nonce}
	h[HeaderSignHeaders] = []string{SignHeaders}
	h[HeaderSignature] = []string{Signature(c.opt.ClientSecret, StringToSign(method, u.Path, q, nonce, ts))}
	if body != nil {
		h["Content-Type"] = []string{"application/json"}
	}
	return req, nil
}

// business sends a business call with the app-token. A token the server
// refuses (unknown, expired, or an authorisation key that no longer checks)
// is fetched again and the call sent once more.
func (c *Client) business(ctx context.Context, op, method, path string, q url.Values, body []byte, write bool) (*envelope, []byte, error) {
	for attempt := 0; ; attempt++ {
		t, err := c.appToken(ctx)
		if err != nil {
			return nil, nil, err
		}
		req, err := c.newRequest(ctx, method, path, q, body)
		if err != nil {
			return nil, nil, err
		}
		req.Header[HeaderAppToken] = []string{t.value}
		req.Header[HeaderRouterAddr] = []string{t.domain}
		req, retryAfter := withRetryAfter(req)
		status, raw, err := connector.Do(c.http, c.opt.System, op, req)
		if err != nil {
			if !write {
				if ce, ok := connector.AsCallError(err); ok && ce.Class == connector.Unknown {
					ce.Class, ce.Hint = connector.Retry, "读取时连接中断，稍后自动重试"
				}
			}
			return nil, nil, err
		}
		env, cerr := c.answer(op, status, raw, write)
		if cerr != nil {
			cerr.RetryAfter = parseRetryAfter(*retryAfter, c.now())
			return nil, nil, cerr
		}
		code := env.code()
		if code == "0" {
			return env, raw, nil
		}
		msg := env.message()
		authKey := code == itoa(CodeAuthKey)
		if authKey || c.tokenInvalid(code, msg) {
			if attempt == 0 {
				c.log.Info("jdy app-token refused; fetching a new one", "system", c.opt.System, "op", op, "code", code, "message", msg)
				c.dropToken(t.value)
				continue
			}
			// The gateway checks the token before the service sees the
			// call, so nothing was written. A fresh token refused again
			// is most often another node or call renewing it in between:
			// retry later. If it never passes, the exception the retries
			// end in says what to check.
			ce := &connector.CallError{Class: connector.Retry, System: c.opt.System, Op: op, Code: code, Message: msg,
				Hint: "新获取的 app-token 仍被拒绝：若持续出现，检查 app_key 与 uid 的授权是否仍有效（在金蝶云星辰开放平台查看应用授权）"}
			if authKey {
				ce.Class = connector.Permanent
				ce.Hint = "授权密钥校验失败：app_secret 可能已轮换，请在金蝶云星辰开放平台重新获取授权的 app_secret 并更新配置后重试"
			}
			return nil, nil, ce
		}
		if ce := c.gatewayRefusal(op, code, msg); ce != nil {
			return nil, nil, ce
		}
		return env, raw, nil
	}
}

// answer reads the HTTP layer of an answer: throttling, gateway failures,
// and bodies that are not the gateway's JSON.
func (c *Client) answer(op string, status int, body []byte, write bool) (*envelope, *connector.CallError) {
	if status == http.StatusTooManyRequests {
		ce := connector.StatusError(c.opt.System, op, status, body, write)
		ce.Hint = "金蝶网关限流（账套每分钟调用次数有限），稍后自动重试"
		return nil, ce
	}
	var env envelope
	jsonErr := json.Unmarshal(body, &env)
	if status == 519 || status >= 500 {
		ce := connector.StatusError(c.opt.System, op, status, body, write)
		if jsonErr == nil && env.message() != "" {
			ce.Message = env.message()
		}
		if status == 519 {
			ce.Class = connector.Retry
			if write {
				ce.Class = connector.Unknown
			}
			ce.Hint = "金蝶网关错误（HTTP 519），写入结果未知时会先核对单据再重试"
		}
		return nil, ce
	}
	if jsonErr != nil || env.code() == "" {
		if status != http.StatusOK {
			return nil, connector.StatusError(c.opt.System, op, status, body, write)
		}
		if jsonErr == nil {
			jsonErr = errors.New("no errcode or success in the answer")
		}
		return nil, c.malformed(op, body, jsonErr)
	}
	return &env, nil
}

func (c *Client) malformed(op string, body []byte, err error) *connector.CallError {
	s := string(body)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return &connector.CallError{Class: connector.Permanent, System: c.opt.System, Op: op, Code: "malformed answer", Message: s, Err: err,
		Hint: "金蝶返回了无法识别的应答：检查 base_url 是否指向金蝶 API 网关（https://api.kingdee.com）"}
}

// gatewayRefusal classifies the gateway's own refusals (headers, signature,
// clock, nonce, router); nil for any other code.
func (c *Client) gatewayRefusal(op, code, msg string) *connector.CallError {
	ce := &connector.CallError{Class: connector.Permanent, System: c.opt.System, Op: op, Code: code, Message: msg}
	switch code {
	case itoa(CodeSignature), itoa(CodeClientID):
		ce.Hint = "网关签名校验失败：检查 client_id 与 client_secret 是否为开放平台上该应用的值"
	case itoa(CodeTimestamp):
		ce.Hint = "网关认为请求时间戳已过期：校准本机时钟（与北京时间相差须在 5 分钟内）"
	case itoa(CodeHeader):
		ce.Hint = "网关请求头不完整；请升级 orderhub 或报告此问题"
	case itoa(CodeNonce):
		ce.Class, ce.Hint = connector.Retry, "网关认为随机数重复，系统会用新的随机数重试"
	case itoa(CodeRouterAddr):
		ce.Hint = "X-GW-Router-Addr 与授权的 domain 不一致：删除配置中的 domain，或填写授权信息中的 domain"
	default:
		return nil
	}
	return ce
}

func (c *Client) tokenInvalid(code, msg string) bool {
	for _, k := range c.codes.TokenInvalid {
		if code == k {
			return true
		}
	}
	return containsAny(strings.ToLower(msg), c.codes.TokenInvalidText) && strings.Contains(strings.ToLower(msg), "token")
}

func (c *Client) duplicate(code, msg string) bool {
	for _, k := range c.codes.Duplicate {
		if code == k {
			return true
		}
	}
	return strings.Contains(msg, "单据编号") && containsAny(msg, c.codes.DuplicateText)
}

func containsAny(s string, parts []string) bool {
	for _, p := range parts {
		if p != "" && strings.Contains(s, strings.ToLower(p)) {
			return true
		}
	}
	return false
}

// retryAfterKey holds, in a request's context, where the transport puts
// the answer's Retry-After.
type retryAfterKey struct{}

type retryAfterTransport struct{ next http.RoundTripper }

func (t retryAfterTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if resp != nil {
		if slot, ok := r.Context().Value(retryAfterKey{}).(*string); ok {
			*slot = resp.Header.Get("Retry-After")
		}
	}
	return resp, err
}

func withRetryAfter(req *http.Request) (*http.Request, *string) {
	slot := new(string)
	return req.WithContext(context.WithValue(req.Context(), retryAfterKey{}, slot)), slot
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date; 0 when
// absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// --- writing ---------------------------------------------------------------

// Write implements connector.Writer: one sal_order_save call for the one
// bill a call carries. A bill with an ID modifies that bill.
func (c *Client) Write(ctx context.Context, api string, bills []connector.Bill) ([]connector.WriteResult, error) {
	if api != APISalOrderSave {
		return nil, fmt.Errorf("jdy: unknown write API %q (this connector writes %s)", api, APISalOrderSave)
	}
	if len(bills) != 1 {
		return nil, fmt.Errorf("jdy: %s takes one bill a call, got %d", api, len(bills))
	}
	r, err := c.SaveSalOrder(ctx, bills[0])
	if err != nil {
		return nil, err
	}
	return []connector.WriteResult{r}, nil
}

// SaveSalOrder sends one bill to POST /jdy/sal/sal_order_save. The bill's
// number goes in billno and its ID, when set, in id.
func (c *Client) SaveSalOrder(ctx context.Context, b connector.Bill) (connector.WriteResult, error) {
	res := connector.WriteResult{No: b.No}
	body, bad := c.saveBody(b)
	if bad != nil {
		res.Err = bad
		return res, nil
	}
	env, raw, err := c.business(ctx, APISalOrderSave, http.MethodPost, PathSalOrderSave, nil, body, true)
	if err != nil {
		return res, err
	}
	code, msg := env.code(), env.message()
	var d saveData
	if len(env.Data) > 0 && env.Data[0] == '{' {
		if err := json.Unmarshal(env.Data, &d); err != nil {
			return res, c.malformed(APISalOrderSave, raw, err)
		}
	}
	if code == "0" && (d.Success == nil || *d.Success) {
		res.ID = d.firstID()
		if res.ID == "" {
			// Saved, but the answer carries no id: read it back.
			id, found, err := c.Find(ctx, APISalOrderSave, b.No)
			if err != nil {
				return res, err
			}
			if !found {
				return res, &connector.CallError{Class: connector.Unknown, System: c.opt.System, Op: APISalOrderSave, Code: code,
					Message: "saved without an id, and the bill cannot be found", Hint: "金蝶应答成功但未返回单据 id，系统会核对单据后重试"}
			}
			res.ID = id
		}
		return res, nil
	}
	// A refusal: data.success false inside a zero errcode is one too.
	if code == "0" {
		code = "-1"
	}
	if msg == "" || msg == "success" {
		msg = d.Message
	}
	for _, e := range d.ErrorInfo {
		if e.Msg != "" && !strings.Contains(msg, e.Msg) {
			if msg != "" {
				msg += "; "
			}
			msg += e.Msg
		}
	}
	if c.duplicate(code, msg) {
		res.Duplicate = true
		res.Err = &connector.CallError{Class: connector.Permanent, System: c.opt.System, Op: APISalOrderSave, Code: code, Message: msg, Field: "billno",
			Hint: "单据编号 " + b.No + " 在金蝶云星辰中已存在：系统会核对该单据后记为已写入"}
		return res, nil
	}
	if code == itoa(CodeSystem) {
		return res, &connector.CallError{Class: connector.Unknown, System: c.opt.System, Op: APISalOrderSave, Code: code, Message: msg,
			Hint: "金蝶系统错误，写入结果未知：系统会先核对单据是否已存在再重试"}
	}
	res.Err = c.refusal(code, msg, b.Body)
	return res, nil
}

// saveBody is the JSON body for one bill: its mapped fields, with billno
// and id set from the bill.
func (c *Client) saveBody(b connector.Bill) ([]byte, *connector.CallError) {
	bad := func(msg, field, hint string) *connector.CallError {
		return &connector.CallError{Class: connector.Permanent, System: c.opt.System, Op: APISalOrderSave, Code: "bad bill", Message: msg, Field: field, Hint: hint}
	}
	if b.No == "" {
		return nil, bad("the bill has no number", "billno", "映射没有给出单据编号：在映射中把 billno 设为源单号（如 trade_no）")
	}
	m := b.Body
	if v, ok := m["billno"]; ok {
		if s, _ := v.(string); s != b.No {
			return nil, bad(fmt.Sprintf("billno %v in the body differs from the bill number %s", v, b.No), "billno",
				"映射中的 billno 与单据编号不一致：检查映射的 billno 表达式")
		}
	}
	_, hasID := m["id"]
	if _, hasNo := m["billno"]; !hasNo || (b.ID != "" && !hasID) || (b.ID == "" && hasID) {
		cp := make(map[string]any, len(m)+2)
		for k, v := range m {
			cp[k] = v
		}
		cp["billno"] = b.No
		delete(cp, "id")
		if b.ID != "" {
			cp["id"] = b.ID
		}
		m = cp
	}
	body, err := json.Marshal(m)
	if err != nil {
		return nil, bad("the mapped bill cannot be encoded as JSON: "+err.Error(), "", "映射结果含有无法编码为 JSON 的值：检查映射表达式")
	}
	return body, nil
}

// refPattern finds the reference a message names: 客户[SHOP-A], 第2行商品[SKU-1].
var refPattern = regexp.MustCompile(`(?:第(\d+)行)?\s*(客户|商品|物料|仓库|单位|单据)[^\[\]【】]{0,8}[\[【]([^\]】]*)[\]】]`)

// fieldPattern finds a field a message names: 第1行数量 qty 须大于 0.
var fieldPattern = regexp.MustCompile(`(?:第(\d+)行)?[^a-z_]*\b(qty|taxprice|price|is_free|unit_id|material_entity|customerid_id|customerid_number|materialid_id|materialid_number|stockid_id|stockid_number|billno)\b`)

// refusal turns a business refusal into a Permanent error with the field
// it is about and a hint in Chinese.
func (c *Client) refusal(code, msg string, body map[string]any) *connector.CallError {
	ce := &connector.CallError{Class: connector.Permanent, System: c.opt.System, Op: APISalOrderSave, Code: code, Message: msg,
		Hint: "金蝶云星辰拒绝了该销售订单：按上面的原因修改源单据、lookup 表或映射后重试"}
	m := refPattern.FindStringSubmatch(msg)
	if m == nil {
		f := fieldPattern.FindStringSubmatch(msg)
		switch {
		case strings.Contains(msg, "billdate") || strings.Contains(msg, "单据日期"):
			ce.Field, ce.Hint = "billdate", "单据日期缺失或格式不对：映射中的 billdate 须为 yyyy-MM-dd"
		case f != nil:
			ce.Field = f[2]
			if n, err := strconv.Atoi(f[1]); err == nil && n > 0 {
				ce.Field = fmt.Sprintf("material_entity[%d].%s", n-1, f[2])
			}
			ce.Hint = fmt.Sprintf("字段 %s 的值不被金蝶云星辰接受：按上面的原因修改映射或源单据后重试", ce.Field)
		}
		return ce
	}
	line, what, val := m[1], m[2], m[3]
	prefix := ""
	if line != "" {
		if n, err := strconv.Atoi(line); err == nil && n > 0 {
			prefix = fmt.Sprintf("material_entity[%d].", n-1)
		}
	}
	pick := func(byID, byNumber string) string {
		if line == "" {
			if _, ok := body[byID]; ok {
				return byID
			}
			return byNumber
		}
		if n, _ := strconv.Atoi(line); n > 0 {
			if lines, ok := body["material_entity"].([]any); ok && n <= len(lines) {
				if l, ok := lines[n-1].(map[string]any); ok {
					if _, ok := l[byID]; ok {
						return prefix + byID
					}
				}
			}
		}
		return prefix + byNumber
	}
	switch what {
	case "客户":
		ce.Field = pick("customerid_id", "customerid_number")
		ce.Hint = fmt.Sprintf("客户 %s 在金蝶云星辰中不存在：在金蝶新增该客户，或在流程的 lookup 表中把 %s 映射到已有客户编码，然后重试", val, val)
	case "商品", "物料":
		ce.Field = pick("materialid_id", "materialid_number")
		ce.Hint = fmt.Sprintf("商品（物料）%s 在金蝶云星辰中不存在：在金蝶新增该商品，或在流程的 lookup 表中把 %s 映射到已有商品编码，然后重试", val, val)
	case "仓库":
		ce.Field = pick("stockid_id", "stockid_number")
		ce.Hint = fmt.Sprintf("仓库 %s 在金蝶云星辰中不存在：在金蝶新增该仓库，或在流程的 lookup 表中把 %s 映射到已有仓库编码，然后重试", val, val)
	case "单位":
		ce.Field = prefix + "unit_id"
		ce.Hint = fmt.Sprintf("单位 %s 不是该商品的计量单位：在金蝶为商品添加此单位，或在映射中改用商品自己的单位 id（或不传 unit_id），然后重试", val)
	case "单据":
		ce.Field = "id"
		ce.Hint = fmt.Sprintf("要修改的单据 %s 在金蝶云星辰中不存在（可能已被删除）：在异常中跳过，或清除该单据的目标 id 后重试以重新新增", val)
	}
	return ce
}

// --- finding ---------------------------------------------------------------

// Find implements connector.Writer: it looks the bill up by number and
// returns its id. The list search may match more than the number asked
// for; only an exact match counts.
func (c *Client) Find(ctx context.Context, api, no string) (string, bool, error) {
	if api != APISalOrderSave {
		return "", false, fmt.Errorf("jdy: unknown write API %q (this connector writes %s)", api, APISalOrderSave)
	}
	const op = "find sal_order"
	const pageSize, maxPages = 100, 50
	for page := 1; page <= maxPages; page++ {
		q := url.Values{c.opt.FindParam: {no}}
		if c.opt.FindPath == PathSalOrderList {
			q.Set("page", itoa(page))
			q.Set("page_size", itoa(pageSize))
		}
		env, raw, err := c.business(ctx, op, http.MethodGet, c.opt.FindPath, q, nil, false)
		if err != nil {
			return "", false, err
		}
		if code := env.code(); code != "0" {
			if code == itoa(CodeNotFound) {
				return "", false, nil // a detail API's "no such bill"
			}
			ce := &connector.CallError{Class: connector.Permanent, System: c.opt.System, Op: op, Code: code, Message: env.message(),
				Hint: "查询销售订单失败：检查应用是否有销售订单的查询权限"}
			if code == itoa(CodeSystem) {
				ce.Class, ce.Hint = connector.Retry, "金蝶系统错误，稍后自动重试"
			}
			return "", false, ce
		}
		var d listData
		if len(env.Data) == 0 || string(env.Data) == "null" {
			return "", false, nil
		}
		if err := json.Unmarshal(env.Data, &d); err != nil {
			return "", false, c.malformed(op, raw, err)
		}
		if d.Rows == nil {
			// A detail answer: data is the bill itself.
			var one listRow
			if err := json.Unmarshal(env.Data, &one); err == nil && one.no() == no && one.ID != "" {
				return string(one.ID), true, nil
			}
			return "", false, nil
		}
		for i := range d.Rows {
			if d.Rows[i].no() == no {
				return string(d.Rows[i].ID), true, nil
			}
		}
		if c.opt.FindPath != PathSalOrderList || len(d.Rows) < pageSize || page >= d.TotalPage {
			return "", false, nil
		}
	}
	return "", false, &connector.CallError{Class: connector.Permanent, System: c.opt.System, Op: op,
		Message: fmt.Sprintf("more than %d pages match %s", maxPages, no), Hint: "按单据编号搜索到的销售订单过多：检查 find_param 配置"}
}
