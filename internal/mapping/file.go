package mapping

import (
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"

	"orderhub/internal/config"
)

// The mapping file as read from YAML, before any expression is compiled;
// the format is described in the package documentation.

// nodeKind is what one target field is made of.
type nodeKind int

const (
	kindExpr   nodeKind = iota // an expression
	kindConst                  // a YAML number or boolean, sent as written
	kindObject                 // a nested object
	kindLines                  // a list built from a source list, one element per line
	kindArray                  // a YAML sequence, one element per entry
)

// exprSrc is one expression as written in the file.
type exprSrc struct {
	text string
	pos  Position // of the expression's first character
	// block is set for | and > scalars, whose text starts on the next line.
	block bool
}

// field is one target field (or the whole body) of the mapping.
type field struct {
	kind   nodeKind
	key    string   // target key within its parent object ("" for the body and array elements)
	path   string   // where it is in the file, e.g. "body.material_entity.qty"
	pos    Position // of the key, or of the value for array elements
	expr   exprSrc  // kindExpr
	konst  any      // kindConst
	cond   *exprSrc // $if: the field is left out when it is false
	each   exprSrc  // kindLines: the source list
	where  *exprSrc // kindLines: which lines are kept
	fields []*field // kindObject, kindLines, kindArray
}

// fileSpec is a mapping file decoded from YAML.
type fileSpec struct {
	source, target string
	vars           map[string]any
	varPos         map[string]Position
	when           *exprSrc
	billNo         *exprSrc
	lookups        []lookupSpec
	body           *field
}

// lookupSpec is one lookup table: inline entries or a CSV file name.
type lookupSpec struct {
	name    string
	pos     Position
	file    string
	entries map[string]string
	keyPos  map[string]Position
}

// reader walks the YAML tree of one mapping file, collecting problems.
type reader struct {
	file    string
	probs   Problems
	anchors map[string]ast.Node
}

func (r *reader) add(pos Position, path, msg, hint string) {
	r.probs = append(r.probs, &Problem{Pos: pos, Path: path, Msg: msg, Hint: hint})
}

func (r *reader) pos(n ast.Node) Position {
	if m, ok := n.(*ast.MappingNode); ok && !m.IsFlowStyle && len(m.Values) > 0 {
		return r.pos(m.Values[0].Key)
	}
	if n == nil {
		return Position{File: r.file}
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return Position{File: r.file}
	}
	return Position{File: r.file, Line: tk.Position.Line, Column: tk.Position.Column}
}

// readFile parses data as a mapping file.
func readFile(name string, data []byte) (*fileSpec, Problems) {
	r := &reader{file: name, anchors: map[string]ast.Node{}}
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		p := config.NewError(Position{File: name}, "", err.Error(), "fix the YAML syntax", err)
		var ye yaml.Error
		if errors.As(err, &ye) {
			p.Msg = ye.GetMessage()
			if tk := ye.GetToken(); tk != nil && tk.Position != nil {
				p.Pos.Line, p.Pos.Column = tk.Position.Line, tk.Position.Column
			}
		}
		return nil, Problems{p}
	}
	var body ast.Node
	for i, doc := range f.Docs {
		switch {
		case i == 0:
			body = doc.Body
		case doc.Body != nil:
			r.add(r.pos(doc.Body), "", "a mapping file holds one YAML document; this is a second one", "remove the --- line")
		}
	}
	spec := &fileSpec{vars: map[string]any{}, varPos: map[string]Position{}}
	body = r.follow(body)
	if body == nil || isNull(body) {
		r.add(Position{File: name, Line: 1}, "", "the mapping file is empty", "write at least body: with the fields of the request")
		return nil, r.probs
	}
	top := mappingValues(body)
	if top == nil {
		r.add(r.pos(body), "", "a mapping file must be a map with body: (and optionally vars:, when:, bill_no:, lookups:)", "")
		return nil, r.probs
	}
	for _, mv := range top {
		key := nodeText(mv.Key)
		val := r.follow(mv.Value)
		switch key {
		case "source", "target":
			s, ok := r.plainString(val, key)
			if ok && key == "source" {
				spec.source = s
			} else if ok {
				spec.target = s
			}
		case "vars":
			r.readVars(val, spec)
		case "when":
			spec.when = r.expr(val, key)
		case "bill_no":
			spec.billNo = r.expr(val, key)
		case "lookups":
			r.readLookups(val, spec)
		case "body":
			if !isMapping(val) {
				r.add(r.pos(mv.Key), key, "body must be a map of the request's fields", "")
				continue
			}
			spec.body = r.object(val, "body", "", r.pos(mv.Key))
		default:
			r.add(r.pos(mv.Key), key, "unknown key "+strconv.Quote(key),
				"a mapping file has source, target, vars, when, bill_no, lookups and body; request fields go under body:")
		}
	}
	if spec.body == nil && len(r.probs) == 0 {
		r.add(Position{File: name, Line: 1}, "body", "the mapping has no body:", "add body: with the fields of the request")
	}
	return spec, r.probs
}

func (r *reader) plainString(n ast.Node, path string) (string, bool) {
	switch n.(type) {
	case *ast.StringNode, *ast.IntegerNode, *ast.FloatNode:
		return nodeText(n), true
	}
	r.add(r.pos(n), path, path+" must be a single value", "")
	return "", false
}

func (r *reader) readVars(n ast.Node, spec *fileSpec) {
	if isNull(n) {
		return
	}
	if !isMapping(n) {
		r.add(r.pos(n), "vars", "vars must be a map of names to values", `e.g. vars: {org: "100"}`)
		return
	}
	for _, mv := range mappingValues(n) {
		name := nodeText(mv.Key)
		path := "vars." + name
		if !isIdent(name) {
			r.add(r.pos(mv.Key), path, "a var name must be letters, digits and _ (not starting with a digit)", "")
			continue
		}
		v, ok := r.scalar(r.follow(mv.Value))
		if !ok {
			r.add(r.pos(mv.Value), path, "a var must be a single value (text, number or true/false)", "")
			continue
		}
		spec.vars[name] = v
		spec.varPos[name] = r.pos(mv.Key)
	}
}

// scalar is the Go value of a YAML scalar for vars and constants: text
// stays text, integers become int, other numbers json.Number as written
// (never a float), booleans bool.
func (r *reader) scalar(n ast.Node) (any, bool) {
	switch x := n.(type) {
	case *ast.StringNode, *ast.LiteralNode:
		return nodeText(x), true
	case *ast.IntegerNode:
		if i, err := strconv.ParseInt(strings.ReplaceAll(x.Token.Value, "_", ""), 0, 64); err == nil && int64(int(i)) == i {
			return int(i), true
		}
		return json.Number(x.Token.Value), true
	case *ast.FloatNode:
		if _, err := ParseDecimal(x.Token.Value); err != nil {
			return nil, false
		}
		return json.Number(x.Token.Value), true
	case *ast.BoolNode:
		return x.Value, true
	}
	return nil, false
}

func (r *reader) readLookups(n ast.Node, spec *fileSpec) {
	if isNull(n) {
		return
	}
	if !isMapping(n) {
		r.add(r.pos(n), "lookups", "lookups must be a map of table names to tables", "e.g. lookups: {materials: materials.csv}")
		return
	}
	for _, mv := range mappingValues(n) {
		name := nodeText(mv.Key)
		path := "lookups." + name
		ls := lookupSpec{name: name, pos: r.pos(mv.Key)}
		val := r.follow(mv.Value)
		switch {
		case isNull(val):
			ls.entries = map[string]string{}
		case isMapping(val):
			ls.entries = map[string]string{}
			ls.keyPos = map[string]Position{}
			for _, e := range mappingValues(val) {
				k := nodeText(e.Key)
				v, ok := r.scalar(r.follow(e.Value))
				if !ok {
					r.add(r.pos(e.Value), path+"."+k, "a lookup value must be a single value", "")
					continue
				}
				ls.entries[k] = scalarString(v)
				ls.keyPos[k] = r.pos(e.Key)
			}
		default:
			s, ok := val.(*ast.StringNode)
			if !ok || s.Value == "" {
				r.add(r.pos(val), path, "a lookup table is a map of entries or the name of a CSV file",
					"e.g. materials: {SKU-1: M001} or materials: materials.csv")
				continue
			}
			ls.file = s.Value
		}
		spec.lookups = append(spec.lookups, ls)
	}
}

func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case json.Number:
		return string(x)
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

// expr reads a YAML value that must be one expression.
func (r *reader) expr(n ast.Node, path string) *exprSrc {
	switch x := n.(type) {
	case *ast.StringNode:
		if strings.TrimSpace(x.Value) == "" {
			r.add(r.pos(n), path, "the expression is empty", "")
			return nil
		}
		p := r.pos(n)
		if x.Token != nil && (x.Token.Type == token.DoubleQuoteType || x.Token.Type == token.SingleQuoteType) {
			p.Column++ // the expression starts after the quote
		}
		return &exprSrc{text: x.Value, pos: p}
	case *ast.LiteralNode:
		return &exprSrc{text: nodeText(x), pos: r.pos(n), block: true}
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
		// "when: true", "bill_no: 12": the text is a valid expression too.
		return &exprSrc{text: nodeText(x), pos: r.pos(n)}
	}
	r.add(r.pos(n), path, path+" must be an expression", `write it as text, e.g. `+path+`: doc.trade_no`)
	return nil
}

// object reads a YAML map under body: into a nested object or, with $each,
// into lines.
func (r *reader) object(n ast.Node, path, key string, pos Position) *field {
	f := &field{kind: kindObject, key: key, path: path, pos: pos}
	var value *exprSrc
	hasEach := false
	for _, mv := range mappingValues(n) {
		if _, ok := mv.Key.(*ast.MergeKeyNode); ok {
			r.add(r.pos(mv.Key), path, "merge keys (<<:) are not supported in a mapping", "write the fields out, or use an anchor for a whole value")
			continue
		}
		k := nodeText(mv.Key)
		val := r.follow(mv.Value)
		kp := path + "." + k
		switch k {
		case "$each":
			if e := r.expr(val, kp); e != nil {
				f.each = *e
				hasEach = true
			}
			continue
		case "$where":
			f.where = r.expr(val, kp)
			continue
		case "$if":
			f.cond = r.expr(val, kp)
			continue
		case "$value":
			value = r.expr(val, kp)
			if value == nil {
				value = &exprSrc{} // reported; keep it a value field
			}
			continue
		}
		if strings.HasPrefix(k, "$") {
			r.add(r.pos(mv.Key), kp, "unknown directive "+strconv.Quote(k),
				"the directives are $each and $where (lines), $if (leave the field out unless true) and $value (the field's value under $if)")
			continue
		}
		if c := r.value(val, kp, k, r.pos(mv.Key)); c != nil {
			f.fields = append(f.fields, c)
		}
	}
	switch {
	case value != nil:
		if hasEach || f.where != nil || len(f.fields) > 0 {
			r.add(pos, path, "$value makes a single field; it cannot sit beside $each, $where or other fields", "")
		}
		f.kind = kindExpr
		f.expr = *value
	case hasEach:
		f.kind = kindLines
	case f.where != nil:
		r.add(pos, path, "$where filters lines; it needs $each beside it", "add $each: with the source list, e.g. $each: doc.goods_list")
	}
	return f
}

// value reads the YAML value of one target field.
func (r *reader) value(n ast.Node, path, key string, pos Position) *field {
	switch x := n.(type) {
	case nil, *ast.NullNode:
		if strings.ContainsAny(key, `()".,' `) {
			r.add(pos, path, "this looks like part of an expression split at a comma",
				`inside { } a comma ends the value: put the expression in quotes, or write the object on lines of its own`)
			return nil
		}
		r.add(pos, path, "the field has no value", `give an expression, e.g. '"text"' for fixed text, or remove the field`)
		return nil
	case *ast.StringNode, *ast.LiteralNode:
		e := r.expr(x, path)
		if e == nil {
			return nil
		}
		return &field{kind: kindExpr, key: key, path: path, pos: pos, expr: *e}
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
		v, ok := r.scalar(x)
		if !ok {
			r.add(r.pos(x), path, "the number "+nodeText(x)+" cannot be sent exactly", "write it as a plain decimal, e.g. 1.5")
			return nil
		}
		return &field{kind: kindConst, key: key, path: path, pos: pos, konst: v}
	case *ast.MappingNode, *ast.MappingValueNode:
		return r.object(x, path, key, pos)
	case *ast.SequenceNode:
		f := &field{kind: kindArray, key: key, path: path, pos: pos}
		for i, v := range x.Values {
			ep := path + "[" + strconv.Itoa(i) + "]"
			if c := r.value(r.follow(v), ep, "", r.pos(v)); c != nil {
				f.fields = append(f.fields, c)
			}
		}
		return f
	}
	r.add(pos, path, "unsupported value", "")
	return nil
}

// follow looks through tags, anchors and aliases.
func (r *reader) follow(n ast.Node) ast.Node {
	for i := 0; i < 100; i++ {
		switch x := n.(type) {
		case *ast.TagNode:
			n = x.Value
		case *ast.AnchorNode:
			r.anchors[nodeText(x.Name)] = x.Value
			n = x.Value
		case *ast.AliasNode:
			t, ok := r.anchors[nodeText(x.Value)]
			if !ok {
				r.add(r.pos(x), "", "*"+nodeText(x.Value)+" refers to no anchor defined before it", "")
				return nil
			}
			n = t
		default:
			return n
		}
	}
	return n
}

func mappingValues(n ast.Node) []*ast.MappingValueNode {
	switch x := n.(type) {
	case *ast.MappingNode:
		return x.Values
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{x}
	}
	return nil
}

func isMapping(n ast.Node) bool {
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return true
	}
	return false
}

func isNull(n ast.Node) bool {
	if n == nil {
		return true
	}
	_, ok := n.(*ast.NullNode)
	return ok
}

func nodeText(n ast.Node) string {
	switch x := n.(type) {
	case nil:
		return ""
	case *ast.StringNode:
		return x.Value
	case *ast.LiteralNode:
		if x.Value == nil {
			return ""
		}
		return x.Value.Value
	default:
		if tk := n.GetToken(); tk != nil {
			return tk.Value
		}
		return ""
	}
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
