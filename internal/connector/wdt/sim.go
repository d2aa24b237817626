package wdt

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"orderhub/internal/connector/simfault"
)

// SimConfig configures a simulator. The zero value of a field takes the
// default in its comment; the account fields have no default and an empty
// one refuses every call on its route.
type SimConfig struct {
	// SID, AppKey and AppSecret are the openapi2 account.
	SID, AppKey, AppSecret string
	// QimenAppKey and QimenAppSecret are the 奇门 app; QimenTargetAppKey is
	// 旺店通's key on 奇门. SID is the seller on both routes.
	QimenAppKey, QimenAppSecret, QimenTargetAppKey string

	// Now is the simulator's clock (time.Now): timestamps are checked and
	// late documents become visible against it.
	Now func() time.Time
	// Location is 旺店通's zone (Asia/Shanghai): windows and modified
	// times are read in it.
	Location *time.Location
	// SignLength is how the server counts lengths in the openapi2
	// signature (chars).
	SignLength SignLength
	// CallsPerMinute limits the calls of one account in one clock minute;
	// the call over the limit is answered Codes.Throttled. 0: no limit.
	CallsPerMinute int
	// TradeMaxSpan and StockinMaxSpan are the widest windows (1 h, 30 days).
	TradeMaxSpan, StockinMaxSpan time.Duration
	// TradeMaxPage and StockinMaxPage are the largest page_size (100, 100;
	// set StockinMaxPage 50 for the older 企业版 page's limit).
	TradeMaxPage, StockinMaxPage int
	// TimestampSkew is how far an openapi2 timestamp may be from now (5 min);
	// QimenTimestampSkew the same for 奇门 (10 min).
	TimestampSkew, QimenTimestampSkew time.Duration
	// TotalOnPageZeroOnly leaves total_count out of pages after the first,
	// as several 旺店通 pages document.
	TotalOnPageZeroOnly bool
	// AllowEmptyParams accepts business parameters with empty values; by
	// default they are refused, as the official client never sends them.
	AllowEmptyParams bool
	// Codes are the answer codes (see DefaultCodes).
	Codes Codes
	// Catalog is what Generate draws from (DefaultCatalog).
	Catalog *Catalog
}

// Codes are the codes the simulator answers with. 旺店通 publishes no
// table (erp.md 1.6): only 1012 (busy) and 2900 (stock-in query without
// range or number) are documented. The rest are this simulator's choice,
// outside the busy set the client retries, with Chinese messages naming
// what is wrong as 旺店通's own messages do.
type Codes struct {
	Throttled, UnknownSID, UnknownAppKey, BadSign, StaleTimestamp, MissingParam, BadParam, NoRange int
}

// DefaultCodes are the codes a zero Codes takes.
var DefaultCodes = Codes{Throttled: 1012, UnknownSID: 1100, UnknownAppKey: 1101, BadSign: 1102, StaleTimestamp: 1103, MissingParam: 1104, BadParam: 1105, NoRange: 2900}

// Sim simulates 旺店通's trade and return stock-in queries on both routes,
// from one data set: POST /openapi2/trade_query.php and
// /openapi2/stockin_order_query_refund.php (openapi2), and GET or POST
// /router/qm (奇门). Point a wdt system's base_url at URL+"/openapi2" and
// a wdt_qimen system's at URL+"/router/qm".
type Sim struct {
	cfg    SimConfig
	faults simfault.Injector

	mu       sync.RWMutex
	trades   *table
	stockins *table

	rateMu sync.Mutex
	minute int64
	used   map[string]int

	calls atomic.Int64
	// tradeSeq and stockinSeq number the documents Generate makes, so
	// that repeated calls never reuse a number.
	tradeSeq, stockinSeq atomic.Int64
}

// The paths the simulator serves under: a wdt system's base_url is the
// server's URL + OpenAPIPath, a wdt_qimen system's URL + QimenPath.
const (
	OpenAPIPath = "/openapi2"
	QimenPath   = "/router/qm"
)

// NewSim returns an empty simulator.
func NewSim(cfg SimConfig) *Sim {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Location == nil {
		cfg.Location = shanghai
	}
	if cfg.SignLength == "" {
		cfg.SignLength = SignChars
	}
	if cfg.TradeMaxSpan == 0 {
		cfg.TradeMaxSpan = time.Hour
	}
	if cfg.StockinMaxSpan == 0 {
		cfg.StockinMaxSpan = 30 * 24 * time.Hour
	}
	if cfg.TradeMaxPage == 0 {
		cfg.TradeMaxPage = MaxPage
	}
	if cfg.StockinMaxPage == 0 {
		cfg.StockinMaxPage = MaxPage
	}
	if cfg.TimestampSkew == 0 {
		cfg.TimestampSkew = 5 * time.Minute
	}
	if cfg.QimenTimestampSkew == 0 {
		cfg.QimenTimestampSkew = 10 * time.Minute
	}
	if cfg.Codes == (Codes{}) {
		cfg.Codes = DefaultCodes
	}
	if cfg.Catalog == nil {
		c := DefaultCatalog()
		cfg.Catalog = &c
	}
	return &Sim{cfg: cfg, trades: newTable(), stockins: newTable(), used: map[string]int{}}
}

// Handler serves both routes.
func (s *Sim) Handler() http.Handler { return s }

// Faults is the simulator's fault injector. Throttle is answered as the
// route throttles (openapi2 code 1012; 奇门's error_response code 7),
// LoseAnswer drops the connection after the query ran.
func (s *Sim) Faults() *simfault.Injector { return &s.faults }

// Catalog is the shops, warehouses and goods generated documents use.
func (s *Sim) Catalog() Catalog { return s.cfg.Catalog.clone() }

// Calls is how many requests the simulator has been sent, refused ones
// included.
func (s *Sim) Calls() int64 { return s.calls.Load() }

// PutTrades adds trades, or replaces the stored version of a trade_no
// (give it a later modified to have it pulled again). A trade whose
// VisibleAt is later than the clock is held back from queries until then.
func (s *Sim) PutTrades(ts ...Trade) error {
	rs := make([]*record, 0, len(ts))
	for i := range ts {
		t := ts[i]
		r, err := s.record(t.TradeNo, t.Modified, t.VisibleAt, &t)
		if err != nil {
			return fmt.Errorf("trade %d (%s): %w", i, t.TradeNo, err)
		}
		r.trade = &t
		rs = append(rs, r)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trades.putMany(rs)
	return nil
}

// PutStockins adds return stock-ins, or replaces the stored version of an
// order_no, as PutTrades.
func (s *Sim) PutStockins(ss ...Stockin) error {
	rs := make([]*record, 0, len(ss))
	for i := range ss {
		st := ss[i]
		r, err := s.record(st.OrderNo, st.Modified, st.VisibleAt, &st)
		if err != nil {
			return fmt.Errorf("stock-in %d (%s): %w", i, st.OrderNo, err)
		}
		r.stockin = &st
		rs = append(rs, r)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stockins.putMany(rs)
	return nil
}

// Seed puts every document of d.
func (s *Sim) Seed(d *Data) error {
	if err := s.PutTrades(d.Trades...); err != nil {
		return err
	}
	return s.PutStockins(d.Stockins...)
}

// Generate makes n trades (and refund stock-ins for some) modified in
// [from, to] from the simulator's catalog, shaped as the package's
// Generate says, and seeds them. Numbers run on from the simulator's
// previous calls, so a demo may call it again and again for new
// documents.
func (s *Sim) Generate(n int, from, to time.Time, seed uint64) (*Data, error) {
	d := generate(*s.cfg.Catalog, s.cfg.Location, n, from, to, seed, &s.tradeSeq, &s.stockinSeq)
	return d, s.Seed(d)
}

// TouchTrade gives a stored trade a new modified time (as an edit in
// 旺店通 would), visible at once.
func (s *Sim) TouchTrade(no string, modified time.Time) error {
	t, ok := s.Trade(no)
	if !ok {
		return fmt.Errorf("no trade %s", no)
	}
	t.Modified, t.VisibleAt = modified.In(s.cfg.Location).Format(wdtTime), time.Time{}
	return s.PutTrades(t)
}

// TouchStockin gives a stored stock-in a new modified time.
func (s *Sim) TouchStockin(no string, modified time.Time) error {
	st, ok := s.Stockin(no)
	if !ok {
		return fmt.Errorf("no stock-in %s", no)
	}
	st.Modified, st.VisibleAt = modified.In(s.cfg.Location).Format(wdtTime), time.Time{}
	return s.PutStockins(st)
}

// Trade returns the stored version of a trade, visible or not.
func (s *Sim) Trade(no string) (Trade, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if r, ok := s.trades.byKey[no]; ok {
		return *r.trade, true
	}
	return Trade{}, false
}

// Stockin returns the stored version of a return stock-in.
func (s *Sim) Stockin(no string) (Stockin, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if r, ok := s.stockins.byKey[no]; ok {
		return *r.stockin, true
	}
	return Stockin{}, false
}

// Len reports how many trades and stock-ins the simulator holds.
func (s *Sim) Len() (trades, stockins int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.trades.byMod), len(s.stockins.byMod)
}

func (s *Sim) record(key, modified string, visible time.Time, doc any) (*record, error) {
	if key == "" {
		return nil, fmt.Errorf("the document has no number")
	}
	m, err := time.ParseInLocation(wdtTime, modified, s.cfg.Location)
	if err != nil {
		return nil, fmt.Errorf("modified %q is not a time like 2026-01-02 15:04:05", modified)
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encoding: %w", err)
	}
	r := &record{key: key, mod: m.Unix(), raw: raw}
	if !visible.IsZero() {
		r.visible = visible.UnixNano()
	}
	return r, nil
}

// refusal is a 旺店通 business refusal.
type refusal struct {
	code int
	msg  string
}

// gatewayRefusal is a 奇门 gateway refusal (error_response).
type gatewayRefusal struct {
	code            int
	msg, sub, subMs string
}

// ServeHTTP implements http.Handler: every answer is HTTP 200 JSON but
// for injected server errors and unknown paths.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.calls.Add(1)
	set := s.faults.Draw(r)
	if set.Before(w, r) {
		return
	}
	switch r.URL.Path {
	case OpenAPIPath + "/trade_query.php":
		s.serveOpen(w, r, set, APITrades)
	case OpenAPIPath + "/stockin_order_query_refund.php":
		s.serveOpen(w, r, set, APIStockins)
	case QimenPath:
		s.serveQimen(w, r, set)
	default:
		http.NotFound(w, r)
	}
}

// form reads the parameters, the body's over the query string's, each
// key's first value.
func form(r *http.Request) (map[string]string, error) {
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(r.Form))
	for k, v := range r.Form {
		if len(v) > 0 {
			out[k] = v[0]
		}
	}
	return out, nil
}

func (s *Sim) serveOpen(w http.ResponseWriter, r *http.Request, set simfault.Set, api string) {
	c := s.cfg.Codes
	if r.Method != http.MethodPost {
		writeJSON(w, openError(refusal{c.BadParam, "只支持 POST 请求"}))
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		writeJSON(w, openError(refusal{c.BadParam, "Content-Type 必须为 application/x-www-form-urlencoded"}))
		return
	}
	p, err := form(r)
	if err != nil {
		writeJSON(w, openError(refusal{c.BadParam, "请求参数无法解析：" + err.Error()}))
		return
	}
	if ref := s.checkOpen(p); ref != nil {
		writeJSON(w, openError(*ref))
		return
	}
	if set.Has(simfault.Throttle) || !s.allow("open:"+p["appkey"]) {
		writeJSON(w, openError(refusal{c.Throttled, "接口调用过于频繁，请稍后再试"}))
		return
	}
	total, page, ref := s.query(api, p)
	if ref != nil {
		writeJSON(w, openError(*ref))
		return
	}
	body := s.answer(api, total, page, p["page_no"], false)
	if set.Has(simfault.LoseAnswer) {
		simfault.DropAnswer(w)
		return
	}
	writeJSON(w, body)
}

// checkOpen checks the openapi2 public parameters and the signature.
func (s *Sim) checkOpen(p map[string]string) *refusal {
	c := s.cfg.Codes
	for _, k := range []string{"sid", "appkey", "timestamp", "sign"} {
		if p[k] == "" {
			return &refusal{c.MissingParam, "缺少公共参数 " + k}
		}
	}
	if s.cfg.SID == "" || p["sid"] != s.cfg.SID {
		return &refusal{c.UnknownSID, "卖家账号(sid)不存在：" + p["sid"]}
	}
	if s.cfg.AppKey == "" || p["appkey"] != s.cfg.AppKey {
		return &refusal{c.UnknownAppKey, "接口账号(appkey)不存在或已停用"}
	}
	ts := p["timestamp"]
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(ts) != 10 {
		return &refusal{c.StaleTimestamp, "时间戳(timestamp)必须是10位整数"}
	}
	if d := s.cfg.Now().Sub(time.Unix(n, 0)); d > s.cfg.TimestampSkew || d < -s.cfg.TimestampSkew {
		return &refusal{c.StaleTimestamp, "时间戳(timestamp)超出允许范围，请校准时间"}
	}
	if SignOpenAPI(p, s.cfg.AppSecret, s.cfg.SignLength) != p["sign"] {
		return &refusal{c.BadSign, "签名错误"}
	}
	return nil
}

// methods are the 奇门 method names the router takes, with and without
// the router id.
var methods = map[string]string{
	"wdt.trade.query": APITrades, "hu3cgwt0tc.wdt.trade.query": APITrades,
	"wdt.stockin.order.query.refund": APIStockins, "hu3cgwt0tc.wdt.stockin.order.query.refund": APIStockins,
}

func (s *Sim) serveQimen(w http.ResponseWriter, r *http.Request, set simfault.Set) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		writeJSON(w, topError(gatewayRefusal{9, "Http Action Not Allowed", "", "只支持 GET 或 POST"}))
		return
	}
	p, err := form(r)
	if err != nil {
		writeJSON(w, topError(gatewayRefusal{topInvalidArgs, "Invalid Arguments", "isv.invalid-parameter", err.Error()}))
		return
	}
	api, g := s.checkQimen(p)
	if g != nil {
		writeJSON(w, topError(*g))
		return
	}
	if set.Has(simfault.Throttle) {
		writeJSON(w, topError(gatewayRefusal{topCallLimited, "App Call Limited", "accesscontrol.limited-by-app-access-count", "This ban will last for 1 more seconds"}))
		return
	}
	c := s.cfg.Codes
	if p["sid"] != s.cfg.SID || s.cfg.SID == "" {
		writeJSON(w, qimenFailure(refusal{c.UnknownSID, "卖家账号(sid)不存在：" + p["sid"]}))
		return
	}
	if !s.allow("qm:" + p["app_key"]) {
		writeJSON(w, qimenFailure(refusal{c.Throttled, "接口调用过于频繁，请稍后再试"}))
		return
	}
	total, page, ref := s.query(api, p)
	if ref != nil {
		writeJSON(w, qimenFailure(*ref))
		return
	}
	body := s.answer(api, total, page, p["page_no"], true)
	if set.Has(simfault.LoseAnswer) {
		simfault.DropAnswer(w)
		return
	}
	writeJSON(w, body)
}

// checkQimen checks the TOP system parameters and signature.
func (s *Sim) checkQimen(p map[string]string) (string, *gatewayRefusal) {
	missing := []struct {
		key  string
		code int
		msg  string
	}{
		{"method", topMissingMethod, "Missing Method"}, {"app_key", topMissingKey, "Missing App Key"},
		{"timestamp", topMissingTime, "Missing Timestamp"}, {"sign", topMissingSign, "Missing Signature"},
		{"v", 32, "Missing Version"}, {"target_app_key", 40, "Missing Required Arguments"},
	}
	for _, m := range missing {
		if p[m.key] == "" {
			return "", &gatewayRefusal{m.code, m.msg, "isv.missing-parameter:" + m.key, "缺少参数 " + m.key}
		}
	}
	api, ok := methods[p["method"]]
	if !ok {
		return "", &gatewayRefusal{topInvalidMethod, "Invalid Method", "isv.invalid-method", "不存在的方法名 " + p["method"]}
	}
	if p["v"] != "2.0" {
		return "", &gatewayRefusal{34, "Unsupported Version", "isv.invalid-version", "v 必须为 2.0"}
	}
	if f := p["format"]; f != "" && f != "json" {
		return "", &gatewayRefusal{23, "Invalid Format", "isv.invalid-format", "format 必须为 json"}
	}
	if s.cfg.QimenAppKey == "" || p["app_key"] != s.cfg.QimenAppKey {
		return "", &gatewayRefusal{topInvalidKey, "Invalid App Key", "isv.appkey-not-exists", "app_key 不存在"}
	}
	ts, err := time.ParseInLocation(wdtTime, p["timestamp"], gmt8)
	if d := s.cfg.Now().Sub(ts); err != nil || d > s.cfg.QimenTimestampSkew || d < -s.cfg.QimenTimestampSkew {
		return "", &gatewayRefusal{topInvalidTime, "Invalid Timestamp", "isv.invalid-timestamp", "时间戳(timestamp)无效或与服务器时间相差超过10分钟"}
	}
	method := p["sign_method"]
	if method == "" {
		method = SignMD5
	}
	want, err := SignTOP(p, s.cfg.QimenAppSecret, method)
	if err != nil {
		return "", &gatewayRefusal{topInvalidArgs, "Invalid Arguments", "isv.invalid-sign-method", "sign_method 必须为 md5、hmac 或 hmac-sha256"}
	}
	if !strings.EqualFold(want, p["sign"]) {
		return "", &gatewayRefusal{topInvalidSign, "Invalid Signature", "isv.invalid-signature", "签名错误"}
	}
	if s.cfg.QimenTargetAppKey == "" || p["target_app_key"] != s.cfg.QimenTargetAppKey {
		return "", &gatewayRefusal{topISVPermission, "Insufficient ISV Permissions", "isv.target-app-key-invalid", "target_app_key 未授权或不存在"}
	}
	return api, nil
}

// allow counts a call of account against the per-minute limit. A fixed
// window per clock minute is the quota as a provider counts it, not a
// client-side rate limiter.
func (s *Sim) allow(account string) bool {
	if s.cfg.CallsPerMinute <= 0 {
		return true
	}
	m := s.cfg.Now().Unix() / 60
	s.rateMu.Lock()
	defer s.rateMu.Unlock()
	if m != s.minute {
		s.minute, s.used = m, map[string]int{}
	}
	s.used[account]++
	return s.used[account] <= s.cfg.CallsPerMinute
}

// public are the parameters that are not business parameters.
var public = map[string]bool{"sid": true, "appkey": true, "timestamp": true, "sign": true,
	"method": true, "app_key": true, "target_app_key": true, "format": true, "v": true, "sign_method": true, "session": true}

// query runs a trade or stock-in query over the business parameters.
func (s *Sim) query(api string, p map[string]string) (int, [][]byte, *refusal) {
	c := s.cfg.Codes
	if !s.cfg.AllowEmptyParams {
		for k, v := range p {
			if v == "" && !public[k] {
				return 0, nil, &refusal{c.BadParam, "参数 " + k + " 不能为空"}
			}
		}
	}
	maxPage, maxSpan, lookups := s.cfg.TradeMaxPage, s.cfg.TradeMaxSpan, []string{"trade_no", "src_tid", "logistics_no"}
	if api == APIStockins {
		maxPage, maxSpan, lookups = s.cfg.StockinMaxPage, s.cfg.StockinMaxSpan, []string{"stockin_no", "src_order_no"}
	}
	pageNo, size := 0, 40
	if v, ok := p["page_no"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, nil, &refusal{c.BadParam, "参数错误：page_no 必须是不小于 0 的整数（页号从 0 开始）"}
		}
		pageNo = n
	}
	if v, ok := p["page_size"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPage {
			return 0, nil, &refusal{c.BadParam, fmt.Sprintf("参数错误：page_size 必须在 1 到 %d 之间", maxPage)}
		}
		size = n
	}
	match := s.filter(api, p)
	now := s.cfg.Now().UnixNano()
	tbl := s.trades
	if api == APIStockins {
		tbl = s.stockins
	}
	for _, k := range lookups {
		if v := p[k]; v != "" {
			// A lookup by number ignores the window, as 旺店通 does.
			key := k
			s.mu.RLock()
			defer s.mu.RUnlock()
			total, page := tbl.find(now, func(r *record) bool { return lookupField(r, key) == v && (match == nil || match(r)) }, pageNo, size)
			return total, page, nil
		}
	}
	st, et := p["start_time"], p["end_time"]
	if st == "" || et == "" {
		if api == APIStockins {
			return 0, nil, &refusal{c.NoRange, "时间范围与入库单号不能全部为空"}
		}
		return 0, nil, &refusal{c.MissingParam, "缺少参数 start_time 或 end_time（或 trade_no、src_tid、logistics_no 之一）"}
	}
	from, err1 := time.ParseInLocation(wdtTime, st, s.cfg.Location)
	to, err2 := time.ParseInLocation(wdtTime, et, s.cfg.Location)
	switch {
	case err1 != nil || err2 != nil:
		return 0, nil, &refusal{c.BadParam, "参数错误：start_time、end_time 的格式必须为 yyyy-MM-dd HH:mm:ss"}
	case to.Before(from):
		return 0, nil, &refusal{c.BadParam, "参数错误：end_time 不能早于 start_time"}
	case to.Sub(from) > maxSpan:
		return 0, nil, &refusal{c.BadParam, "参数错误：start_time 与 end_time 的跨度不能超过" + spanWords(maxSpan)}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	total, page := tbl.query(from.Unix(), to.Unix(), now, match, pageNo, size)
	return total, page, nil
}

func spanWords(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d天", d/(24*time.Hour))
	}
	return fmt.Sprintf("%d分钟", d/time.Minute)
}

func lookupField(r *record, key string) string {
	if t := r.trade; t != nil {
		switch key {
		case "trade_no":
			return t.TradeNo
		case "src_tid":
			return t.SrcTids
		case "logistics_no":
			return t.LogisticsNo
		}
	}
	if st := r.stockin; st != nil {
		switch key {
		case "stockin_no":
			return st.OrderNo
		case "src_order_no":
			return st.SrcOrderNo
		}
	}
	return ""
}

// filter is the optional status, shop_no and warehouse_no filters; nil
// when none is given.
func (s *Sim) filter(api string, p map[string]string) func(*record) bool {
	status, shop, wh := p["status"], p["shop_no"], p["warehouse_no"]
	if status == "" && shop == "" && wh == "" {
		return nil
	}
	return func(r *record) bool {
		var st int64
		var sh, w string
		if r.trade != nil {
			st, sh, w = int64(r.trade.TradeStatus), r.trade.ShopNo, r.trade.WarehouseNo
		} else {
			st, sh, w = int64(r.stockin.Status), r.stockin.ShopNo, r.stockin.WarehouseNo
		}
		return (status == "" || status == strconv.FormatInt(st, 10)) && (shop == "" || shop == sh) && (wh == "" || wh == w)
	}
}

// answer writes a successful page: the documents' stored JSON joined, no
// re-encoding per request.
func (s *Sim) answer(api string, total int, page [][]byte, pageNo string, qimen bool) []byte {
	n := 96
	for _, d := range page {
		n += len(d) + 1
	}
	b := make([]byte, 0, n)
	if qimen {
		b = append(b, `{"response":{"errorcode":0,"message":""`...)
	} else {
		b = append(b, `{"code":0,"message":""`...)
	}
	if !s.cfg.TotalOnPageZeroOnly || pageNo == "" || pageNo == "0" {
		b = append(b, `,"total_count":`...)
		b = strconv.AppendInt(b, int64(total), 10)
	}
	if api == APIStockins {
		b = append(b, `,"stockin_list":[`...)
	} else {
		b = append(b, `,"trades":[`...)
	}
	for i, d := range page {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, d...)
	}
	b = append(b, ']', '}')
	if qimen {
		b = append(b, '}')
	}
	return b
}

func openError(r refusal) []byte {
	b, _ := json.Marshal(struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{r.code, r.msg})
	return b
}

func qimenFailure(r refusal) []byte {
	code := strconv.Itoa(r.code)
	b, _ := json.Marshal(map[string]any{"response": map[string]any{
		"flag": "failure", "code": code, "message": r.msg, "sub_code": code, "sub_message": r.msg,
	}})
	return b
}

var requestSeq atomic.Int64

func topError(g gatewayRefusal) []byte {
	b, _ := json.Marshal(map[string]any{"error_response": map[string]any{
		"code": g.code, "msg": g.msg, "sub_code": g.sub, "sub_msg": g.subMs,
		"request_id": fmt.Sprintf("sim%012d", requestSeq.Add(1)),
	}})
	return b
}

// writeJSON answers HTTP 200, as 旺店通 does for every business answer.
func writeJSON(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}
