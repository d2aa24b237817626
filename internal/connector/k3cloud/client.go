package k3cloud

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"orderhub/internal/connector"
)

// Config is what a Client is built from. The settings of a configured
// system fill it; tests and the demo fill it directly.
type Config struct {
	// System is the configured system's name, for errors and logs.
	System string
	// BaseURL is the site root, e.g. https://mycorp.ik3cloud.com/k3cloud.
	BaseURL  string
	AcctID   string
	Username string
	Password string
	// AppID and AppSecret come from 第三方系统登录授权.
	AppID     string
	AppSecret string
	// LCID is the language; 2052 when 0.
	LCID int
	// Auth is AuthPassword, AuthAppSecret or AuthSigned; when empty, the
	// password if given, else the app secret.
	Auth string
	// Org is the organisation number signed headers carry ("0" when empty).
	Org string
	// AutoAudit sends IsAutoSubmitAndAudit with every save.
	AutoAudit bool

	HTTP *http.Client
	Now  func() time.Time
	Log  *slog.Logger

	// The points erp.md leaves open, kept switchable:
	// TimestampMillis sends x-api-timestamp in milliseconds (.NET SDK)
	// rather than seconds (Python SDK).
	TimestampMillis bool
	// SignHeaders is the x-api-signheaders value; "x-api-timestamp,x-api-nonce"
	// when empty (some Java clients send "X-Api-TimeStamp,X-Api-Nonce").
	SignHeaders string
	// QueryLimit is the Limit of ExecuteBillQuery pages; 2000 when 0 (older
	// servers cap it there, newer ones at 10000).
	QueryLimit int
}

// Client calls one 金蝶云星空 site. It is safe for concurrent use: callers
// share one login session, and a lost session is renewed by one login
// however many callers notice it at once.
type Client struct {
	cfg  Config
	base string
	http *http.Client
	now  func() time.Time
	log  *slog.Logger

	// Signed headers: all but the timestamp, nonce and X-Api-Signature are
	// the same on every call, so they are computed once.
	clientID, apiKey, appData, kdSig string

	mu       sync.Mutex
	sid      string // live session id; "" when none
	gen      uint64 // bumps with every new session
	attempts uint64 // login attempts made
	loginErr error  // outcome of the last attempt
	// loginSem lets one login run at a time; a caller that waited on it
	// takes the outcome of the login that ran meanwhile instead of its own.
	loginSem chan struct{}
	logins   atomic.Int64
}

// New returns a client for cfg.
func New(cfg Config) (*Client, error) {
	if cfg.LCID == 0 {
		cfg.LCID = 2052
	}
	if cfg.Auth == "" {
		cfg.Auth = AuthPassword
		if cfg.Password == "" && cfg.AppID != "" {
			cfg.Auth = AuthAppSecret
		}
	}
	if cfg.QueryLimit <= 0 {
		cfg.QueryLimit = 2000
	}
	if cfg.SignHeaders == "" {
		cfg.SignHeaders = "x-api-timestamp,x-api-nonce"
	}
	base := strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/")
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		return nil, fmt.Errorf("k3cloud: base_url %q is not an http(s) URL: use the site root, e.g. https://mycorp.ik3cloud.com/k3cloud", cfg.BaseURL)
	}
	if cfg.AcctID == "" || cfg.Username == "" {
		return nil, fmt.Errorf("k3cloud: acct_id and username are required")
	}
	c := &Client{cfg: cfg, base: base, http: cfg.HTTP, now: cfg.Now, log: cfg.Log, loginSem: make(chan struct{}, 1)}
	if c.http == nil {
		c.http = &http.Client{Timeout: 30 * time.Second}
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	switch cfg.Auth {
	case AuthPassword:
		if cfg.Password == "" {
			return nil, fmt.Errorf("k3cloud: auth %s needs password", cfg.Auth)
		}
	case AuthAppSecret, AuthSigned:
		if cfg.AppID == "" || cfg.AppSecret == "" {
			return nil, fmt.Errorf("k3cloud: auth %s needs app_id and app_secret", cfg.Auth)
		}
		if cfg.Auth == AuthSigned {
			id, key, err := SplitAppID(cfg.AppID)
			if err != nil {
				return nil, fmt.Errorf("k3cloud: %w", err)
			}
			plain := AppData(cfg.AcctID, cfg.Username, cfg.LCID, cfg.Org)
			c.clientID, c.apiKey = id, key
			c.appData = base64.StdEncoding.EncodeToString([]byte(plain))
			c.kdSig = KdSignature(cfg.AppID, cfg.AppSecret, plain)
		}
	default:
		return nil, fmt.Errorf("k3cloud: auth %q is none of password, app_secret, signed_headers", cfg.Auth)
	}
	return c, nil
}

// Logins reports how many logins the client has sent.
func (c *Client) Logins() int { return int(c.logins.Load()) }

func (c *Client) url(service string) string { return c.base + "/" + service + ServiceSuffix }

// session returns a live session id and its generation, logging in when
// there is none. Signed headers need no session.
func (c *Client) session(ctx context.Context) (string, uint64, error) {
	if c.cfg.Auth == AuthSigned {
		return "", 0, nil
	}
	c.mu.Lock()
	if c.sid != "" {
		sid, gen := c.sid, c.gen
		c.mu.Unlock()
		return sid, gen, nil
	}
	seen := c.attempts
	c.mu.Unlock()

	select {
	case c.loginSem <- struct{}{}:
	case <-ctx.Done():
		return "", 0, connector.TransportError(c.cfg.System, "login", ctx.Err(), false)
	}
	defer func() { <-c.loginSem }()

	c.mu.Lock()
	if c.attempts != seen {
		// A login ran while this caller waited: share its outcome rather
		// than sending another.
		sid, gen, err := c.sid, c.gen, c.loginErr
		if sid != "" || err != nil {
			c.mu.Unlock()
			return sid, gen, err
		}
	}
	c.mu.Unlock()

	sid, err := c.login(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.attempts++
	c.loginErr = err
	if err != nil {
		return "", 0, err
	}
	c.sid = sid
	c.gen++
	return c.sid, c.gen, nil
}

// dropSession forgets the session of generation gen, unless a newer one
// already replaced it.
func (c *Client) dropSession(gen uint64) {
	c.mu.Lock()
	if c.gen == gen {
		c.sid = ""
	}
	c.mu.Unlock()
}

// login sends ValidateUser or LoginByAppSecret and returns the session id.
func (c *Client) login(ctx context.Context) (string, error) {
	c.logins.Add(1)
	service, op := ServiceValidateUser, "ValidateUser"
	params := []any{c.cfg.AcctID, c.cfg.Username, c.cfg.Password, c.cfg.LCID}
	if c.cfg.Auth == AuthAppSecret {
		service, op = ServiceLoginByAppSecret, "LoginByAppSecret"
		params = []any{c.cfg.AcctID, c.cfg.Username, c.cfg.AppID, c.cfg.AppSecret, c.cfg.LCID}
	}
	body, err := json.Marshal(map[string]any{"parameters": params})
	if err != nil {
		return "", fmt.Errorf("k3cloud: encoding the login: %w", err)
	}
	status, resp, err := c.post(ctx, service, op, body, "")
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return "", connector.StatusError(c.cfg.System, op, status, resp, false)
	}
	var lr LoginResult
	if err := json.Unmarshal(resp, &lr); err != nil {
		return "", &connector.CallError{Class: connector.Retry, System: c.cfg.System, Op: op, Message: snippet(resp), Err: err,
			Hint: "金蝶登录接口的回答无法解析：检查 base_url 是否指向 K3Cloud 站点根（…/k3cloud）"}
	}
	if lr.LoginResultType != 1 || lr.KDSVCSessionID == "" {
		msg := "登录失败"
		if lr.Message != nil && *lr.Message != "" {
			msg = *lr.Message
		}
		hint := "金蝶登录失败：检查 acct_id（数据中心 id）、username 与 password 是否正确，该用户是否被禁用或锁定"
		if c.cfg.Auth == AuthAppSecret {
			hint = "金蝶登录失败：检查 acct_id（数据中心 id）、username、app_id 与 app_secret（系统管理 → 第三方系统登录授权）"
		}
		return "", &connector.CallError{Class: connector.Permanent, System: c.cfg.System, Op: op,
			Code: "LoginResultType " + strconv.Itoa(lr.LoginResultType), Message: msg, Hint: hint}
	}
	c.log.Debug("k3cloud login", "system", c.cfg.System, "op", op)
	return lr.KDSVCSessionID, nil
}

// post sends one call with the session (or the signed headers).
func (c *Client) post(ctx context.Context, service, op string, body []byte, sid string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url(service), bytes.NewReader(body))
	if err != nil {
		return 0, nil, &connector.CallError{Class: connector.Permanent, System: c.cfg.System, Op: op, Err: err,
			Hint: "base_url 无法组成请求地址：检查 base_url"}
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if sid != "" {
		req.Header.Set("Cookie", SessionCookie+"="+sid)
		req.Header.Set(SessionCookie, sid)
	}
	if c.cfg.Auth == AuthSigned {
		c.sign(req)
	}
	return connector.Do(c.http, c.cfg.System, op, req)
}

// sign adds the third-party authorisation headers (erp.md 2.3).
func (c *Client) sign(req *http.Request) {
	now := c.now()
	ts := strconv.FormatInt(now.Unix(), 10)
	if c.cfg.TimestampMillis {
		ts = strconv.FormatInt(now.UnixMilli(), 10)
	}
	nonce := strconv.FormatUint(rand.Uint64(), 10)
	path := req.URL.EscapedPath()
	if req.URL.RawQuery != "" {
		path += "?" + req.URL.RawQuery
	}
	h := req.Header
	h.Set("X-Api-ClientID", c.clientID)
	h.Set("X-Api-Auth-Version", "2.0")
	h.Set("x-api-timestamp", ts)
	h.Set("x-api-nonce", nonce)
	h.Set("x-api-signheaders", c.cfg.SignHeaders)
	h.Set("X-Api-Signature", APISignature(c.apiKey, path, nonce, ts))
	h.Set("X-Kd-Appkey", c.cfg.AppID)
	h.Set("X-Kd-Appdata", c.appData)
	h.Set("X-Kd-Signature", c.kdSig)
}

// call sends a business call. decode reads the answer into the caller's
// value and returns the status it carries (nil when none). A session the
// server lost is renewed and the call sent once more: the server did
// nothing with a call it refused for want of a session.
func (c *Client) call(ctx context.Context, service, op string, body []byte, write bool, decode func([]byte) (*ResponseStatus, error)) error {
	for attempt := 0; ; attempt++ {
		sid, gen, err := c.session(ctx)
		if err != nil {
			return err
		}
		status, resp, err := c.post(ctx, service, op, body, sid)
		if err != nil {
			return err
		}
		if status != http.StatusOK {
			return connector.StatusError(c.cfg.System, op, status, resp, write)
		}
		st, err := decode(resp)
		if err != nil {
			ce := &connector.CallError{Class: connector.Retry, System: c.cfg.System, Op: op, Code: "HTTP 200", Message: snippet(resp), Err: err,
				Hint: "金蝶的回答无法解析：检查 base_url 是否指向 K3Cloud 站点根（…/k3cloud）"}
			if write {
				ce.Class, ce.Hint = connector.Unknown, "金蝶的回答无法解析，写入结果未知；系统会先核对单据是否已存在再重试"
			}
			return ce
		}
		if st == nil || st.IsSuccess {
			return nil
		}
		switch st.MsgCode {
		case MsgContextLost:
			if attempt == 0 {
				c.log.Info("k3cloud session lost, logging in again", "system", c.cfg.System, "op", op)
				c.dropSession(gen)
				continue
			}
			ce := statusError(c.cfg.System, op, st, connector.Retry, "金蝶刚登录就又报告会话丢失；系统会稍后重试")
			if c.cfg.Auth == AuthSigned {
				ce.Class = connector.Permanent
				ce.Hint = "金蝶不接受第三方授权签名：检查 app_id、app_secret、acct_id、username 与该授权记录是否启用，服务器补丁是否 ≥ PT136657"
			}
			return ce
		case MsgCallLimit:
			return statusError(c.cfg.System, op, st, connector.SlowDown, "金蝶调用限制（MsgCode 14）：系统会放慢并稍后重试")
		}
		return nil
	}
}

// statusError is a whole-call failure from a status.
func statusError(system, op string, st *ResponseStatus, class connector.Class, hint string) *connector.CallError {
	ce := &connector.CallError{Class: class, System: system, Op: op, Code: "MsgCode " + strconv.Itoa(st.MsgCode), Hint: hint}
	if len(st.Errors) > 0 {
		ce.Message = st.Errors[0].Message
		ce.Field = st.Errors[0].Field()
	}
	return ce
}

func snippet(b []byte) string {
	const max = 200
	s := strings.TrimSpace(string(b))
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}
