package mapping

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCompileProblemsAtTheirPosition(t *testing.T) {
	tests := []struct {
		name, text string
		opts       Options
		pos        string // "line:col" of the first problem
		msg        string
	}{
		{"unknown name", "body:\n  a: doc.x + foo\n", Options{}, "2:14", "unknown name foo"},
		{"unknown function", "body:\n  a: frobnicate(doc.x)\n", Options{}, "2:6", "unknown name frobnicate"},
		{"text written without quotes", "body:\n  FOwnerTypeId: BD_OwnerOrg\n", Options{}, "2:17", `quote it: '"BD_OwnerOrg"'`},
		{"line outside lines", "body:\n  a: line.num\n", Options{}, "2:6", "unknown name line"},
		{"bill_no in when", "when: bill_no != \"\"\nbody: {a: '\"x\"'}\n", Options{}, "1:7", "unknown name bill_no"},
		{"folded quoted expression", "body:\n  a: \"doc.x +\n    foo\"\n", Options{}, "2:", "unknown name foo"},
		{"block expression", "body:\n  a: |\n    doc.x +\n    foo\n", Options{}, "4:", "unknown name foo"},
		{"type error", "body:\n  a: money(doc.x, 2)\n", Options{}, "2:6", "too many arguments"},
		{"now is not allowed", "body:\n  a: now()\n", Options{}, "2:6", "unknown name now"},
		{"unknown var", "vars: {org: \"100\"}\nbody:\n  a: vars.orgg\n", Options{}, "3:11", `no var "orgg"`},
		{"unknown lookup table", "lookups: {materials: {}}\nbody:\n  a: lookup(\"materail\", doc.x, doc.x)\n", Options{}, "3:13", `no lookup table "materail"`},
		{"Java date pattern", "body:\n  a: date(doc.t, \"yyyy-MM-dd\")\n", Options{}, "2:18", "looks like a Java pattern"},
		{"layout without elements", "body:\n  a: date(doc.t, \"today\")\n", Options{}, "2:18", "contains no date or time element"},
		{"when must be boolean", "when: '\"yes\"'\nbody: {a: '\"x\"'}\n", Options{}, "1:8", "expected bool"},
		{"$where without $each", "body:\n  a:\n    $where: true\n    b: '\"x\"'\n", Options{}, "2:3", "needs $each"},
		{"unknown directive", "body:\n  a:\n    $each: doc.l\n    $filter: true\n", Options{}, "4:5", `unknown directive "$filter"`},
		{"$value beside fields", "body:\n  a:\n    $value: doc.x\n    b: doc.y\n", Options{}, "2:3", "$value makes a single field"},
		{"unknown top key", "bodyy: {}\n", Options{}, "1:1", `unknown key "bodyy"`},
		{"no body", "vars: {a: 1}\n", Options{}, "1:", "no body"},
		{"empty file", "", Options{}, "1:", "empty"},
		{"empty value", "body:\n  a:\n", Options{}, "2:3", "has no value"},
		{"comma in a flow map", "body:\n  F: {FNumber: lookup(\"m\", doc.x, doc.x)}\n", Options{}, "2:", "split at a comma"},
		{"YAML syntax", "body:\n  a: [\n", Options{}, "2:", ""},
		{"flow var not declared", "vars: {org: \"1\"}\nbody: {a: vars.org}\n", Options{Vars: map[string]any{"orgg": "2"}}, "", `declares no var "orgg"`},
		{"flow var of a bad type", "vars: {org: \"1\"}\nbody: {a: vars.org}\n", Options{Vars: map[string]any{"org": 1.5}}, "", "a var must be text"},
		{"flow lookup not declared", "body: {a: '\"x\"'}\n", Options{Lookups: map[string]Table{"materials": {}}}, "", `no lookup table "materials"`},
		{"flow when", "body: {a: '\"x\"'}\n", Options{When: "doc.x ==", WhenPos: Position{File: "orderhub.yaml", Line: 40, Column: 12}}, "40:", "unexpected token EOF"},
		{"missing CSV", "lookups: {materials: nope.csv}\nbody: {a: '\"x\"'}\n", Options{}, "1:11", "cannot read the lookup file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("m.yaml", []byte(tt.text), tt.opts)
			var ps Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("err = %v, want Problems", err)
			}
			first := ps[0].Error()
			wantPrefix := "m.yaml:" + tt.pos
			if tt.opts.When != "" {
				wantPrefix = "orderhub.yaml:" + tt.pos
			}
			if !strings.HasPrefix(first, wantPrefix) {
				t.Errorf("problem %q does not start with %q", first, wantPrefix)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("problems %q do not mention %q", err, tt.msg)
			}
		})
	}
}

func TestEveryProblemIsReported(t *testing.T) {
	text := "vars: {org: \"1\"}\nbody:\n  a: foo\n  b: vars.x\n  c:\n    $each: doc.l\n    d: lookup(\"t\", line.x)\n"
	_, err := Parse("m.yaml", []byte(text), Options{})
	var ps Problems
	if !errors.As(err, &ps) || len(ps) != 3 {
		t.Fatalf("problems = %v", err)
	}
	for i, line := range []string{"m.yaml:3:", "m.yaml:4:", "m.yaml:7:"} {
		if !strings.HasPrefix(ps[i].Error(), line) {
			t.Errorf("problem %d = %q, want it at %s", i, ps[i], line)
		}
	}
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(good, []byte("bill_no: doc.no\nbody: {no: bill_no}\n"), 0o644)
	os.WriteFile(bad, []byte("body:\n  no: bill_no +\n"), 0o644)
	if ps := Check(good, Options{}); ps != nil {
		t.Errorf("Check(good) = %v", ps)
	}
	ps := Check(bad, Options{})
	if len(ps) != 1 || ps[0].Pos.File != bad || ps[0].Pos.Line != 2 {
		t.Errorf("Check(bad) = %v", ps)
	}
	if ps := Check(filepath.Join(dir, "missing.yaml"), Options{}); len(ps) != 1 || !strings.Contains(ps[0].Msg, "cannot read") {
		t.Errorf("Check(missing) = %v", ps)
	}
}
