package connector

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	jsonv1 "encoding/json"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"orderhub/internal/order"
	"orderhub/internal/problem"
)

// Decode reads body, one JSON object, into v strictly, in one pass:
// member names match exactly (encoding/json v1 would read "App_sign" as
// app_sign), a name repeated within an object is refused wherever it is
// (two readers taking different copies is how a signature check is
// bypassed), and nothing may follow the object. opts add to that, e.g.
// json.RejectUnknownMembers(true). Every failure is a problem naming where.
func Decode(body []byte, v any, opts ...json.Options) *problem.Problem {
	if p := checkObject(body); p != nil {
		return p
	}
	if err := json.Unmarshal(body, v, opts...); err != nil {
		var sem *json.SemanticError
		if errors.As(err, &sem) {
			// Decoding stops at the first value that does not fit; a body
			// that is not JSON at all should be told that first.
			if serr := json.Unmarshal(body, new(jsontext.Value)); serr != nil {
				err = serr
			}
		}
		return JSONProblem(body, err)
	}
	return nil
}

// checkObject refuses a body that is empty or whose value is not an object,
// before anything else is said about it: null, [ ], "…" and 42 are the same
// mistake and get the same answer whatever the source.
func checkObject(body []byte) *problem.Problem {
	i := 0
	for i < len(body) && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n') {
		i++
	}
	if i == len(body) {
		return ErrEmptyBody()
	}
	var what string
	switch body[i] {
	case '{':
		return nil
	case 'n':
		what = "null"
	case '[':
		what = "an array"
	case '"':
		what = "a string"
	case 't', 'f':
		what = "true or false"
	default:
		what = "a number"
	}
	if !jsontext.Value(body).IsValid() {
		return nil // not JSON at all: the decoder says where it breaks
	}
	return NotAnObject(what, int64(i)+1)
}

// NotAnObject is the answer to a body that holds something other than the
// order object; what says what it holds instead.
func NotAnObject(what string, offset int64) *problem.Problem {
	p := problem.New(http.StatusBadRequest, "not_an_object", "the body must be a JSON object: this one is "+what,
		`send the order itself as one JSON object, {"order_no": …}, not wrapped in another value`)
	p.Offset = offset
	return p
}

// CheckShape reports a body that is a JSON object holding none of the
// order's top-level names (known), such as {} or an order wrapped in an
// envelope ({"data": {…}}): the same mistake as sending null. It walks only
// the top level, and is meant for the paths that are refusing the body
// anyway, to give the right reason.
func CheckShape(body []byte, known func(name string) bool) *problem.Problem {
	if p := checkObject(body); p != nil {
		return p
	}
	dec := jsontext.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return nil
	}
	var names []string
	for dec.PeekKind() == '"' {
		tok, err := dec.ReadToken()
		if err != nil {
			return nil
		}
		if known(tok.String()) {
			return nil
		}
		if len(names) < 5 {
			names = append(names, Quote(tok.String()))
		}
		if err := dec.SkipValue(); err != nil {
			return nil
		}
	}
	if _, err := dec.ReadToken(); err != nil {
		return nil // broken JSON: the decoder's answer is better
	}
	what := "an object with none of the order's fields"
	if len(names) > 0 {
		what += " (it has " + strings.Join(names, ", ") + ")"
	}
	return NotAnObject(what, 1)
}

// JSONProblem turns a decoding error on body into a problem a sender can act
// on: 400 with the byte offset (and line:column) for a syntax error or a
// repeated name, 422 with the field's path for a value of the wrong type or
// an unknown field.
func JSONProblem(body []byte, err error) *problem.Problem {
	var syn *jsontext.SyntacticError
	var sem *json.SemanticError
	var pr *problem.Problem
	switch {
	case errors.As(err, &pr):
		return pr
	case errors.Is(err, io.ErrUnexpectedEOF):
		p := problem.New(http.StatusBadRequest, "malformed_json",
			fmt.Sprintf("the body is not valid JSON: it ends early at byte %d, the JSON is cut off", len(body)),
			"send the whole JSON object")
		p.Offset = int64(len(body))
		return p
	case errors.As(err, &syn) && errors.Is(syn.Err, jsontext.ErrDuplicateName):
		name := syn.JSONPointer.LastToken()
		line, col := lineCol(body, syn.ByteOffset)
		p := problem.New(http.StatusBadRequest, "duplicate_key",
			fmt.Sprintf("the key %s appears twice in the same object, again at byte %d (line %d, column %d)", Quote(name), syn.ByteOffset+1, line, col),
			"send each key once: a repeated key is read differently by different parsers")
		p.Field, p.Offset = Path(syn.JSONPointer), syn.ByteOffset+1
		return p
	case errors.As(err, &syn):
		// Offsets count bytes from 1, pointing at the offending byte.
		at := min(syn.ByteOffset, int64(len(body)))
		line, col := lineCol(body, at)
		p := problem.New(http.StatusBadRequest, "malformed_json",
			fmt.Sprintf("the body is not valid JSON at byte %d (line %d, column %d): %s", at+1, line, col, Clip(fmt.Sprint(syn.Err), 200)),
			"send one JSON object encoded in UTF-8")
		p.Offset = min(at+1, int64(len(body)))
		return p
	case errors.As(err, &sem) && errors.Is(sem.Err, json.ErrUnknownName):
		name := sem.JSONPointer.LastToken()
		p := problem.New(http.StatusUnprocessableEntity, "unknown_field",
			fmt.Sprintf("unknown field %s", Quote(name)), "remove it, or check its spelling against the documented fields (names are matched exactly, case included)")
		p.Field, p.Offset = Path(sem.JSONPointer), sem.ByteOffset+1
		return p
	case errors.As(err, &sem):
		field := Path(sem.JSONPointer)
		if field == "" {
			field = "(document)"
		}
		want := "another type"
		if sem.GoType != nil {
			want = goTypeWords(sem.GoType)
		}
		p := problem.New(http.StatusUnprocessableEntity, "invalid_field",
			fmt.Sprintf("field %s has %s where %s is expected", field, kindWords(sem), want),
			"fix the value at that field")
		p.Field, p.Offset = Path(sem.JSONPointer), sem.ByteOffset+1
		return p
	default:
		return problem.New(http.StatusBadRequest, "malformed_json", "the body could not be read as JSON: "+err.Error(), "send one JSON object")
	}
}

// Path writes a JSON pointer as the field paths problems use: /detail/0/num
// is detail[0].num.
func Path(ptr jsontext.Pointer) string {
	var b strings.Builder
	for tok := range ptr.Tokens() {
		if _, err := strconv.ParseUint(tok, 10, 32); err == nil && b.Len() > 0 {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(Clip(tok, 64))
	}
	return b.String()
}

// ErrEmptyBody is returned for a push with no body.
func ErrEmptyBody() *problem.Problem {
	return problem.New(http.StatusBadRequest, "malformed_json", "the body is empty", "send the order as a JSON object")
}

func kindWords(sem *json.SemanticError) string {
	var v1 *jsonv1.UnmarshalTypeError
	if errors.As(sem.Err, &v1) && v1.Value != "" {
		return "a JSON " + Clip(v1.Value, 80) // e.g. Money: `amount "1.005"`
	}
	switch sem.JSONKind {
	case '"':
		return "a JSON string"
	case '0':
		return "a JSON number"
	case '{':
		return "a JSON object"
	case '[':
		return "a JSON array"
	case 't', 'f':
		return "a JSON boolean"
	case 'n':
		return "JSON null"
	default:
		if sem.Err != nil {
			return "a value that does not fit (" + sem.Err.Error() + ")"
		}
		return "a value"
	}
}

func goTypeWords(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[order.Money]():
		return `a decimal amount with at most 2 decimals, like "3.00"`
	case reflect.TypeFor[time.Time]():
		return "an RFC 3339 time like 2026-11-25T10:00:00+08:00"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint, reflect.Uint64:
		return "a whole number"
	case reflect.Float64, reflect.Float32:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Pointer:
		return goTypeWords(t.Elem())
	default:
		return "another type"
	}
}

// lineCol converts a 0-based byte offset into a 1-based line and column.
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
