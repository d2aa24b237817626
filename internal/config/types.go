// Package config turns an orderhub YAML file into typed, validated configuration.
//
// The Go types in this file are the single source of truth: the loader decodes into
// them, validation walks them, and `orderhub schema` generates the JSON Schema from
// them, so the editor's autocomplete, the checker and the server never disagree.
package config

import (
	"time"
)

// Config is a whole orderhub configuration file.
type Config struct {
	// Store is where durable state lives: sqlite://path/to/file.db (embedded, the
	// default) or postgres://user@host:port/db for several nodes.
	Store string `yaml:"store" doc:"sqlite://data/orderhub.db (embedded) or postgres://user@host:5432/db (several nodes)"`
	// Listen is the HTTP address for pushes, the REST API, /healthz and /metrics.
	Listen string `yaml:"listen" doc:"host:port the HTTP server listens on, e.g. 127.0.0.1:8080"`
	// Timezone is used for times that arrive without a zone (mall timestamps).
	Timezone string `yaml:"timezone" doc:"IANA zone for times without an offset; default Asia/Shanghai"`
	Log      Log    `yaml:"log" doc:"logging"`
	Ingest   Ingest `yaml:"ingest" doc:"push ingest limits and batching"`
	API      API    `yaml:"api" doc:"REST API access"`
	// Console configures signing in to the web console.
	Console Console `yaml:"console" doc:"signing in to the web console: session lengths and the cookie"`
	// Systems are the configured external accounts, by name.
	Systems map[string]*System `yaml:"systems" doc:"external accounts by name: a shop, an OMS, an ERP, an IM robot"`
	// Sources say how orders arrive from a system, by name; the name is the
	// last path segment of POST /v1/push/{source}.
	Sources map[string]*Source `yaml:"sources" doc:"how orders arrive, by name; push sources are served at POST /v1/push/{name}"`
	// Flows write the documents of a source into a target system, by name.
	Flows map[string]*Flow `yaml:"flows" doc:"integrations by name: a source's documents mapped and written into a target system (集成方案)"`
	// Rules say which order events are told to whom, by name (通知规则).
	Rules map[string]*Rule `yaml:"rules" doc:"notification rules by name: order events and a condition select a template, channels and @mentions"`
	// Templates are message templates by name, beside the shipped ones; a
	// configured template replaces a shipped one of the same name.
	Templates map[string]*Template `yaml:"templates" doc:"message templates by name, per language (zh-CN, en); Go text/template over .Order, .Event, .Link, .Brand"`
	// Branding is the tenant's name, signature line and colour in messages.
	Branding Branding `yaml:"branding" doc:"the name, signature line and colour messages carry"`
	// People are who rules can address, and how to reach them, by key.
	People map[string]*Person `yaml:"people" doc:"who rules can address (to:) and how to reach them, by key"`
	// QuietHours holds messages during the night (and, with holidays: cn,
	// on China's statutory holidays) and sends them as one digest after.
	QuietHours *QuietHours `yaml:"quiet_hours" doc:"hold non-critical messages from..to (and all day on holidays) and send them as one digest when it ends; rules and people may override"`

	// Location is Timezone resolved; set by Load.
	Location *time.Location `yaml:"-"`
	// File is the path the config was read from ("" for built-in configs).
	File string `yaml:"-"`
}

// Log configures log/slog output.
type Log struct {
	Level  string `yaml:"level" doc:"debug, info, warn or error; default info" enum:"debug,info,warn,error"`
	Format string `yaml:"format" doc:"json or text; default json" enum:"json,text"`
}

// Ingest configures the push path.
type Ingest struct {
	// MaxBody is the largest push body accepted; larger ones get 413.
	MaxBody ByteSize `yaml:"max_body" doc:"largest push body accepted, e.g. 1MiB (default); larger bodies are answered 413"`
	// BatchMax bounds how many pushes share one database transaction.
	BatchMax int `yaml:"batch_max" doc:"most pushes committed in one transaction; default 256" min:"1"`
	// BatchWait bounds how long the first push of a batch waits for company.
	BatchWait Duration `yaml:"batch_wait" doc:"longest the first push of a batch waits for others to share its transaction; default 2ms, 0s commits at once"`
	// ReplayWindow is how old a signed webhook timestamp may be.
	ReplayWindow Duration `yaml:"replay_window" doc:"oldest accepted webhook timestamp, default 5m"`
	// Synchronous is SQLite's synchronous pragma; FULL makes every acknowledged
	// push survive power loss, NORMAL only process crashes.
	Synchronous string `yaml:"sqlite_synchronous" doc:"SQLite durability: FULL (default, survives power loss) or NORMAL (survives process crashes only)" enum:"FULL,NORMAL"`
}

// API configures who may read the REST API.
type API struct {
	// Tokens are bearer tokens. With none configured the read API is open and
	// PII is always masked.
	Tokens []APIToken `yaml:"tokens" doc:"bearer tokens for the REST API; with none, reads are open and PII is always masked"`
}

// APIToken is one bearer token.
type APIToken struct {
	Name  string `yaml:"name" doc:"who holds the token, for logs" required:"true"`
	Token Secret `yaml:"token" doc:"the bearer token; use ${ENV_VAR}" required:"true"`
	// PII allows this token to ask for unmasked buyer data (?pii=1).
	PII bool `yaml:"pii" doc:"may see unmasked buyer phone, name and address with ?pii=1"`
	// Role is what the token may do where the console's roles apply; admin
	// when not written, as a token opens every route that takes one today.
	Role string `yaml:"role" doc:"viewer (reads), operator (retries, resends) or admin (everything, the default)" enum:"admin,operator,viewer"`
}

// Console configures signing in to the web console.
type Console struct {
	// SessionMaxAge is how long a sign-in lasts however busy it is.
	SessionMaxAge Duration `yaml:"session_max_age" doc:"how long a sign-in lasts at most, default 12h"`
	// SessionIdle ends a session unused for that long.
	SessionIdle Duration `yaml:"session_idle" doc:"a session unused for this long ends, default 1h"`
	// InsecureCookie sends the session cookie without Secure, which
	// browsers need over plain http; it is only accepted while listen is
	// a loopback address, where the traffic never leaves the machine.
	InsecureCookie bool `yaml:"insecure_cookie" doc:"send the session cookie without Secure, for plain http on a loopback listen address only (127.0.0.1, ::1, localhost)"`
}

// System is one configured external account. Kind selects the connector; the
// kind's own settings (credentials) are decoded into Settings, a pointer to the
// struct the connector registered with RegisterKind.
type System struct {
	Kind    string `yaml:"kind" doc:"connector kind, e.g. mall or webhook" required:"true"`
	BaseURL string `yaml:"base_url" doc:"the system's API root; point it at a simulator for tests"`
	// Timeout bounds one HTTP call to the system.
	Timeout Duration `yaml:"timeout" doc:"longest one HTTP call to this system may take; default 30s"`
	// Rate overrides the provider's message rate a sending system is kept
	// under (its kind's default otherwise).
	Rate Rate `yaml:"rate" doc:"systems that send: the most messages orderhub sends it, overriding the provider's limit (钉钉 robot 20/min, 企业微信 20/min, 飞书 100/min and 5/s)"`

	Name     string   `yaml:"-"`
	Settings any      `yaml:"-"`
	Pos      Position `yaml:"-"`
}

// Rate is the most messages one endpoint is sent. Zero keeps the kind's
// default for that span.
type Rate struct {
	PerMinute int `yaml:"per_minute" doc:"most messages in any 60 s; default the provider's limit" min:"1"`
	PerSecond int `yaml:"per_second" doc:"most messages in any second; default the provider's limit (none for most)" min:"1"`
}

// Source says how orders arrive from a system.
type Source struct {
	System string `yaml:"system" doc:"name of a configured system" required:"true"`
	Mode   string `yaml:"mode" doc:"push: the system POSTs orders to /v1/push/{source}; pull: orderhub polls the system's API" enum:"push,pull" required:"true"`
	// MaxBody overrides Ingest.MaxBody for this source.
	MaxBody ByteSize `yaml:"max_body" doc:"overrides ingest.max_body for this source (push)"`

	// API is the system's API a pull source reads, e.g. trade.query.
	API string `yaml:"api" doc:"pull: the API to read, e.g. trade.query or stockin.order.query.refund"`
	// Every is how often a pull source polls.
	Every Duration `yaml:"every" doc:"pull: how often to poll; default 1m"`
	// Overlap is how far back each poll re-reads before the last sync time,
	// for documents that became visible late; unchanged ones are dropped.
	Overlap Duration `yaml:"overlap" doc:"pull: how far before the last sync time each poll re-reads, for documents committed late; default 3m"`
	// Start is where a pull source's first window begins.
	Start TimeText `yaml:"start" doc:"pull: where the first window begins: yyyy-MM-dd HH:mm:ss in the configured timezone, or RFC 3339; default the time the source is first run"`
	// MaxWindowDocs splits a window that holds more documents than this.
	MaxWindowDocs int `yaml:"max_window_docs" doc:"pull: a window holding more documents than this is cut in two; default 5000" min:"1"`

	Name string   `yaml:"-"`
	Pos  Position `yaml:"-"`
	// StartAt is Start resolved in the configured zone; set by Load.
	StartAt time.Time `yaml:"-"`
}

// Flow writes the documents of a source into a target system (集成方案).
type Flow struct {
	Source string `yaml:"source" doc:"name of a configured source" required:"true"`
	Target string `yaml:"target" doc:"name of a configured system that can be written to" required:"true"`
	API    string `yaml:"api" doc:"the target's API, e.g. sal_order_save or SAL_RETURNSTOCK" required:"true"`
	// Mapping is a mapping file; without it the mapping shipped for the
	// (source API, target API) pair is used.
	Mapping string `yaml:"mapping" doc:"mapping file (relative to this config file); default: the mapping shipped for the source API and target API"`
	// When selects the documents to write; without it every one is.
	When string `yaml:"when" doc:"expression over doc, order and vars; only documents for which it is true are written"`
	// Vars override the mapping's variables (organisation numbers, bill types).
	Vars map[string]string `yaml:"vars" doc:"values for the mapping's vars, e.g. sale_org: \"100\""`
	// Lookups add entries to the mapping's lookup tables.
	Lookups map[string]map[string]string `yaml:"lookups" doc:"entries for the mapping's lookup tables by table name, e.g. materials: {SKU-RED-M: \"1.01.001\"}; a code without an entry is sent as the source writes it"`
	// Batch is how many bills one call carries, where the API takes several.
	Batch int   `yaml:"batch" doc:"bills per call where the target takes several; default the API's (50 for BatchSave)" min:"1"`
	Retry Retry `yaml:"retry" doc:"backoff for transport errors and throttling"`

	Name string   `yaml:"-"`
	Pos  Position `yaml:"-"`
}

// Rule is one notification rule: events and a condition select a template,
// the channels it is sent to and who is @mentioned.
type Rule struct {
	On       []string `yaml:"on" doc:"order events that trigger the rule: created, paid, shipped, completed, cancelled, refunded, changed" required:"true"`
	When     string   `yaml:"when" doc:"expression over order (the read API's fields; amounts as numbers), event (type, from, to) and source; without it every event matches"`
	Channels []string `yaml:"channels" doc:"systems that send the message, e.g. a dingtalk_robot" required:"true"`
	Template string   `yaml:"template" doc:"a shipped template (new_order, paid, shipped, big_order, refund, cancelled) or one under templates:" required:"true"`
	At       At       `yaml:"at" doc:"who is @mentioned where the channel can"`
	Priority string   `yaml:"priority" doc:"low, normal (default), high or critical" enum:"low,normal,high,critical"`
	// OverridePreferences lets a critical rule reach people who muted its
	// event or channels; without it every rule respects their choices.
	OverridePreferences bool `yaml:"override_preferences" doc:"with priority: critical, reach people whatever they muted or chose (preferences and unsubscribes); default false: preferences are respected"`
	// Language picks the template's language; a template without it is
	// rendered in the language it has.
	Language string `yaml:"language" doc:"the template language: zh-CN (default) or en" enum:"zh-CN,en"`
	// To are the rule's addressees for channels that send to people:
	// person keys, group:NAME, dept:ID (a 钉钉 department), all, buyer.
	// With to:, channels are a fallback chain tried in order.
	To []string `yaml:"to" doc:"who the message is for: person keys, group:NAME, dept:ID (钉钉 department), all, buyer; with to:, channels are tried in order, the next when one fails for good"`
	// Escalate sends to the next channel of the chain when a message is not
	// read in time (channels that report reads: dingtalk_app).
	// Track turns email open and click tracking off with false.
	Track    *bool     `yaml:"track" doc:"false: mails of this rule carry no open pixel and no tracked links (default true)"`
	Escalate *Escalate `yaml:"escalate" doc:"unread_after: 15m sends to the next channel when the message is not read by then"`
	// QuietHours overrides the configuration's for this rule.
	QuietHours *QuietHours `yaml:"quiet_hours" doc:"overrides the top-level quiet_hours for this rule; off: true sends at any hour"`
	// Digest collects the rule's messages and sends them merged at clock
	// times instead of one by one.
	Digest *Digest `yaml:"digest" doc:"collect the rule's messages into one digest sent at clock times: every: 1h (on the hour) or at: [\"09:00\", \"18:00\"]"`

	Name string   `yaml:"-"`
	Pos  Position `yaml:"-"`
	// WhenPos is where the when: text starts, so a problem in the
	// expression is reported at its own line and column; set by Load.
	WhenPos Position `yaml:"-"`
}

// Digest says when a digest rule sends what it collected: every so often,
// on the clock (every: 1h sends at each full hour, 30m at :00 and :30,
// counted from midnight in the configured timezone), or at listed times.
type Digest struct {
	Every Duration `yaml:"every" doc:"send every so often on the clock, counted from midnight: 1h on the hour, 30m at :00 and :30; must divide 24h"`
	At    []string `yaml:"at" doc:"send at these local times, HH:MM, e.g. [\"09:00\", \"18:00\"]"`
}

// Person is someone rules can address.
type Person struct {
	Name       string   `yaml:"name" doc:"the person's name, as messages address them"`
	DingUserID string   `yaml:"dingtalk_userid" doc:"the 钉钉 userid (通讯录 → 成员 → userid), for dingtalk_app work notifications"`
	Mobile     string   `yaml:"mobile" doc:"mobile number, for SMS and for @mentions in group robots"`
	Email      string   `yaml:"email" doc:"email address"`
	Groups     []string `yaml:"groups" doc:"groups the person is in; rules address them as group:NAME"`
	// QuietHours overrides the rule's and the configuration's for messages
	// to this person alone.
	QuietHours *QuietHours `yaml:"quiet_hours" doc:"this person's own quiet hours"`

	Key string   `yaml:"-"`
	Pos Position `yaml:"-"`
}

// QuietHours is a span of the day (from..to, across midnight when to is
// earlier) when messages wait.
type QuietHours struct {
	From     string `yaml:"from" doc:"start, HH:MM, e.g. \"22:00\""`
	To       string `yaml:"to" doc:"end, HH:MM, e.g. \"08:00\" (the next morning when earlier than from)"`
	Holidays string `yaml:"holidays" doc:"cn: also all day on China's statutory holidays and weekends that are not make-up workdays (调休)" enum:"cn"`
	Calendar string `yaml:"calendar" doc:"with holidays: cn, a file of holidays and make-up workdays (the shipped file's form) to use instead of the shipped one; relative to this file"`
	Off      bool   `yaml:"off" doc:"no quiet hours (a rule that must send at any hour)"`
}

// Escalate is when a message that was not read goes to the next channel.
type Escalate struct {
	UnreadAfter Duration `yaml:"unread_after" doc:"how long a message may stay unread before the next channel of the chain is tried, e.g. 15m" required:"true"`
}

// At is a rule's @mentions.
type At struct {
	Mobiles []string `yaml:"mobiles" doc:"mobile numbers to @mention, e.g. \"13800001234\""`
	All     bool     `yaml:"all" doc:"@mention everyone in the group"`
}

// Template is a message template in each language it is written in.
type Template struct {
	ZhCN *TemplateText `yaml:"zh-CN" doc:"the Chinese text (the default language)"`
	En   *TemplateText `yaml:"en" doc:"the English text"`

	Name string   `yaml:"-"`
	Pos  Position `yaml:"-"`
}

// TemplateText is one language of a template: Go text/template sources.
type TemplateText struct {
	Title    string `yaml:"title" doc:"headline, e.g. \"新订单 {{.Order.No}}\"" required:"true"`
	Markdown string `yaml:"markdown" doc:"body in Markdown, e.g. \"**{{.Order.Total}}**\"" required:"true"`

	// TitlePos and MarkdownPos are where the texts were written; set by Load.
	TitlePos    Position `yaml:"-"`
	MarkdownPos Position `yaml:"-"`
}

// Branding is what messages say about the tenant sending them.
type Branding struct {
	Name      string `yaml:"name" doc:"the tenant's name, e.g. the shop's brand"`
	Signature string `yaml:"signature" doc:"a line closing each message, e.g. \"— 订单中心\""`
	Color     string `yaml:"color" doc:"#RRGGBB, where the channel shows a colour (card headers)"`
}

// Retry is a backoff: from Initial doubling to Max, for at most Attempts
// tries before the item becomes an exception.
type Retry struct {
	Initial  Duration `yaml:"initial" doc:"first wait; default 1s"`
	Max      Duration `yaml:"max" doc:"longest wait; default 10m"`
	Attempts int      `yaml:"attempts" doc:"tries before the item waits for a person as an exception; default 20" min:"1"`
}

// Position is where something was written in the config file.
type Position struct {
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
}
