package dingtalkapp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"orderhub/internal/connector"
	"orderhub/internal/connector/imtext"
)

// tokenMargin is how long before its expiry a token is fetched again, so
// that no call goes out with a token that expires on the way (im.md 2.2).
const tokenMargin = 5 * time.Minute

// Options configure a Client.
type Options struct {
	System  string // configured system name, for errors and logs
	BaseURL string // default DefaultBaseURL
	AppKey  string
	// AppSecret is the app's credential; it goes only to gettoken.
	AppSecret string
	AgentID   int64
	MsgType   string // markdown (default) or action_card
	// MaxMsgBytes bounds the msg object (default MaxMsgBytes).
	MaxMsgBytes int
	// MaxUsers and MaxDepts bound one call's recipients (default MaxUsers,
	// MaxDepts).
	MaxUsers, MaxDepts int
	// TokenCodes are the errcodes (or errcode 88's sub_codes) meaning the
	// token is invalid or expired (default 40014, 42001).
	TokenCodes []int
	// RobotCode is the app robot's code for DING messages (default
	// AppKey); APIBaseURL the new API root (default DefaultAPIBaseURL);
	// DingMaxChars bounds a DING's content (default DingMaxChars).
	RobotCode    string
	APIBaseURL   string
	DingMaxChars int
	// Tokens keeps the access token; senders sharing it share the token. A
	// MemoryTokens on Now when nil.
	Tokens connector.TokenCache
	HTTP   *http.Client
	Now    func() time.Time
	Log    *slog.Logger
}

// Client sends work notifications in one app's name and reads their
// status. It is safe for concurrent use.
type Client struct {
	system     string
	base       string
	apiBase    string
	robotCode  string
	dingMax    int
	appKey     string
	appSecret  string
	agentID    int64
	msgType    string
	maxBytes   int
	maxUsers   int
	maxDepts   int
	tokenCodes map[int]bool
	tokens     connector.TokenCache
	tokenKey   string
	http       *http.Client
	now        func() time.Time
	log        *slog.Logger
	progress   progress
}

var (
	_ connector.Sender      = (*Client)(nil)
	_ connector.ReadTracker = (*Client)(nil)
)

// New returns a client for the app the options describe.
func New(o Options) (*Client, error) {
	base, err := checkBaseURL(o.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("dingtalkapp: system %q: base_url %w", o.System, err)
	}
	apiBase, err := checkRoot(o.APIBaseURL, DefaultAPIBaseURL)
	if err != nil {
		return nil, fmt.Errorf("dingtalkapp: system %q: api_base_url %w", o.System, err)
	}
	if o.RobotCode == "" {
		o.RobotCode = o.AppKey
	}
	if o.DingMaxChars <= 0 {
		o.DingMaxChars = DingMaxChars
	}
	if o.AppKey == "" || o.AppSecret == "" {
		return nil, fmt.Errorf("dingtalkapp: system %q: app_key and app_secret are required", o.System)
	}
	if o.AgentID <= 0 {
		return nil, fmt.Errorf("dingtalkapp: system %q: agent_id must be the app's AgentId, a positive number", o.System)
	}
	switch o.MsgType {
	case "":
		o.MsgType = TypeMarkdown
	case TypeMarkdown, TypeActionCard:
	default:
		return nil, fmt.Errorf("dingtalkapp: system %q: unknown msgtype %q (markdown or action_card)", o.System, o.MsgType)
	}
	if o.MaxMsgBytes <= 0 {
		o.MaxMsgBytes = MaxMsgBytes
	}
	if o.MaxUsers <= 0 {
		o.MaxUsers = MaxUsers
	}
	if o.MaxDepts <= 0 {
		o.MaxDepts = MaxDepts
	}
	if len(o.TokenCodes) == 0 {
		o.TokenCodes = []int{CodeTokenInvalid, CodeTokenExpired}
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
	if o.Tokens == nil {
		o.Tokens = &connector.MemoryTokens{Now: o.Now}
	}
	codes := map[int]bool{}
	for _, c := range o.TokenCodes {
		codes[c] = true
	}
	return &Client{
		system: o.System, base: base, apiBase: apiBase, robotCode: o.RobotCode, dingMax: o.DingMaxChars, appKey: o.AppKey, appSecret: o.AppSecret, agentID: o.AgentID,
		msgType: o.MsgType, maxBytes: o.MaxMsgBytes, maxUsers: o.MaxUsers, maxDepts: o.MaxDepts,
		tokenCodes: codes, tokens: o.Tokens, tokenKey: TokenKey(base, o.AppKey),
		http: o.HTTP, now: o.Now, log: o.Log,
	}, nil
}

// TokenKey is the key under which an app's access token is cached: tokens
// are per app, and an app on a simulator is not the app on DingTalk.
func TokenKey(base, appKey string) string {
	return "dingtalk_app " + strings.TrimRight(base, "/") + " " + appKey
}

// Send implements connector.Sender. A message to more people than one call
// takes goes out in several calls; MessageID is then their task ids joined
// by commas, in order, which ReadStatus takes as it is. When a call fails
// after others went out, the error is returned and the task ids of the
// calls that went out are kept for the message's Key for a day, so that
// sending it again reaches only those not reached yet.
func (c *Client) Send(ctx context.Context, m connector.Message) (connector.SendResult, error) {
	r := addressees(m.To)
	if !r.all && len(r.users) == 0 && len(r.depts) == 0 {
		return connector.SendResult{}, &connector.CallError{Class: connector.Permanent, System: c.system, Op: opSend,
			Code: "no recipient", Hint: noRecipientHint(r.unreachable)}
	}
	if len(r.unreachable) > 0 {
		c.log.Warn("dingtalkapp: recipients without a 钉钉 address are left out", "system", c.system, "key", m.Key,
			"left_out", strings.Join(r.unreachable, ", "))
	}
	msg, cut, err := c.build(m)
	if errors.Is(err, errEmpty) {
		return connector.SendResult{}, &connector.CallError{Class: connector.Permanent, System: c.system, Op: opSend, Err: err,
			Hint: "模板渲染出的消息为空：检查该规则模板的 title 与 markdown"}
	}
	if err != nil {
		return connector.SendResult{}, &connector.CallError{Class: connector.Permanent, System: c.system, Op: opSend, Err: err,
			Hint: "消息的标题或链接过长，放不进钉钉工作通知 2048 字节的限制：缩短模板的标题或订单链接"}
	}
	if cut {
		c.log.Debug("dingtalkapp: message cut to the msg size limit", "system", c.system, "key", m.Key, "bytes", len(msg))
	}
	pk := ""
	if m.Key != "" {
		h := sha256.Sum256(msg)
		pk = m.Key + " " + hex.EncodeToString(h[:8])
	}
	chunks := r.chunks(c.maxUsers, c.maxDepts)
	ids := make([]string, 0, len(chunks))
	for _, ch := range chunks {
		if id, ok := c.progress.get(pk, ch.key()); ok {
			ids = append(ids, id)
			continue
		}
		req := sendRequest{AgentID: c.agentID, UserIDList: strings.Join(ch.users, ","), DeptIDList: strings.Join(ch.depts, ","), ToAllUser: ch.all, Msg: msg}
		a, err := c.call(ctx, opSend, PathSend, req)
		if err != nil {
			res := connector.SendResult{MessageID: strings.Join(ids, ",")}
			if ce, ok := connector.AsCallError(err); ok {
				res.Code = ce.Code
			}
			return res, err
		}
		if a.TaskID == 0 {
			return connector.SendResult{MessageID: strings.Join(ids, ",")}, &connector.CallError{Class: connector.Unknown, System: c.system, Op: opSend,
				Code: "0", Message: "no task_id", Hint: unknownSendHint}
		}
		id := strconv.FormatInt(a.TaskID, 10)
		c.progress.put(pk, ch.key(), id, c.now())
		ids = append(ids, id)
	}
	c.progress.done(pk)
	return connector.SendResult{MessageID: strings.Join(ids, ","), Code: "0", Cut: cut}, nil
}

// Render returns the msg object Send would post for m, and whether it was
// cut, without sending it: what `orderhub rules test` shows per channel.
func (c *Client) Render(m connector.Message) (msg []byte, cut bool, err error) {
	msg, cut, err = c.build(m)
	if err != nil {
		return nil, false, fmt.Errorf("dingtalkapp: system %q: %w", c.system, err)
	}
	return msg, cut, nil
}

func noRecipientHint(unreachable []string) string {
	h := "这条工作通知没有可送达的钉钉收件人：在 people 中为收件人配置 dingtalk_userid（钉钉通讯录里的 userid），或在规则的 to 中写 dept:部门ID 或 all"
	if len(unreachable) > 0 {
		h += "；缺少 dingtalk_userid 的有：" + strings.Join(unreachable, "、")
	}
	return h
}

// unknownSendHint explains an asyncsend_v2 call whose answer was lost:
// DingTalk delivers the same content to the same person once a day, so
// sending again does not disturb anyone twice.
const unknownSendHint = "发送工作通知后没有收到钉钉的应答，是否已发出未知；系统会重发，钉钉同一天对同一人的相同内容只送达一次，不会重复打扰"

// call posts body to path with the app's token. When DingTalk says the
// token is invalid or expired, the token is replaced in the shared cache
// and the call made again, once.
func (c *Client) call(ctx context.Context, op, path string, body any) (answer, error) {
	tok, err := c.tokens.Token(ctx, c.tokenKey, c.fetchToken)
	if err != nil {
		return answer{}, err
	}
	a, err := c.post(ctx, op, path, tok, body)
	if err == nil || !c.tokenRefused(a) {
		return a, err
	}
	c.log.Info("dingtalkapp: access token refused; fetching a new one", "system", c.system, "op", op, "errcode", codeText(a))
	if tok, err = c.renewToken(ctx, tok); err != nil {
		return answer{}, err
	}
	a, err = c.post(ctx, op, path, tok, body)
	if err != nil && c.tokenRefused(a) {
		ce, _ := connector.AsCallError(err)
		ce.Hint = "钉钉刚发放的 access_token 也被拒绝：核对 app_key 与 app_secret 属于同一个企业内部应用、base_url 指向 " + DefaultBaseURL
		if ferr := c.tokens.Forget(ctx, c.tokenKey); ferr != nil {
			return a, fmt.Errorf("dingtalkapp: system %q: forgetting a refused token: %w (after %w)", c.system, ferr, ce)
		}
		return a, ce
	}
	return a, err
}

// renewing holds one lock per token key: the senders of one app in this
// process replace a refused token one at a time, so that the first fetches
// a new one and the others take it.
var renewing sync.Map

// renewToken replaces the refused token in the cache, unless another
// sender already has: then its token is the one to use.
func (c *Client) renewToken(ctx context.Context, refused string) (string, error) {
	mu, _ := renewing.LoadOrStore(c.tokenKey, new(sync.Mutex))
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	cur, err := c.tokens.Token(ctx, c.tokenKey, c.fetchToken)
	if err != nil || cur != refused {
		return cur, err
	}
	if err := c.tokens.Forget(ctx, c.tokenKey); err != nil {
		return "", fmt.Errorf("dingtalkapp: system %q: forgetting a refused token: %w", c.system, err)
	}
	return c.tokens.Token(ctx, c.tokenKey, c.fetchToken)
}

// tokenRefused reports whether an answer says the token is invalid or
// expired: the code itself, or errcode 88's sub_code.
func (c *Client) tokenRefused(a answer) bool {
	if a.ErrCode == nil {
		return false
	}
	if c.tokenCodes[int(*a.ErrCode)] {
		return true
	}
	if int(*a.ErrCode) == CodeAuth {
		n, err := strconv.Atoi(a.SubCode)
		return err == nil && c.tokenCodes[n]
	}
	return false
}

func (c *Client) post(ctx context.Context, op, path, token string, body any) (answer, error) {
	u := c.base + path + "?" + url.Values{"access_token": {token}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(encode(body)))
	if err != nil {
		return answer{}, &connector.CallError{Class: connector.Permanent, System: c.system, Op: op, Err: redact(err), Hint: "base_url 无法使用：检查配置"}
	}
	req.Header.Set("Content-Type", "application/json;charset=utf-8")
	return c.do(req, op, op == opSend)
}

func (c *Client) fetchToken(ctx context.Context) (string, time.Time, error) {
	q := url.Values{"appkey": {c.appKey}, "appsecret": {c.appSecret}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+PathToken+"?"+q.Encode(), nil)
	if err != nil {
		return "", time.Time{}, &connector.CallError{Class: connector.Permanent, System: c.system, Op: opToken, Err: redact(err), Hint: "base_url 无法使用：检查配置"}
	}
	now := c.now()
	a, err := c.do(req, opToken, false)
	if err != nil {
		return "", time.Time{}, err
	}
	if a.AccessToken == "" || a.ExpiresIn <= 0 {
		return "", time.Time{}, &connector.CallError{Class: connector.Retry, System: c.system, Op: opToken, Code: "0",
			Message: "no access_token", Hint: "钉钉的 gettoken 应答没有 access_token：检查 base_url 是否指向 " + DefaultBaseURL}
	}
	life := time.Duration(a.ExpiresIn) * time.Second
	c.log.Debug("dingtalkapp: fetched an access token", "system", c.system, "expires_in", a.ExpiresIn)
	return a.AccessToken, now.Add(life - min(tokenMargin, life/2)), nil
}

// do sends a request and reads DingTalk's answer. write says the call may
// have taken effect when its answer is lost.
func (c *Client) do(req *http.Request, op string, write bool) (answer, error) {
	now := c.now()
	status, body, err := connector.Do(c.http, c.system, op, req)
	if err != nil {
		ce, _ := connector.AsCallError(err)
		ce.Err = redact(ce.Err)
		switch {
		case ce.Class == connector.Unknown && write:
			ce.Hint = unknownSendHint
		case ce.Class == connector.Unknown:
			// A read or a token lost on the way changed nothing.
			ce.Class, ce.Hint = connector.Retry, "与钉钉的连接中断，稍后自动重试"
		}
		return answer{}, ce
	}
	if status != http.StatusOK {
		// The legacy API answers 200 for every business error; anything
		// else came from a gateway, or from the new API family.
		if ce := c.classifyNew(op, status, body, now); ce != nil {
			return answer{}, ce
		}
		ce := connector.StatusError(c.system, op, status, body, write)
		if ce.Class == connector.Unknown {
			ce.Hint = unknownSendHint
		}
		return answer{}, ce
	}
	var a answer
	if err := json.Unmarshal(body, &a); err != nil || (a.ErrCode == nil && a.Status == 0) {
		ce := &connector.CallError{Class: connector.Retry, System: c.system, Op: op, Code: "HTTP 200", Message: imtext.CutRunes(string(bytes.TrimSpace(body)), 200),
			Hint: "钉钉返回了无法识别的应答：检查 base_url 是否指向 " + DefaultBaseURL}
		if write {
			ce.Class, ce.Hint = connector.Unknown, unknownSendHint
		}
		return answer{}, ce
	}
	if a.ErrCode == nil {
		return a, c.ipBanned(op, a)
	}
	if *a.ErrCode == CodeOK {
		return a, nil
	}
	return a, c.classify(op, a, now)
}

// redact takes the query out of a URL error: it holds the app's secret
// (gettoken) or its access token (every other call).
func redact(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	u, perr := url.Parse(ue.URL)
	if perr != nil {
		return &url.Error{Op: ue.Op, URL: "(address withheld)", Err: ue.Err}
	}
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	return &url.Error{Op: ue.Op, URL: u.String(), Err: ue.Err}
}

// progress keeps, per message key and content, the task ids of the calls
// that went out, so that a retry of a message split into several calls
// sends only the rest. Entries live a day, DingTalk's own dedupe window.
type progress struct {
	mu      sync.Mutex
	entries map[string]*progressEntry
	swept   time.Time
}

type progressEntry struct {
	at    time.Time
	tasks map[string]string
}

const progressLife = 24 * time.Hour

func (p *progress) get(key, chunk string) (string, bool) {
	if key == "" {
		return "", false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.entries[key]
	if e == nil {
		return "", false
	}
	id, ok := e.tasks[chunk]
	return id, ok
}

func (p *progress) put(key, chunk, id string, now time.Time) {
	if key == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.entries == nil {
		p.entries = map[string]*progressEntry{}
	}
	if now.Sub(p.swept) > time.Hour {
		for k, e := range p.entries {
			if now.Sub(e.at) > progressLife {
				delete(p.entries, k)
			}
		}
		p.swept = now
	}
	e := p.entries[key]
	if e == nil {
		e = &progressEntry{at: now, tasks: map[string]string{}}
		p.entries[key] = e
	}
	e.tasks[chunk] = id
}

// done drops a message whose calls all went out.
func (p *progress) done(key string) {
	if key == "" {
		return
	}
	p.mu.Lock()
	delete(p.entries, key)
	p.mu.Unlock()
}
