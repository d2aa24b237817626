package connector

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

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

func TestJSONProblem(t *testing.T) {
	strict := func(body string) error {
		dec := json.NewDecoder(strings.NewReader(body))
		dec.DisallowUnknownFields()
		var d doc
		return dec.Decode(&d)
	}
	loose := func(body string) error {
		var d doc
		return json.Unmarshal([]byte(body), &d)
	}
	for _, tc := range []struct {
		name   string
		decode func(string) error
		body   string
		status int
		code   string
		field  string
		offset int64
		title  string
	}{
		{"syntax error on line 2", loose, "{\n  \"qty\": 1 \"x\"}", 400, "malformed_json", "", 14, "at byte 14 (line 2, column 12)"},
		{"syntax error first byte", loose, "x", 400, "malformed_json", "", 1, "at byte 1 (line 1, column 1)"},
		{"cut off (Unmarshal)", loose, `{"qty": 1`, 400, "malformed_json", "", 9, "at byte 9 (line 1, column 10): unexpected end of JSON input"},
		{"cut off (Decoder)", strict, `{"qty": 1`, 400, "malformed_json", "", 9, "ends early at byte 9"},
		{"array", loose, `[1]`, 400, "malformed_json", "", 1, "a JSON array, not an object"},
		{"number", strict, `12`, 400, "malformed_json", "", 2, "not an object"},
		{"wrong type", loose, `{"qty":"1"}`, 422, "invalid_field", "qty", 10, "field qty has a JSON string where a whole number is expected"},
		{"nested wrong type", loose, `{"lines":[{"num":true}]}`, 422, "invalid_field", "lines.num", 21, "field lines.num has a JSON bool"},
		{"bad money", loose, `{"total":"1.234"}`, 422, "invalid_field", "total", 0, `a decimal amount with at most 2 decimals`},
		{"unknown field", strict, `{"colour":"red"}`, 422, "unknown_field", "colour", 0, `unknown field "colour"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.decode(tc.body)
			if err == nil {
				t.Fatal("decoded without error")
			}
			p := JSONProblem([]byte(tc.body), err)
			if p.Status != tc.status || p.Code != tc.code || p.Field != tc.field || p.Offset != tc.offset {
				t.Fatalf("problem %d %s field %q offset %d, want %d %s %q %d (%v)", p.Status, p.Code, p.Field, p.Offset, tc.status, tc.code, tc.field, tc.offset, p)
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
	if !bytes.Contains([]byte(ErrEmptyBody().Title), []byte("empty")) {
		t.Fatal("ErrEmptyBody title")
	}
}
