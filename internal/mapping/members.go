package mapping

import (
	"errors"
	"reflect"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
)

// Member access on documents. expr reads a member of a map of unknown type
// through reflection, which costs an allocation per read; a document is
// always plain maps, so doc.trade_no is rewritten at load into a call of
// _get(doc, "trade_no"), a type switch and a map index. Semantics are
// expr's: a missing key is nil, reading a member of nil is an error unless
// written doc?.member.

const (
	getFunc         = "_get"
	getOptionalFunc = "_oget"
	boolTextFunc    = "_bool_text"
)

// fastMembers is the expr patch that does the rewrite.
type fastMembers struct{}

func (fastMembers) Visit(node *ast.Node) {
	m, ok := (*node).(*ast.MemberNode)
	if !ok || m.Method {
		return
	}
	prop, ok := m.Property.(*ast.StringNode)
	if !ok {
		return
	}
	if t := m.Node.Type(); t != nil && t.Kind() != reflect.Interface &&
		(t.Kind() != reflect.Map || t.Key().Kind() != reflect.String) {
		return // a struct or a typed map: expr's own access is right
	}
	name := getFunc
	if m.Optional {
		name = getOptionalFunc
	}
	ast.Patch(node, &ast.CallNode{
		Callee:    &ast.IdentifierNode{Value: name},
		Arguments: []ast.Node{m.Node, prop},
	})
}

// boolTexts is the expr patch that rewrites string(b) of a boolean b into
// _bool_text(b): expr's string() formats with fmt.Sprintf("%v"), which for
// a boolean gives strconv.FormatBool's text at many times the cost, and an
// allocation. It runs in expr's repeated pass, after the decimal operators
// are in place, so that dec(x) != 0 is known to be a boolean.
type boolTexts struct{}

func (boolTexts) Reset()             {}
func (boolTexts) ShouldRepeat() bool { return false }

func (boolTexts) Visit(node *ast.Node) {
	call, ok := (*node).(*ast.BuiltinNode)
	if !ok || call.Name != "string" || len(call.Arguments) != 1 {
		return
	}
	if t := call.Arguments[0].Type(); t == nil || t.Kind() != reflect.Bool {
		return
	}
	ast.Patch(node, &ast.CallNode{
		Callee:    &ast.IdentifierNode{Value: boolTextFunc},
		Arguments: call.Arguments,
	})
}

var trueText, falseText any = "true", "false"

func boolTextOf(args ...any) (any, error) {
	if b, _ := args[0].(bool); b {
		return trueText, nil
	}
	return falseText, nil
}

func memberOptions(funcs map[string]func(...any) (any, error)) []expr.Option {
	get := func(optional bool) func(args ...any) (any, error) {
		return func(args ...any) (any, error) {
			key, _ := args[1].(string)
			switch b := args[0].(type) {
			case map[string]any:
				return b[key], nil
			case nil:
				if optional {
					return nil, nil
				}
				return nil, errors.New("cannot read ." + key + " of a missing value; write ?." + key + " if it may be missing")
			}
			return nil, errors.New("cannot read ." + key + " of a " + typeName(args[0]))
		}
	}
	funcs[getFunc], funcs[getOptionalFunc], funcs[boolTextFunc] = get(false), get(true), boolTextOf
	return []expr.Option{
		expr.Patch(fastMembers{}),
		expr.Patch(boolTexts{}),
		expr.Function(getFunc, funcs[getFunc], new(func(any, string) any)),
		expr.Function(getOptionalFunc, funcs[getOptionalFunc], new(func(any, string) any)),
		expr.Function(boolTextFunc, boolTextOf, new(func(bool) string)),
	}
}
