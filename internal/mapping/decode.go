package mapping

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/tidwall/gjson"
)

// need is the part of a source document a mapping reads, found from its
// expressions at load time. Decoding only that part is what keeps a trade
// with a hundred fields per line cheap to map: every other value is scanned
// past, not built.
type need struct {
	all    bool             // the whole value is read
	fields map[string]*need // members read, for objects
	elems  *need            // what is read of each element, for lists ($each)
}

func (n *need) field(name string) *need {
	if n.fields == nil {
		n.fields = map[string]*need{}
	}
	c := n.fields[name]
	if c == nil {
		c = &need{}
		n.fields[name] = c
	}
	return c
}

// at walks to the need for path, making it as it goes.
func (n *need) at(path []string) *need {
	for _, p := range path {
		n = n.field(p)
	}
	return n
}

// decodeDoc decodes a JSON object into plain values: objects as
// map[string]any, lists as []any, text as string, whole numbers as int,
// other numbers as Decimal (never float64), true/false, null as nil. Only
// what n asks for is decoded; n == nil or n.all decodes everything.
func decodeDoc(raw []byte, n *need) (map[string]any, error) {
	if !gjson.ValidBytes(raw) {
		return nil, syntaxError(raw)
	}
	r := gjson.ParseBytes(raw)
	if !r.IsObject() {
		return nil, errors.New("is not a JSON object")
	}
	if n == nil {
		n = &need{all: true}
	}
	return decodeObject(r, n), nil
}

// syntaxError lets encoding/json describe the first syntax error, with its
// byte offset; only invalid documents take this path.
func syntaxError(raw []byte) error {
	var v any
	err := json.Unmarshal(raw, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("is not valid JSON: %v (at byte %d)", se, se.Offset)
	}
	if err != nil {
		return fmt.Errorf("is not valid JSON: %v", err)
	}
	return errors.New("is not valid JSON")
}

func decodeObject(r gjson.Result, n *need) map[string]any {
	size := len(n.fields)
	if n.all {
		size = 8
	}
	m := make(map[string]any, size)
	r.ForEach(func(k, v gjson.Result) bool {
		if n.all {
			m[k.Str] = decodeAll(v)
			return true
		}
		if c := n.fields[k.Str]; c != nil {
			m[k.Str] = decodeNeed(v, c)
		}
		return true
	})
	return m
}

func decodeNeed(v gjson.Result, n *need) any {
	switch {
	case n.all:
		return decodeAll(v)
	case v.IsObject() && n.fields != nil:
		return decodeObject(v, n)
	case v.IsArray() && n.elems != nil:
		out := make([]any, 0, 4)
		v.ForEach(func(_, e gjson.Result) bool {
			out = append(out, decodeNeed(e, n.elems))
			return true
		})
		return out
	}
	// A value of another shape than the expressions expect is decoded
	// whole, so they see (and report) what is really there.
	return decodeAll(v)
}

func decodeAll(v gjson.Result) any {
	switch v.Type {
	case gjson.Null:
		return nil
	case gjson.False:
		return false
	case gjson.True:
		return true
	case gjson.String:
		return v.Str
	case gjson.Number:
		return decodeNumber(v.Raw)
	}
	if v.IsArray() {
		out := make([]any, 0, 4)
		v.ForEach(func(_, e gjson.Result) bool {
			out = append(out, decodeAll(e))
			return true
		})
		return out
	}
	if v.IsObject() {
		m := make(map[string]any, 8)
		v.ForEach(func(k, e gjson.Result) bool {
			m[k.Str] = decodeAll(e)
			return true
		})
		return m
	}
	return nil
}

// decodeNumber keeps a JSON number exact: an int when it is whole and fits,
// a Decimal when it has a fraction, and its text (json.Number) when it has
// an exponent or too many digits for either.
func decodeNumber(raw string) any {
	whole := true
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c == '.' || c == 'e' || c == 'E' {
			whole = false
			break
		}
	}
	if whole {
		if i, err := strconv.ParseInt(raw, 10, 64); err == nil && int64(int(i)) == i {
			return int(i)
		}
	}
	if d, err := ParseDecimal(raw); err == nil {
		return d
	}
	return json.Number(raw)
}
