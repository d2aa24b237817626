package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Two fake kinds stand in for the real connectors (mall, webhook), which
// register themselves from packages this one must not import.

type testShopSettings struct {
	AppKey  string   `yaml:"app_key" doc:"the shop's app key"`
	AppSign Secret   `yaml:"app_sign" doc:"signing secret; use ${ENV_VAR}" required:"true"`
	Env     string   `yaml:"env" doc:"sandbox or live" enum:"sandbox,live"`
	Timeout Duration `yaml:"request_timeout" doc:"request timeout"`
	Retries int      `yaml:"retries" doc:"retries per request" min:"0"`
}

// Validate is careless on purpose: it quotes the secret, so the tests can
// prove the loader keeps it out of error messages anyway.
func (s *testShopSettings) Validate() []FieldProblem {
	if len(s.AppSign) < 8 {
		return []FieldProblem{{
			Key:  "app_sign",
			Msg:  fmt.Sprintf("app_sign %q is shorter than 8 characters", s.AppSign.Reveal()),
			Hint: "copy the whole signing secret from the shop console",
		}}
	}
	return nil
}

type testERPSettings struct {
	DB string `yaml:"db" doc:"account set"`
}

func init() {
	RegisterKind(KindSpec{Kind: "testshop", Summary: "a test shop", Push: true,
		NewSettings: func() any { return &testShopSettings{} }})
	RegisterKind(KindSpec{Kind: "testerp", Summary: "a test ERP", Push: false,
		PullAPIs: []string{"orders.query", "refunds.query"}, WriteAPIs: []string{"bill_save"},
		NewSettings: func() any { return &testERPSettings{} }})
}

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

const goodConfig = `# a config using every section
store: postgres://orderhub@db:5432/orderhub
listen: ":9090"
timezone: Europe/Berlin
log: {level: debug, format: text}
ingest:
  max_body: 2MiB
  batch_max: 64
  batch_wait: 2ms
api:
  tokens:
    - name: ops
      token: ${OPS_TOKEN}
      pii: true
    - {name: ci, token: "ci-$$-token"}
systems:
  shop:
    kind: testshop
    base_url: http://127.0.0.1:9001/api
    app_key: ${SHOP_KEY:-mall-1}
    app_sign: ${SHOP_SIGN}
    env: live
    request_timeout: 3s
  shop_b:
    <<: &shared {kind: testshop, app_sign: "0123456789", env: sandbox}
    env: live
  erp:
    kind: testerp
    db: erp-main
sources:
  shop_orders: {system: shop, mode: push, max_body: 4MiB}
  shop_b-orders: {system: shop_b, mode: push}
`

func TestParseGood(t *testing.T) {
	cfg, err := Parse([]byte(goodConfig), "good.yaml", envOf(map[string]string{
		"OPS_TOKEN": "ops-token-value",
		"SHOP_SIGN": "shop-sign-value",
	}))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	checks := []struct {
		name      string
		got, want any
	}{
		{"File", cfg.File, "good.yaml"},
		{"Store", cfg.Store, "postgres://orderhub@db:5432/orderhub"},
		{"Listen", cfg.Listen, ":9090"},
		{"Timezone", cfg.Timezone, "Europe/Berlin"},
		{"Location", cfg.Location.String(), berlin.String()},
		{"Log", cfg.Log, Log{Level: "debug", Format: "text"}},
		{"Ingest", cfg.Ingest, Ingest{
			MaxBody: 2 << 20, BatchMax: 64, BatchWait: Duration(2 * time.Millisecond),
			ReplayWindow: Duration(5 * time.Minute), Synchronous: "FULL",
		}},
		{"API", cfg.API, API{Tokens: []APIToken{
			{Name: "ops", Token: "ops-token-value", PII: true},
			{Name: "ci", Token: "ci-$-token"},
		}}},
		{"len(Systems)", len(cfg.Systems), 3},
		{"shop", *cfg.Systems["shop"], System{
			Kind: "testshop", BaseURL: "http://127.0.0.1:9001/api", Name: "shop",
			Pos: Position{"good.yaml", 17, 3},
			Settings: &testShopSettings{AppKey: "mall-1", AppSign: "shop-sign-value", Env: "live",
				Timeout: Duration(3 * time.Second)},
		}},
		{"shop_b (merge key)", *cfg.Systems["shop_b"], System{
			Kind: "testshop", Name: "shop_b", Pos: Position{"good.yaml", 24, 3},
			Settings: &testShopSettings{AppSign: "0123456789", Env: "live"},
		}},
		{"erp", *cfg.Systems["erp"], System{
			Kind: "testerp", Name: "erp", Pos: Position{"good.yaml", 27, 3},
			Settings: &testERPSettings{DB: "erp-main"},
		}},
		{"len(Sources)", len(cfg.Sources), 2},
		{"shop_orders", *cfg.Sources["shop_orders"], Source{
			System: "shop", Mode: "push", MaxBody: 4 << 20, Name: "shop_orders", Pos: Position{"good.yaml", 31, 3},
		}},
		{"shop_b-orders inherits ingest.max_body", *cfg.Sources["shop_b-orders"], Source{
			System: "shop_b", Mode: "push", MaxBody: 2 << 20, Name: "shop_b-orders", Pos: Position{"good.yaml", 32, 3},
		}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

func TestParseEmptyUsesDefaults(t *testing.T) {
	for _, data := range []string{"", "# nothing here\n", "---\n", "log:\ningest: {}\n"} {
		cfg, err := Parse([]byte(data), "empty.yaml", nil)
		if err != nil {
			t.Fatalf("Parse(%q): %v", data, err)
		}
		want := &Config{
			Store: "sqlite://data/orderhub.db", Listen: "127.0.0.1:8080", Timezone: "Asia/Shanghai",
			Log: Log{Level: "info", Format: "json"},
			Ingest: Ingest{MaxBody: 1 << 20, BatchMax: 256, BatchWait: Duration(2 * time.Millisecond),
				ReplayWindow: Duration(5 * time.Minute), Synchronous: "FULL"},
			Console: Console{SessionMaxAge: Duration(12 * time.Hour), SessionIdle: Duration(time.Hour)},
			File:    "empty.yaml",
		}
		if cfg.Location == nil || cfg.Location.String() != "Asia/Shanghai" {
			t.Errorf("Parse(%q).Location = %v, want Asia/Shanghai", data, cfg.Location)
		}
		cfg.Location = nil
		if !reflect.DeepEqual(cfg, want) {
			t.Errorf("Parse(%q) = %+v, want %+v", data, cfg, want)
		}
	}
}

func TestExplicitValuesBeatDefaults(t *testing.T) {
	cfg, err := Parse([]byte("ingest: {replay_window: 0s, batch_wait: 1s}\nstore: ${STORE:-}\n"), "x.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Ingest.ReplayWindow != 0 || cfg.Ingest.BatchWait != Duration(time.Second) {
		t.Errorf("Ingest = %+v, want replay_window 0 and batch_wait 1s as written", cfg.Ingest)
	}
	if cfg.Store != "sqlite://data/orderhub.db" {
		t.Errorf("Store = %q, want the default for an empty value", cfg.Store)
	}
}

func TestValueForms(t *testing.T) {
	tests := []struct {
		name, yaml string
		env        map[string]string
		get        func(*Config) any
		want       any
	}{
		{"bare 0 duration", "ingest: {batch_wait: 0}", nil,
			func(c *Config) any { return c.Ingest.BatchWait }, Duration(0)},
		{"size in bytes", "ingest: {max_body: 1048576}", nil,
			func(c *Config) any { return c.Ingest.MaxBody }, ByteSize(1 << 20)},
		{"quoted number", `ingest: {batch_max: "64"}`, nil,
			func(c *Config) any { return c.Ingest.BatchMax }, 64},
		{"number from env", "ingest:\n  batch_max: ${N:-32}", nil,
			func(c *Config) any { return c.Ingest.BatchMax }, 32},
		{"size from env", "ingest:\n  max_body: ${SIZE}", map[string]string{"SIZE": "3MiB"},
			func(c *Config) any { return c.Ingest.MaxBody }, ByteSize(3 << 20)},
		{"number kept as written in a string", "systems:\n  erp: {kind: testerp, db: 007}", nil,
			func(c *Config) any { return c.Systems["erp"].Settings.(*testERPSettings).DB }, "007"},
		{"tagged value", "listen: !!str 127.0.0.1:1", nil,
			func(c *Config) any { return c.Listen }, "127.0.0.1:1"},
		{"block scalar", "store: >-\n  sqlite://x.db\n", nil,
			func(c *Config) any { return c.Store }, "sqlite://x.db"},
		{"bool spelled True", "api: {tokens: [{name: a, token: b, pii: True}]}", nil,
			func(c *Config) any { return c.API.Tokens[0].PII }, true},
		{"postgresql scheme", "store: postgresql://u@h/db", nil,
			func(c *Config) any { return c.Store }, "postgresql://u@h/db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tt.yaml), "v.yaml", envOf(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.get(cfg); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

// want is one expected problem: its position and a piece of its text.
type want struct {
	pos  string
	text string
}

const shopOK = "  shop: {kind: testshop, app_sign: \"12345678\"}\n"

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		want []want
	}{
		{"unknown top-level key", "listn: 1.2.3.4:80\n",
			nil, []want{{"t.yaml:1:1", `listn: unknown key "listn" (did you mean "listen"?)`}}},
		{"unknown nested key", "log:\n  levle: debug\n",
			nil, []want{{"t.yaml:2:3", `log.levle: unknown key "levle" (did you mean "level"?)`}}},
		{"unknown key in a token", "api:\n  tokens:\n    - {name: a, token: b, pi: true}\n",
			nil, []want{{"t.yaml:3:27", `api.tokens[0].pi: unknown key "pi"`}}},
		{"unknown key in a system", "systems:\n  shop:\n    kind: testshop\n    app_sign: \"12345678\"\n    app_sing: x\n",
			nil, []want{{"t.yaml:5:5", `systems.shop.app_sing: unknown key "app_sing" (did you mean "app_sign"?)`}}},
		{"unknown key in a system, no guess", "systems:\n  shop: {kind: testshop, app_sign: \"12345678\", colour: red}\n",
			nil, []want{{"t.yaml:2:48", `(valid keys: app_key, app_sign, base_url, env, kind, rate, request_timeout, retries, timeout)`}}},
		{"unknown key in a source", "systems:\n" + shopOK + "sources:\n  o: {system: shop, mode: push, max: 1}\n",
			nil, []want{{"t.yaml:4:33", `unknown key "max" (did you mean "max_body"?)`}}},
		{"unknown kind", "systems:\n  shop: {kind: testshp, app_sign: \"12345678\"}\n",
			nil, []want{{"t.yaml:2:16", `systems.shop.kind: unknown kind "testshp" (did you mean "testshop"? kinds in this build: `}}},
		{"missing kind", "systems:\n  shop: {app_sign: \"12345678\"}\n",
			nil, []want{{"t.yaml:2:3", `systems.shop.kind: missing required key "kind"`}}},
		{"missing required setting", "systems:\n  shop:\n    kind: testshop\n    app_key: k\n",
			nil, []want{{"t.yaml:2:3", `systems.shop.app_sign: missing required key "app_sign" (signing secret; use ${ENV_VAR})`}}},
		{"empty required setting", "systems:\n  shop:\n    kind: testshop\n    app_sign: \"\"\n",
			nil, []want{{"t.yaml:4:5", `required key "app_sign" is empty`}}},
		{"system with no settings at all", "systems:\n  shop:\n",
			nil, []want{{"t.yaml:2:3", `missing required key "kind"`}}},
		{"settings validator", "systems:\n  shop: {kind: testshop, app_sign: short}\n",
			nil, []want{{"t.yaml:2:26", `systems.shop.app_sign: app_sign "the value" is shorter than 8 characters`}}},
		{"bad enum", "log: {level: verbose}\n",
			nil, []want{{"t.yaml:1:14", `log.level: unknown level "verbose" (use one of: debug, info, warn, error)`}}},
		{"bad enum with a guess", "log: {format: JSON}\n",
			nil, []want{{"t.yaml:1:15", `unknown format "JSON" (did you mean "json"? use one of: json, text)`}}},
		{"bad enum in settings", "systems:\n  shop: {kind: testshop, app_sign: \"12345678\", env: prod}\n",
			nil, []want{{"t.yaml:2:53", `systems.shop.env: unknown env "prod" (use one of: sandbox, live)`}}},
		{"bad duration", "ingest:\n  batch_wait: soon\n",
			nil, []want{{"t.yaml:2:15", `ingest.batch_wait: "soon" is not a duration; write it like 500ms, 30s, 2m or 1h`}}},
		{"bad duration in settings", "systems:\n  shop: {kind: testshop, app_sign: \"12345678\", request_timeout: -1s}\n",
			nil, []want{{"t.yaml:2:65", `"-1s" is negative`}}},
		{"insecure cookie on every interface", "listen: :8080\nconsole: {insecure_cookie: true}\n",
			nil, []want{{"t.yaml:2:28", `console.insecure_cookie: insecure_cookie is only allowed when listen is a loopback address, and listen is ":8080"`}}},
		{"insecure cookie on a LAN address", "listen: 192.168.1.5:8080\nconsole: {insecure_cookie: true}\n",
			nil, []want{{"t.yaml:2:28", `console.insecure_cookie: insecure_cookie is only allowed when listen is a loopback address`}}},
		{"no session length", "console:\n  session_idle: 0s\n",
			nil, []want{{"t.yaml:2:17", `console.session_idle: session_idle must be more than 0`}}},
		{"negative session length", "console:\n  session_max_age: -1h\n",
			nil, []want{{"t.yaml:2:20", `console.session_max_age: "-1h" is negative`}}},
		{"token role", "api:\n  tokens:\n    - {name: a, token: b, role: root}\n",
			nil, []want{{"t.yaml:3:33", `api.tokens[0].role: unknown role "root" (use one of: admin, operator, viewer)`}}},
		{"bad size", "ingest:\n  max_body: lots\n",
			nil, []want{{"t.yaml:2:13", `ingest.max_body: "lots" is not a size`}}},
		{"zero size", "ingest:\n  max_body: 0\n",
			nil, []want{{"t.yaml:2:13", `max_body must be more than 0`}}},
		{"not a number", "ingest: {batch_max: abc}\n",
			nil, []want{{"t.yaml:1:21", `ingest.batch_max: expected a whole number, got "abc"`}}},
		{"below min", "ingest: {batch_max: 0}\n",
			nil, []want{{"t.yaml:1:21", `batch_max must be at least 1, got 0`}}},
		{"below min in settings", "systems:\n  shop: {kind: testshop, app_sign: \"12345678\", retries: -1}\n",
			nil, []want{{"t.yaml:2:57", `retries must be at least 0, got -1`}}},
		{"not a bool", "api:\n  tokens: [{name: a, token: b, pii: maybe}]\n",
			nil, []want{{"t.yaml:2:37", `expected true or false, got "maybe"`}}},
		{"list for a map", "systems: [shop, erp]\n",
			nil, []want{{"t.yaml:1:10", `systems: expected a map, got a list`}}},
		{"map for a list", "api:\n  tokens: {name: a}\n",
			nil, []want{{"t.yaml:2:11", `api.tokens: expected a list, got a map`}}},
		{"map for a string", "store: {a: b}\n",
			nil, []want{{"t.yaml:1:8", `store: expected a string, got a map`}}},
		{"list for a duration", "ingest: {batch_wait: [1s]}\n",
			nil, []want{{"t.yaml:1:22", `expected a duration such as 30s or 2m, got a list`}}},
		{"not a map at all", "- a\n- b\n",
			nil, []want{{"t.yaml:1:1", `the config file must be a map`}}},
		{"unset env var", "systems:\n  shop:\n    kind: testshop\n    app_sign: ${MALL_APP_SIGN}\n",
			nil, []want{{"t.yaml:4:15", `systems.shop.app_sign: environment variable MALL_APP_SIGN is not set (export MALL_APP_SIGN=… before starting orderhub, or write ${MALL_APP_SIGN:-value})`}}},
		{"unclosed env ref", "listen: ${LISTEN\n",
			nil, []want{{"t.yaml:1:9", `${ is not closed with }`}}},
		{"bad env name", "listen: ${1LISTEN}\n",
			nil, []want{{"t.yaml:1:9", `"1LISTEN" is not a valid environment variable name`}}},
		{"source on a missing system", "systems:\n" + shopOK + "sources:\n  orders: {system: shpo, mode: push}\n",
			nil, []want{{"t.yaml:4:20", `sources.orders.system: unknown system "shpo" (did you mean "shop"?)`}}},
		{"source on a missing system, no guess", "systems:\n" + shopOK + "sources:\n  orders: {system: warehouse, mode: push}\n",
			nil, []want{{"t.yaml:4:20", `(configured systems: shop)`}}},
		{"source with no systems", "sources:\n  orders: {system: shop, mode: push}\n",
			nil, []want{{"t.yaml:2:20", `no systems are configured`}}},
		{"source on a non-push kind", "systems:\n  erp: {kind: testerp}\nsources:\n  orders: {system: erp, mode: push}\n",
			nil, []want{{"t.yaml:4:20", `system "erp" is of kind "testerp", which cannot push orders to orderhub (use a system whose kind accepts pushes: `}}},
		{"pull from a push-only kind", "systems:\n" + shopOK + "sources:\n  orders: {system: shop, mode: pull}\n",
			nil, []want{{"t.yaml:4:20", `system "shop" is of kind "testshop", which cannot be pulled from (use a system whose kind has pull APIs: testerp)`}}},
		{"pull without api", "systems:\n  erp: {kind: testerp}\nsources:\n  orders: {system: erp, mode: pull}\n",
			nil, []want{{"t.yaml:4:3", `a pull source needs api: (add api: with one of: orders.query, refunds.query)`}}},
		{"pull with an unknown api", "systems:\n  erp: {kind: testerp}\nsources:\n  orders: {system: erp, mode: pull, api: order.query}\n",
			nil, []want{{"t.yaml:4:42", `kind "testerp" has no pull API "order.query" (did you mean "orders.query"?)`}}},
		{"pull with a bad start", "systems:\n  erp: {kind: testerp}\nsources:\n  orders: {system: erp, mode: pull, api: orders.query, start: yesterday}\n",
			nil, []want{{"t.yaml:4:63", `"yesterday" is not a time; write it like "2026-01-01 00:00:00"`}}},
		{"pull settings on a push source", "systems:\n" + shopOK + "sources:\n  orders: {system: shop, mode: push, every: 1m}\n",
			nil, []want{{"t.yaml:4:45", `every applies to pull sources only`}}},
		{"flow to an unknown source", "systems:\n  erp: {kind: testerp}\nflows:\n  f: {source: nope, target: erp, api: bill_save}\n",
			nil, []want{{"t.yaml:4:15", `flows.f.source: unknown source "nope"`}}},
		{"flow to a kind that cannot be written", "systems:\n" + shopOK + "  erp: {kind: testerp}\nsources:\n  o: {system: erp, mode: pull, api: orders.query}\nflows:\n  f: {source: o, target: shop, api: bill_save}\n",
			nil, []want{{"t.yaml:7:26", `system "shop" is of kind "testshop", which cannot be written to (use a system whose kind takes bills: testerp)`}}},
		{"flow to an unknown api", "systems:\n  erp: {kind: testerp}\nsources:\n  o: {system: erp, mode: pull, api: orders.query}\nflows:\n  f: {source: o, target: erp, api: bill_sav}\n",
			nil, []want{{"t.yaml:6:36", `kind "testerp" has no API "bill_sav" to write (did you mean "bill_save"?)`}}},
		{"missing mode", "systems:\n" + shopOK + "sources:\n  orders: {system: shop}\n",
			nil, []want{{"t.yaml:4:3", `missing required key "mode"`}}},
		{"bad system name", "systems:\n  Shop: {kind: testshop, app_sign: \"12345678\"}\n",
			nil, []want{{"t.yaml:2:3", `systems.Shop: invalid system name "Shop" (names appear in URLs: use 1 to 63 lowercase letters, digits, _ and -, starting with a letter or digit, e.g. "shop")`}}},
		{"bad source name", "systems:\n" + shopOK + "sources:\n  \"shop orders\": {system: shop, mode: push}\n",
			nil, []want{{"t.yaml:4:3", `invalid source name "shop orders" (names appear in URLs`}}},
		{"bad base_url", "systems:\n  shop: {kind: testshop, app_sign: \"12345678\", base_url: ftp://x/y}\n",
			nil, []want{{"t.yaml:2:58", `systems.shop.base_url: base_url "ftp://x/y" is not an absolute http or https URL`}}},
		{"relative base_url", "systems:\n  shop: {kind: testshop, app_sign: \"12345678\", base_url: /api}\n",
			nil, []want{{"t.yaml:2:58", `is not an absolute http or https URL`}}},
		{"bad store scheme", "store: mysql://x\n",
			nil, []want{{"t.yaml:1:8", `store: store scheme "mysql" is not supported; use sqlite, postgres or postgresql (write sqlite://data/orderhub.db (embedded) or postgres://user@host:5432/db (several nodes))`}}},
		{"store is not a URL", "store: data/orderhub.db\n",
			nil, []want{{"t.yaml:1:8", `store must be a URL starting with sqlite://, postgres:// or postgresql://`}}},
		{"bad listen", "listen: 8080\n",
			nil, []want{{"t.yaml:1:9", `listen address "8080" is not host:port`}}},
		{"bad timezone", "timezone: Asia/Shangai\n",
			nil, []want{{"t.yaml:1:11", `timezone: unknown time zone "Asia/Shangai" (use an IANA name such as Asia/Shanghai)`}}},
		{"Local timezone", "timezone: Local\n",
			nil, []want{{"t.yaml:1:11", `depends on the machine`}}},
		{"YAML syntax error", "store: [a, b\n",
			nil, []want{{"t.yaml:1:8", `']' not found`}}},
		{"unquoted env ref in a flow map", "systems:\n  shop: {kind: testshop, app_sign: ${SIGN}}\n",
			map[string]string{"SIGN": "s3cret-value"}, []want{{"t.yaml:2:36", `${SIGN} inside { } must be quoted: unquoted, the } of the reference ends the YAML collection (quote it: "${SIGN}")`}}},
		{"unquoted env refs hide no other problem", "store: ftp://x\nsystems:\n  shop: {kind: testshop,\n    app_sign: ${SIGN}, colour: red}\n",
			map[string]string{"SIGN": "s3cret-value"}, []want{
				{"t.yaml:1:8", `store scheme "ftp" is not supported`},
				{"t.yaml:4:15", `${SIGN} inside { } must be quoted`},
				{"t.yaml:4:24", `unknown key "colour"`},
			}},
		{"unquoted env ref in a flow list", "systems: [${A}]\n",
			nil, []want{
				{"t.yaml:1:10", `expected a map`},
				{"t.yaml:1:11", `${A} inside [ ] must be quoted: unquoted, the } of the reference ends the YAML collection (quote it: "${A}")`},
			}},
		{"quoted env refs and comments are left alone", "store: [a, b\nx: {a: \"${Q}\\\"\", b: 'it''s ${R}'} # {${S}}\n",
			nil, []want{{"t.yaml:2:1", `',' or ']' must be specified`}}},
		{"duplicate key", "store: a\nstore: b\n",
			nil, []want{{"t.yaml:2:1", `already defined`}}},
		{"undefined alias", "store: *db\n",
			nil, []want{{"t.yaml:1:8", `*db refers to no anchor defined before it (define the value first with &db)`}}},
		{"two documents", "store: sqlite://a.db\n---\nlisten: :1\n",
			nil, []want{{"t.yaml:3:1", `one YAML document`}}},
		{"several errors in order",
			"listn: x\nlog:\n  level: loud\nsystems:\n  shop:\n    kind: testshop\ningest: {batch_max: 0}\n",
			nil, []want{
				{"t.yaml:1:1", `unknown key "listn"`},
				{"t.yaml:3:10", `unknown level "loud"`},
				{"t.yaml:5:3", `missing required key "app_sign"`},
				{"t.yaml:7:21", `batch_max must be at least 1`},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tt.yaml), "t.yaml", envOf(tt.env))
			if err == nil {
				t.Fatalf("Parse succeeded, want %d errors", len(tt.want))
			}
			if cfg != nil {
				t.Errorf("Parse returned a config along with errors")
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error is %T, want Errors", err)
			}
			if len(errs) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(errs), len(tt.want), err)
			}
			for i, w := range tt.want {
				if got := errs[i].Pos.String(); got != w.pos {
					t.Errorf("error %d at %s, want %s: %v", i, got, w.pos, errs[i])
				}
				if !strings.Contains(errs[i].Error(), w.text) {
					t.Errorf("error %d = %q\nwant it to contain %q", i, errs[i].Error(), w.text)
				}
			}
		})
	}
}

// TestSecretsStayOutOfErrors sets secrets wrongly in several places and
// checks that no error text contains them.
func TestSecretsStayOutOfErrors(t *testing.T) {
	const data = `
api:
  tokens:
    - {name: ops, token: "tok-secret-1", pii: maybe}
systems:
  shop: {kind: testshop, app_sign: "${SIGN}", env: prod}
  shop2: {kind: testshop, app_sign: lit-sec}
`
	secrets := []string{"tok-secret-1", "env-sec", "lit-sec"}
	_, err := Parse([]byte(data), "s.yaml", envOf(map[string]string{"SIGN": "env-sec"}))
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 4 {
		t.Fatalf("want 4 errors, got %v", err)
	}
	for _, e := range errs {
		for _, s := range secrets {
			if strings.Contains(e.Error(), s) {
				t.Errorf("error %q reveals secret %q", e, s)
			}
		}
	}
	if !strings.Contains(err.Error(), `app_sign "the value" is shorter`) {
		t.Errorf("want the careless validator's message with the value scrubbed, got:\n%v", err)
	}
}

func TestExpand(t *testing.T) {
	env := envOf(map[string]string{"A": "alpha", "EMPTY": ""})
	tests := []struct {
		in, want string
		problem  string
	}{
		{"plain", "plain", ""},
		{"${A}", "alpha", ""},
		{"x-${A}-y", "x-alpha-y", ""},
		{"${B:-beta}", "beta", ""},
		{"${A:-beta}", "alpha", ""},
		{"${EMPTY:-dflt}", "dflt", ""},
		{"${EMPTY}", "", ""},
		{"${B:-}", "", ""},
		{"$$A and $${A}", "$A and ${A}", ""},
		{"pa$word$", "pa$word$", ""},
		{"${B}", "", "environment variable B is not set"},
		{"${A", "", "${ is not closed"},
		{"${}", "", `"" is not a valid environment variable name`},
		{"${A-B}", "", `"A-B" is not a valid`},
	}
	for _, tt := range tests {
		got, problems := expand(tt.in, env)
		if tt.problem == "" {
			if len(problems) > 0 || got != tt.want {
				t.Errorf("expand(%q) = %q, %v; want %q", tt.in, got, problems, tt.want)
			}
			continue
		}
		if len(problems) != 1 || !strings.Contains(problems[0].msg, tt.problem) {
			t.Errorf("expand(%q) problems = %v, want one containing %q", tt.in, problems, tt.problem)
		}
	}
}

func TestSuggest(t *testing.T) {
	keys := []string{"store", "listen", "timezone", "log", "ingest", "api", "systems", "sources", "max_body"}
	tests := []struct{ in, want string }{
		{"listn", "listen"},
		{"lsiten", "listen"},  // transposition
		{"Store", "store"},    // case
		{"system", "systems"}, // one letter short
		{"max", "max_body"},   // prefix
		{"timezones", "timezone"},
		{"ab", ""}, // too short to guess
		{"database", ""},
	}
	for _, tt := range tests {
		got, _ := suggest(tt.in, keys)
		if got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{Pos: Position{"a.yaml", 3, 5}, Path: "systems.shop.app_sign", Msg: "bad", Hint: "fix it"},
			"a.yaml:3:5: systems.shop.app_sign: bad (fix it)"},
		{&Error{Pos: Position{"a.yaml", 3, 5}, Msg: "bad"}, "a.yaml:3:5: bad"},
		{&Error{Pos: Position{File: "a.yaml"}, Msg: "bad"}, "a.yaml: bad"},
		{&Error{Msg: "bad", Hint: "h"}, "bad (h)"},
		{&Error{Pos: Position{Line: 2, Column: 1}, Path: "p", Msg: "bad"}, "2:1: p: bad"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	es := Errors{tests[0].err, tests[1].err}
	if got, want := es.Error(), tests[0].want+"\n"+tests[1].want; got != want {
		t.Errorf("Errors.Error() = %q, want %q", got, want)
	}
}

// The session cookie may go without Secure only while plain http stays on
// the machine.
func TestInsecureCookieOnLoopback(t *testing.T) {
	for _, tt := range []struct {
		listen string
		ok     bool
	}{
		{"127.0.0.1:8080", true},
		{"127.0.0.2:8080", true},
		{"[::1]:8080", true},
		{"localhost:8080", true},
		{":8080", false},
		{"0.0.0.0:8080", false},
		{"[::]:8080", false},
		{"10.0.0.5:8080", false},
		{"orderhub.example:8080", false},
	} {
		_, err := Parse([]byte("listen: \""+tt.listen+"\"\nconsole: {insecure_cookie: true}\n"), "t.yaml", nil)
		if tt.ok && err != nil {
			t.Errorf("listen %s: %v, want insecure_cookie accepted", tt.listen, err)
		}
		if !tt.ok && (err == nil || !strings.Contains(err.Error(), "console.insecure_cookie")) {
			t.Errorf("listen %s: %v, want insecure_cookie refused", tt.listen, err)
		}
	}
}
