package dingtalk

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"orderhub/internal/connector/simfault"
)

// SimConfig configures a Sim. Zero fields take the defaults noted.
type SimConfig struct {
	// Now is the simulator's clock; default time.Now.
	Now func() time.Time
	// PerMinute is how many messages a robot takes in any 60 s (20).
	PerMinute int
	// NoRateLimit turns the per-robot limit off, for benchmarks.
	NoRateLimit bool
	// Block is how long a robot stays throttled after going over (10 min).
	Block time.Duration
	// ThrottleCode is the errcode of a throttled call: CodeTooFast (the
	// default, as observed), CodeTooFastDoc or CodeTooFastNew.
	ThrottleCode int
	// BadTokenCode answers an unknown access_token: CodeNoToken (default,
	// as observed) or CodeNoTokenDoc.
	BadTokenCode int
	// MaxBytes is the largest body taken (20000).
	MaxBytes int
	// Window is how far 加签's timestamp may be from now (1 h).
	Window time.Duration
	// MonthlyQuota, when set, is how many messages the organisation may send
	// a calendar month; more get CodeMonthlyQuota.
	MonthlyQuota int
	// DropBodies keeps the decoded text but not the body as sent, to hold
	// long benchmark runs in less memory.
	DropBodies bool
	// CountOnly keeps nothing of an accepted message but its count (Len),
	// for benchmarks of any length; Received and MaxCallsIn see nothing.
	CountOnly bool
}

// Robot is one custom robot of the simulated organisation, with its
// security settings.
type Robot struct {
	Token  string
	Secret string // 加签 on when set
	// Keywords are its 自定义关键词 (at most 10); a message must show one.
	Keywords []string
	// AllowIPs is its IP 地址（段） list: IPv4 addresses or CIDRs.
	AllowIPs []string
	Disabled bool
	// PerMinute overrides SimConfig.PerMinute for this robot; negative:
	// no limit.
	PerMinute int
}

// Received is one message a robot accepted.
type Received struct {
	Token   string    `json:"-"` // a credential: not listed by PathInspect
	At      time.Time `json:"at"`
	MsgType string    `json:"msgtype"`
	Title   string    `json:"title"`
	// Text is everything the message shows a person (title, text, button
	// and entry titles), joined by newlines.
	Text      string   `json:"text"`
	AtMobiles []string `json:"at_mobiles,omitempty"`
	AtUserIDs []string `json:"at_user_ids,omitempty"`
	AtAll     bool     `json:"at_all,omitempty"`
	// Mentioned are the mentions whose @token appears in the content, the
	// ones DingTalk highlights.
	Mentioned []string `json:"mentioned,omitempty"`
	MsgUUID   string   `json:"msg_uuid,omitempty"`
	// Body is the request body (nil with DropBodies).
	Body []byte `json:"-"`
}

// Rejection is one refused call.
type Rejection struct {
	Token   string    `json:"-"`
	At      time.Time `json:"at"`
	ErrCode int       `json:"errcode"`
	ErrMsg  string    `json:"errmsg"`
}

// Sim is a strict local DingTalk robot webhook (POST /robot/send) for any
// number of robots: access_token, Content-Type, size, message shape with
// DingTalk's exact field names, the IP allow-list, 加签's timestamp window
// and signature, keywords, msgUuid, the per-robot rate limit and its
// 10-minute block, each refused with DingTalk's errcode and errmsg over
// HTTP 200. It is an http.Handler.
type Sim struct {
	cfg    SimConfig
	faults simfault.Injector

	mu       sync.Mutex
	robots   map[string]*simRobot
	received []Received
	rejected []Rejection
	month    string
	monthN   int
	counted  int // accepted messages not kept (CountOnly)
}

type simRobot struct {
	Robot
	allow        []netip.Prefix
	rate         rateRing
	blockedUntil time.Time
	uuids        map[string]struct{}
}

// NewSim returns a simulator without robots (see AddRobot).
func NewSim(cfg SimConfig) *Sim {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PerMinute == 0 {
		cfg.PerMinute = PerMinute
	}
	if cfg.Block <= 0 {
		cfg.Block = 10 * time.Minute
	}
	if cfg.ThrottleCode == 0 {
		cfg.ThrottleCode = CodeTooFast
	}
	if cfg.BadTokenCode == 0 {
		cfg.BadTokenCode = CodeNoToken
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = MaxBytes
	}
	if cfg.Window <= 0 {
		cfg.Window = time.Hour
	}
	return &Sim{cfg: cfg, robots: map[string]*simRobot{}}
}

// Config returns the configuration in effect, defaults filled in.
func (s *Sim) Config() SimConfig { return s.cfg }

// Handler returns the simulator as an http.Handler.
func (s *Sim) Handler() http.Handler { return s }

// Faults is the simulator's fault injector. Throttle answers with the
// robot's throttling errcode; LoseAnswer takes the message and drops the
// connection.
func (s *Sim) Faults() *simfault.Injector { return &s.faults }

// AddRobot adds (or replaces) a robot with 加签 when secret is set and the
// given 自定义关键词.
func (s *Sim) AddRobot(token, secret string, keywords ...string) {
	s.SetRobot(Robot{Token: token, Secret: secret, Keywords: keywords})
}

// SetRobot adds or replaces a robot. It panics on an allow-list entry that
// is not IPv4 or CIDR, a mistake in the test that set it.
func (s *Sim) SetRobot(r Robot) {
	var kws []string
	for _, k := range r.Keywords {
		if k != "" { // an empty keyword is no keyword, not one every text has
			kws = append(kws, k)
		}
	}
	r.Keywords = kws
	sr := &simRobot{Robot: r, uuids: map[string]struct{}{}}
	for _, a := range r.AllowIPs {
		p, err := netip.ParsePrefix(a)
		if err != nil {
			addr, err2 := netip.ParseAddr(a)
			if err2 != nil || !addr.Is4() {
				panic("dingtalk sim: allow-list entry " + a + " is not IPv4 or CIDR")
			}
			p = netip.PrefixFrom(addr, 32)
		}
		sr.allow = append(sr.allow, p)
	}
	per := r.PerMinute
	if per == 0 {
		per = s.cfg.PerMinute
	}
	if s.cfg.NoRateLimit {
		per = -1
	}
	sr.rate = newRateRing(per)
	s.mu.Lock()
	s.robots[r.Token] = sr
	s.mu.Unlock()
}

// DisableRobot stops a robot, as 停用 in the group does.
func (s *Sim) DisableRobot(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.robots[token]; ok {
		r.Disabled = true
	}
}

// WebhookURL is the webhook of a robot on a simulator served at base.
func WebhookURL(base, token string) string {
	return strings.TrimRight(base, "/") + PathSend + "?access_token=" + token
}

// Received lists the accepted messages, oldest first.
func (s *Sim) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

// ReceivedBy lists what one robot accepted.
func (s *Sim) ReceivedBy(token string) []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Received
	for _, r := range s.received {
		if r.Token == token {
			out = append(out, r)
		}
	}
	return out
}

// Len is how many messages were accepted.
func (s *Sim) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.received) + s.counted
}

// MaxCallsIn is the most calls, accepted or refused, that one robot saw in
// any window of the given length: what a test of the hub's pacing checks
// against the provider's 20 a minute.
func (s *Sim) MaxCallsIn(token string, window time.Duration) int {
	s.mu.Lock()
	var at []time.Time
	for _, r := range s.received {
		if r.Token == token {
			at = append(at, r.At)
		}
	}
	for _, r := range s.rejected {
		if r.Token == token {
			at = append(at, r.At)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(at, time.Time.Compare)
	most, lo := 0, 0
	for hi := range at {
		for at[hi].Sub(at[lo]) >= window {
			lo++
		}
		most = max(most, hi-lo+1)
	}
	return most
}

// Rejected lists the refused calls, oldest first.
func (s *Sim) Rejected() []Rejection {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Rejection(nil), s.rejected...)
}

// --- HTTP ------------------------------------------------------------------

// simError is one refusal: errcode and errmsg.
type simError struct {
	code int
	msg  string
}

func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	set := s.faults.Draw(r)
	if set.Before(w, r) {
		return
	}
	switch r.URL.Path {
	case PathSend:
	case PathInspect:
		s.inspect(w, r)
		return
	default:
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}
	now := s.cfg.Now()
	q := r.URL.Query()
	token := q.Get("access_token")
	rec, refusal := s.check(r, q, token, now, set.Has(simfault.Throttle))
	if refusal != nil {
		s.refuse(w, token, now, refusal)
		return
	}
	if rec == nil { // a msgUuid seen before: shown once
		writeAnswer(w, CodeOK, "ok")
		return
	}
	if set.Has(simfault.LoseAnswer) {
		simfault.DropAnswer(w)
		return
	}
	writeAnswer(w, CodeOK, "ok")
}

// check runs DingTalk's checks in order and, when they pass, records the
// message. It returns (nil, nil) for a repeated msgUuid.
func (s *Sim) check(r *http.Request, q map[string][]string, token string, now time.Time, throttle bool) (*Received, *simError) {
	s.mu.Lock()
	robot := s.robots[token]
	var disabled, blocked bool
	if robot != nil {
		disabled, blocked = robot.Disabled, now.Before(robot.blockedUntil)
	}
	s.mu.Unlock()
	switch {
	case token == "" || robot == nil:
		return nil, s.badToken()
	case disabled:
		return nil, &simError{CodeDisabled, "机器人已停用"}
	case throttle || blocked:
		return nil, s.throttled()
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return nil, &simError{CodeContentType, "无效的HTTP HEADER Content-Type"}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(s.cfg.MaxBytes)+1))
	if err != nil {
		return nil, &simError{CodeNoJSON, "缺少参数 json"}
	}
	if len(body) > s.cfg.MaxBytes {
		return nil, &simError{CodeTooLong, "message too long, exceed " + strconv.Itoa(s.cfg.MaxBytes) + " bytes"}
	}
	msg, serr := parseSimMessage(body)
	if serr != nil {
		return nil, serr
	}
	if serr := s.security(r, robot, q, msg.Text, now); serr != nil {
		return nil, serr
	}
	msg.Token, msg.At = token, now
	if !s.cfg.DropBodies {
		msg.Body = body
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if msg.MsgUUID != "" {
		if _, seen := robot.uuids[msg.MsgUUID]; seen {
			return nil, nil
		}
	}
	if now.Before(robot.blockedUntil) {
		return nil, s.throttled()
	}
	if !robot.rate.allow(now) {
		robot.blockedUntil = now.Add(s.cfg.Block)
		return nil, s.throttled()
	}
	if s.cfg.MonthlyQuota > 0 {
		if m := now.Format("2006-01"); m != s.month {
			s.month, s.monthN = m, 0
		}
		if s.monthN >= s.cfg.MonthlyQuota {
			return nil, &simError{CodeMonthlyQuota, "webhook over limit"}
		}
		s.monthN++
	}
	if msg.MsgUUID != "" {
		robot.uuids[msg.MsgUUID] = struct{}{}
	}
	if s.cfg.CountOnly {
		s.counted++
	} else {
		s.received = append(s.received, *msg)
	}
	return msg, nil
}

// security applies the robot's 安全设置: IP allow-list, 加签, keywords.
func (s *Sim) security(r *http.Request, robot *simRobot, q map[string][]string, text string, now time.Time) *simError {
	if len(robot.allow) > 0 {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		addr, err := netip.ParseAddr(host)
		ok := false
		for _, p := range robot.allow {
			if err == nil && p.Contains(addr.Unmap()) {
				ok = true
				break
			}
		}
		if !ok {
			return &simError{CodeSecurity, "ip " + host + " not in whitelist"}
		}
	}
	if robot.Secret != "" {
		ts, err := strconv.ParseInt(first(q, "timestamp"), 10, 64)
		if err != nil || absDuration(now.Sub(time.UnixMilli(ts))) > s.cfg.Window {
			return &simError{CodeSecurity, "invalid timestamp"}
		}
		want := Sign(robot.Secret, ts)
		if subtle.ConstantTimeCompare([]byte(first(q, "sign")), []byte(want)) != 1 {
			return &simError{CodeSecurity, "sign not match"}
		}
	}
	if len(robot.Keywords) > 0 {
		for _, k := range robot.Keywords {
			if strings.Contains(text, k) {
				return nil
			}
		}
		return &simError{CodeSecurity, "keywords not in content"}
	}
	return nil
}

func first(q map[string][]string, k string) string {
	if v := q[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func (s *Sim) badToken() *simError {
	if s.cfg.BadTokenCode == CodeNoTokenDoc {
		return &simError{CodeNoTokenDoc, "access_token不存在"}
	}
	return &simError{s.cfg.BadTokenCode, "token is not exist"}
}

func (s *Sim) throttled() *simError {
	switch s.cfg.ThrottleCode {
	case CodeTooFastDoc:
		return &simError{CodeTooFastDoc, "发送速度太快而限流"}
	case CodeTooFastNew:
		return &simError{CodeTooFastNew, "sending too many messages per minute"}
	}
	return &simError{s.cfg.ThrottleCode, "send too fast, exceed 20 times per minute"}
}

func (s *Sim) refuse(w http.ResponseWriter, token string, now time.Time, e *simError) {
	s.mu.Lock()
	s.rejected = append(s.rejected, Rejection{Token: token, At: now, ErrCode: e.code, ErrMsg: e.msg})
	s.mu.Unlock()
	writeAnswer(w, e.code, e.msg)
}

func writeAnswer(w http.ResponseWriter, code int, msg string) {
	b, _ := json.Marshal(struct {
		ErrCode int    `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}{code, msg})
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.Write(b)
}

// PathInspect lists what the simulator took and refused, as JSON, for a
// person trying the demo: GET /_sim/messages[?access_token=…].
const PathInspect = "/_sim/messages"

func (s *Sim) inspect(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("access_token")
	var out struct {
		Received []Received  `json:"received"`
		Rejected []Rejection `json:"rejected"`
	}
	s.mu.Lock()
	for _, m := range s.received {
		if token == "" || m.Token == token {
			m.Body = nil
			out.Received = append(out.Received, m)
		}
	}
	for _, m := range s.rejected {
		if token == "" || m.Token == token {
			out.Rejected = append(out.Rejected, m)
		}
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	enc.Encode(out)
}

// --- message shape ---------------------------------------------------------

var paramError = &simError{CodeParamOrToken, "param error"}

// parseSimMessage checks a body the way the robot does. Field names are
// matched exactly (encoding/json would take messageUrl for messageURL).
func parseSimMessage(body []byte) (*Received, *simError) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || top == nil {
		return nil, &simError{CodeNoJSON, "缺少参数 json"}
	}
	mt, ok := jsonString(top["msgtype"])
	if !ok {
		return nil, paramError
	}
	rec := &Received{MsgType: mt}
	if u, ok := top["msgUuid"]; ok {
		if rec.MsgUUID, ok = jsonString(u); !ok {
			return nil, paramError
		}
	}
	var obj map[string]json.RawMessage
	switch mt {
	case TypeText, TypeMarkdown, "link", TypeActionCard, TypeFeedCard:
		if err := json.Unmarshal(top[mt], &obj); err != nil || obj == nil {
			return nil, paramError
		}
	default:
		return nil, &simError{CodeBadMsgType, "不支持的消息类型"}
	}
	var shown []string
	need := func(keys ...string) bool {
		for _, k := range keys {
			v, ok := jsonString(obj[k])
			if !ok || v == "" {
				return false
			}
			shown = append(shown, v)
		}
		return true
	}
	content := ""
	switch mt {
	case TypeText:
		if !need("content") {
			return nil, paramError
		}
		content = shown[0]
	case TypeMarkdown:
		if !need("title", "text") {
			return nil, paramError
		}
		rec.Title, content = shown[0], shown[1]
	case "link":
		if !need("title", "text", "messageUrl") {
			return nil, paramError
		}
		shown = shown[:2]
		rec.Title = shown[0]
	case TypeActionCard:
		if !need("title", "text") || !flag(obj["btnOrientation"]) || !flag(obj["hideAvatar"]) {
			return nil, paramError
		}
		rec.Title = shown[0]
		single, _ := jsonString(obj["singleTitle"])
		singleURL, _ := jsonString(obj["singleURL"])
		switch {
		case single != "" && singleURL != "":
			shown = append(shown, single)
		default:
			var btns []map[string]json.RawMessage
			if err := json.Unmarshal(obj["btns"], &btns); err != nil || len(btns) == 0 {
				return nil, paramError
			}
			for _, b := range btns {
				t, ok1 := jsonString(b["title"])
				u, ok2 := jsonString(b["actionURL"])
				if !ok1 || !ok2 || t == "" || u == "" {
					return nil, paramError
				}
				shown = append(shown, t)
			}
		}
	case TypeFeedCard:
		var links []map[string]json.RawMessage
		if err := json.Unmarshal(obj["links"], &links); err != nil || len(links) == 0 {
			return nil, paramError
		}
		for _, l := range links {
			t, ok1 := jsonString(l["title"])
			u, ok2 := jsonString(l["messageURL"])
			p, ok3 := jsonString(l["picURL"])
			if !ok1 || !ok2 || !ok3 || t == "" || u == "" || p == "" {
				return nil, paramError
			}
			shown = append(shown, t)
		}
		rec.Title = shown[0]
	}
	rec.Text = strings.Join(shown, "\n")
	if mt == TypeText || mt == TypeMarkdown { // only these honour at
		if raw, ok := top["at"]; ok {
			var a struct {
				AtMobiles []string `json:"atMobiles"`
				AtUserIDs []string `json:"atUserIds"`
				IsAtAll   bool     `json:"isAtAll"`
			}
			if err := json.Unmarshal(raw, &a); err != nil {
				return nil, paramError
			}
			left := MaxMentions
			capped := func(v []string) []string {
				if len(v) > left {
					v = v[:left]
				}
				left -= len(v)
				return v
			}
			rec.AtMobiles, rec.AtUserIDs, rec.AtAll = capped(a.AtMobiles), capped(a.AtUserIDs), a.IsAtAll
			for _, id := range append(append([]string(nil), rec.AtMobiles...), rec.AtUserIDs...) {
				if strings.Contains(content, "@"+id) {
					rec.Mentioned = append(rec.Mentioned, id)
				}
			}
		}
	}
	return rec, nil
}

func jsonString(raw json.RawMessage) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	// Most strings have no escapes: json.Unmarshal validated them already.
	if inner := raw[1 : len(raw)-1]; !bytes.ContainsAny(inner, "\\\"") {
		return string(inner), true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// flag checks an optional "0"/"1" field, which DingTalk takes as a string.
func flag(raw json.RawMessage) bool {
	if raw == nil {
		return true
	}
	s, ok := jsonString(raw)
	return ok && (s == "0" || s == "1")
}

// rateRing admits at most len(t) events in any 60 s: t holds the times of
// the last admitted ones, the oldest at i. A nil ring admits everything.
type rateRing struct {
	t []int64
	i int
	n int
}

func newRateRing(perMinute int) rateRing {
	if perMinute <= 0 {
		return rateRing{}
	}
	return rateRing{t: make([]int64, perMinute)}
}

func (r *rateRing) allow(now time.Time) bool {
	if r.t == nil {
		return true
	}
	ms := now.UnixMilli()
	if r.n == len(r.t) && ms-r.t[r.i] < 60000 {
		return false
	}
	r.t[r.i] = ms
	r.i = (r.i + 1) % len(r.t)
	if r.n < len(r.t) {
		r.n++
	}
	return true
}
