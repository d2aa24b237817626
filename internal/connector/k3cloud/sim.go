package k3cloud

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"orderhub/internal/connector/simfault"
)

// SimConfig configures a simulated 金蝶云星空 site. Empty credentials take
// the defaults below, which match the example configuration.
type SimConfig struct {
	AcctID   string // default "63f2a1b0c9d8e7"
	Username string // default "apiuser"
	Password string // default "k3-sim-password"
	// AppID and AppSecret enable LoginByAppSecret and signed headers; both
	// empty means neither is accepted.
	AppID, AppSecret string
	// SessionIdle is how long an unused session lives; 20 minutes when 0.
	SessionIdle time.Duration
	// SignWindow is how far a signed timestamp may be from now; 10 minutes
	// when 0 (a 13-minute-old one was seen refused).
	SignWindow time.Duration
	// QueryLimit caps ExecuteBillQuery's Limit; 2000 when 0.
	QueryLimit int
	// ThrottleHTTP makes the Throttle fault answer HTTP 429 instead of
	// MsgCode 14. Which one a throttled site sends is not documented;
	// MsgCode 14 (调用限制) is the code the official table has.
	ThrottleHTTP bool
	// AllowDuplicateNumbers models an account whose coding rule does not
	// enforce 编码唯一: a second bill with a taken number is saved. Exactly-
	// once then rests on looking a bill up before writing it again.
	AllowDuplicateNumbers bool
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Sim is a simulated 金蝶云星空 Web API, as strict as the real service on
// what this connector sends: logins and sessions, the three body shapes,
// the forms' required fields and base-data references, number uniqueness,
// per-packet BatchSave results, View and ExecuteBillQuery. Serve it with
// httptest.NewServer(sim) and point base_url at server.URL + "/k3cloud".
type Sim struct {
	cfg    SimConfig
	faults simfault.Injector

	masterMu sync.RWMutex
	master   [refKinds]map[string]bool

	sessMu   sync.Mutex
	sessions map[string]time.Time // id → last used

	billsMu sync.Mutex
	bills   map[string]*formStore
	nextID  int64
	autoNo  int64

	signedOnce sync.Once
	signedSID  string

	logins atomic.Int64
	calls  sync.Map // service → *atomic.Int64
}

type formStore struct {
	byNo map[string][]*simBill
	byID map[int64]*simBill
}

type simBill struct {
	id     int64
	no     string
	status string // A created, B in review, C audited
	model  map[string]any
}

// SimBill is a bill the simulator holds.
type SimBill struct {
	ID     int64
	Number string
	// Status is FDocumentStatus: A 创建, B 审核中, C 已审核, D 重新审核.
	Status string
	// Model is the packet as saved (after modifies, the merged packet). Do
	// not change it.
	Model map[string]any
}

// The factory-default codes every new account has (erp.md 2.4); the
// simulator holds them from the start.
var factoryDefaults = map[RefKind][]string{
	RefOrg:          {"100"},
	RefUnit:         {"Pcs"},
	RefReturnType:   {"THLX01_SYS", "THLX02_SYS"},
	RefStockStatus:  {"KCZT01_SYS"},
	RefCurrency:     {"PRE001"},
	RefExchangeType: {"HLTX01_SYS"},
	RefTransferBiz:  {"OverOrgSal"},
}

// NewSim returns a simulator holding the factory-default codes and no
// materials, customers or stocks: seed those with AddMaterials,
// AddCustomers and AddStocks.
func NewSim(cfg SimConfig) *Sim {
	if cfg.AcctID == "" {
		cfg.AcctID = "63f2a1b0c9d8e7"
	}
	if cfg.Username == "" {
		cfg.Username = "apiuser"
	}
	if cfg.Password == "" {
		cfg.Password = "k3-sim-password"
	}
	if cfg.SessionIdle <= 0 {
		cfg.SessionIdle = 20 * time.Minute
	}
	if cfg.SignWindow <= 0 {
		cfg.SignWindow = 10 * time.Minute
	}
	if cfg.QueryLimit <= 0 {
		cfg.QueryLimit = 2000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Sim{cfg: cfg, sessions: map[string]time.Time{}, bills: map[string]*formStore{}, nextID: 100000}
	for i := range s.master {
		s.master[i] = map[string]bool{}
	}
	for k, codes := range factoryDefaults {
		s.Add(k, codes...)
	}
	for id := range forms {
		s.bills[id] = &formStore{byNo: map[string][]*simBill{}, byID: map[int64]*simBill{}}
	}
	return s
}

// Config returns the simulator's configuration with its defaults filled.
func (s *Sim) Config() SimConfig { return s.cfg }

// Faults is the simulator's fault injector. Faults are drawn for business
// calls (saves, views, queries), not for logins, so that a fault meant
// for a write is not spent on the login before it.
func (s *Sim) Faults() *simfault.Injector { return &s.faults }

// Handler returns the simulator as an http.Handler.
func (s *Sim) Handler() http.Handler { return s }

// Add seeds base data of kind k.
func (s *Sim) Add(k RefKind, codes ...string) {
	s.masterMu.Lock()
	defer s.masterMu.Unlock()
	for _, c := range codes {
		s.master[k][c] = true
	}
}

// AddMaterials seeds 物料 numbers.
func (s *Sim) AddMaterials(codes ...string) { s.Add(RefMaterial, codes...) }

// AddCustomers seeds 客户 numbers.
func (s *Sim) AddCustomers(codes ...string) { s.Add(RefCustomer, codes...) }

// AddStocks seeds 仓库 numbers.
func (s *Sim) AddStocks(codes ...string) { s.Add(RefStock, codes...) }

// AddOrgs seeds 组织 numbers (100 is there from the start).
func (s *Sim) AddOrgs(codes ...string) { s.Add(RefOrg, codes...) }

// AddStaff seeds 销售员 numbers (SAL_SaleOrder needs FSalerId).
func (s *Sim) AddStaff(codes ...string) { s.Add(RefStaff, codes...) }

// AddUnits seeds 计量单位 numbers (Pcs is there from the start).
func (s *Sim) AddUnits(codes ...string) { s.Add(RefUnit, codes...) }

// AddDepts seeds 部门 numbers.
func (s *Sim) AddDepts(codes ...string) { s.Add(RefDept, codes...) }

func (s *Sim) known(k RefKind, code string) bool { return s.master[k][code] }

// Count reports how many bills of a form carry a number.
func (s *Sim) Count(form, no string) int {
	s.billsMu.Lock()
	defer s.billsMu.Unlock()
	if fs := s.bills[form]; fs != nil {
		return len(fs.byNo[no])
	}
	return 0
}

// Len reports how many bills of a form the simulator holds.
func (s *Sim) Len(form string) int {
	s.billsMu.Lock()
	defer s.billsMu.Unlock()
	if fs := s.bills[form]; fs != nil {
		return len(fs.byID)
	}
	return 0
}

// Bill returns the (first) bill of a form with a number.
func (s *Sim) Bill(form, no string) (SimBill, bool) {
	s.billsMu.Lock()
	defer s.billsMu.Unlock()
	fs := s.bills[form]
	if fs == nil || len(fs.byNo[no]) == 0 {
		return SimBill{}, false
	}
	return fs.byNo[no][0].export(), true
}

// Bills returns every bill of a form, in the order they were created.
func (s *Sim) Bills(form string) []SimBill {
	s.billsMu.Lock()
	defer s.billsMu.Unlock()
	fs := s.bills[form]
	if fs == nil {
		return nil
	}
	out := make([]SimBill, 0, len(fs.byID))
	for _, b := range fs.byID {
		out = append(out, b.export())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (b *simBill) export() SimBill {
	return SimBill{ID: b.id, Number: b.no, Status: b.status, Model: b.model}
}

// Logins reports how many logins succeeded.
func (s *Sim) Logins() int { return int(s.logins.Load()) }

// Calls reports how many calls a service (e.g. ServiceBatchSave) received.
func (s *Sim) Calls(service string) int {
	if n, ok := s.calls.Load(service); ok {
		return int(n.(*atomic.Int64).Load())
	}
	return 0
}

// DropSessions forgets every session, as a restarted server does.
func (s *Sim) DropSessions() {
	s.sessMu.Lock()
	clear(s.sessions)
	s.sessMu.Unlock()
}

func (s *Sim) count(service string) {
	n, ok := s.calls.Load(service)
	if !ok {
		n, _ = s.calls.LoadOrStore(service, new(atomic.Int64))
	}
	n.(*atomic.Int64).Add(1)
}

// maxBody is the largest request the simulator reads.
const maxBody = 32 << 20

// ServeHTTP routes by service name: the last path element without
// ".common.kdsvc". Business failures are HTTP 200, as on the real site.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "405 method not allowed: services take POST", http.StatusMethodNotAllowed)
		return
	}
	last := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	service, ok := strings.CutSuffix(last, ServiceSuffix)
	if !ok {
		http.Error(w, "404 not found: a service path ends in .common.kdsvc", http.StatusNotFound)
		return
	}
	var handle func(w http.ResponseWriter, r *http.Request, b *body, set simfault.Set)
	switch service {
	case ServiceValidateUser, ServiceLoginByAppSecret:
	case ServiceSave, ServiceBatchSave:
		handle = s.save
	case ServiceView:
		handle = s.view
	case ServiceSubmit, ServiceAudit, ServiceUnAudit:
		handle = s.audit
	case ServiceExecuteBillQuery:
		handle = s.query
	default:
		http.Error(w, "404 not found: no service "+service, http.StatusNotFound)
		return
	}
	s.count(service)
	// Sized from Content-Length, the body is read without regrowing.
	var buf bytes.Buffer
	if r.ContentLength > 0 && r.ContentLength <= maxBody {
		buf.Grow(int(r.ContentLength) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(io.LimitReader(r.Body, maxBody)); err != nil {
		return
	}
	raw := buf.Bytes()
	b, err := parseBody(raw)
	if handle == nil {
		s.login(w, r, service, b, err)
		return
	}
	set := s.faults.Draw(r)
	if set.Before(w, r) {
		return
	}
	if set.Has(simfault.Throttle) {
		if s.cfg.ThrottleHTTP {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "429 Too Many Requests", http.StatusTooManyRequests)
			return
		}
		s.fail(w, service, MsgCallLimit, "", "调用限制：接口调用过于频繁，请稍后再试")
		return
	}
	if set.Has(simfault.SessionLoss) {
		s.DropSessions()
	}
	if !s.authorised(w, r) {
		s.fail(w, service, MsgContextLost, "", msgSessionLost)
		return
	}
	if err != nil {
		s.fail(w, service, MsgParameter, "", "请求参数格式不正确："+err.Error())
		return
	}
	handle(w, r, b, set)
}

// fail answers a whole-call failure in the service's shape.
func (s *Sim) fail(w http.ResponseWriter, service string, code int, field, msg string) {
	st := &ResponseStatus{ErrorCode: 500, IsSuccess: false, MsgCode: code,
		Errors: []ErrorItem{{Message: msg}}, SuccessEntitys: []SuccessEntity{}, SuccessMessages: []any{}}
	if field != "" {
		st.Errors[0].FieldName = strPtr(field)
	}
	if service == ServiceExecuteBillQuery {
		writeJSON(w, [][]any{{map[string]any{"Result": map[string]any{"ResponseStatus": st}}}})
		return
	}
	writeJSON(w, map[string]any{"Result": map[string]any{"ResponseStatus": st}})
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "500 encoding the answer: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(b)
}

// body is a request body in any of the three shapes (erp.md 2.2).
type body struct {
	formID string
	data   map[string]any
	// params are the positional parameters (legacy and .NET shapes), each
	// decoded; a data element sent as a JSON string is decoded too.
	params []any
	// object is the object form of a login.
	object map[string]any
}

// decodeJSON decodes one JSON value; numbers become float64, which holds
// every quantity and price a bill carries.
func decodeJSON(b []byte, v any) error {
	return json.Unmarshal(b, v)
}

// parseBody reads the SDK shape {"formid","data"}, the legacy
// {"parameters":[…]} and the .NET envelope whose "parameters" is a JSON
// string of the array. Keys match regardless of case.
func parseBody(raw []byte) (*body, error) {
	// encoding/json matches struct fields regardless of case, as the
	// server does; the top level of every shape decodes into this.
	var top struct {
		FormID     json.RawMessage `json:"formid"`
		Data       json.RawMessage `json:"data"`
		Parameters json.RawMessage `json:"parameters"`
	}
	if err := json.Unmarshal(raw, &top); err != nil {
		return nil, fmt.Errorf("the body is not a JSON object: %v", err)
	}
	b := &body{}
	params, data, formID := top.Parameters, top.Data, top.FormID
	if bytes.Equal(params, []byte("null")) {
		params = nil
	}
	if bytes.Equal(data, []byte("null")) {
		data = nil
	}
	switch {
	case params != nil:
		var list []json.RawMessage
		if len(params) > 0 && params[0] == '"' {
			var s string
			if err := json.Unmarshal(params, &s); err != nil {
				return nil, fmt.Errorf("parameters: %v", err)
			}
			params = []byte(s)
		}
		if err := decodeJSON(params, &list); err != nil {
			return nil, fmt.Errorf("parameters is not an array: %v", err)
		}
		for _, p := range list {
			var v any
			if err := decodeJSON(p, &v); err != nil {
				return nil, fmt.Errorf("parameters: %v", err)
			}
			if str, ok := v.(string); ok && strings.HasPrefix(strings.TrimSpace(str), "{") {
				var m map[string]any
				if err := decodeJSON([]byte(str), &m); err == nil {
					v = m
				}
			}
			b.params = append(b.params, v)
		}
	case data != nil:
		if formID != nil {
			if err := json.Unmarshal(formID, &b.formID); err != nil {
				return nil, fmt.Errorf("formid is not a string")
			}
		}
		if len(data) > 0 && data[0] == '"' {
			var s string
			if err := json.Unmarshal(data, &s); err != nil {
				return nil, fmt.Errorf("data: %v", err)
			}
			data = []byte(s)
		}
		if err := decodeJSON(data, &b.data); err != nil {
			return nil, fmt.Errorf("data is not a JSON object: %v", err)
		}
	default:
		if err := decodeJSON(raw, &b.object); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// business reads the form id and data of a business call: [formid, data]
// positionally (or [data] for queries), or the SDK shape.
func (b *body) business() (string, map[string]any, error) {
	if b.params == nil {
		if b.data == nil {
			return "", nil, fmt.Errorf("缺少 data 参数")
		}
		form := b.formID
		if form == "" {
			form, _ = stringCI(b.data, "FormId")
		}
		return form, b.data, nil
	}
	if len(b.params) == 0 {
		return "", nil, fmt.Errorf("parameters 为空")
	}
	data, ok := b.params[len(b.params)-1].(map[string]any)
	if !ok {
		return "", nil, fmt.Errorf("最后一个参数应为 data 对象（或其 JSON 字符串）")
	}
	form := ""
	if len(b.params) >= 2 {
		form, _ = b.params[0].(string)
	} else {
		form, _ = stringCI(data, "FormId")
	}
	return form, data, nil
}

func stringCI(m map[string]any, key string) (string, bool) {
	v, ok := getCI(m, key)
	if !ok {
		return "", false
	}
	return text2(v)
}

// login answers ValidateUser and LoginByAppSecret.
func (s *Sim) login(w http.ResponseWriter, r *http.Request, service string, b *body, perr error) {
	refuse := func(msg string) {
		writeJSON(w, LoginResult{Message: strPtr(msg), MessageCode: "", LoginResultType: 0, IsSuccessByAPI: false})
	}
	if perr != nil {
		refuse("登录参数格式不正确：" + perr.Error())
		return
	}
	var acct, user, secret, appID string
	lcid := 0
	pos := func(i int) string {
		if i < len(b.params) {
			v, _ := text2(b.params[i])
			return v
		}
		return ""
	}
	obj := func(k string) string { v, _ := stringCI(b.object, k); return v }
	if service == ServiceValidateUser {
		if b.params != nil {
			acct, user, secret = pos(0), pos(1), pos(2)
			lcid, _ = strconv.Atoi(pos(3))
		} else {
			acct, user, secret = obj("acctid"), obj("username"), obj("password")
			lcid, _ = strconv.Atoi(obj("lcid"))
		}
	} else {
		if b.params != nil {
			acct, user, appID, secret = pos(0), pos(1), pos(2), pos(3)
			lcid, _ = strconv.Atoi(pos(4))
		} else {
			acct, user, appID, secret = obj("acctid"), obj("username"), obj("appid"), obj("appsecret")
			lcid, _ = strconv.Atoi(obj("lcid"))
		}
	}
	switch {
	case acct != s.cfg.AcctID:
		refuse("数据中心不存在，请检查账套 id（acctid）")
		return
	case lcid != 0 && lcid != 2052 && lcid != 1033 && lcid != 3076:
		refuse("不支持的语言 lcid " + strconv.Itoa(lcid))
		return
	case user != s.cfg.Username:
		refuse("用户名或密码错误！")
		return
	case service == ServiceValidateUser && !equal(secret, s.cfg.Password):
		refuse("用户名或密码错误！")
		return
	case service == ServiceLoginByAppSecret && (s.cfg.AppID == "" || appID != s.cfg.AppID || !equal(secret, s.cfg.AppSecret)):
		refuse("第三方系统登录授权验证失败：应用 ID 或密钥不正确")
		return
	}
	id := s.newSession()
	s.logins.Add(1)
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: id, Path: "/"})
	writeJSON(w, LoginResult{MessageCode: "CheckPasswordPolicy", LoginResultType: 1,
		Context:        map[string]any{"UserName": user, "UserId": 100123, "DBid": acct},
		KDSVCSessionID: id, Lcid: max(lcid, 2052), IsSuccessByAPI: true})
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

func (s *Sim) newSession() string {
	var raw [16]byte
	rand.Read(raw[:])
	id := hex.EncodeToString(raw[:])
	s.sessMu.Lock()
	s.sessions[id] = s.cfg.Now()
	s.sessMu.Unlock()
	return id
}

// authorised checks the session cookie (or header), or the signed
// third-party headers.
func (s *Sim) authorised(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("X-Kd-Appkey") != "" || r.Header.Get("X-Api-ClientID") != "" {
		if !s.signed(r) {
			return false
		}
		// A signed call is a live session; the server hands out its cookie,
		// one per authorised identity.
		s.signedOnce.Do(func() { s.signedSID = s.newSession() })
		s.sessMu.Lock()
		s.sessions[s.signedSID] = s.cfg.Now()
		s.sessMu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: s.signedSID, Path: "/"})
		return true
	}
	id := r.Header.Get(SessionCookie)
	if c, err := r.Cookie(SessionCookie); err == nil {
		id = c.Value
	}
	if id == "" {
		return false
	}
	now := s.cfg.Now()
	s.sessMu.Lock()
	defer s.sessMu.Unlock()
	last, ok := s.sessions[id]
	if !ok {
		return false
	}
	if now.Sub(last) > s.cfg.SessionIdle {
		delete(s.sessions, id)
		return false
	}
	s.sessions[id] = now
	return true
}

// signed verifies the third-party authorisation headers (erp.md 2.3): the
// X-Kd set always, the X-Api set when X-Api-ClientID is present.
func (s *Sim) signed(r *http.Request) bool {
	if s.cfg.AppID == "" || r.Header.Get("X-Kd-Appkey") != s.cfg.AppID {
		return false
	}
	plain, err := base64.StdEncoding.DecodeString(r.Header.Get("X-Kd-Appdata"))
	if err != nil {
		return false
	}
	parts := strings.Split(string(plain), ",")
	if len(parts) != 4 || parts[0] != s.cfg.AcctID || parts[1] != s.cfg.Username {
		return false
	}
	if !equal(r.Header.Get("X-Kd-Signature"), KdSignature(s.cfg.AppID, s.cfg.AppSecret, string(plain))) {
		return false
	}
	ts := r.Header.Get("x-api-timestamp")
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	// Seconds (Python SDK) or milliseconds (.NET SDK).
	at := time.Unix(n, 0)
	if n > 1e11 {
		at = time.UnixMilli(n)
	}
	if d := s.cfg.Now().Sub(at); d > s.cfg.SignWindow || d < -s.cfg.SignWindow {
		return false
	}
	if cid := r.Header.Get("X-Api-ClientID"); cid != "" {
		id, key, err := SplitAppID(s.cfg.AppID)
		if err != nil || cid != id {
			return false
		}
		path := r.URL.EscapedPath()
		if r.URL.RawQuery != "" {
			path += "?" + r.URL.RawQuery
		}
		if !equal(r.Header.Get("X-Api-Signature"), APISignature(key, path, r.Header.Get("x-api-nonce"), ts)) {
			return false
		}
	}
	return true
}
