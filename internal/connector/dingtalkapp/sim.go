package dingtalkapp

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"orderhub/internal/connector/simfault"
)

// SimConfig configures a Sim. Zero fields take the defaults noted; each
// limit and code the documentation leaves open is one of them.
type SimConfig struct {
	// Now is the simulator's clock; default time.Now.
	Now func() time.Time
	// Location is where a day starts for the per-person counts (Asia/Shanghai).
	Location *time.Location
	// TokenTTL is an access token's life (7200 s).
	TokenTTL time.Duration
	// ExpiredCode answers a token past its life: CodeTokenExpired (default,
	// "access_token超时") or CodeAuth (errcode 88 with sub_code 40014, as an
	// unknown token is answered).
	ExpiredCode int
	// BadAgentCode answers an agent_id that is not the app's (CodeBadAgent).
	BadAgentCode int
	// MaxUsers, MaxDepts and MaxMsgBytes are asyncsend_v2's limits (100,
	// 20, 2048).
	MaxUsers, MaxDepts, MaxMsgBytes int
	// PerUserDaily is how many messages one person takes from one app a
	// day (500); more are held back with 143105.
	PerUserDaily int
	// QPS is how many calls an app may make to one API in any second
	// (20); more get 90018. Negative: no limit.
	QPS int
	// ReadAfter, when set, makes every delivered message read that long
	// after it arrived, on the simulator's clock; otherwise only MarkRead
	// (or POST /_sim/read) marks messages read.
	ReadAfter time.Duration
	// ResultWindow is how long getsendresult answers for a task (24 h).
	ResultWindow time.Duration
	// DingPerMinute is how many DING messages a robot sends a minute
	// (6000); more get toomuch.msg.
	DingPerMinute int
}

// App is one enterprise internal app of the simulated organisation.
type App struct {
	Key, Secret string
	AgentID     int64
	// NoPermission makes the app lack the permission for the message APIs:
	// errcode 88 with sub_code 60011.
	NoPermission bool
	// RobotCode is the app robot's code for DING messages (default Key).
	RobotCode string
	// DingPack is how many SMS and phone DING receivers the organisation
	// has bought; past it they get ding.serverquota.insufficient.
	DingPack int
}

// Ding is one accepted DING message.
type Ding struct {
	OpenDingID string    `json:"open_ding_id"`
	At         time.Time `json:"at"`
	RemindType int       `json:"remind_type"`
	Receivers  []string  `json:"receivers"`
	Content    string    `json:"content"`
}

// Delivery is one work notification as one person received it.
type Delivery struct {
	TaskID  string    `json:"task_id"`
	UserID  string    `json:"userid"`
	At      time.Time `json:"at"`
	MsgType string    `json:"msgtype"`
	Title   string    `json:"title"`
	// Text is everything the message shows: title, body, button.
	Text string `json:"text"`
	// ReadAt is when the person read it; zero while unread.
	ReadAt time.Time `json:"read_at,omitzero"`
}

// Call is one accepted asyncsend_v2 call.
type Call struct {
	TaskID    string    `json:"task_id"`
	At        time.Time `json:"at"`
	AgentID   int64     `json:"agent_id"`
	UserIDs   []string  `json:"userid_list,omitempty"`
	DeptIDs   []string  `json:"dept_id_list,omitempty"`
	ToAllUser bool      `json:"to_all_user,omitempty"`
	MsgType   string    `json:"msgtype"`
	Title     string    `json:"title"`
	Text      string    `json:"text"`
	// Msg is the msg object as received.
	Msg []byte `json:"-"`
	// Form reports the call came form-encoded, as the legacy SDK sends it.
	Form bool `json:"form,omitempty"`
}

// Rejection is one refused call.
type Rejection struct {
	Path    string    `json:"path"`
	At      time.Time `json:"at"`
	ErrCode int       `json:"errcode"`
	SubCode string    `json:"sub_code,omitempty"`
	ErrMsg  string    `json:"errmsg"`
}

// Sim is a strict local DingTalk for enterprise internal apps (im.md 2,
// section 8): gettoken with the app's key and secret, tokens that expire
// and are returned again while valid, asyncsend_v2 with its agent_id,
// recipient, size and message-shape checks, the per-app QPS limit, the
// silent drops of the per-person daily cap and of same-day duplicate
// content, getsendresult with read status that changes over time, and
// getsendprogress, each refused with DingTalk's errcode over HTTP 200. It
// records what each person received. It is an http.Handler.
type Sim struct {
	cfg    SimConfig
	faults simfault.Injector

	mu         sync.Mutex
	apps       map[string]*simApp // by app key
	tokens     map[string]*simToken
	users      map[string]bool
	userOrder  []string
	deptUsers  map[string][]string
	deptParent map[string]string
	tasks      map[int64]*simTask
	nextTask   int64
	calls      []Call
	deliveries []*Delivery
	rejected   []Rejection
	daily      map[string]int
	seen       map[string]bool
	qps        map[string][]time.Time
	tokenCalls int
	dings      []Ding
	dingTimes  map[string][]time.Time
}

type simApp struct {
	App
	token string // the current token, reissued while valid
}

type simToken struct {
	app     string
	expires time.Time
	revoked bool
}

type simTask struct {
	id           int64
	app          string
	at           time.Time
	delivered    []*Delivery
	invalid      []string
	invalidDepts []string
	forbidden    []forbiddenItem
}

// NewSim returns a simulator without apps or people (see AddApp, AddUser).
func NewSim(cfg SimConfig) *Sim {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Location == nil {
		loc, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			loc = time.FixedZone("CST", 8*3600) // no tzdata: China has one offset
		}
		cfg.Location = loc
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 7200 * time.Second
	}
	if cfg.ExpiredCode == 0 {
		cfg.ExpiredCode = CodeTokenExpired
	}
	if cfg.BadAgentCode == 0 {
		cfg.BadAgentCode = CodeBadAgent
	}
	if cfg.MaxUsers <= 0 {
		cfg.MaxUsers = MaxUsers
	}
	if cfg.MaxDepts <= 0 {
		cfg.MaxDepts = MaxDepts
	}
	if cfg.MaxMsgBytes <= 0 {
		cfg.MaxMsgBytes = MaxMsgBytes
	}
	if cfg.PerUserDaily <= 0 {
		cfg.PerUserDaily = PerUserDaily
	}
	if cfg.QPS == 0 {
		cfg.QPS = PerSecond
	}
	if cfg.ResultWindow <= 0 {
		cfg.ResultWindow = 24 * time.Hour
	}
	if cfg.DingPerMinute <= 0 {
		cfg.DingPerMinute = 6000
	}
	return &Sim{cfg: cfg, apps: map[string]*simApp{}, tokens: map[string]*simToken{}, users: map[string]bool{},
		deptUsers: map[string][]string{}, deptParent: map[string]string{}, tasks: map[int64]*simTask{},
		nextTask: 256271667526, daily: map[string]int{}, seen: map[string]bool{}, qps: map[string][]time.Time{}, dingTimes: map[string][]time.Time{}}
}

// Config returns the configuration in effect, defaults filled in.
func (s *Sim) Config() SimConfig { return s.cfg }

// Faults is the simulator's fault injector. Throttle answers 90018;
// SessionLoss revokes every token before the call; LoseAnswer does the
// work and drops the connection.
func (s *Sim) Faults() *simfault.Injector { return &s.faults }

// AddApp adds (or replaces) an app.
func (s *Sim) AddApp(a App) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a.RobotCode == "" {
		a.RobotCode = a.Key
	}
	s.apps[a.Key] = &simApp{App: a}
}

// Dings lists the accepted DING messages, oldest first.
func (s *Sim) Dings() []Ding {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.dings)
}

// AddUser adds a person of the organisation, a member of the given
// departments.
func (s *Sim) AddUser(userID string, depts ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.users[userID] {
		s.users[userID] = true
		s.userOrder = append(s.userOrder, userID)
	}
	for _, d := range depts {
		if _, ok := s.deptUsers[d]; !ok {
			s.deptUsers[d] = nil
		}
		if !slices.Contains(s.deptUsers[d], userID) {
			s.deptUsers[d] = append(s.deptUsers[d], userID)
		}
	}
}

// AddDept adds a department under parent ("" for the top); a message to a
// department reaches its sub-departments too.
func (s *Sim) AddDept(id, parent string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.deptUsers[id]; !ok {
		s.deptUsers[id] = nil
	}
	s.deptParent[id] = parent
}

// RevokeTokens invalidates an app's tokens, as resetting its AppSecret
// does; the next gettoken issues a new one.
func (s *Sim) RevokeTokens(appKey string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revokeLocked(appKey)
}

func (s *Sim) revokeLocked(appKey string) {
	for _, t := range s.tokens {
		if t.app == appKey {
			t.revoked = true
		}
	}
	if a := s.apps[appKey]; a != nil {
		a.token = ""
	}
}

// TokenCalls is how many gettoken calls succeeded.
func (s *Sim) TokenCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenCalls
}

// MarkRead marks a task's message read by the given people (all its
// recipients when none are given), at the simulator's now.
func (s *Sim) MarkRead(taskID string, userIDs ...string) error {
	id, err := strconv.ParseInt(taskID, 10, 64)
	if err != nil {
		return fmt.Errorf("dingtalkapp sim: task id %q is not a number", taskID)
	}
	now := s.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tasks[id]
	if t == nil {
		return fmt.Errorf("dingtalkapp sim: no task %s", taskID)
	}
	n := 0
	for _, d := range t.delivered {
		if (len(userIDs) == 0 || slices.Contains(userIDs, d.UserID)) && s.readAt(d, now).IsZero() {
			d.ReadAt = now
			n++
		}
	}
	if n == 0 && len(userIDs) > 0 {
		return fmt.Errorf("dingtalkapp sim: task %s delivered nothing unread to %v", taskID, userIDs)
	}
	return nil
}

// readAt is when d was read as of now: marked, or ReadAfter past arrival.
func (s *Sim) readAt(d *Delivery, now time.Time) time.Time {
	if !d.ReadAt.IsZero() && !d.ReadAt.After(now) {
		return d.ReadAt
	}
	if s.cfg.ReadAfter > 0 && !d.At.Add(s.cfg.ReadAfter).After(now) {
		return d.At.Add(s.cfg.ReadAfter)
	}
	return time.Time{}
}

// Calls lists the accepted asyncsend_v2 calls, oldest first.
func (s *Sim) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Inbox lists what one person received, oldest first, with read times as
// of now.
func (s *Sim) Inbox(userID string) []Delivery {
	return s.deliveriesOf(func(d *Delivery) bool { return d.UserID == userID })
}

// Deliveries lists every delivered message, oldest first.
func (s *Sim) Deliveries() []Delivery {
	return s.deliveriesOf(func(*Delivery) bool { return true })
}

func (s *Sim) deliveriesOf(keep func(*Delivery) bool) []Delivery {
	now := s.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Delivery
	for _, d := range s.deliveries {
		if keep(d) {
			c := *d
			c.ReadAt = s.readAt(d, now)
			out = append(out, c)
		}
	}
	return out
}

// Rejected lists the refused calls, oldest first.
func (s *Sim) Rejected() []Rejection {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.rejected)
}

// --- HTTP ------------------------------------------------------------------

// simError is one refusal.
type simError struct {
	code    int
	subCode string
	msg     string
}

func (e *simError) answer() map[string]any {
	a := map[string]any{"errcode": e.code, "errmsg": e.msg, "request_id": requestID()}
	if e.subCode != "" {
		a["sub_code"], a["sub_msg"] = e.subCode, e.msg
		a["errmsg"] = "ding talk error[subcode=" + e.subCode + ",submsg=" + e.msg + "]"
	}
	return a
}

func param(msg string) *simError {
	return &simError{code: CodeBadParam, msg: "不合法的参数: " + msg}
}

// PathInspect lists deliveries and refusals as JSON for a person trying
// the demo; POST PathRead?task_id=…[&userid=…] marks a message read.
const (
	PathInspect = "/_sim/messages"
	PathRead    = "/_sim/read"
)

func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	set := s.faults.Draw(r)
	if set.Before(w, r) {
		return
	}
	if set.Has(simfault.SessionLoss) {
		s.mu.Lock()
		for k := range s.apps {
			s.revokeLocked(k)
		}
		s.mu.Unlock()
	}
	now := s.cfg.Now()
	var (
		out  any
		serr *simError
	)
	switch r.URL.Path {
	case PathToken:
		out, serr = s.getToken(r, now, set.Has(simfault.Throttle))
	case PathSend, PathResult, PathProgress:
		if r.Method != http.MethodPost {
			http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
			return
		}
		out, serr = s.appCall(r, now, set.Has(simfault.Throttle))
	case PathDing:
		s.ding(w, r, now, set)
		return
	case PathInspect:
		s.inspect(w)
		return
	case PathRead:
		s.markReadHTTP(w, r)
		return
	default:
		http.NotFound(w, r)
		return
	}
	if serr != nil {
		s.mu.Lock()
		s.rejected = append(s.rejected, Rejection{Path: r.URL.Path, At: now, ErrCode: serr.code, SubCode: serr.subCode, ErrMsg: serr.msg})
		s.mu.Unlock()
		out = serr.answer()
	} else if set.Has(simfault.LoseAnswer) {
		simfault.DropAnswer(w)
		return
	}
	b, _ := json.Marshal(out)
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.Write(b)
}

func (s *Sim) getToken(r *http.Request, now time.Time, throttle bool) (any, *simError) {
	if r.Method != http.MethodGet {
		return nil, param("gettoken 只接受 GET")
	}
	q := r.URL.Query()
	key, secret := q.Get("appkey"), q.Get("appsecret")
	s.mu.Lock()
	defer s.mu.Unlock()
	if throttle || !s.allow(key, PathToken, now) {
		return nil, &simError{code: CodeAppQPS, msg: "应用调用该接口超过每秒限制"}
	}
	app := s.apps[key]
	if app == nil || secret == "" || secret != app.Secret {
		return nil, &simError{code: CodeBadAppKey, msg: "不合法的appKey或appSecret"}
	}
	// While valid, the same token comes back with its life extended.
	tok := s.tokens[app.token]
	if tok == nil || tok.revoked || !now.Before(tok.expires) {
		app.token = newToken()
		tok = &simToken{app: key}
		s.tokens[app.token] = tok
	}
	tok.expires = now.Add(s.cfg.TokenTTL)
	s.tokenCalls++
	return map[string]any{"errcode": 0, "errmsg": "ok", "access_token": app.token, "expires_in": int(s.cfg.TokenTTL / time.Second)}, nil
}

// allow applies the per-app, per-API QPS limit; s.mu is held.
func (s *Sim) allow(app, path string, now time.Time) bool {
	if s.cfg.QPS < 0 {
		return true
	}
	k := app + " " + path
	ts := s.qps[k]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= time.Second {
		i++
	}
	ts = ts[i:]
	if len(ts) >= s.cfg.QPS {
		s.qps[k] = ts
		return false
	}
	s.qps[k] = append(ts, now)
	return true
}

// appCall checks the token and the app, then runs the API.
func (s *Sim) appCall(r *http.Request, now time.Time, throttle bool) (any, *simError) {
	token := r.URL.Query().Get("access_token")
	s.mu.Lock()
	tok := s.tokens[token]
	var app *simApp
	if tok != nil {
		app = s.apps[tok.app]
	}
	switch {
	case tok == nil || tok.revoked || app == nil:
		s.mu.Unlock()
		return nil, &simError{code: CodeAuth, subCode: strconv.Itoa(CodeTokenInvalid), msg: "不合法的access_token"}
	case !now.Before(tok.expires):
		s.mu.Unlock()
		if s.cfg.ExpiredCode == CodeAuth {
			return nil, &simError{code: CodeAuth, subCode: strconv.Itoa(CodeTokenInvalid), msg: "不合法的access_token"}
		}
		return nil, &simError{code: s.cfg.ExpiredCode, msg: "access_token超时"}
	case throttle || !s.allow(app.Key, r.URL.Path, now):
		s.mu.Unlock()
		return nil, &simError{code: CodeAppQPS, msg: "应用调用该接口超过每秒限制"}
	case app.NoPermission:
		s.mu.Unlock()
		return nil, &simError{code: CodeAuth, subCode: strconv.Itoa(CodeNoPermission), msg: "没有调用该接口的权限"}
	}
	a := app.App
	s.mu.Unlock()
	fields, form, serr := readFields(r)
	if serr != nil {
		return nil, serr
	}
	agent, serr := agentOf(fields["agent_id"], a.AgentID, s.cfg.BadAgentCode)
	if serr != nil {
		return nil, serr
	}
	switch r.URL.Path {
	case PathSend:
		return s.send(a, agent, fields, form, now)
	case PathResult:
		t, serr := s.task(a, fields, now)
		if serr != nil {
			return nil, serr
		}
		return map[string]any{"errcode": 0, "errmsg": "ok", "request_id": requestID(), "send_result": s.result(t, now)}, nil
	default: // progress
		if _, serr := s.task(a, fields, now); serr != nil {
			return nil, serr
		}
		return map[string]any{"errcode": 0, "errmsg": "ok", "request_id": requestID(),
			"progress": map[string]int{"progress_in_percent": 100, "status": 2}}, nil
	}
}

// readFields reads a JSON body, or a form with msg as a JSON string (the
// legacy SDK's way), into raw JSON values.
func readFields(r *http.Request) (map[string]json.RawMessage, bool, *simError) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, false, param("读取请求体失败")
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/x-www-form-urlencoded" {
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, true, param("表单无法解析")
		}
		out := map[string]json.RawMessage{}
		for k := range vals {
			v := vals.Get(k)
			switch k {
			case "msg":
				out[k] = json.RawMessage(v)
			default:
				out[k], _ = json.Marshal(v)
			}
		}
		return out, true, nil
	}
	var out map[string]json.RawMessage
	if err := json.Unmarshal(body, &out); err != nil || out == nil {
		return nil, false, param("请求体不是 JSON 对象")
	}
	return out, false, nil
}

// agentOf reads agent_id, a number (a string in a form).
func agentOf(raw json.RawMessage, want int64, badCode int) (int64, *simError) {
	if raw == nil {
		return 0, &simError{code: CodeNoAgent, msg: "缺少agentid"}
	}
	var n int64
	if err := json.Unmarshal(raw, &n); err != nil {
		var str string
		if json.Unmarshal(raw, &str) != nil {
			return 0, &simError{code: badCode, msg: "不合法的agentid"}
		}
		if n, err = strconv.ParseInt(str, 10, 64); err != nil {
			return 0, &simError{code: badCode, msg: "不合法的agentid"}
		}
	}
	if n != want {
		return 0, &simError{code: badCode, msg: "不合法的agentid"}
	}
	return n, nil
}

func (s *Sim) send(app App, agent int64, f map[string]json.RawMessage, form bool, now time.Time) (any, *simError) {
	users, err1 := idList(f["userid_list"])
	depts, err2 := idList(f["dept_id_list"])
	if err1 != nil || err2 != nil {
		return nil, param("userid_list 与 dept_id_list 应是逗号分隔的字符串")
	}
	all := false
	if raw := f["to_all_user"]; raw != nil {
		var str string
		if json.Unmarshal(raw, &all) != nil && (json.Unmarshal(raw, &str) != nil || (str != "true" && str != "false")) {
			return nil, param("to_all_user 应是 true 或 false")
		}
		all = all || str == "true"
	}
	switch {
	case len(users) > s.cfg.MaxUsers:
		return nil, param(fmt.Sprintf("userid_list 最多 %d 个，收到 %d 个", s.cfg.MaxUsers, len(users)))
	case len(depts) > s.cfg.MaxDepts:
		return nil, param(fmt.Sprintf("dept_id_list 最多 %d 个，收到 %d 个", s.cfg.MaxDepts, len(depts)))
	case !all && len(users) == 0 && len(depts) == 0:
		return nil, param("userid_list、dept_id_list 与 to_all_user 至少填一项")
	}
	msg := f["msg"]
	if msg == nil {
		return nil, param("缺少 msg")
	}
	if len(msg) > s.cfg.MaxMsgBytes {
		return nil, param(fmt.Sprintf("msg 为 %d 字节，超过 %d 字节", len(msg), s.cfg.MaxMsgBytes))
	}
	mt, title, text, serr := parseMsg(msg)
	if serr != nil {
		return nil, serr
	}
	h := sha256.Sum256(msg)
	content := hex.EncodeToString(h[:])
	day := now.In(s.cfg.Location).Format("2006-01-02")

	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextTask++
	t := &simTask{id: s.nextTask, app: app.Key, at: now}
	s.tasks[t.id] = t
	taskID := strconv.FormatInt(t.id, 10)
	// Resolve the recipients, each person once per task.
	var people []string
	got := map[string]bool{}
	add := func(u string) {
		if !got[u] {
			got[u] = true
			people = append(people, u)
		}
	}
	if all {
		for _, u := range s.userOrder {
			add(u)
		}
	}
	for _, u := range users {
		if s.users[u] {
			add(u)
		} else if !slices.Contains(t.invalid, u) {
			t.invalid = append(t.invalid, u)
		}
	}
	for _, d := range depts {
		if _, ok := s.deptUsers[d]; !ok {
			t.invalidDepts = append(t.invalidDepts, d)
			continue
		}
		for _, u := range s.members(d) {
			add(u)
		}
	}
	// The silent drops: the send succeeds, getsendresult tells.
	for _, u := range people {
		dk := app.Key + " " + u + " " + day
		ck := dk + " " + content
		switch {
		case s.daily[dk] >= s.cfg.PerUserDaily:
			t.forbidden = append(t.forbidden, forbiddenItem{Code: ForbiddenDaily, Count: s.daily[dk], UserID: u})
		case s.seen[ck]:
			t.forbidden = append(t.forbidden, forbiddenItem{Code: ForbiddenDuplicate, Count: 1, UserID: u})
		default:
			s.daily[dk]++
			s.seen[ck] = true
			d := &Delivery{TaskID: taskID, UserID: u, At: now, MsgType: mt, Title: title, Text: text}
			t.delivered = append(t.delivered, d)
			s.deliveries = append(s.deliveries, d)
		}
	}
	s.calls = append(s.calls, Call{TaskID: taskID, At: now, AgentID: agent, UserIDs: users, DeptIDs: depts, ToAllUser: all,
		MsgType: mt, Title: title, Text: text, Msg: slices.Clone([]byte(msg)), Form: form})
	return map[string]any{"errcode": 0, "task_id": t.id, "request_id": requestID()}, nil
}

// members are a department's people and its sub-departments'; s.mu is held.
func (s *Sim) members(dept string) []string {
	out := slices.Clone(s.deptUsers[dept])
	for d, p := range s.deptParent {
		if p == dept && d != dept {
			out = append(out, s.members(d)...)
		}
	}
	return out
}

// idList reads a comma-separated list; empty items are dropped.
func idList(raw json.RawMessage) ([]string, error) {
	if raw == nil {
		return nil, nil
	}
	var str string
	if err := json.Unmarshal(raw, &str); err != nil {
		return nil, err
	}
	var out []string
	for _, v := range strings.Split(str, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out, nil
}

// task finds the task a getsendresult or getsendprogress call names.
func (s *Sim) task(app App, f map[string]json.RawMessage, now time.Time) (*simTask, *simError) {
	var id int64
	if raw := f["task_id"]; raw == nil || json.Unmarshal(raw, &id) != nil {
		var str string
		if raw == nil || json.Unmarshal(raw, &str) != nil {
			return nil, param("缺少 task_id")
		}
		var err error
		if id, err = strconv.ParseInt(str, 10, 64); err != nil {
			return nil, param("task_id 不是数字")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tasks[id]
	if t == nil || t.app != app.Key || now.Sub(t.at) > s.cfg.ResultWindow {
		return nil, param("task_id 不存在或已超过 24 小时")
	}
	return t, nil
}

func (s *Sim) result(t *simTask, now time.Time) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	read, unread := []string{}, []string{}
	for _, d := range t.delivered {
		if s.readAt(d, now).IsZero() {
			unread = append(unread, d.UserID)
		} else {
			read = append(read, d.UserID)
		}
	}
	var forbiddenUsers []string
	for _, f := range t.forbidden {
		forbiddenUsers = append(forbiddenUsers, f.UserID)
	}
	nonNil := func(v []string) []string {
		if v == nil {
			return []string{}
		}
		return v
	}
	return map[string]any{
		"invalid_user_id_list":   nonNil(t.invalid),
		"forbidden_user_id_list": nonNil(forbiddenUsers),
		"failed_user_id_list":    []string{},
		"read_user_id_list":      read,
		"unread_user_id_list":    unread,
		"invalid_dept_id_list":   nonNil(t.invalidDepts),
		"forbidden_list":         append([]forbiddenItem{}, t.forbidden...),
	}
}

func newToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func requestID() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Sim) inspect(w http.ResponseWriter) {
	out := struct {
		Deliveries []Delivery  `json:"deliveries"`
		Rejected   []Rejection `json:"rejected"`
	}{s.Deliveries(), s.Rejected()}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	enc.Encode(out)
}

func (s *Sim) markReadHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	var users []string
	if u := q.Get("userid"); u != "" {
		users = strings.Split(u, ",")
	}
	if err := s.MarkRead(q.Get("task_id"), users...); err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// --- message shape ---------------------------------------------------------

// parseMsg checks the msg object as asyncsend_v2 does: one msgtype from
// the list, its object with the fields it needs under their exact names,
// and no other type's object beside it. It returns what the message shows.
func parseMsg(raw json.RawMessage) (msgType, title, text string, _ *simError) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil || top == nil {
		return "", "", "", param("msg 不是 JSON 对象")
	}
	mt, ok := jsonString(top["msgtype"])
	if !ok || mt == "" {
		return "", "", "", param("msg 缺少 msgtype")
	}
	types := []string{"text", "image", "voice", "file", "link", "oa", TypeMarkdown, TypeActionCard}
	if !slices.Contains(types, mt) {
		return "", "", "", param("不支持的消息类型 " + mt)
	}
	for k := range top {
		if k != "msgtype" && k != mt {
			return "", "", "", param("msg 只能有一种消息类型，多出 " + k)
		}
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(top[mt], &obj); err != nil || obj == nil {
		return "", "", "", param("msg." + mt + " 不是对象")
	}
	str := func(k string) (string, bool) {
		v, ok := jsonString(obj[k])
		return v, ok && v != ""
	}
	need := func(keys ...string) ([]string, *simError) {
		var out []string
		for _, k := range keys {
			v, ok := str(k)
			if !ok {
				return nil, param("msg." + mt + "." + k + " 为空")
			}
			out = append(out, v)
		}
		return out, nil
	}
	var shown []string
	var serr *simError
	switch mt {
	case "text":
		shown, serr = need("content")
	case "image", "file":
		_, serr = need("media_id")
	case "voice":
		_, serr = need("media_id", "duration")
	case "link":
		shown, serr = need("title", "text", "messageUrl", "picUrl")
		if serr == nil {
			shown = shown[:2]
		}
	case "oa":
		_, serr = need("message_url")
		if serr == nil {
			var body struct {
				Title   string `json:"title"`
				Content string `json:"content"`
			}
			if json.Unmarshal(obj["body"], &body) != nil {
				serr = param("msg.oa.body 不是对象")
			}
			shown = []string{body.Title, body.Content}
		}
	case TypeMarkdown:
		shown, serr = need("title", "text")
	case TypeActionCard:
		shown, serr = need("title", "markdown")
		if serr != nil {
			break
		}
		single, ok1 := str("single_title")
		singleURL, ok2 := str("single_url")
		switch {
		case ok1 && ok2:
			if len([]rune(single)) > 20 || len(singleURL) > 500 {
				serr = param("single_title 最多 20 个字，single_url 最多 500 个字符")
			}
			shown = append(shown, single)
		case obj["btn_json_list"] != nil:
			var btns []map[string]json.RawMessage
			if json.Unmarshal(obj["btn_json_list"], &btns) != nil || len(btns) == 0 || len(obj["btn_json_list"]) > 1000 {
				serr = param("btn_json_list 应是 1000 字符以内的按钮数组")
				break
			}
			if _, ok := str("btn_orientation"); !ok {
				serr = param("btn_json_list 需要 btn_orientation")
				break
			}
			for _, b := range btns {
				t, ok1 := jsonString(b["title"])
				u, ok2 := jsonString(b["action_url"])
				if !ok1 || !ok2 || t == "" || u == "" || len([]rune(t)) > 20 || len(u) > 700 {
					serr = param("btn_json_list 的按钮需要 title（≤20 字）与 action_url（≤700 字符）")
					break
				}
				shown = append(shown, t)
			}
		default:
			serr = param("action_card 需要 single_title 与 single_url，或 btn_orientation 与 btn_json_list")
		}
	}
	if serr != nil {
		return "", "", "", serr
	}
	if len(shown) > 0 && mt != "text" {
		title = shown[0]
	}
	return mt, title, strings.Join(shown, "\n"), nil
}

func jsonString(raw json.RawMessage) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}
