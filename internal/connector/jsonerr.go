package connector

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"time"

	"orderhub/internal/order"
	"strings"

	"orderhub/internal/problem"
)

// JSONProblem turns an encoding/json error on body into a problem a sender can
// act on: 400 with the byte offset (and line:column) for a syntax error, 422
// with the JSON path for a value of the wrong type or an unknown field.
func JSONProblem(body []byte, err error) *problem.Problem {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		// Offset counts the offending byte: point the column at it (or just
		// past the end when the body is cut off).
		at := syn.Offset
		if at > 0 && syn.Error() != "unexpected end of JSON input" {
			at--
		}
		line, col := lineCol(body, at)
		p := problem.New(http.StatusBadRequest, "malformed_json",
			fmt.Sprintf("the body is not valid JSON at byte %d (line %d, column %d): %s", syn.Offset, line, col, syn.Error()),
			"send one JSON object encoded in UTF-8")
		p.Offset = syn.Offset
		return p
	case errors.As(err, &typ) && typ.Field == "" && typ.Struct == "":
		// The body is valid JSON but not an object at all ([…], "…", 42).
		p := problem.New(http.StatusBadRequest, "malformed_json",
			fmt.Sprintf("the body is a JSON %s, not an object", typ.Value),
			"send one JSON object")
		p.Offset = max(typ.Offset, 1)
		return p
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(document)"
		}
		want := goTypeWords(typ.Type.Kind().String())
		if typ.Type == reflect.TypeFor[order.Money]() {
			want = `a decimal amount with at most 2 decimals, like "3.00"`
		} else if typ.Type == reflect.TypeFor[time.Time]() {
			want = "an RFC 3339 time like 2026-11-25T10:00:00+08:00"
		}
		p := problem.New(http.StatusUnprocessableEntity, "invalid_field",
			fmt.Sprintf("field %s has a JSON %s where %s is expected", field, typ.Value, want),
			"fix the value at that field")
		p.Field, p.Offset = typ.Field, typ.Offset
		return p
	case errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "unexpected end of JSON input"):
		// json.Decoder reports a cut-off body as io.ErrUnexpectedEOF, not as a
		// syntax error with an offset.
		p := problem.New(http.StatusBadRequest, "malformed_json",
			fmt.Sprintf("the body ends early at byte %d: the JSON is cut off", len(body)),
			"send the whole JSON object")
		p.Offset = int64(len(body))
		return p
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		p := problem.New(http.StatusUnprocessableEntity, "unknown_field",
			fmt.Sprintf("unknown field %q", name), "remove it, or check its spelling against the documented fields")
		p.Field = name
		return p
	default:
		var pr *problem.Problem
		if errors.As(err, &pr) {
			return pr
		}
		return problem.New(http.StatusBadRequest, "malformed_json", "the body could not be read as JSON: "+err.Error(), "send one JSON object")
	}
}

// ErrEmptyBody is returned for a push with no body.
func ErrEmptyBody() *problem.Problem {
	return problem.New(http.StatusBadRequest, "malformed_json", "the body is empty", "send the order as a JSON object")
}

func goTypeWords(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "int", "int64", "int32", "uint", "uint64":
		return "a whole number"
	case "float64", "float32":
		return "a number"
	case "bool":
		return "true or false"
	case "slice":
		return "an array"
	case "struct", "map":
		return "an object"
	default:
		return "another type"
	}
}

// lineCol converts a byte offset into a 1-based line and column.
func lineCol(b []byte, off int64) (line, col int) {
	if off > int64(len(b)) {
		off = int64(len(b))
	}
	line, col = 1, 1
	for _, c := range b[:off] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}
