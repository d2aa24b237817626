package config

import (
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"testing"
)

func schemaMap(t *testing.T) map[string]any {
	t.Helper()
	data, err := Schema()
	if err != nil {
		t.Fatalf("Schema: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("Schema is not valid JSON: %v\n%s", err, data)
	}
	return m
}

// at walks a decoded JSON value by keys and list indexes.
func at(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("at %v: %v is not an object", path, v)
			}
			v, ok = m[k]
			if !ok {
				t.Fatalf("at %v: no key %q", path, k)
			}
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("at %v: no index %d", path, k)
			}
			v = l[k]
		}
	}
	return v
}

func TestSchemaTop(t *testing.T) {
	m := schemaMap(t)
	checks := []struct {
		path []any
		want any
	}{
		{[]any{"$schema"}, "https://json-schema.org/draft/2020-12/schema"},
		{[]any{"title"}, "orderhub configuration"},
		{[]any{"type"}, "object"},
		{[]any{"additionalProperties"}, false},
		{[]any{"properties", "log", "additionalProperties"}, false},
		{[]any{"properties", "log", "properties", "level", "enum"}, []any{"debug", "info", "warn", "error"}},
		{[]any{"properties", "log", "properties", "level", "default"}, "info"},
		{[]any{"properties", "store", "default"}, "sqlite://data/orderhub.db"},
		{[]any{"properties", "ingest", "properties", "batch_max", "minimum"}, 1.0},
		{[]any{"properties", "ingest", "properties", "batch_max", "default"}, 256.0},
		{[]any{"properties", "ingest", "properties", "max_body", "default"}, "1MiB"},
		{[]any{"properties", "ingest", "properties", "max_body", "oneOf", 0, "type"}, "integer"},
		{[]any{"properties", "ingest", "properties", "replay_window", "type"}, []any{"string", "integer"}},
		{[]any{"properties", "ingest", "properties", "replay_window", "pattern"}, durationPattern},
		{[]any{"properties", "api", "properties", "tokens", "type"}, "array"},
		{[]any{"properties", "api", "properties", "tokens", "items", "required"}, []any{"name", "token"}},
		{[]any{"properties", "api", "properties", "tokens", "items", "properties", "token", "writeOnly"}, true},
		{[]any{"properties", "api", "properties", "tokens", "items", "properties", "pii", "type"}, "boolean"},
		{[]any{"properties", "sources", "additionalProperties", "required"}, []any{"system", "mode"}},
		{[]any{"properties", "sources", "propertyNames", "pattern"}, namePattern.String()},
		{[]any{"properties", "systems", "additionalProperties", "required"}, []any{"kind"}},
	}
	for _, c := range checks {
		if got := at(t, m, c.path...); !reflect.DeepEqual(got, c.want) {
			t.Errorf("schema at %v = %#v, want %#v", c.path, got, c.want)
		}
	}
	for _, key := range []string{"location", "file", "name", "pos", "settings"} {
		if _, ok := m["properties"].(map[string]any)[key]; ok {
			t.Errorf("schema has yaml:\"-\" field %q", key)
		}
	}
}

func TestSchemaKinds(t *testing.T) {
	m := schemaMap(t)
	sys := at(t, m, "properties", "systems", "additionalProperties")
	kinds := at(t, sys, "properties", "kind", "enum").([]any)
	for _, k := range []any{"testerp", "testshop"} {
		if !slices.Contains(kinds, k) {
			t.Errorf("kind enum %v lacks %v", kinds, k)
		}
	}
	var shop map[string]any
	for _, branch := range at(t, sys, "allOf").([]any) {
		if at(t, branch, "if", "properties", "kind", "const") == "testshop" {
			shop = at(t, branch, "then").(map[string]any)
		}
	}
	if shop == nil {
		t.Fatal("no if/then for kind testshop")
	}
	if got := at(t, shop, "required"); !reflect.DeepEqual(got, []any{"app_sign"}) {
		t.Errorf("testshop required = %v, want [app_sign]", got)
	}
	if at(t, shop, "additionalProperties") != false {
		t.Error("testshop settings are not closed")
	}
	for _, key := range []string{"kind", "base_url", "app_key", "app_sign", "env", "timeout", "request_timeout", "retries"} {
		at(t, shop, "properties", key)
	}
	if at(t, shop, "properties", "app_sign", "writeOnly") != true {
		t.Error("app_sign is not writeOnly")
	}
	if got := at(t, shop, "properties", "env", "enum"); !reflect.DeepEqual(got, []any{"sandbox", "live"}) {
		t.Errorf("env enum = %v", got)
	}
}

// TestSchemaCoversEveryKey checks the round trip: every yaml key of the Go
// types is a property at the matching place in the schema.
func TestSchemaCoversEveryKey(t *testing.T) {
	m := schemaMap(t)
	var walk func(rt reflect.Type, s any, where string)
	walk = func(rt reflect.Type, s any, where string) {
		for rt.Kind() == reflect.Pointer {
			rt = rt.Elem()
		}
		switch {
		case rt == systemType:
			walk(reflect.TypeFor[struct {
				Kind    string `yaml:"kind"`
				BaseURL string `yaml:"base_url"`
			}](), s, where)
		case rt.Kind() == reflect.Struct:
			props := at(t, s, "properties").(map[string]any)
			for _, f := range fieldsOf(rt) {
				p, ok := props[f.key]
				if !ok {
					t.Errorf("schema lacks %s.%s", where, f.key)
					continue
				}
				walk(f.typ, p, where+"."+f.key)
			}
		case rt.Kind() == reflect.Slice:
			walk(rt.Elem(), at(t, s, "items"), where+"[]")
		case rt.Kind() == reflect.Map:
			walk(rt.Elem(), at(t, s, "additionalProperties"), where+".*")
		}
	}
	walk(reflect.TypeFor[Config](), m, "config")
}

func TestSchemaPatterns(t *testing.T) {
	tests := []struct {
		pattern string
		ok      []string
		bad     []string
	}{
		{durationPattern, []string{"0", "5m", "1h30m", "1.5s", "250ms", "${WAIT}"}, []string{"5", "5 minutes", "m", "-1s"}},
		{sizePattern, []string{"1048576", "1MiB", "512 KiB", "2MB", "${SIZE:-1MiB}"}, []string{"1.5MiB", "lots", "1TB"}},
	}
	for _, tt := range tests {
		re := regexp.MustCompile(tt.pattern)
		for _, s := range tt.ok {
			if !re.MatchString(s) {
				t.Errorf("%s does not match %q", tt.pattern, s)
			}
		}
		for _, s := range tt.bad {
			if re.MatchString(s) {
				t.Errorf("%s matches %q", tt.pattern, s)
			}
		}
	}
}

func TestSchemaDeterministic(t *testing.T) {
	a, _ := Schema()
	b, _ := Schema()
	if string(a) != string(b) {
		t.Error("two calls of Schema differ")
	}
}
