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
	// Systems are the configured external accounts, by name.
	Systems map[string]*System `yaml:"systems" doc:"external accounts by name: a shop, an OMS, an ERP, an IM robot"`
	// Sources say how orders arrive from a system, by name; the name is the
	// last path segment of POST /v1/push/{source}.
	Sources map[string]*Source `yaml:"sources" doc:"how orders arrive, by name; push sources are served at POST /v1/push/{name}"`

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
}

// System is one configured external account. Kind selects the connector; the
// kind's own settings (credentials) are decoded into Settings, a pointer to the
// struct the connector registered with RegisterKind.
type System struct {
	Kind    string `yaml:"kind" doc:"connector kind, e.g. mall or webhook" required:"true"`
	BaseURL string `yaml:"base_url" doc:"the system's API root; point it at a simulator for tests"`

	Name     string   `yaml:"-"`
	Settings any      `yaml:"-"`
	Pos      Position `yaml:"-"`
}

// Source says how orders arrive from a system.
type Source struct {
	System string `yaml:"system" doc:"name of a configured system" required:"true"`
	Mode   string `yaml:"mode" doc:"push: the system POSTs orders to /v1/push/{source}" enum:"push" required:"true"`
	// MaxBody overrides Ingest.MaxBody for this source.
	MaxBody ByteSize `yaml:"max_body" doc:"overrides ingest.max_body for this source"`

	Name string   `yaml:"-"`
	Pos  Position `yaml:"-"`
}

// Position is where something was written in the config file.
type Position struct {
	File   string
	Line   int
	Column int
}
