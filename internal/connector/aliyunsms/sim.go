package aliyunsms

import (
	"crypto/subtle"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"orderhub/internal/connector/simfault"
)

// TemplateKind is what an approved template is for; the per-number limits
// depend on it.
type TemplateKind string

// The kinds of template.
const (
	Verification TemplateKind = "verification" // 验证码
	Notification TemplateKind = "notification" // 短信通知
	Promotion    TemplateKind = "promotion"    // 推广短信
)

// SimTemplate is one approved template of the simulated account.
type SimTemplate struct {
	Code string
	Kind TemplateKind // Notification when empty
	// Text is the approved text with ${name} variables, as 模板管理 shows
	// it; its variables are what TemplateParam must cover.
	Text string
}

// SimSign is one approved sign name.
type SimSign struct {
	Name string
	// VerificationOnly signs may send only verification templates
	// (isv.SMS_SIGNATURE_SCENE_ILLEGAL otherwise).
	VerificationOnly bool
}

// SimLimits are the per-number limits (im.md 5.5); zero fields take the
// documented defaults.
type SimLimits struct {
	// A verification template, same sign, same number: per minute (1),
	// per hour (5), per 24 h (10).
	VerifyPerMinute, VerifyPerHour, VerifyPerDay int
	// PlatformVerifyPerDay is every verification code a number gets in
	// 24 h, whatever the sign (40).
	PlatformVerifyPerDay int
	// TemplatePerDay is a notification or promotion template, same sign,
	// same template, same number, per 24 h (50).
	TemplatePerDay int
}

// SimConfig configures a Sim. Zero fields take the defaults noted.
type SimConfig struct {
	// Now is the simulator's clock; default time.Now.
	Now    func() time.Time
	Limits SimLimits
	// NoNumberLimits turns the per-number limits off, for benchmarks.
	NoNumberLimits bool
	// Whitelist are numbers exempt from the per-number limits (the
	// console's 白名单).
	Whitelist []string
	// Window is how far a call's time may be from now, and how long a
	// nonce is remembered (15 min).
	Window time.Duration
	// QPS is the calls a second one AccessKey may make (5000); more get
	// ThrottleCode.
	QPS int
	// ThrottleCode answers a throttled call: Throttling.User (default) or
	// Throttling.Api; ThrottleStatus is its HTTP status (400). Which the
	// service sends, and with which status, is not documented.
	ThrottleCode   string
	ThrottleStatus int
	// PartialLimit: a call to several numbers of which some are over
	// their limit is taken for the others, and the limited ones are only
	// listed in Rejected. By default the whole call is refused with
	// isv.BUSINESS_LIMIT_CONTROL, as a call to one number is; the
	// documentation does not say which the service does.
	PartialLimit bool
	// DayCap is the console's daily total (发送量阈值): more SMS in one
	// Beijing day get isv.DAY_LIMIT_CONTROL. 0: none.
	DayCap int
}

// Received is one SMS the simulator took, per number.
type Received struct {
	At           time.Time         `json:"at"`
	BizID        string            `json:"biz_id"`
	Number       string            `json:"number"` // 11 digits, prefix removed
	SignName     string            `json:"sign_name"`
	TemplateCode string            `json:"template_code"`
	Params       map[string]string `json:"params,omitempty"`
	// Text is what the phone shows: 【sign】 and the approved text with
	// the params filled in.
	Text  string `json:"text"`
	OutID string `json:"out_id,omitempty"`
	// Signature is the signature version the call used: "V3" or "V1".
	Signature string `json:"signature"`
}

// Rejection is one refused call, or one number refused within a call.
type Rejection struct {
	At      time.Time `json:"at"`
	Status  int       `json:"status"`
	Code    string    `json:"code"`
	Message string    `json:"message"`
	Numbers []string  `json:"numbers,omitempty"`
}

// Sim is a strict local dysmsapi (Action=SendSms at /) for tests and the
// demo: V3 (ACS3-HMAC-SHA256) and V1 signatures with their time window and
// nonce replay, the AccessKeys, sign names and templates it is given, the
// numbers, TemplateParam against the template's variables, the per-number
// limits on its clock and the API's QPS, each refused with the service's
// code, message and body. It records what each number received. It is an
// http.Handler.
type Sim struct {
	cfg    SimConfig
	faults simfault.Injector

	mu        sync.Mutex
	keys      map[string]string // AccessKey ID → secret
	signs     map[string]SimSign
	templates map[string]simTemplate
	white     map[string]bool
	nonces    map[string]time.Time
	calls     map[string][]time.Time // per AccessKey, the last second's calls
	sends     map[string][]time.Time // per limit key, the last 24 h's sends
	day       string
	dayN      int
	seq       int64
	received  []Received
	rejected  []Rejection
}

type simTemplate struct {
	SimTemplate
	vars []string
}

// NewSim returns a simulator without keys, signs or templates.
func NewSim(cfg SimConfig) *Sim {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	l := &cfg.Limits
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&l.VerifyPerMinute, 1)
	def(&l.VerifyPerHour, 5)
	def(&l.VerifyPerDay, 10)
	def(&l.PlatformVerifyPerDay, 40)
	def(&l.TemplatePerDay, 50)
	def(&cfg.QPS, 5000)
	def(&cfg.ThrottleStatus, http.StatusBadRequest)
	if cfg.Window <= 0 {
		cfg.Window = 15 * time.Minute
	}
	if cfg.ThrottleCode == "" {
		cfg.ThrottleCode = CodeThrottlingUser
	}
	s := &Sim{cfg: cfg, keys: map[string]string{}, signs: map[string]SimSign{}, templates: map[string]simTemplate{},
		white: map[string]bool{}, nonces: map[string]time.Time{}, calls: map[string][]time.Time{}, sends: map[string][]time.Time{}}
	for _, n := range cfg.Whitelist {
		if m, ok := mainland(n); ok {
			s.white[m] = true
		}
	}
	return s
}

// Config returns the configuration in effect, defaults filled in.
func (s *Sim) Config() SimConfig { return s.cfg }

// Faults is the simulator's fault injector. Throttle answers with
// ThrottleCode; LoseAnswer takes the call and drops the connection.
func (s *Sim) Faults() *simfault.Injector { return &s.faults }

// AddKey adds an AccessKey.
func (s *Sim) AddKey(id, secret string) {
	s.mu.Lock()
	s.keys[id] = secret
	s.mu.Unlock()
}

// AddSign adds an approved sign name.
func (s *Sim) AddSign(sign SimSign) {
	s.mu.Lock()
	s.signs[sign.Name] = sign
	s.mu.Unlock()
}

var templateVar = regexp.MustCompile(`\$\{([^}]+)\}`)

// AddTemplate adds an approved template.
func (s *Sim) AddTemplate(t SimTemplate) {
	if t.Kind == "" {
		t.Kind = Notification
	}
	st := simTemplate{SimTemplate: t}
	for _, m := range templateVar.FindAllStringSubmatch(t.Text, -1) {
		if !slices.Contains(st.vars, m[1]) {
			st.vars = append(st.vars, m[1])
		}
	}
	s.mu.Lock()
	s.templates[t.Code] = st
	s.mu.Unlock()
}

// Received lists the SMS taken, one per number, oldest first.
func (s *Sim) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.received)
}

// ReceivedBy lists what one number received (written any way mainland()
// takes).
func (s *Sim) ReceivedBy(number string) []Received {
	n, _ := mainland(number)
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Received
	for _, r := range s.received {
		if r.Number == n {
			out = append(out, r)
		}
	}
	return out
}

// Rejected lists the refusals, oldest first.
func (s *Sim) Rejected() []Rejection {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.rejected)
}

// --- HTTP ------------------------------------------------------------------

// PathInspect lists what the simulator took and refused, as JSON:
// GET /_sim/messages[?number=…].
const PathInspect = "/_sim/messages"

// simError is one refusal: the HTTP status (200 for business codes), the
// code and the message.
type simError struct {
	status        int
	code, message string
	numbers       []string
}

func gateway(status int, code, msg string) *simError {
	return &simError{status: status, code: code, message: msg}
}

func business(code, msg string) *simError {
	return &simError{status: http.StatusOK, code: code, message: msg}
}

// request is one call as the simulator read it.
type request struct {
	params    url.Values // query and form
	body      []byte
	version   string // "V3" or "V1"
	ak        string
	nonce     string
	format    string // JSON or XML
	requestID string
}

func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	set := s.faults.Draw(r)
	if set.Before(w, r) {
		return
	}
	if r.URL.Path == PathInspect && r.Method == http.MethodGet {
		s.inspect(w, r)
		return
	}
	now := s.cfg.Now()
	req := &request{format: "JSON", requestID: s.requestID()}
	if r.URL.Path != "/" {
		s.answer(w, req, now, gateway(http.StatusNotFound, CodeActionNotFound, "Specified api is not found, please check your url and method."))
		return
	}
	if e := s.read(r, req); e != nil {
		s.answer(w, req, now, e)
		return
	}
	var e *simError
	if r.Header.Get("Authorization") != "" {
		e = s.checkV3(r, req, now)
	} else {
		e = s.checkV1(r, req, now)
	}
	if e == nil {
		e = s.throttle(req.ak, now, set.Has(simfault.Throttle))
	}
	if e != nil {
		s.answer(w, req, now, e)
		return
	}
	bizID, e := s.send(req, now)
	if e != nil {
		s.answer(w, req, now, e)
		return
	}
	if set.Has(simfault.LoseAnswer) {
		simfault.DropAnswer(w)
		return
	}
	s.write(w, req, http.StatusOK, answer{Code: CodeOK, Message: "OK", BizID: bizID, RequestID: req.requestID})
}

// read takes the parameters from the query and, for a POST, a form body.
func (s *Sim) read(r *http.Request, req *request) *simError {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return gateway(http.StatusNotFound, CodeActionNotFound, "Specified api is not found, please check your url and method.")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return gateway(http.StatusBadRequest, "InvalidParameter", "the body could not be read")
	}
	req.body = body
	req.params = r.URL.Query()
	if len(body) > 0 {
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if mt != "application/x-www-form-urlencoded" {
			return gateway(http.StatusBadRequest, "InvalidParameter", "the body must be a form (application/x-www-form-urlencoded)")
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return gateway(http.StatusBadRequest, "InvalidParameter", "the form body is malformed")
		}
		for k, v := range form {
			req.params[k] = append(req.params[k], v...)
		}
	}
	return nil
}

// checkV3 verifies an ACS3-HMAC-SHA256 call (im.md 5.3).
func (s *Sim) checkV3(r *http.Request, req *request, now time.Time) *simError {
	req.version = "V3"
	auth, ok := parseV3Auth(r.Header.Get("Authorization"))
	if !ok {
		return gateway(http.StatusBadRequest, CodeIncompleteSignature, "The request signature does not conform to Aliyun standards.")
	}
	signed := map[string]bool{}
	for _, h := range auth.signed {
		signed[h] = true
	}
	if !signed["host"] {
		return gateway(http.StatusBadRequest, CodeIncompleteSignature, "The request signature does not conform to Aliyun standards. host is not signed.")
	}
	for name := range r.Header {
		if l := strings.ToLower(name); strings.HasPrefix(l, "x-acs-") && !signed[l] {
			return gateway(http.StatusBadRequest, CodeIncompleteSignature, "The request signature does not conform to Aliyun standards. "+l+" is not signed.")
		}
	}
	s.mu.Lock()
	secret, known := s.keys[auth.credential]
	s.mu.Unlock()
	if !known {
		return gateway(http.StatusNotFound, CodeAKNotFound, "Specified access key is not found.")
	}
	req.ak = auth.credential
	if r.Header.Get("x-acs-action") != Action {
		return gateway(http.StatusNotFound, CodeActionNotFound, "Specified api is not found, please check your url and method.")
	}
	if r.Header.Get("x-acs-version") != APIVersion {
		return gateway(http.StatusBadRequest, CodeInvalidVersion, "Specified parameter Version is not valid.")
	}
	if e := s.checkTime(r.Header.Get("x-acs-date"), now); e != nil {
		return e
	}
	req.nonce = r.Header.Get("x-acs-signature-nonce")
	if req.nonce == "" {
		return gateway(http.StatusBadRequest, "MissingSignatureNonce", "SignatureNonce is mandatory for this action.")
	}
	hash := r.Header.Get("x-acs-content-sha256")
	if hash == "" {
		return gateway(http.StatusBadRequest, CodeIncompleteSignature, "The request signature does not conform to Aliyun standards. x-acs-content-sha256 is missing.")
	}
	v3 := V3Request{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.Query(), Headers: headerPairs(r, auth.signed), PayloadHash: hash}
	want, _ := v3.Sign(secret)
	if subtle.ConstantTimeCompare([]byte(auth.signature), []byte(want)) != 1 {
		sts, _ := v3.StringToSign()
		return gateway(http.StatusBadRequest, CodeSignatureMismatch, "Specified signature does not match our calculation. server string to sign is:"+sts)
	}
	if sum := sha256hex(req.body); hash != sum {
		return gateway(http.StatusBadRequest, CodeSignatureMismatch, "Specified signature does not match our calculation. x-acs-content-sha256 is not the hash of the body.")
	}
	return s.useNonce(req.ak, req.nonce, now)
}

// checkV1 verifies a call signed with the Signature parameter (im.md 5.2).
func (s *Sim) checkV1(r *http.Request, req *request, now time.Time) *simError {
	req.version = "V1"
	p := req.params
	req.format = "XML" // V1's default
	if f := p.Get("Format"); strings.EqualFold(f, "JSON") {
		req.format = "JSON"
	}
	for _, k := range []string{"Signature", "AccessKeyId", "Action", "Version", "SignatureMethod", "SignatureVersion", "SignatureNonce", "Timestamp"} {
		if p.Get(k) == "" {
			return gateway(http.StatusBadRequest, "Missing"+k, k+" is mandatory for this action.")
		}
	}
	if p.Get("SignatureMethod") != "HMAC-SHA1" {
		return gateway(http.StatusBadRequest, "InvalidSignatureMethod", "Specified signature method is not valid.")
	}
	if p.Get("SignatureVersion") != "1.0" {
		return gateway(http.StatusBadRequest, "UnsupportedSignatureVersion", "Specified signature version is not supported.")
	}
	if p.Get("Action") != Action {
		return gateway(http.StatusNotFound, CodeActionNotFound, "Specified api is not found, please check your url and method.")
	}
	if p.Get("Version") != APIVersion {
		return gateway(http.StatusBadRequest, CodeInvalidVersion, "Specified parameter Version is not valid.")
	}
	if e := s.checkTime(p.Get("Timestamp"), now); e != nil {
		return e
	}
	s.mu.Lock()
	secret, known := s.keys[p.Get("AccessKeyId")]
	s.mu.Unlock()
	if !known {
		return gateway(http.StatusNotFound, CodeAKNotFound, "Specified access key is not found.")
	}
	req.ak, req.nonce = p.Get("AccessKeyId"), p.Get("SignatureNonce")
	want := SignV1(r.Method, p, secret)
	if subtle.ConstantTimeCompare([]byte(p.Get("Signature")), []byte(want)) != 1 {
		return gateway(http.StatusBadRequest, CodeSignatureMismatch, "Specified signature is not matched with our calculation. server string to sign is:"+StringToSignV1(r.Method, p))
	}
	return s.useNonce(req.ak, req.nonce, now)
}

func (s *Sim) checkTime(v string, now time.Time) *simError {
	t, err := time.Parse(timeFormat, v)
	if err != nil {
		return gateway(http.StatusBadRequest, CodeTimeFormat, "Specified time stamp or date value is not well formatted.")
	}
	if d := now.Sub(t); d > s.cfg.Window || d < -s.cfg.Window {
		return gateway(http.StatusBadRequest, CodeTimeExpired, "Specified time stamp or date value is expired.")
	}
	return nil
}

// useNonce refuses a nonce seen within the window and remembers it.
func (s *Sim) useNonce(ak, nonce string, now time.Time) *simError {
	key := ak + "\x00" + nonce
	s.mu.Lock()
	defer s.mu.Unlock()
	if at, seen := s.nonces[key]; seen && now.Sub(at) <= s.cfg.Window {
		return gateway(http.StatusBadRequest, CodeNonceUsed, "Specified signature nonce was used already.")
	}
	if len(s.nonces) > 4096 {
		for k, at := range s.nonces {
			if now.Sub(at) > s.cfg.Window {
				delete(s.nonces, k)
			}
		}
	}
	s.nonces[key] = now
	return nil
}

// throttle keeps the AccessKey's calls within QPS in any second.
func (s *Sim) throttle(ak string, now time.Time, forced bool) *simError {
	refused := gateway(s.cfg.ThrottleStatus, s.cfg.ThrottleCode, "Request was denied due to user flow control.")
	if forced {
		return refused
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	calls := s.calls[ak]
	for len(calls) > 0 && now.Sub(calls[0]) >= time.Second {
		calls = calls[1:]
	}
	if len(calls) >= s.cfg.QPS {
		s.calls[ak] = calls
		return refused
	}
	s.calls[ak] = append(calls, now)
	return nil
}

// send runs SendSms's business checks and, when they pass, records one SMS
// per number.
func (s *Sim) send(req *request, now time.Time) (string, *simError) {
	p := req.params
	for _, k := range []string{"PhoneNumbers", "SignName", "TemplateCode"} {
		if p.Get(k) == "" {
			return "", gateway(http.StatusBadRequest, "Missing"+k, k+" is mandatory for this action.")
		}
	}
	raw := strings.Split(p.Get("PhoneNumbers"), ",")
	if len(raw) > MaxNumbers {
		return "", business(CodeMobileCount, "手机号码数量超过限制")
	}
	var numbers []string
	for _, n := range raw {
		m, ok := mainland(n)
		if !ok {
			return "", business(CodeMobileIllegal, "非法手机号")
		}
		numbers = append(numbers, m)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sign, ok := s.signs[p.Get("SignName")]
	if !ok {
		return "", business(CodeSignIllegal, "该账号下找不到对应签名")
	}
	tpl, ok := s.templates[p.Get("TemplateCode")]
	if !ok {
		return "", business(CodeTemplateIllegal, "该账号下找不到对应模板")
	}
	if sign.VerificationOnly && tpl.Kind != Verification {
		return "", business(CodeSignScene, "签名和模板类型不一致")
	}
	params := map[string]string{}
	if tp := p.Get("TemplateParam"); tp != "" {
		var obj map[string]any
		if err := json.Unmarshal([]byte(tp), &obj); err != nil || obj == nil {
			return "", business(CodeInvalidJSON, "JSON参数不合法，只接受字符串值")
		}
		for k, v := range obj {
			str, ok := v.(string)
			if !ok {
				return "", business(CodeInvalidJSON, "JSON参数不合法，只接受字符串值")
			}
			params[k] = str
		}
	}
	for _, v := range tpl.vars {
		if _, ok := params[v]; !ok {
			return "", business(CodeMissingParams, "模板变量缺少对应参数值")
		}
	}
	if s.cfg.DayCap > 0 {
		if d := now.In(beijing).Format("2006-01-02"); d != s.day {
			s.day, s.dayN = d, 0
		}
		if s.dayN+len(numbers) > s.cfg.DayCap {
			return "", business(CodeDayLimit, "触发日发送限额")
		}
	}
	// Per-number limits: the numbers over theirs are refused, and with
	// them the whole call unless PartialLimit.
	var take []string
	var limited *simError
	for _, n := range numbers {
		if e := s.limited(sign.Name, tpl, n, now); e != nil {
			if limited == nil {
				limited = e
			}
			limited.numbers = append(limited.numbers, n)
			continue
		}
		take = append(take, n)
	}
	if limited != nil && (!s.cfg.PartialLimit || len(take) == 0) {
		return "", limited
	}
	if limited != nil {
		s.rejected = append(s.rejected, Rejection{At: now, Status: http.StatusOK, Code: limited.code, Message: limited.message, Numbers: limited.numbers})
	}
	s.seq++
	bizID := fmt.Sprintf("%d^0", 900000000000000000+now.Unix()%1000000*1000+s.seq)
	text := "【" + sign.Name + "】" + templateVar.ReplaceAllStringFunc(tpl.Text, func(m string) string { return params[m[2:len(m)-1]] })
	for _, n := range take {
		s.count(sign.Name, tpl, n, now)
		s.received = append(s.received, Received{At: now, BizID: bizID, Number: n, SignName: sign.Name, TemplateCode: tpl.Code,
			Params: params, Text: text, OutID: p.Get("OutId"), Signature: req.version})
	}
	s.dayN += len(take)
	return bizID, nil
}

// limitKeys are the counters one SMS to n counts against, with their
// windows and permits, in the order the service reports them.
func (s *Sim) limitKeys(sign string, tpl simTemplate, n string) []limitKey {
	l := s.cfg.Limits
	if tpl.Kind == Verification {
		k := "v\x00" + sign + "\x00" + n
		return []limitKey{
			{k, time.Minute, l.VerifyPerMinute, "分钟"},
			{k, time.Hour, l.VerifyPerHour, "小时"},
			{k, 24 * time.Hour, l.VerifyPerDay, "天"},
			{"p\x00" + n, 24 * time.Hour, l.PlatformVerifyPerDay, "天"},
		}
	}
	return []limitKey{{"t\x00" + sign + "\x00" + tpl.Code + "\x00" + n, 24 * time.Hour, l.TemplatePerDay, "天"}}
}

type limitKey struct {
	key     string
	span    time.Duration
	permits int
	level   string
}

// limited is the refusal of an SMS to n, if one of its limits is full.
func (s *Sim) limited(sign string, tpl simTemplate, n string, now time.Time) *simError {
	if s.cfg.NoNumberLimits || s.white[n] {
		return nil
	}
	for _, k := range s.limitKeys(sign, tpl, n) {
		in := 0
		for _, at := range s.sends[k.key] {
			if now.Sub(at) < k.span {
				in++
			}
		}
		if in >= k.permits {
			return business(CodeLimitControl, fmt.Sprintf("触发%s级流控Permits:%d", k.level, k.permits))
		}
	}
	return nil
}

// count records an accepted SMS against n's limits, keeping 24 h.
func (s *Sim) count(sign string, tpl simTemplate, n string, now time.Time) {
	seen := map[string]bool{}
	for _, k := range s.limitKeys(sign, tpl, n) {
		if seen[k.key] {
			continue
		}
		seen[k.key] = true
		at := s.sends[k.key]
		for len(at) > 0 && now.Sub(at[0]) >= 24*time.Hour {
			at = at[1:]
		}
		s.sends[k.key] = append(at, now)
	}
}

func (s *Sim) requestID() string {
	s.mu.Lock()
	s.seq++
	n := s.seq
	s.mu.Unlock()
	return fmt.Sprintf("F655A8D5-B967-440B-8683-%012X", n)
}

// answer writes a refusal and records it.
func (s *Sim) answer(w http.ResponseWriter, req *request, now time.Time, e *simError) {
	s.mu.Lock()
	s.rejected = append(s.rejected, Rejection{At: now, Status: e.status, Code: e.code, Message: e.message, Numbers: e.numbers})
	s.mu.Unlock()
	a := answer{Code: e.code, Message: e.message, RequestID: req.requestID}
	if e.status != http.StatusOK {
		a.HostID = "dysmsapi.aliyuncs.com"
		a.Recommend = "https://api.aliyun.com/troubleshoot?q=" + e.code + "&product=Dysmsapi"
	}
	s.write(w, req, e.status, a)
}

// write answers in the call's format: JSON, or XML for a V1 call that did
// not ask for JSON.
func (s *Sim) write(w http.ResponseWriter, req *request, status int, a answer) {
	if req.format == "XML" {
		root := "SendSmsResponse"
		if status != http.StatusOK {
			root = "Error"
		}
		b, _ := xml.Marshal(struct {
			XMLName   xml.Name
			RequestID string `xml:"RequestId"`
			HostID    string `xml:"HostId,omitempty"`
			Code      string `xml:"Code"`
			Message   string `xml:"Message"`
			BizID     string `xml:"BizId,omitempty"`
			Recommend string `xml:"Recommend,omitempty"`
		}{xml.Name{Local: root}, a.RequestID, a.HostID, a.Code, a.Message, a.BizID, a.Recommend})
		w.Header().Set("Content-Type", "text/xml;charset=utf-8")
		w.WriteHeader(status)
		io.WriteString(w, xml.Header)
		w.Write(b)
		return
	}
	b, _ := json.Marshal(a)
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
}

func (s *Sim) inspect(w http.ResponseWriter, r *http.Request) {
	number := r.URL.Query().Get("number")
	var out struct {
		Received []Received  `json:"received"`
		Rejected []Rejection `json:"rejected"`
	}
	if number != "" {
		out.Received = s.ReceivedBy(number)
	} else {
		out.Received = s.Received()
	}
	out.Rejected = s.Rejected()
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	enc.Encode(out)
}
