package mapping

import (
	"reflect"

	"github.com/expr-lang/expr/ast"
)

// Native evaluation. Most of a mapping's cost used to be expr's virtual
// machine around the helpers it calls: each run sizes an argument buffer
// by walking the whole program, and every value passes through its stack.
// The expressions of a mapping are a small language (member chains, the
// helpers, constants, + on text, ??, ?:, map literals), so at load time an
// expression made only of those is also turned into a tree of Go closures
// that calls the same helpers with the same arguments.
//
// A native run never decides an error: when anything in it fails, or meets
// a value of a kind it does not handle, it gives up and the expression runs
// on expr's machine, which gives the value or the error exactly as before.
// Only the runs that succeed are faster, and they are the ones that matter.

// native evaluates a compiled expression; ok is false when it gives up.
type native func(st *state) (v any, ok bool)

// The variables an expression sees, as indexes into state.roots.
const (
	rootDoc = iota
	rootOrder
	rootVars
	rootBillNo
	rootLine
	numRoots
)

var rootIndex = map[string]int{"doc": rootDoc, "order": rootOrder, "vars": rootVars, "bill_no": rootBillNo, "line": rootLine}

// nativeOf is the native form of the expression tree n, nil when some part
// of it has none.
func (m *Mapping) nativeOf(n ast.Node) native {
	switch x := n.(type) {
	case *ast.StringNode:
		v := any(x.Value)
		return func(*state) (any, bool) { return v, true }
	case *ast.BoolNode:
		v := any(x.Value)
		return func(*state) (any, bool) { return v, true }
	case *ast.NilNode:
		return func(*state) (any, bool) { return nil, true }
	case *ast.IntegerNode:
		// expr pushes an integer constant as the type the checker gave it;
		// only a plain int is the same value here.
		if t := x.Type(); t != nil && t.Kind() != reflect.Int {
			return nil
		}
		v := any(x.Value)
		return func(*state) (any, bool) { return v, true }
	case *ast.FloatNode:
		if t := x.Type(); t != nil && t.Kind() != reflect.Float64 {
			return nil
		}
		v := any(x.Value)
		return func(*state) (any, bool) { return v, true }
	case *ast.ConstantNode:
		v := x.Value
		return func(*state) (any, bool) { return v, true }
	case *ast.IdentifierNode:
		i, ok := rootIndex[x.Value]
		if !ok {
			return nil
		}
		return func(st *state) (any, bool) { return st.roots[i], true }
	case *ast.CallNode:
		return m.nativeCall(x)
	case *ast.BinaryNode:
		return m.nativeBinary(x)
	case *ast.UnaryNode:
		if x.Operator != "not" && x.Operator != "!" {
			return nil
		}
		arg := m.nativeOf(x.Node)
		if arg == nil {
			return nil
		}
		return func(st *state) (any, bool) {
			v, ok := arg(st)
			b, isBool := v.(bool)
			if !ok || !isBool {
				return nil, false
			}
			return !b, true
		}
	case *ast.ConditionalNode:
		cond, yes, no := m.nativeOf(x.Cond), m.nativeOf(x.Exp1), m.nativeOf(x.Exp2)
		if cond == nil || yes == nil || no == nil {
			return nil
		}
		return func(st *state) (any, bool) {
			v, ok := cond(st)
			b, isBool := v.(bool)
			if !ok || !isBool {
				return nil, false
			}
			if b {
				return yes(st)
			}
			return no(st)
		}
	case *ast.MapNode:
		return m.nativeMap(x)
	}
	return nil
}

// nativeCall is a call of a member read (_get, _oget) or of a helper.
func (m *Mapping) nativeCall(x *ast.CallNode) native {
	id, ok := x.Callee.(*ast.IdentifierNode)
	if !ok {
		return nil
	}
	args := make([]native, len(x.Arguments))
	for i, a := range x.Arguments {
		if args[i] = m.nativeOf(a); args[i] == nil {
			return nil
		}
	}
	if id.Value == getFunc || id.Value == getOptionalFunc {
		key, isKey := x.Arguments[1].(*ast.StringNode)
		if !isKey {
			return nil
		}
		base, name, optional := args[0], key.Value, id.Value == getOptionalFunc
		return func(st *state) (any, bool) {
			v, ok := base(st)
			if !ok {
				return nil, false
			}
			switch b := v.(type) {
			case map[string]any:
				return b[name], true
			case nil:
				return nil, optional // the machine says what is wrong
			}
			return nil, false
		}
	}
	fn := m.funcs[id.Value]
	if fn == nil {
		return nil
	}
	return func(st *state) (any, bool) {
		base := len(st.args)
		for _, a := range args {
			v, ok := a(st)
			if !ok {
				st.args = st.args[:base]
				return nil, false
			}
			st.args = append(st.args, v)
		}
		out, err := fn(st.args[base:]...)
		clear(st.args[base:])
		st.args = st.args[:base]
		return out, err == nil
	}
}

// nativeBinary is ?? and, on text, +. The decimal operators are calls by
// now (expr's operator patch turned them into _dec_* calls).
func (m *Mapping) nativeBinary(x *ast.BinaryNode) native {
	left, right := m.nativeOf(x.Left), m.nativeOf(x.Right)
	if left == nil || right == nil {
		return nil
	}
	switch x.Operator {
	case "??":
		return func(st *state) (any, bool) {
			v, ok := left(st)
			if !ok {
				return nil, false
			}
			if v != nil {
				return v, true
			}
			return right(st)
		}
	case "+":
		return func(st *state) (any, bool) {
			a, ok := left(st)
			if !ok {
				return nil, false
			}
			b, ok := right(st)
			if !ok {
				return nil, false
			}
			as, aText := a.(string)
			bs, bText := b.(string)
			if !aText || !bText {
				return nil, false // numbers: the machine's own arithmetic
			}
			return as + bs, true
		}
	case "and", "&&", "or", "||":
		and := x.Operator == "and" || x.Operator == "&&"
		return func(st *state) (any, bool) {
			a, ok := left(st)
			ab, isBool := a.(bool)
			if !ok || !isBool {
				return nil, false
			}
			if ab != and {
				return ab, true // false && …, true || …
			}
			b, ok := right(st)
			if _, isBool := b.(bool); !ok || !isBool {
				return nil, false
			}
			return b, true
		}
	}
	return nil
}

// nativeMap is a map literal with constant text keys.
func (m *Mapping) nativeMap(x *ast.MapNode) native {
	keys := make([]string, len(x.Pairs))
	vals := make([]native, len(x.Pairs))
	for i, p := range x.Pairs {
		pair, ok := p.(*ast.PairNode)
		if !ok {
			return nil
		}
		key, ok := pair.Key.(*ast.StringNode)
		if !ok {
			return nil
		}
		keys[i] = key.Value
		if vals[i] = m.nativeOf(pair.Value); vals[i] == nil {
			return nil
		}
	}
	return func(st *state) (any, bool) {
		out := make(map[string]any, len(keys))
		// expr assigns the pairs from the last to the first, so of a
		// repeated key the first pair is what stays; so here.
		for i := len(keys) - 1; i >= 0; i-- {
			v, ok := vals[i](st)
			if !ok {
				return nil, false
			}
			out[keys[i]] = v
		}
		return out, true
	}
}

// exec runs p: natively when it can, on expr's machine otherwise.
func (st *state) exec(p *program) (any, error) {
	if p.native != nil {
		if v, ok := st.runNative(p.native); ok {
			return v, nil
		}
	}
	return st.vm.Run(p.prog, st.env)
}

// runNative runs f; a helper that panics makes it give up, as any failure
// does, and the machine then reports what happened.
func (st *state) runNative(f native) (v any, ok bool) {
	base := len(st.args)
	defer func() {
		if r := recover(); r != nil {
			st.args = st.args[:base]
			v, ok = nil, false
		}
	}()
	return f(st)
}
