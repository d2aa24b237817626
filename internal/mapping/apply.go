package mapping

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/file"
)

// Apply maps one source document (its raw JSON, as pulled) into a target
// request. ord is the hub's canonical order as a map (see OrderMap); it may
// be nil when UsesOrder is false. When the mapping's condition is false the
// result is Skipped. On failure the error is an *ApplyError listing every
// field that failed, or a *DocumentError when raw is not a JSON object.
func (m *Mapping) Apply(raw []byte, ord map[string]any) (Result, error) {
	doc, err := decodeDoc(raw, m.need)
	if err != nil {
		return Result{}, &DocumentError{Mapping: m.name, Msg: err.Error()}
	}
	return m.ApplyDoc(doc, ord)
}

// ApplyDoc is Apply for a document already decoded into maps and lists.
// Numbers in it should be int, json.Number, Decimal or decimal strings; a
// float64 (from a plain json.Unmarshal) is read by its shortest decimal
// form.
func (m *Mapping) ApplyDoc(doc, ord map[string]any) (Result, error) {
	st := m.states.Get().(*state)
	defer m.release(st)
	st.reset(doc, ord, m.vars)

	if m.when != nil {
		ok, failed := st.cond(m.when, "when")
		if failed {
			return Result{}, st.applyError(m, "")
		}
		if !ok {
			return Result{Skipped: true}, nil
		}
	}
	billNo, ok := st.billNo(m.billNo)
	if !ok {
		return Result{}, st.applyError(m, "")
	}
	st.env["bill_no"] = billNo
	st.roots[rootBillNo] = billNo
	body := st.object(m.body)
	if len(st.errs) > 0 {
		return Result{}, st.applyError(m, billNo)
	}
	return Result{BillNo: billNo, Body: body}, nil
}

// When evaluates only the mapping's condition for a document: true when
// there is none.
func (m *Mapping) When(raw []byte, ord map[string]any) (bool, error) {
	if m.when == nil {
		return true, nil
	}
	doc, err := decodeDoc(raw, m.need)
	if err != nil {
		return false, &DocumentError{Mapping: m.name, Msg: err.Error()}
	}
	st := m.states.Get().(*state)
	defer m.release(st)
	st.reset(doc, ord, m.vars)
	ok, failed := st.cond(m.when, "when")
	if failed {
		return false, st.applyError(m, "")
	}
	return ok, nil
}

func (m *Mapping) release(st *state) {
	clear(st.env)
	clear(st.roots[:])
	st.errs = nil
	st.path = st.path[:0]
	m.states.Put(st)
}

func (st *state) reset(doc, ord, vars map[string]any) {
	st.env["doc"] = doc
	st.env["order"] = ord
	st.env["vars"] = vars
	st.env["bill_no"] = ""
	st.env["line"] = nil
	st.roots = [numRoots]any{rootDoc: doc, rootOrder: ord, rootVars: vars, rootBillNo: ""}
}

func (st *state) applyError(m *Mapping, billNo string) error {
	errs := st.errs
	st.errs = nil
	return &ApplyError{Mapping: m.name, BillNo: billNo, Fields: errs}
}

// run evaluates p; a failure is recorded against the current path.
func (st *state) run(p *program, suffix string) (any, bool) {
	out, err := st.exec(p)
	if err != nil {
		st.fail(p, suffix, runMessage(err))
		return nil, false
	}
	return out, true
}

func (st *state) cond(p *program, suffix string) (ok, failed bool) {
	out, good := st.run(p, suffix)
	if !good {
		return false, true
	}
	b, isBool := out.(bool)
	if !isBool {
		st.fail(p, suffix, "the condition is a "+typeName(out)+", not true or false")
		return false, true
	}
	return b, false
}

func (st *state) billNo(p *program) (string, bool) {
	out, ok := st.run(p, "bill_no")
	if !ok {
		return "", false
	}
	s, isText := plainString(out)
	if _, isBool := out.(bool); !isText || isBool {
		st.fail(p, "bill_no", "the bill number is a "+typeName(out)+"; it must be text")
		return "", false
	}
	if strings.TrimSpace(s) == "" {
		st.fail(p, "bill_no", "the bill number is empty")
		return "", false
	}
	return s, true
}

// runMessage is the message of a failed run without expr's source snippet
// (the FieldError carries the expression).
func runMessage(err error) string {
	var fe *file.Error
	if errors.As(err, &fe) {
		if fe.Prev != nil {
			return fe.Prev.Error()
		}
		return fe.Message
	}
	return err.Error()
}

func (st *state) fail(p *program, suffix, msg string) {
	fe := &FieldError{Field: st.pathString(suffix), Expr: p.src.text, Pos: p.src.pos, Msg: msg}
	for _, ch := range p.reads {
		fe.Values = append(fe.Values, ch.text+" = "+describeValue(st.resolve(ch)))
	}
	st.errs = append(st.errs, fe)
}

// resolve is the current value of a chain, nil when any step is missing.
func (st *state) resolve(ch chain) any {
	v := st.env[ch.root]
	for _, k := range ch.path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// describeValue shows a document value in an error.
func describeValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "(missing)"
	case string:
		return strconv.Quote(x)
	case map[string]any:
		return "an object with " + strconv.Itoa(len(x)) + " keys"
	case []any:
		return "a list of " + strconv.Itoa(len(x))
	case Decimal:
		return x.String()
	}
	if s, ok := plainString(v); ok {
		return s
	}
	return fmt.Sprintf("%v", v)
}

func (st *state) pathString(suffix string) string {
	var b strings.Builder
	for i, s := range st.path {
		if s.idx >= 0 {
			b.WriteString("[")
			b.WriteString(strconv.Itoa(s.idx))
			b.WriteString("]")
			continue
		}
		if i > 0 {
			b.WriteString(".")
		}
		b.WriteString(s.key)
	}
	if suffix != "" {
		if b.Len() > 0 {
			b.WriteString(".")
		}
		b.WriteString(suffix)
	}
	return b.String()
}

func (st *state) push(key string, idx int) { st.path = append(st.path, pathSeg{key: key, idx: idx}) }
func (st *state) pop()                     { st.path = st.path[:len(st.path)-1] }

// object builds a nested object from its fields.
func (st *state) object(f *cfield) map[string]any {
	if f.fused != nil {
		if out, ok := st.fusedObject(f); ok {
			return out
		}
	}
	out := make(map[string]any, len(f.fields))
	for _, sub := range f.fields {
		if v, ok := st.value(sub); ok {
			out[sub.key] = v
		}
	}
	return out
}

// fusedObject builds an object with its fused fields computed in one run.
// ok is false when any of them fails, and nothing is recorded: the caller
// then builds the object field by field, which reports each failure.
func (st *state) fusedObject(f *cfield) (map[string]any, bool) {
	v, err := st.exec(f.fused)
	if err != nil {
		return nil, false
	}
	return st.completeFused(f, v)
}

// completeFused checks the values of a fused run and adds the fields that
// were not fused. ok is false when anything fails; nothing is recorded.
func (st *state) completeFused(f *cfield, v any) (map[string]any, bool) {
	out, isMap := v.(map[string]any)
	if !isMap {
		return nil, false
	}
	for _, e := range out {
		if checkValue(e) != "" {
			return nil, false
		}
	}
	for i, sub := range f.fields {
		if f.fusedIn[i] {
			continue
		}
		before := len(st.errs)
		v, ok := st.value(sub)
		if len(st.errs) > before {
			// Report this field's failures once, from the slow path.
			st.errs = st.errs[:before]
			return nil, false
		}
		if ok {
			out[sub.key] = v
		}
	}
	return out, true
}

// value builds one field; ok is false when it is left out or failed.
func (st *state) value(f *cfield) (any, bool) {
	if f.key != "" {
		st.push(f.key, -1)
		defer st.pop()
	}
	if f.cond != nil {
		if ok, failed := st.cond(f.cond, "$if"); failed || !ok {
			return nil, false
		}
	}
	switch f.kind {
	case kindConst:
		return f.konst, true
	case kindExpr:
		out, ok := st.run(f.expr, "")
		if !ok {
			return nil, false
		}
		if msg := checkValue(out); msg != "" {
			st.fail(f.expr, "", msg)
			return nil, false
		}
		return out, true
	case kindObject:
		return st.object(f), true
	case kindArray:
		out := make([]any, 0, len(f.fields))
		for i, sub := range f.fields {
			st.push("", i)
			if v, ok := st.value(sub); ok {
				out = append(out, v)
			}
			st.pop()
		}
		return out, true
	case kindLines:
		return st.lines(f)
	}
	return nil, false
}

// lines builds one element per element of the $each list that $where keeps.
func (st *state) lines(f *cfield) (any, bool) {
	src, ok := st.run(f.each, "$each")
	if !ok {
		return nil, false
	}
	list, isList := src.([]any)
	if !isList {
		if src == nil {
			st.fail(f.each, "$each", "the list is missing")
		} else {
			st.fail(f.each, "$each", "$each needs a list, got a "+typeName(src))
		}
		return nil, false
	}
	outer := st.env["line"]
	defer func() { st.env["line"], st.roots[rootLine] = outer, outer }()
	out := make([]any, 0, len(list))
	for i, elem := range list {
		st.env["line"], st.roots[rootLine] = elem, elem
		if f.fusedWhere != nil && f.fused != nil {
			if v, err := st.exec(f.fusedWhere); err == nil {
				if v == nil {
					continue // $where is false
				}
				st.push("", len(out))
				m, ok := st.completeFused(f, v)
				st.pop()
				if ok {
					out = append(out, m)
					continue
				}
			}
			// Something failed: the slow path below says what.
		}
		if f.where != nil {
			st.push("", i)
			keep, failed := st.cond(f.where, "$where")
			st.pop()
			if failed || !keep {
				continue
			}
		}
		st.push("", len(out))
		out = append(out, st.object(f))
		st.pop()
	}
	return out, true
}

// checkValue says what is wrong with a value for a request body, "" if
// nothing: floats and unformatted decimals are refused, so that no amount
// reaches a target by a rounding nobody chose.
func checkValue(v any) string {
	switch x := v.(type) {
	case string, bool, int, int64, int32, json.Number:
		return ""
	case nil:
		return "the value is missing (null); check the field names, or give a default with ?? or leave the field out with $if"
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return "the value is a float (" + strconv.FormatFloat(x, 'f', -1, 64) + "); use dec() for arithmetic and num(), money() or fixed() to format"
		}
		return "the value is a float; use dec() for arithmetic and num(), money() or fixed() to format"
	case float32:
		return "the value is a float; use dec() for arithmetic and num(), money() or fixed() to format"
	case Decimal:
		return "the value " + x.String() + " is an unformatted decimal; format it with money(), fixed(x, places), num(x) or qty(x)"
	case map[string]any:
		for _, e := range x {
			if msg := checkValue(e); msg != "" {
				return msg
			}
		}
		return ""
	case []any:
		for _, e := range x {
			if msg := checkValue(e); msg != "" {
				return msg
			}
		}
		return ""
	}
	return "a " + typeName(v) + " cannot be sent"
}
