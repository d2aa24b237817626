package mapping

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// one compiles a mapping whose body has the single field v = src and
// applies it to doc.
func one(t *testing.T, src, doc string, opts Options) (any, error) {
	t.Helper()
	text := "bill_no: '\"B1\"'\nvars: {org: \"100\", n: 2}\nlookups:\n  materials: {SKU-1: M001, \"7\": M007}\n  empty: {}\nbody:\n  v: " + yamlQuote(src) + "\n"
	m, err := Parse("t.yaml", []byte(text), opts)
	if err != nil {
		return nil, err
	}
	res, err := m.Apply([]byte(doc), nil)
	if err != nil {
		return nil, err
	}
	return res.Body["v"], nil
}

func yamlQuote(s string) string {
	b, _ := json.Marshal(s) // a JSON string is a YAML double-quoted scalar
	return string(b)
}

// helperDoc and helperCases are expressions on one document with what
// each gives: a value, or an error containing err.
const helperDoc = `{"t": "2024-11-11 09:12:03", "d": "2024-11-11", "iso": "2024-11-11T01:12:03Z", "zero": "0000-00-00 00:00:00",
	"amt": "179.0000", "odd": "59.665", "n3": "3.0000", "a218": "218.0000", "int": 7, "frac": 1.25, "neg": "-0.005",
	"sku": "SKU-1", "unknown": "SKU-9", "bad": "abc", "gift": 0, "gift2": "1", "nested": {"a": {"b": "deep"}}}`

var helperCases = []struct {
	name, expr string
	want       any
	err        string
}{
	{"date from wdt datetime", `date(doc.t, "2006-01-02")`, "2024-11-11", ""},
	{"date keeps time", `date(doc.t, "2006-01-02 15:04:05")`, "2024-11-11 09:12:03", ""},
	{"date only", `date(doc.d, "2006/01/02")`, "2024/11/11", ""},
	{"RFC 3339 moves to the flow's zone", `date(doc.iso, "2006-01-02 15:04")`, "2024-11-11 09:12", ""},
	{"wdt's unset time", `date(doc.zero, "2006-01-02")`, nil, "never set"},
	{"date of garbage", `date(doc.bad, "2006-01-02")`, nil, "not a time"},
	{"date of a missing field", `date(doc.nope, "2006-01-02")`, nil, "no value"},
	{"date of a number", `date(doc.int, "2006-01-02")`, nil, "not a time"},
	{"money pads", `money(doc.amt)`, "179.00", ""},
	{"money rounds half up", `money(doc.odd)`, "59.67", ""},
	{"money rounds negative half away", `money(doc.neg)`, "-0.01", ""},
	{"money of an int", `money(doc.int)`, "7.00", ""},
	{"money of a JSON fraction", `money(doc.frac)`, "1.25", ""},
	{"money of text", `money(doc.bad)`, nil, `"abc" is not a decimal number`},
	{"money of missing", `money(doc.nope)`, nil, "no value"},
	{"decimal division", `money(dec(doc.a218) / dec(doc.n3))`, "72.67", ""},
	{"decimal division 4 places", `fixed(dec(doc.a218) / dec(doc.n3), 4)`, "72.6667", ""},
	{"division by zero", `money(dec(doc.amt) / 0)`, nil, "division by zero"},
	{"multiply by int", `money(dec(doc.amt) * 2)`, "358.00", ""},
	{"int on the left", `money(3 * dec(doc.amt))`, "537.00", ""},
	{"float literal is exact", `money(dec(doc.amt) * 0.1)`, "17.90", ""},
	{"add and subtract", `qty(dec(doc.amt) + dec(doc.odd) - 1)`, "237.665", ""},
	{"round", `qty(round(dec(doc.odd), 1))`, "59.7", ""},
	{"qty trims zeros", `qty(doc.n3)`, "3", ""},
	{"qty of a repeating fraction", `qty(dec(1) / 3)`, nil, "no exact decimal form"},
	{"num is a JSON number", `num(doc.amt)`, json.Number("179"), ""},
	{"num with places", `num(doc.odd, 2)`, json.Number("59.67"), ""},
	{"fixed places out of range", `fixed(doc.amt, vars.n * 10)`, nil, "places must be"},
	{"compare decimal and int", `dec(doc.amt) > 100`, true, ""},
	{"compare equal across scales", `dec(doc.amt) == dec("179")`, true, ""},
	{"not equal", `dec(doc.gift) != 0`, false, ""},
	{"text gift flag", `string(dec(doc.gift2) != 0)`, "true", ""},
	{"less or equal with float", `dec(doc.odd) <= 59.665`, true, ""},
	{"lookup hit", `lookup("materials", doc.sku)`, "M001", ""},
	{"lookup hit with default", `lookup("materials", doc.sku, doc.sku)`, "M001", ""},
	{"lookup falls back", `lookup("materials", doc.unknown, doc.unknown)`, "SKU-9", ""},
	{"lookup by a number key", `lookup("materials", doc.int)`, "M007", ""},
	{"lookup miss without default", `lookup("materials", doc.unknown)`, nil, `table "materials" has no entry for "SKU-9"`},
	{"lookup of a missing key falls back", `lookup("empty", doc.nope, "X")`, "X", ""},
	{"lookup of missing key and default", `lookup("empty", doc.nope, doc.nope2)`, nil, "both missing"},
	{"lookup of a missing key", `lookup("empty", doc.nope)`, nil, "has no value"},
	{"has", `has("materials", doc.sku)`, true, ""},
	{"has not", `has("materials", doc.unknown)`, false, ""},
	{"vars", `vars.org`, "100", ""},
	{"fixed text", `"APP"`, "APP", ""},
	{"concatenation", `"WDT-" + doc.sku`, "WDT-SKU-1", ""},
	{"ternary", `doc.gift == 0 ? "N" : "Y"`, "N", ""},
	{"if else", `if doc.gift2 == "1" { "Y" } else { "N" }`, "Y", ""},
	{"nil coalescing", `doc.nope ?? "none"`, "none", ""},
	{"nested member", `doc.nested.a.b`, "deep", ""},
	{"optional member of missing", `doc.nope?.a ?? "-"`, "-", ""},
	{"member of missing", `doc.nope.a`, nil, "cannot read .a of a missing value"},
	{"member of text", `doc.sku.a`, nil, "cannot read .a of a text"},
	{"missing field is refused", `doc.nope`, nil, "the value is missing"},
	{"a float is refused", `1.5 * 2`, nil, "float"},
	{"an unformatted decimal is refused", `dec(doc.amt)`, nil, "unformatted decimal"},
	{"a JSON fraction is refused as is", `doc.frac`, nil, "unformatted decimal"},
	{"ints pass", `doc.int + 1`, 8, ""},
	{"bill_no is visible", `bill_no + "-1"`, "B1-1", ""},
}

func TestHelpers(t *testing.T) {
	doc := helperDoc
	tests := helperCases
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := one(t, tt.expr, doc, Options{})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("%s = %#v, %v; want error containing %q", tt.expr, got, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s: %v", tt.expr, err)
			}
			if got != tt.want {
				t.Fatalf("%s = %#v, want %#v", tt.expr, got, tt.want)
			}
		})
	}
}

func TestDateUsesTheFlowsZone(t *testing.T) {
	utc, err := one(t, `date(doc.iso, "2006-01-02 15:04")`, `{"iso": "2024-11-11T01:12:03Z"}`, Options{Location: time.UTC})
	if err != nil || utc != "2024-11-11 01:12" {
		t.Errorf("in UTC: %v, %v", utc, err)
	}
	ny, _ := time.LoadLocation("America/New_York")
	got, err := one(t, `date(doc.t, "2006-01-02T15:04:05Z07:00")`, `{"t": "2024-11-11 09:12:03"}`, Options{Location: ny})
	if err != nil || got != "2024-11-11T09:12:03-05:00" {
		t.Errorf("wall clock in New York: %v, %v", got, err)
	}
}

func TestLookupMissNamesTheKey(t *testing.T) {
	_, err := one(t, `lookup("materials", doc.sku)`, `{"sku": "SKU-404"}`, Options{})
	var ae *ApplyError
	if !errors.As(err, &ae) || len(ae.Fields) != 1 {
		t.Fatalf("err = %v", err)
	}
	f := ae.Fields[0]
	if f.Field != "v" || f.Expr != `lookup("materials", doc.sku)` || f.Value() != `doc.sku = "SKU-404"` ||
		!strings.Contains(f.Msg, `no entry for "SKU-404"`) {
		t.Errorf("field error = %+v", f)
	}
}
