package connector

import (
	"errors"
	"strings"
	"testing"

	"github.com/go-json-experiment/json"

	"orderhub/internal/order"
)

type doc struct {
	OrderNo string      `json:"order_no"`
	Qty     int64       `json:"qty"`
	Total   order.Money `json:"total"`
	Lines   []struct {
		Num int64 `json:"num"`
	} `json:"lines"`
}

func TestDecodeProblems(t *testing.T) {
	strict := json.RejectUnknownMembers(true)
	for _, tc := range []struct {
		name   string
		strict bool
		body   string
		status int
		code   string
		field  string
		offset int64
		title  string
	}{
		{"syntax error on line 2", false, "{\n  \"qty\": 1 \"x\"}", 400, "malformed_json", "", 14, "at byte 14 (line 2, column 12)"},
		{"syntax error first byte", false, "x", 400, "malformed_json", "", 1, "at byte 1 (line 1, column 1)"},
		{"cut off", false, `{"qty": 1`, 400, "malformed_json", "", 9, "ends early at byte 9"},
		{"syntax error after a wrong type", false, `{"qty": "1",,}`, 400, "malformed_json", "", 13, "not valid JSON at byte 13"},
		{"array", false, `[1]`, 400, "not_an_object", "", 1, "the body must be a JSON object: this one is an array"},
		{"number", true, ` 12`, 400, "not_an_object", "", 2, "this one is a number"},
		{"null", true, `null`, 400, "not_an_object", "", 1, "this one is null"},
		{"string", true, `"x"`, 400, "not_an_object", "", 1, "this one is a string"},
		{"bool", true, `true`, 400, "not_an_object", "", 1, "this one is true or false"},
		{"broken array", false, `[1,`, 400, "malformed_json", "", 3, "ends early"},
		{"wrong type", false, `{"qty":"1"}`, 422, "invalid_field", "qty", 8, "field qty has a JSON string where a whole number is expected"},
		{"nested wrong type", false, `{"lines":[{"num":true}]}`, 422, "invalid_field", "lines[0].num", 18, "field lines[0].num has a JSON boolean"},
		{"bad money", false, `{"total":"1.234"}`, 422, "invalid_field", "total", 10, `a decimal amount with at most 2 decimals`},
		{"unknown field", true, `{"colour":"red"}`, 422, "unknown_field", "colour", 0, `unknown field "colour"`},
		{"unknown field in another case", true, `{"Qty":1}`, 422, "unknown_field", "Qty", 0, `unknown field "Qty"`},
		{"repeated key", false, `{"qty":1,"qty":2}`, 400, "duplicate_key", "qty", 10, `the key "qty" appears twice in the same object, again at byte 10 (line 1, column 10)`},
		{"repeated key, nested", false, `{"lines":[{"num":1},{"num":1,"num":2}]}`, 400, "duplicate_key", "lines[1].num", 30, `"num"`},
		{"repeated unknown key", false, `{"x":1,"x":2}`, 400, "duplicate_key", "x", 8, `"x"`},
		{"key and its escape", false, `{"qty":1,"q\u0074y":2}`, 400, "duplicate_key", "qty", 10, `"qty"`},
		{"invalid UTF-8", false, "{\"order_no\":\"\xff\"}", 400, "malformed_json", "", -1, "invalid UTF-8"},
		{"empty", false, " \n", 400, "malformed_json", "", 0, "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var d doc
			var p = Decode([]byte(tc.body), &d)
			if tc.strict {
				p = Decode([]byte(tc.body), &d, strict)
			}
			if p == nil {
				t.Fatal("decoded without a problem")
			}
			if p.Status != tc.status || p.Code != tc.code || p.Field != tc.field {
				t.Fatalf("problem %d %s field %q, want %d %s %q (%v)", p.Status, p.Code, p.Field, tc.status, tc.code, tc.field, p)
			}
			switch {
			case tc.offset > 0 && p.Offset != tc.offset:
				t.Errorf("offset %d, want %d", p.Offset, tc.offset)
			case tc.offset == -1 && (p.Offset <= 0 || p.Offset > int64(len(tc.body))):
				t.Errorf("offset %d, want within the body", p.Offset)
			}
			if !strings.Contains(p.Title, tc.title) {
				t.Fatalf("title %q does not say %q", p.Title, tc.title)
			}
			if p.Detail == "" {
				t.Fatal("no detail")
			}
		})
	}
	// A problem passed through is kept as it is.
	e := ErrEmptyBody()
	if p := JSONProblem(nil, e); p != e {
		t.Fatalf("problem not passed through: %v", p)
	}
	if p := JSONProblem(nil, errors.New("boom")); p.Status != 400 || p.Code != "malformed_json" {
		t.Fatalf("other error: %v", p)
	}
}

func TestCheckShape(t *testing.T) {
	known := func(n string) bool { return n == "order_no" }
	for _, tc := range []struct {
		body, title string // title "": no problem
	}{
		{`{"order_no":"1"}`, ""},
		{`{"x":1,"order_no":"1"}`, ""},
		{`{}`, "an object with none of the order's fields"},
		{`{"data":{"order_no":"1"}}`, `none of the order's fields (it has "data")`},
		{`{"Order_No":"1"}`, `(it has "Order_No")`},
		{`[{"order_no":"1"}]`, "this one is an array"},
		{`{"data":`, ""}, // broken: the decoder explains it
	} {
		p := CheckShape([]byte(tc.body), known)
		switch {
		case tc.title == "" && p != nil:
			t.Errorf("%s: %v, want no problem", tc.body, p)
		case tc.title != "" && (p == nil || p.Code != "not_an_object" || !strings.Contains(p.Title, tc.title)):
			t.Errorf("%s: %v, want not_an_object saying %q", tc.body, p, tc.title)
		}
	}
}

func TestSenderText(t *testing.T) {
	for _, tc := range []struct{ in, log, quote string }{
		{"SO-1", "SO-1", `"SO-1"`},
		{"a\x00b", `a\x00b`, `"a\x00b"`},
		{"abc\u202edef", `abc\u202edef`, `"abc\u202edef"`},
		{strings.Repeat("x", 300), strings.Repeat("x", 256) + "…(44 more bytes)", `"` + strings.Repeat("x", 64) + `…(236 more bytes)"`},
		{strings.Repeat("号", 100), strings.Repeat("号", 85) + "…(45 more bytes)", `"` + strings.Repeat("号", 21) + `…(237 more bytes)"`},
	} {
		if got := ForLog(tc.in); got != tc.log {
			t.Errorf("ForLog(%q) = %q, want %q", tc.in, got, tc.log)
		}
		if got := Quote(tc.in); got != tc.quote {
			t.Errorf("Quote(%q) = %q, want %q", tc.in, got, tc.quote)
		}
	}
}
