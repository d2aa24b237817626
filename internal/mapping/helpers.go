package mapping

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr"
)

// The helper functions an expression can call. Each checks its arguments at
// run time and fails with a message that names the value it was given; the
// argument and result types are declared so expr's checker catches a wrong
// call at load time.
//
//	dec(v) Decimal              exact number from "179.0000", 3, …; + - * / and comparisons stay exact
//	round(v, places) Decimal    rounded half away from zero
//	money(v) string             "179.00": two decimals
//	fixed(v, places) string     exactly places decimals
//	qty(v) string               as many decimals as needed: "1", "1.5"
//	num(v) / num(v, places)     the same as a JSON number (never a float)
//	date(v, layout) string      a time in the flow's zone, formatted with a Go layout ("2006-01-02")
//	lookup(table, key)          the table's entry for key; an error when there is none
//	lookup(table, key, default) the entry, or default when there is none
//	has(table, key) bool        whether the table has an entry for key

// wdtZeroTime is how 旺店通 writes a time that was never set.
const wdtZeroTime = "0000-00-00 00:00:00"

// helperFuncs returns the expr options that declare the helpers of m.
func (m *Mapping) helperFuncs() []expr.Option {
	m.funcs = map[string]func(...any) (any, error){}
	function := func(name string, fn func(...any) (any, error), types ...any) expr.Option {
		m.funcs[name] = fn
		return expr.Function(name, fn, types...)
	}
	dec := func(args ...any) (any, error) {
		return boxDecimal(toDecimal(args[0]))
	}
	places := func(v any) (int, error) {
		n, ok := v.(int)
		if !ok || n < 0 || n > 18 {
			return 0, fmt.Errorf("places must be a whole number from 0 to 18, got %v", v)
		}
		return n, nil
	}
	opts := []expr.Option{
		function("dec", dec, new(func(any) Decimal)),
		function("round", func(args ...any) (any, error) {
			d, err := toDecimal(args[0])
			if err != nil {
				return nil, err
			}
			p, err := places(args[1])
			if err != nil {
				return nil, err
			}
			return boxDecimal(d.Round(p))
		}, new(func(any, int) Decimal)),
		function("money", func(args ...any) (any, error) {
			d, err := toDecimal(args[0])
			if err != nil {
				return nil, err
			}
			return d.Fixed(2)
		}, new(func(any) string)),
		function("fixed", func(args ...any) (any, error) {
			d, err := toDecimal(args[0])
			if err != nil {
				return nil, err
			}
			p, err := places(args[1])
			if err != nil {
				return nil, err
			}
			return d.Fixed(p)
		}, new(func(any, int) string)),
		function("qty", func(args ...any) (any, error) {
			d, err := toDecimal(args[0])
			if err != nil {
				return nil, err
			}
			return d.Exact()
		}, new(func(any) string)),
		function("num", func(args ...any) (any, error) {
			d, err := toDecimal(args[0])
			if err != nil {
				return nil, err
			}
			var s string
			if len(args) == 2 {
				p, perr := places(args[1])
				if perr != nil {
					return nil, perr
				}
				s, err = d.Fixed(p)
			} else {
				s, err = d.Exact()
			}
			return json.Number(s), err
		}, new(func(any) json.Number), new(func(any, int) json.Number)),
		function("date", func(args ...any) (any, error) {
			layout, _ := args[1].(string)
			return formatDate(args[0], layout, m.loc)
		}, new(func(any, string) string)),
		function("lookup", func(args ...any) (any, error) {
			return m.lookup(args...)
		}, new(func(string, any) string), new(func(string, any, any) string)),
		function("has", func(args ...any) (any, error) {
			name, _ := args[0].(string)
			t, ok := m.tables[name]
			if !ok {
				return nil, fmt.Errorf("there is no lookup table %q", name)
			}
			k, ok := keyString(args[1])
			if !ok {
				return false, nil
			}
			_, found := t[k]
			return found, nil
		}, new(func(string, any) bool)),
		// now() would make a retried bill differ from the first attempt.
		expr.DisableBuiltin("now"),
	}
	return append(opts, decimalOperators(function)...)
}

// lookup implements lookup(table, key[, default]).
func (m *Mapping) lookup(args ...any) (any, error) {
	name, _ := args[0].(string)
	if _, ok := m.tables[name]; !ok {
		return nil, fmt.Errorf("there is no lookup table %q", name)
	}
	k, hasKey := keyString(args[1])
	if hasKey {
		if v, found := m.boxed[name][k]; found {
			return v, nil
		}
	}
	if len(args) == 3 {
		if _, isText := args[2].(string); isText {
			return args[2], nil // the default as given, without boxing it again
		}
		d, ok := keyString(args[2])
		if !ok {
			if !hasKey {
				return nil, fmt.Errorf("the key and the default are both missing, so table %q cannot be looked up", name)
			}
			return nil, fmt.Errorf("table %q has no entry for %q and the default has no value", name, k)
		}
		return d, nil
	}
	if !hasKey {
		return nil, fmt.Errorf("the key for table %q has no value (the field is missing or null)", name)
	}
	return nil, &lookupMiss{table: name, key: k}
}

// lookupMiss is a key a table has no entry for, with no default given.
type lookupMiss struct{ table, key string }

func (e *lookupMiss) Error() string {
	return fmt.Sprintf("table %q has no entry for %q; add one (key %s) or give a default: lookup(%q, key, default)",
		e.table, e.key, e.key, e.table)
}

// formatDate implements date(v, layout).
func formatDate(v any, layout string, loc *time.Location) (string, error) {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case string:
		var err error
		if t, err = parseTime(x, loc); err != nil {
			return "", err
		}
	case nil:
		return "", errors.New("no value (the field is missing or null)")
	default:
		return "", fmt.Errorf("a %s is not a time; give text such as 2024-11-11 09:12:03", typeName(v))
	}
	return t.In(loc).Format(layout), nil
}

// parseTime reads the time forms sources send: 旺店通's "yyyy-MM-dd
// HH:mm:ss" and "yyyy-MM-dd" in the flow's zone, and RFC 3339 (the hub's
// canonical order) in its own zone.
func parseTime(s string, loc *time.Location) (time.Time, error) {
	if s == wdtZeroTime || strings.HasPrefix(s, "0000-00-00") {
		return time.Time{}, fmt.Errorf("%q is the source's way of saying the time was never set", s)
	}
	var layout string
	switch {
	case len(s) == 19 && s[10] == ' ':
		layout = time.DateTime
	case len(s) == 10:
		layout = time.DateOnly
	case len(s) == 16 && s[10] == ' ':
		layout = "2006-01-02 15:04"
	case len(s) > 19 && s[10] == 'T':
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q is not a time: %v", s, err)
		}
		return t, nil
	case len(s) > 19 && s[10] == ' ':
		layout = "2006-01-02 15:04:05.999999999"
	default:
		return time.Time{}, fmt.Errorf("%q is not a time in a known form (yyyy-MM-dd HH:mm:ss, yyyy-MM-dd or RFC 3339)", s)
	}
	t, err := time.ParseInLocation(layout, s, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a valid time", s)
	}
	return t, nil
}

// layoutProblem reports a date layout that prints no part of the time: the
// mark of a Java pattern such as yyyy-MM-dd written where Go's reference
// layout belongs.
func layoutProblem(layout string) string {
	for _, java := range []string{"yyyy", "MM", "dd", "HH", "mm", "ss"} {
		if strings.Contains(layout, java) {
			return "the layout " + strconv.Quote(layout) + " looks like a Java pattern"
		}
	}
	ref := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	if ref.Format(layout) == layout {
		return "the layout " + strconv.Quote(layout) + " contains no date or time element"
	}
	return ""
}

// decimalOperators makes + - * / and the comparisons exact when a Decimal
// is on either side (dec(a) / dec(b), dec(x) > 0).
func decimalOperators(function func(string, func(...any) (any, error), ...any) expr.Option) []expr.Option {
	type pair struct{ l, r any }
	d := Decimal{}
	pairs := []pair{{d, d}, {d, 0}, {0, d}, {d, 0.0}, {0.0, d}}
	var opts []expr.Option
	arith := map[string]func(a, b Decimal) (Decimal, error){
		"+": Decimal.Add, "-": Decimal.Sub, "*": Decimal.Mul, "/": Decimal.Div,
	}
	names := map[string]string{"+": "add", "-": "sub", "*": "mul", "/": "div",
		"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
	cmp := map[string]func(c int) bool{
		"==": func(c int) bool { return c == 0 }, "!=": func(c int) bool { return c != 0 },
		"<": func(c int) bool { return c < 0 }, "<=": func(c int) bool { return c <= 0 },
		">": func(c int) bool { return c > 0 }, ">=": func(c int) bool { return c >= 0 },
	}
	both := func(args []any) (Decimal, Decimal, error) {
		a, err := toDecimal(args[0])
		if err != nil {
			return a, a, err
		}
		b, err := toDecimal(args[1])
		return a, b, err
	}
	for op, f := range arith {
		name := "_dec_" + names[op]
		types := make([]any, 0, len(pairs))
		for _, p := range pairs {
			types = append(types, funcType(p.l, p.r, Decimal{}))
		}
		opts = append(opts, function(name, func(args ...any) (any, error) {
			a, b, err := both(args)
			if err != nil {
				return nil, err
			}
			return boxDecimal(f(a, b))
		}, types...), expr.Operator(op, name))
	}
	for op, f := range cmp {
		name := "_dec_" + names[op]
		types := make([]any, 0, len(pairs))
		for _, p := range pairs {
			types = append(types, funcType(p.l, p.r, false))
		}
		opts = append(opts, function(name, func(args ...any) (any, error) {
			a, b, err := both(args)
			if err != nil {
				return nil, err
			}
			return f(a.Cmp(b)), nil
		}, types...), expr.Operator(op, name))
	}
	return opts
}

// funcType is a nil function value of type func(l, r) out, which is how
// expr.Function learns an overload's signature.
func funcType(l, r, out any) any {
	switch out.(type) {
	case Decimal:
		switch l.(type) {
		case Decimal:
			switch r.(type) {
			case Decimal:
				return new(func(Decimal, Decimal) Decimal)
			case int:
				return new(func(Decimal, int) Decimal)
			default:
				return new(func(Decimal, float64) Decimal)
			}
		case int:
			return new(func(int, Decimal) Decimal)
		default:
			return new(func(float64, Decimal) Decimal)
		}
	default:
		switch l.(type) {
		case Decimal:
			switch r.(type) {
			case Decimal:
				return new(func(Decimal, Decimal) bool)
			case int:
				return new(func(Decimal, int) bool)
			default:
				return new(func(Decimal, float64) bool)
			}
		case int:
			return new(func(int, Decimal) bool)
		default:
			return new(func(float64, Decimal) bool)
		}
	}
}

// smallDecimals holds the whole numbers -128…1023 as Decimal interface
// values, and zeroDecimal the zero value: quantities, flags and most
// comparisons' operands are among them, and returning a Decimal from a
// helper boxes it, an allocation each time. Decimals are values, so one box
// serves every use.
var (
	smallDecimals = func() (t [1152]any) {
		for i := range t {
			t[i] = Decimal{num: int64(i - 128), den: 1}
		}
		return t
	}()
	zeroDecimal any = Decimal{}
)

// boxDecimal is d as an interface value, the same value a plain conversion
// gives, shared for the small whole numbers.
func boxDecimal(d Decimal, err error) (any, error) {
	if err == nil {
		switch {
		case d.den == 1 && d.num >= -128 && d.num < 1024:
			return smallDecimals[d.num+128], nil
		case d.den == 0 && d.num == 0:
			return zeroDecimal, nil
		}
	}
	return d, err
}

// plainString formats the scalar kinds a document or an expression yields.
func plainString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case json.Number:
		return string(x), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// typeName names v's kind in words a mapping author knows.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "missing value"
	case string:
		return "text"
	case int, int64, int32, uint, json.Number:
		return "number"
	case float64, float32:
		return "float"
	case bool:
		return "boolean"
	case Decimal:
		return "decimal"
	case map[string]any:
		return "object"
	case []any:
		return "list"
	}
	return fmt.Sprintf("%T", v)
}
