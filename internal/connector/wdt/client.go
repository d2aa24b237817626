// Package wdt pulls trades and return stock-ins from 旺店通·企业版 by either
// of its two routes: the enterprise open API (kind wdt: one .php URL per
// API, the length-prefixed MD5 signature) and 奇门 (kind wdt_qimen: one
// router URL, method=wdt.trade.query, the TOP signature and the
// "response" wrapper). Both routes name their APIs alike (trade.query,
// stockin.order.query.refund) and turn documents into the same canonical
// orders. The package also holds a simulator of both routes over one data
// set, as strict as the real service, for tests, benchmarks and the demo.
package wdt

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"orderhub/internal/config"
	"orderhub/internal/connector"
)

// The kinds this package registers.
const (
	Kind      = "wdt"
	KindQimen = "wdt_qimen"
)

// The pull APIs, named the same on both routes.
const (
	APITrades   = "trade.query"
	APIStockins = "stockin.order.query.refund"
)

// MaxPage is the largest page_size both APIs take (erp.md 1.3, 1.4).
const MaxPage = 100

// APIs are the pull APIs of both kinds.
var APIs = []connector.PullAPI{
	{Name: APITrades, Summary: "旺店通 trades (查询订单管理) by last-modified time", MaxSpan: time.Hour, PageSize: MaxPage, Document: "trade"},
	{Name: APIStockins, Summary: "旺店通 return stock-ins (查询退货入库单) by last-modified time", MaxSpan: 30 * 24 * time.Hour, PageSize: MaxPage, Document: "refund stock-in"},
}

// Default base URLs, used when a system leaves base_url empty.
const (
	DefaultBaseURL      = "https://api.wangdian.cn/openapi2"
	DefaultQimenBaseURL = "http://hu3cgwt0tc.api.taobao.com/router/qm"
)

// Tuning holds what both routes leave open in erp.md ([U] there): which
// codes mean "busy", how long to wait, and the stock-in page limit that
// one 旺店通 page gives as 50 and another as 100.
type Tuning struct {
	RetryCodes      []int           `yaml:"retry_codes" doc:"旺店通 codes that mean busy or throttled, retried after retry_after (default 1012, 1013, 1020, 1030, 1040, 1200, 1610)"`
	RetryAfter      config.Duration `yaml:"retry_after" doc:"how long to wait after a busy answer (default 30s)"`
	StockinPageSize int             `yaml:"stockin_page_size" doc:"largest page_size sent to the refund stock-in query, 1-100 (default 100; set 50 if 旺店通 refuses 100: larger pages are then read as several calls)"`
}

func (t *Tuning) validate() []config.FieldProblem {
	var out []config.FieldProblem
	if t.StockinPageSize < 0 || t.StockinPageSize > MaxPage {
		out = append(out, config.FieldProblem{Key: "stockin_page_size", Msg: fmt.Sprintf("stockin_page_size must be between 1 and %d, got %d", MaxPage, t.StockinPageSize), Hint: "use 50 or 100"})
	}
	for i, c := range t.RetryCodes {
		if c <= 0 {
			out = append(out, config.FieldProblem{Key: "retry_codes", Msg: fmt.Sprintf("retry_codes[%d] is %d; 旺店通 codes are positive", i, c), Hint: "list codes such as 1012"})
		}
	}
	return out
}

// Settings are a kind wdt system: the enterprise open API (openapi2).
type Settings struct {
	SID        string        `yaml:"sid" required:"true" doc:"the seller account (卖家账号) 旺店通 assigned"`
	AppKey     string        `yaml:"appkey" required:"true" doc:"the interface account created in 旺店通's 自助对接"`
	AppSecret  config.Secret `yaml:"appsecret" required:"true" doc:"the interface account's secret; use ${ENV_VAR}"`
	SignLength string        `yaml:"sign_length" enum:"chars,bytes" doc:"how the signature counts lengths: chars (the official clients, default) or bytes"`
	Tuning     `yaml:",inline"`
}

// Validate implements config.SettingsValidator.
func (s *Settings) Validate() []config.FieldProblem { return s.Tuning.validate() }

// QimenSettings are a kind wdt_qimen system: 旺店通 through 奇门.
type QimenSettings struct {
	AppKey       string        `yaml:"app_key" required:"true" doc:"your 奇门/TOP app's AppKey"`
	AppSecret    config.Secret `yaml:"app_secret" required:"true" doc:"your 奇门/TOP app's secret; use ${ENV_VAR}"`
	TargetAppKey string        `yaml:"target_app_key" required:"true" doc:"旺店通's app key on 奇门, from the authorisation mail"`
	SID          string        `yaml:"sid" required:"true" doc:"the seller account (卖家账号) in 旺店通"`
	SignMethod   string        `yaml:"sign_method" enum:"md5,hmac,hmac-sha256" doc:"TOP signature method (default md5, as 旺店通's clients use)"`
	MethodPrefix string        `yaml:"method_prefix" doc:"prefix of the method names, e.g. hu3cgwt0tc. for the generated-SDK form hu3cgwt0tc.wdt.trade.query (default none)"`
	Tuning       `yaml:",inline"`
}

// Validate implements config.SettingsValidator.
func (s *QimenSettings) Validate() []config.FieldProblem {
	out := s.Tuning.validate()
	if p := strings.TrimSuffix(s.MethodPrefix, "."); strings.ContainsAny(p, ". /") {
		out = append(out, config.FieldProblem{Key: "method_prefix", Msg: fmt.Sprintf("method_prefix %q is not one router id", s.MethodPrefix), Hint: "write the id before wdt.trade.query, e.g. hu3cgwt0tc."})
	}
	return out
}

func init() {
	connector.Register(connector.Kind{
		KindSpec: config.KindSpec{Kind: Kind, Summary: "旺店通·企业版 open API (openapi2): trades and return stock-ins", NewSettings: func() any { return new(Settings) }},
		Pull:     &connector.PullCapability{APIs: APIs, New: func(env connector.Env) (connector.Puller, error) { return NewClient(env) }},
	})
	connector.Register(connector.Kind{
		KindSpec: config.KindSpec{Kind: KindQimen, Summary: "旺店通·企业版 through 奇门 (/router/qm): trades and return stock-ins", NewSettings: func() any { return new(QimenSettings) }},
		Pull:     &connector.PullCapability{APIs: APIs, New: func(env connector.Env) (connector.Puller, error) { return NewClient(env) }},
	})
}

// Client pulls from one configured 旺店通 system, by the route its
// settings say. It is safe for concurrent use.
type Client struct {
	system string
	http   *http.Client
	now    func() time.Time
	loc    *time.Location
	log    *slog.Logger
	cls    classifier
	url    string
	qimen  bool

	// openapi2
	sid, appkey, appsecret string
	unit                   SignLength

	// 奇门
	appKey, appSecret, targetAppKey, signMethod, prefix string

	stockinPage int
}

// shanghai is 旺店通's zone, used when the hub gives none.
var shanghai = func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}()

// gmt8 is the zone of 奇门's timestamp, whatever the configured zone.
var gmt8 = time.FixedZone("GMT+8", 8*3600)

// NewClient builds the client of env.System, whose Settings are a
// *Settings (kind wdt) or a *QimenSettings (kind wdt_qimen).
func NewClient(env connector.Env) (*Client, error) {
	if env.System == nil {
		return nil, fmt.Errorf("wdt: no system")
	}
	c := &Client{system: env.System.Name, http: env.HTTP, now: env.Clock(), loc: env.Location, log: env.Log, url: strings.TrimRight(env.System.BaseURL, "/")}
	if c.http == nil {
		c.http = &http.Client{Timeout: 30 * time.Second}
	}
	if c.loc == nil {
		c.loc = shanghai
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	var tune Tuning
	switch s := env.System.Settings.(type) {
	case *Settings:
		if s.SID == "" || s.AppKey == "" || s.AppSecret.Reveal() == "" {
			return nil, fmt.Errorf("wdt: sid, appkey and appsecret are all required")
		}
		c.sid, c.appkey, c.appsecret, c.unit = s.SID, s.AppKey, s.AppSecret.Reveal(), SignLength(s.SignLength)
		switch c.unit {
		case "":
			c.unit = SignChars
		case SignChars, SignBytes:
		default:
			return nil, fmt.Errorf("wdt: sign_length %q is not chars or bytes", s.SignLength)
		}
		if c.url == "" {
			c.url = DefaultBaseURL
		}
		tune = s.Tuning
	case *QimenSettings:
		if s.AppKey == "" || s.AppSecret.Reveal() == "" || s.TargetAppKey == "" || s.SID == "" {
			return nil, fmt.Errorf("wdt_qimen: app_key, app_secret, target_app_key and sid are all required")
		}
		c.qimen = true
		c.appKey, c.appSecret, c.targetAppKey, c.sid = s.AppKey, s.AppSecret.Reveal(), s.TargetAppKey, s.SID
		c.signMethod = s.SignMethod
		if c.signMethod == "" {
			c.signMethod = SignMD5
		}
		if _, err := SignTOP(nil, "", c.signMethod); err != nil {
			return nil, fmt.Errorf("wdt_qimen: %w", err)
		}
		if c.prefix = s.MethodPrefix; c.prefix != "" && !strings.HasSuffix(c.prefix, ".") {
			c.prefix += "."
		}
		if c.url == "" {
			c.url = DefaultQimenBaseURL
		}
		tune = s.Tuning
	default:
		return nil, fmt.Errorf("wdt: system %q has settings of type %T, not wdt or wdt_qimen settings", env.System.Name, env.System.Settings)
	}
	if errs := tune.validate(); len(errs) > 0 {
		return nil, fmt.Errorf("wdt: %s", errs[0].Msg)
	}
	c.stockinPage = tune.StockinPageSize
	if c.stockinPage == 0 {
		c.stockinPage = MaxPage
	}
	c.cls = newClassifier(c.system, c.qimen, tune.RetryCodes, tune.RetryAfter.Std())
	return c, nil
}

// paths of the openapi2 route, and method names of the 奇门 route.
var (
	openPaths    = map[string]string{APITrades: "/trade_query.php", APIStockins: "/stockin_order_query_refund.php"}
	qimenMethods = map[string]string{APITrades: "wdt.trade.query", APIStockins: "wdt.stockin.order.query.refund"}
)

func apiOf(name string) (connector.PullAPI, bool) {
	for _, a := range APIs {
		if a.Name == name {
			return a, true
		}
	}
	return connector.PullAPI{}, false
}

// Pull implements connector.Puller: one page of the documents modified in
// [From, To], both ends inclusive, written to the second in the configured
// zone. A window wider than the API allows or a page larger than it
// returns is refused before anything is sent.
func (c *Client) Pull(ctx context.Context, req connector.PullRequest) (*connector.PullPage, error) {
	api, ok := apiOf(req.API)
	if !ok {
		return nil, c.cls.local(req.API, fmt.Sprintf("unknown pull API %q", req.API), "旺店通可拉取的接口为 trade.query 与 stockin.order.query.refund：修改来源的 api")
	}
	op := req.API
	switch {
	case req.PageSize < 1 || req.PageSize > api.PageSize:
		return nil, c.cls.local(op, fmt.Sprintf("page_size %d is outside 1-%d", req.PageSize, api.PageSize), fmt.Sprintf("%s 每页最多 %d 条：把分页大小改为 1 到 %d 之间", op, api.PageSize, api.PageSize))
	case req.PageNo < 0:
		return nil, c.cls.local(op, fmt.Sprintf("page_no %d is negative; pages count from 0", req.PageNo), "旺店通页号从 0 开始")
	case req.From.IsZero() || req.To.IsZero() || req.To.Before(req.From):
		return nil, c.cls.local(op, fmt.Sprintf("window [%v, %v] is empty or reversed", req.From, req.To), "同步窗口的结束时间不能早于开始时间")
	}
	// 旺店通 keeps whole seconds: a document at second s is in the window
	// when ceil(From) <= s <= floor(To). The span that counts is the one
	// sent.
	from, to := req.From.Truncate(time.Second), req.To.Truncate(time.Second)
	if from.Before(req.From) {
		from = from.Add(time.Second)
	}
	if to.Sub(from) > api.MaxSpan {
		return nil, c.cls.local(op, fmt.Sprintf("window [%v, %v] spans %v, more than the %v %s allows", from, to, to.Sub(from), api.MaxSpan, op),
			fmt.Sprintf("旺店通 %s 的时间跨度不能超过%s：把窗口切小后再查", op, spanWords(api.MaxSpan)))
	}
	if to.Before(from) {
		return &connector.PullPage{Total: 0}, nil
	}
	limit := api.PageSize
	if api.Name == APIStockins {
		limit = c.stockinPage
	}
	if req.PageSize <= limit {
		return c.page(ctx, api, from, to, req.PageNo, req.PageSize)
	}
	// The server takes smaller pages than asked for: read the asked page as
	// consecutive pages of a size that divides it, so page numbers line up.
	small := limit
	for req.PageSize%small != 0 {
		small--
	}
	per := req.PageSize / small
	out := &connector.PullPage{Total: -1}
	for i := 0; i < per; i++ {
		p, err := c.page(ctx, api, from, to, req.PageNo*per+i, small)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			out.Total = p.Total
		}
		out.Docs = append(out.Docs, p.Docs...)
		out.Refused = append(out.Refused, p.Refused...)
		if p.Len() < small {
			break
		}
	}
	return out, nil
}

// page is one call.
func (c *Client) page(ctx context.Context, api connector.PullAPI, from, to time.Time, pageNo, pageSize int) (*connector.PullPage, error) {
	biz := map[string]string{
		"start_time": from.In(c.loc).Format(wdtTime),
		"end_time":   to.In(c.loc).Format(wdtTime),
		"page_no":    strconv.Itoa(pageNo),
		"page_size":  strconv.Itoa(pageSize),
	}
	start := time.Now()
	page, err := c.call(ctx, api.Name, biz)
	if c.log.Enabled(ctx, slog.LevelDebug) {
		attrs := []any{"system", c.system, "api", api.Name, "start_time", biz["start_time"], "end_time", biz["end_time"],
			"page_no", pageNo, "page_size", pageSize, "took", time.Since(start)}
		if err != nil {
			attrs = append(attrs, "err", err)
		} else {
			attrs = append(attrs, "total", page.Total, "docs", len(page.Docs))
		}
		c.log.DebugContext(ctx, "wdt page", attrs...)
	}
	return page, err
}

func (c *Client) call(ctx context.Context, api string, biz map[string]string) (*connector.PullPage, error) {
	var body []byte
	var err error
	if c.qimen {
		body, err = c.callQimen(ctx, api, biz)
	} else {
		body, err = c.callOpen(ctx, api, biz)
	}
	if err != nil {
		return nil, err
	}
	ans, err := c.decode(api, body)
	if err != nil {
		return nil, err
	}
	return c.documents(api, ans)
}

// callOpen sends one openapi2 call: every parameter in the form, signed.
func (c *Client) callOpen(ctx context.Context, api string, biz map[string]string) ([]byte, error) {
	params := map[string]string{"sid": c.sid, "appkey": c.appkey, "timestamp": strconv.FormatInt(c.now().Unix(), 10)}
	for k, v := range biz {
		if v != "" { // the official client refuses empty business parameters
			params[k] = v
		}
	}
	params["sign"] = SignOpenAPI(params, c.appsecret, c.unit)
	return c.post(ctx, api, c.url+openPaths[api], params)
}

// callQimen sends one 奇门 call as a form post, signed the TOP way.
func (c *Client) callQimen(ctx context.Context, api string, biz map[string]string) ([]byte, error) {
	params := map[string]string{
		"method": c.prefix + qimenMethods[api], "app_key": c.appKey, "target_app_key": c.targetAppKey, "sid": c.sid,
		"timestamp": c.now().In(gmt8).Format(wdtTime), "format": "json", "v": "2.0", "sign_method": c.signMethod,
	}
	for k, v := range biz {
		if v != "" {
			params[k] = v
		}
	}
	sign, err := SignTOP(params, c.appSecret, c.signMethod)
	if err != nil {
		return nil, c.cls.local(api, err.Error(), "sign_method 只能是 md5、hmac 或 hmac-sha256")
	}
	params["sign"] = sign
	return c.post(ctx, api, c.url, params)
}

func (c *Client) post(ctx context.Context, api, target string, params map[string]string) ([]byte, error) {
	form := make(url.Values, len(params))
	for k, v := range params {
		form.Set(k, v)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, c.cls.local(api, err.Error(), "base_url 不是有效的地址：检查该系统的 base_url")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("Accept", "application/json")
	status, body, err := connector.Do(c.http, c.system, api, req)
	if err != nil {
		// A query changes nothing: whether or not it reached 旺店通,
		// sending it again is safe, so an unknown outcome is a retry.
		if ce, ok := connector.AsCallError(err); ok && ce.Class == connector.Unknown {
			ce.Class, ce.Hint = connector.Retry, "查询的应答中途丢失；查询不改变旺店通的数据，系统会自动重发"
		}
		return nil, err
	}
	if status != http.StatusOK {
		return nil, connector.StatusError(c.system, api, status, body, false)
	}
	return body, nil
}

// answer is what both routes carry once unwrapped.
type answer struct {
	Code       *Int              `json:"code"`
	ErrorCode  *Int              `json:"errorcode"` // 奇门's success field
	Message    string            `json:"message"`
	TotalCount *Int              `json:"total_count"`
	Trades     []json.RawMessage `json:"trades"`
	Stockins   []json.RawMessage `json:"stockin_list"`
}

// qimenAnswer is 奇门's envelope: the "response" wrapper, or a gateway
// refusal in "error_response".
type qimenAnswer struct {
	Response *struct {
		answer
		Flag       string `json:"flag"`
		RawCode    Text   `json:"code"`
		SubCode    Text   `json:"sub_code"`
		SubMessage string `json:"sub_message"`
	} `json:"response"`
	Error *struct {
		Code    Int    `json:"code"`
		Msg     string `json:"msg"`
		SubCode string `json:"sub_code"`
		SubMsg  string `json:"sub_msg"`
	} `json:"error_response"`
}

// decode reads one answer, returning the provider's refusal as a
// CallError.
func (c *Client) decode(api string, body []byte) (*answer, error) {
	notJSON := func(err error) error {
		ce := connector.StatusError(c.system, api, http.StatusOK, body, false)
		ce.Message = "the answer is not 旺店通 JSON (" + err.Error() + "): " + ce.Message
		return ce
	}
	if !c.qimen {
		var a answer
		if err := json.Unmarshal(body, &a); err != nil {
			return nil, notJSON(err)
		}
		if a.Code == nil {
			return nil, notJSON(fmt.Errorf("no code"))
		}
		if *a.Code != 0 {
			return nil, c.cls.code(api, int64(*a.Code), a.Message)
		}
		return &a, nil
	}
	var q qimenAnswer
	if err := json.Unmarshal(body, &q); err != nil {
		return nil, notJSON(err)
	}
	switch {
	case q.Error != nil:
		return nil, c.cls.gateway(api, int64(q.Error.Code), q.Error.Msg, q.Error.SubCode, q.Error.SubMsg)
	case q.Response == nil:
		return nil, notJSON(fmt.Errorf("neither response nor error_response"))
	}
	r := q.Response
	if r.ErrorCode != nil {
		if *r.ErrorCode != 0 {
			return nil, c.cls.code(api, int64(*r.ErrorCode), r.Message)
		}
		return &r.answer, nil
	}
	// No errorcode: a failure, with 奇门's code/message and 旺店通's
	// sub_code/sub_message.
	return nil, c.cls.business(api, string(r.RawCode), r.Message, string(r.SubCode), r.SubMessage)
}

// documents turns an answer's list into documents. A document the
// canonical form cannot hold is refused on its own, with its number, the
// field and what to do (a person fixes it in 旺店通, and its next version is
// pulled): the rest of the page is good, and failing the page for it would
// stop the whole source.
func (c *Client) documents(api string, a *answer) (*connector.PullPage, error) {
	page := &connector.PullPage{Total: -1}
	if a.TotalCount != nil {
		page.Total = int(*a.TotalCount)
	}
	raws := a.Trades
	if api == APIStockins {
		raws = a.Stockins
	}
	page.Docs = make([]connector.Document, 0, len(raws))
	for i, raw := range raws {
		d := connector.Document{Raw: raw}
		var err error
		if api == APITrades {
			var t Trade
			if err = json.Unmarshal(raw, &t); err == nil {
				d.Order, err = normalizeTrade(&t, c.loc)
			}
		} else {
			var s Stockin
			if err = json.Unmarshal(raw, &s); err == nil {
				d.Order, err = normalizeStockin(&s, c.loc)
			}
		}
		if err != nil {
			page.Refused = append(page.Refused, c.refused(api, i, raw, err))
			continue
		}
		page.Docs = append(page.Docs, d)
	}
	return page, nil
}

// refused describes a document that failed to convert with err.
func (c *Client) refused(api string, i int, raw []byte, err error) connector.RefusedDocument {
	r := connector.RefusedDocument{Raw: raw}
	no, modified := docHead(api, raw)
	r.No = no
	if no == "" {
		sum := sha256.Sum256(raw)
		r.No = "?" + hex.EncodeToString(sum[:6])
	}
	if t, terr := parseTime(r.No, "modified", modified, c.loc); terr == nil {
		r.Modified = t
	}
	if de, ok := err.(*docError); ok {
		r.Field, r.Value, r.Reason, r.Hint = de.field, de.value, de.Error(), de.hint
		return r
	}
	r.Reason = fmt.Sprintf("document %d of the page cannot be read: %v: %s", i, err, snippet(raw))
	r.Hint = "旺店通返回的单据格式无法识别：请在旺店通中检查该单据；若所有单据都如此，请检查 base_url 是否指向旺店通企业版接口"
	return r
}

// docHead reads the number and modified time of a document that may not
// decode as a whole: "" for what is missing or not text.
func docHead(api string, raw []byte) (no, modified string) {
	var head map[string]json.RawMessage
	if json.Unmarshal(raw, &head) != nil {
		return "", ""
	}
	text := func(key string) string {
		var s string
		if json.Unmarshal(head[key], &s) != nil {
			return ""
		}
		return strings.TrimSpace(s)
	}
	key := "trade_no"
	if api == APIStockins {
		key = "order_no"
	}
	return text(key), text("modified")
}

func snippet(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}
