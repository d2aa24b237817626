package jdy

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"orderhub/internal/connector/simfault"
)

// SimConfig configures a Sim. Zero fields take the defaults noted.
type SimConfig struct {
	ClientID     string // default "sim-client"
	ClientSecret string // default "sim-client-secret"
	AppKey       string // default "sim-app-key"
	AppSecret    string // default "sim-app-secret"
	// Domain is the data centre the token answer names, and the only
	// X-GW-Router-Addr business calls may carry. Default https://tf.jdy.com.
	Domain string
	UID    string // default "10001"
	// Now is the simulator's clock; default time.Now.
	Now func() time.Time
	// Window is how far X-Api-TimeStamp may be from now (5 min); a nonce may
	// not be used twice while its timestamp is inside it.
	Window time.Duration
	// TokenTTL is how long an app-token lives (24 h).
	TokenTTL time.Duration
	// TokenPerMinute is how many token calls a minute are answered (2);
	// more get HTTP 429. Negative: no limit.
	TokenPerMinute int
	// AccountPerMinute is how many business calls a minute the account is
	// answered (500); more get HTTP 429. Negative: no limit (benchmarks).
	AccountPerMinute int
	// DuplicateCode and DuplicateText (a format with the bill number) are
	// the answer to a second bill with an existing number; defaults
	// CodeDuplicate and "单据编号[%s]已存在".
	DuplicateCode int
	DuplicateText string
	// DuplicateBillNoAllowed models an account that does not enforce
	// unique bill numbers: a second bill with the same number is created.
	// Exactly-once must then come from verifying before writing again.
	DuplicateBillNoAllowed bool
	// LegacyAnswers makes sal_order_save answer in the legacy SDK's shape
	// (success/message/errorCode, data.successPkIds) instead of the
	// gateway's errcode/description/data.
	LegacyAnswers bool
	// Gateway519 makes the ServerError fault answer as the gateway does
	// for its own failures, HTTP 519 {code, description_cn}, instead of 502.
	Gateway519 bool
	// DropBodies keeps only the resolved bill, not the body as sent, to
	// hold long benchmark runs in less memory.
	DropBodies bool
}

// Customer, Material (with its units) and Stock are the master data a
// sales order references, by id or by number.
type Customer struct{ ID, Number, Name string }

// Unit is a unit of measure linked to a material.
type Unit struct{ ID, Name string }

// Material is a goods item (商品) with the units it may be sold in.
type Material struct {
	ID, Number, Name string
	Units            []Unit
}

// Stock is a warehouse (仓库).
type Stock struct{ ID, Number, Name string }

// SimBill is a sales order the simulator holds.
type SimBill struct {
	ID, BillNo, BillDate string
	CustomerID           string
	CustomerNumber       string
	Remark               string
	Lines                []SimLine
	Saves                int // 1 when created, +1 per modification
	Created, Modified    time.Time
	Body                 json.RawMessage // the last body saved
	AutoNumbered         bool
}

// SimLine is one material_entity line, resolved.
type SimLine struct {
	MaterialID, MaterialNumber string
	StockID, StockNumber       string
	UnitID                     string
	Qty, TaxPrice, Price       string
	IsFree                     bool
}

// Sim is a strict local 金蝶云星辰 behind the Kingdee API gateway: the
// token endpoint, sal_order_save and the V2 sales-order list, with the
// gateway's header, signature, timestamp, nonce, token and router checks
// and its throttles. It is an http.Handler.
type Sim struct {
	cfg    SimConfig
	faults simfault.Injector

	mu        sync.Mutex
	nonces    map[int64]map[uint64]struct{} // by timestamp minute
	tokens    map[string]time.Time          // app-token → expiry
	issued    int
	tokenRate rateRing
	callRate  rateRing
	customers map[string]*Customer // by "id:" and "no:" keys
	materials map[string]*Material
	stocks    map[string]*Stock
	bills     []*SimBill
	byNo      map[string][]*SimBill
	byID      map[string]*SimBill
	seq       int64
}

// NewSim returns a simulator with no master data (see SeedDemo, AddCustomer,
// AddMaterial, AddStock).
func NewSim(cfg SimConfig) *Sim {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&cfg.ClientID, "sim-client")
	def(&cfg.ClientSecret, "sim-client-secret")
	def(&cfg.AppKey, "sim-app-key")
	def(&cfg.AppSecret, "sim-app-secret")
	def(&cfg.Domain, "https://tf.jdy.com")
	def(&cfg.UID, "10001")
	def(&cfg.DuplicateText, "单据编号[%s]已存在")
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Window <= 0 {
		cfg.Window = 5 * time.Minute
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 24 * time.Hour
	}
	if cfg.TokenPerMinute == 0 {
		cfg.TokenPerMinute = 2
	}
	if cfg.AccountPerMinute == 0 {
		cfg.AccountPerMinute = 500
	}
	if cfg.DuplicateCode == 0 {
		cfg.DuplicateCode = CodeDuplicate
	}
	return &Sim{
		cfg:       cfg,
		nonces:    map[int64]map[uint64]struct{}{},
		tokens:    map[string]time.Time{},
		tokenRate: newRateRing(cfg.TokenPerMinute),
		callRate:  newRateRing(cfg.AccountPerMinute),
		customers: map[string]*Customer{},
		materials: map[string]*Material{},
		stocks:    map[string]*Stock{},
		byNo:      map[string][]*SimBill{},
		byID:      map[string]*SimBill{},
	}
}

// Config returns the configuration in effect (defaults filled in), so a
// client can be pointed at the simulator with the right credentials.
func (s *Sim) Config() SimConfig { return s.cfg }

// Handler returns the simulator as an http.Handler.
func (s *Sim) Handler() http.Handler { return s }

// Faults is the simulator's fault injector.
func (s *Sim) Faults() *simfault.Injector { return &s.faults }

// AddCustomer, AddMaterial and AddStock seed master data.
func (s *Sim) AddCustomer(c Customer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cp := c
	s.customers["id:"+c.ID] = &cp
	s.customers["no:"+c.Number] = &cp
}

// AddMaterial seeds a material and its units.
func (s *Sim) AddMaterial(m Material) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cp := m
	cp.Units = append([]Unit(nil), m.Units...)
	s.materials["id:"+m.ID] = &cp
	s.materials["no:"+m.Number] = &cp
}

// AddStock seeds a warehouse.
func (s *Sim) AddStock(st Stock) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cp := st
	s.stocks["id:"+st.ID] = &cp
	s.stocks["no:"+st.Number] = &cp
}

// Count is how many bills with this number the simulator holds.
func (s *Sim) Count(billNo string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byNo[billNo])
}

// Bill returns (a copy of) the first bill with this number.
func (s *Sim) Bill(billNo string) (SimBill, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.byNo[billNo]
	if len(l) == 0 {
		return SimBill{}, false
	}
	b := *l[0]
	b.Lines = append([]SimLine(nil), b.Lines...)
	return b, true
}

// Len is how many bills the simulator holds.
func (s *Sim) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.bills)
}

// BillNos lists the numbers of every bill held, once per bill, sorted.
func (s *Sim) BillNos() []string {
	s.mu.Lock()
	out := make([]string, len(s.bills))
	for i, b := range s.bills {
		out[i] = b.BillNo
	}
	s.mu.Unlock()
	sort.Strings(out)
	return out
}

// TokensIssued is how many app-tokens the token endpoint has issued.
func (s *Sim) TokensIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued
}

// ExpireTokens forgets every issued app-token, as the SessionLoss fault does.
func (s *Sim) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

// --- HTTP ------------------------------------------------------------------

func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	set := s.faults.Draw(r)
	if s.cfg.Gateway519 && set.Has(simfault.ServerError) {
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.WriteHeader(519)
		io.WriteString(w, `{"code":519,"description_cn":"网关处理异常，请稍后重试"}`)
		return
	}
	if set.Before(w, r) {
		return
	}
	if set.Has(simfault.Throttle) {
		s.throttled(w)
		return
	}
	if set.Has(simfault.SessionLoss) {
		s.ExpireTokens()
	}
	now := s.cfg.Now()
	if status, code, msg := s.checkGateway(r, now); status != 0 {
		writeErr(w, status, code, msg)
		return
	}
	switch r.URL.Path {
	case PathToken:
		if r.Method != http.MethodGet {
			writeErr(w, http.StatusMethodNotAllowed, CodeHeader, "kingdee_auth_token 只接受 GET")
			return
		}
		s.token(w, r, now, set.Has(simfault.LoseAnswer))
		return
	case PathSalOrderSave, PathSalOrderList:
	default:
		writeErr(w, http.StatusNotFound, CodeHeader, "接口不存在："+r.URL.Path)
		return
	}
	if status, code, msg := s.checkBusiness(r, now); status != 0 {
		writeErr(w, status, code, msg)
		return
	}
	switch {
	case r.URL.Path == PathSalOrderSave && r.Method == http.MethodPost:
		s.save(w, r, now, set.Has(simfault.LoseAnswer))
	case r.URL.Path == PathSalOrderList && r.Method == http.MethodGet:
		s.list(w, r, set.Has(simfault.LoseAnswer))
	default:
		writeErr(w, http.StatusMethodNotAllowed, CodeHeader, r.Method+" 不适用于 "+r.URL.Path)
	}
}

func (s *Sim) throttled(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "1")
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(http.StatusTooManyRequests)
	io.WriteString(w, `{"code":"429","description_cn":"请求过于频繁，请稍后再试"}`)
}

var gatewayHeaders = [...]string{HeaderClientID, HeaderAuthVersion, HeaderTimestamp, HeaderNonce, HeaderSignHeaders, HeaderSignature}

// checkGateway is what the gateway checks on every call, the token call
// included. A nonce is remembered only once the signature holds, so that
// unsigned garbage cannot use nonces up.
func (s *Sim) checkGateway(r *http.Request, now time.Time) (status, code int, msg string) {
	for _, h := range gatewayHeaders {
		if r.Header.Get(h) == "" {
			return http.StatusUnauthorized, CodeHeader, "缺少请求头 " + h
		}
	}
	if v := r.Header.Get(HeaderAuthVersion); v != AuthVersion {
		return http.StatusUnauthorized, CodeHeader, "X-Api-Auth-Version 须为 2.0，收到 " + v
	}
	var ts, nc bool
	for _, p := range strings.Split(r.Header.Get(HeaderSignHeaders), ",") {
		switch strings.ToLower(strings.TrimSpace(p)) {
		case "x-api-timestamp":
			ts = true
		case "x-api-nonce":
			nc = true
		default:
			return http.StatusUnauthorized, CodeHeader, "X-Api-SignHeaders 只能列出 X-Api-TimeStamp,X-Api-Nonce"
		}
	}
	if !ts || !nc {
		return http.StatusUnauthorized, CodeHeader, "X-Api-SignHeaders 须列出 X-Api-TimeStamp,X-Api-Nonce"
	}
	if subtle.ConstantTimeCompare([]byte(r.Header.Get(HeaderClientID)), []byte(s.cfg.ClientID)) != 1 {
		return http.StatusUnauthorized, CodeClientID, "X-Api-ClientID 无效"
	}
	tsText := r.Header.Get(HeaderTimestamp)
	ms, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return http.StatusUnauthorized, CodeTimestamp, "X-Api-TimeStamp 须为毫秒时间戳：" + tsText
	}
	if d := now.UnixMilli() - ms; d > s.cfg.Window.Milliseconds() || -d > s.cfg.Window.Milliseconds() {
		return http.StatusUnauthorized, CodeTimestamp, "X-Api-TimeStamp 已过期或超前（须在 5 分钟内）"
	}
	nonceText := r.Header.Get(HeaderNonce)
	nonce, err := strconv.ParseUint(nonceText, 10, 64)
	if err != nil || nonce == 0 {
		return http.StatusUnauthorized, CodeHeader, "X-Api-Nonce 须为正整数：" + nonceText
	}
	want := Signature(s.cfg.ClientSecret, StringToSign(r.Method, r.URL.Path, r.URL.Query(), nonceText, tsText))
	if subtle.ConstantTimeCompare([]byte(r.Header.Get(HeaderSignature)), []byte(want)) != 1 {
		return http.StatusUnauthorized, CodeSignature, "X-Api-Signature 签名校验失败"
	}
	if !s.useNonce(nonce, ms, now) {
		return http.StatusUnauthorized, CodeNonce, "X-Api-Nonce 重复使用：" + nonceText
	}
	return 0, 0, ""
}

// useNonce records a nonce, false when it was seen while its timestamp
// could still be accepted. Nonces are kept in buckets by the minute of
// their timestamp and dropped once that minute is out of the window.
func (s *Sim) useNonce(nonce uint64, tsMS int64, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.nonces {
		if _, seen := b[nonce]; seen {
			return false
		}
	}
	minute := tsMS / 60000
	b := s.nonces[minute]
	if b == nil {
		b = map[uint64]struct{}{}
		s.nonces[minute] = b
		oldest := (now.UnixMilli()-s.cfg.Window.Milliseconds())/60000 - 1
		for m := range s.nonces {
			if m < oldest {
				delete(s.nonces, m)
			}
		}
	}
	b[nonce] = struct{}{}
	return true
}

func (s *Sim) token(w http.ResponseWriter, r *http.Request, now time.Time, lose bool) {
	s.mu.Lock()
	ok := s.tokenRate.allow(now)
	s.mu.Unlock()
	if !ok {
		s.throttled(w)
		return
	}
	q := r.URL.Query()
	key := q.Get("app_key")
	if key == "" || subtle.ConstantTimeCompare([]byte(key), []byte(s.cfg.AppKey)) != 1 {
		writeErr(w, http.StatusOK, CodeAppKey, "app_key 不存在或未授权")
		return
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("app_signature")), []byte(AppSignature(s.cfg.AppKey, s.cfg.AppSecret))) != 1 {
		writeErr(w, http.StatusOK, CodeAuthKey, "授权密钥校验失败")
		return
	}
	uid := s.cfg.UID
	if u := q.Get("uid"); u != "" {
		uid = u
	}
	tok := fmt.Sprintf("%016x%016x", rand.Uint64(), rand.Uint64())
	s.mu.Lock()
	s.tokens[tok] = now.Add(s.cfg.TokenTTL)
	s.issued++
	s.mu.Unlock()
	if lose {
		simfault.DropAnswer(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"errcode": 0, "description": "success", "data": map[string]any{
		"app-token": tok, "domain": s.cfg.Domain, "uid": uid, "expires": s.cfg.TokenTTL.Milliseconds(),
	}})
}

// checkBusiness is what the gateway checks on a business call beyond the
// signature: a live app-token, the router address, the account's rate.
func (s *Sim) checkBusiness(r *http.Request, now time.Time) (status, code int, msg string) {
	tok := r.Header.Get(HeaderAppToken)
	s.mu.Lock()
	exp, ok := s.tokens[tok]
	if ok && !now.Before(exp) {
		delete(s.tokens, tok)
		ok = false
	}
	allowed := ok && s.callRate.allow(now)
	s.mu.Unlock()
	switch {
	case tok == "":
		return http.StatusUnauthorized, CodeTokenInvalid, "缺少 app-token"
	case !ok:
		return http.StatusUnauthorized, CodeTokenInvalid, "app-token 无效或已过期"
	case r.Header.Get(HeaderRouterAddr) != s.cfg.Domain:
		return http.StatusBadRequest, CodeRouterAddr, "X-GW-Router-Addr 与授权的 domain 不一致"
	case !allowed:
		return http.StatusTooManyRequests, 0, ""
	}
	return 0, 0, ""
}

func writeErr(w http.ResponseWriter, status, code int, msg string) {
	if status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.WriteHeader(status)
		io.WriteString(w, `{"code":"429","description_cn":"请求过于频繁，请稍后再试"}`)
		return
	}
	writeJSON(w, status, map[string]any{"errcode": code, "description": msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("jdy sim: encoding an answer: %v", err)) // plain maps: cannot fail
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
}

// rateRing admits at most len(t) events in any 60 s: t holds the times of
// the last admitted events, oldest at i.
type rateRing struct {
	t []int64
	i int
	n int
}

func newRateRing(perMinute int) rateRing {
	if perMinute < 0 {
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
