package mapping

import (
	"errors"
	"regexp"
	"strconv"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
)

// program is one compiled expression with what it reads.
type program struct {
	src    exprSrc
	prog   *vm.Program
	native native  // the same as Go closures, nil when it has no native form
	reads  []chain // document values it reads, for error reports
}

// chain is a static member chain such as line.share_amount: a root
// variable and constant member names.
type chain struct {
	root string
	path []string
	text string
}

// cfield is a compiled target field.
type cfield struct {
	kind   nodeKind
	key    string
	konst  any
	expr   *program
	cond   *program
	each   *program
	where  *program
	fields []*cfield
	// fused computes the plain fields of an object (expressions without
	// $if) in one run, as a map literal; fusedIn marks them in fields. One
	// run instead of one per field is most of the cost of a line. When it
	// fails, the fields are run one by one to say which failed and why.
	fused   *program
	fusedIn []bool
	// fusedWhere is $where and fused in one run, for lines: nil when the
	// line is not kept, the fused map when it is.
	fusedWhere *program
}

// scope is where an expression is written, which decides the names it sees.
type scope int

const (
	scopeHead  scope = iota // when:, bill_no: — doc, order, vars
	scopeBody               // body fields — and bill_no
	scopeLines              // inside $each — and line
)

// compiler compiles the expressions of one mapping file.
type compiler struct {
	m     *Mapping
	probs Problems
	opts  []expr.Option
	envs  [3]map[string]any
}

func newCompiler(m *Mapping) *compiler {
	helpers := m.helperFuncs()
	c := &compiler{m: m, opts: append(helpers, memberOptions(m.funcs)...)}
	for s := range c.envs {
		env := map[string]any{
			"doc":   map[string]any{},
			"order": map[string]any{},
			"vars":  map[string]any{},
		}
		if scope(s) >= scopeBody {
			env["bill_no"] = ""
		}
		if scope(s) == scopeLines {
			// nil: a line may be an object or a plain value.
			env["line"] = nil
		}
		c.envs[s] = env
	}
	return c
}

func (c *compiler) add(pos Position, path, msg, hint string) {
	c.probs = append(c.probs, &Problem{Pos: pos, Path: path, Msg: msg, Hint: hint})
}

// compile compiles src in scope s and analyses what it reads. lineNeed is
// what is read of the current line's element (nil outside lines); boolean
// asks for a condition.
func (c *compiler) compile(src exprSrc, path string, s scope, lineNeed *need, boolean bool) *program {
	p := c.compileRaw(src, path, s, boolean)
	if p != nil {
		c.analyse(p, path, lineNeed)
	}
	return p
}

// compileRaw compiles src in scope s, reporting a compile error at its
// position in the file.
func (c *compiler) compileRaw(src exprSrc, path string, s scope, boolean bool) *program {
	opts := append([]expr.Option{expr.Env(c.envs[s])}, c.opts...)
	if boolean {
		opts = append(opts, expr.AsBool())
	}
	prog, err := expr.Compile(src.text, opts...)
	if err != nil {
		c.compileError(src, path, s, err)
		return nil
	}
	return &program{src: src, prog: prog, native: c.m.nativeOf(prog.Node())}
}

var unknownName = regexp.MustCompile(`^unknown name ([A-Za-z_$][A-Za-z0-9_$]*)`)

func (c *compiler) compileError(src exprSrc, path string, s scope, err error) {
	var fe *file.Error
	if !errors.As(err, &fe) {
		c.add(src.pos, path, err.Error(), "")
		return
	}
	msg := fe.Message
	pos := src.at(fe.Line, fe.Column)
	hint := ""
	if mm := unknownName.FindStringSubmatch(msg); mm != nil {
		name := mm[1]
		switch {
		case name == "line":
			hint = "line is the current element inside $each; here there is none"
		case name == "bill_no":
			hint = "bill_no can be used in body fields, not in when: or bill_no: itself"
		default:
			names := "doc, order, vars"
			if s >= scopeBody {
				names += ", bill_no"
			}
			if s == scopeLines {
				names += ", line"
			}
			hint = "the names are " + names + " and the helpers dec, round, money, fixed, qty, num, date, lookup, has" +
				`; to write the text ` + name + `, quote it: '"` + name + `"'`
		}
	}
	c.add(pos, path, msg, hint)
}

// at is the file position of the expression's line/column (1-based line,
// 0-based column, as expr reports them).
func (e exprSrc) at(line, col int) Position {
	p := e.pos
	if line < 1 {
		return p
	}
	if e.block {
		p.Line += line
		p.Column = 0
		return p
	}
	if line == 1 {
		p.Column += col
	} else {
		p.Line += line - 1
		p.Column = col + 1
	}
	return p
}

// atOffset is the file position of a rune offset into the expression.
func (e exprSrc) atOffset(off int) Position {
	line, col := 1, 0
	i := 0
	for _, r := range e.text {
		if i == off {
			break
		}
		if r == '\n' {
			line++
			col = 0
		} else {
			col++
		}
		i++
	}
	return e.at(line, col)
}

// analyse walks a compiled expression: it checks the names of vars and
// lookup tables and the layouts of date() calls, records the document
// values the expression reads, and adds them to the mapping's decode need.
func (c *compiler) analyse(p *program, path string, lineNeed *need) {
	var nodes []ast.Node
	root := p.prog.Node()
	ast.Walk(&root, visitFunc(func(n *ast.Node) { nodes = append(nodes, *n) }))

	covered := map[ast.Node]bool{} // inner parts of a longer chain
	chains := map[ast.Node]chain{}
	for _, n := range nodes {
		if ch, inner, ok := staticChain(n); ok {
			chains[n] = ch
			covered[inner] = true
		}
	}
	seen := map[string]bool{}
	for _, n := range nodes {
		if covered[n] {
			continue
		}
		var ch chain
		if cc, ok := chains[n]; ok {
			ch = cc
		} else if id, ok := n.(*ast.IdentifierNode); ok {
			ch = chain{root: id.Value, text: id.Value}
		} else {
			c.checkCall(p, path, n)
			continue
		}
		switch ch.root {
		case "doc":
			c.m.need.at(ch.path).all = true
		case "line":
			if lineNeed != nil {
				lineNeed.at(ch.path).all = true
			}
		case "order":
			c.m.usesOrder = true
		case "vars":
			if len(ch.path) > 0 {
				if _, ok := c.m.vars[ch.path[0]]; !ok {
					c.add(p.src.atOffset(n.Location().From), path, "there is no var "+strconv.Quote(ch.path[0]),
						"declare it under vars: with a default (declared: "+strings.Join(sortedKeys(c.m.vars), ", ")+")")
				}
			}
			continue
		default:
			continue
		}
		if !seen[ch.text] {
			seen[ch.text] = true
			p.reads = append(p.reads, ch)
		}
	}
}

// checkCall checks the constant arguments of lookup(), has() and date().
func (c *compiler) checkCall(p *program, path string, n ast.Node) {
	call, ok := n.(*ast.CallNode)
	if !ok {
		return
	}
	id, ok := call.Callee.(*ast.IdentifierNode)
	if !ok || len(call.Arguments) < 2 {
		return
	}
	switch id.Value {
	case "lookup", "has":
		if s, ok := call.Arguments[0].(*ast.StringNode); ok {
			if _, found := c.m.tables[s.Value]; !found {
				c.add(p.src.atOffset(s.Location().From), path, "there is no lookup table "+strconv.Quote(s.Value),
					"declare it under lookups: (tables: "+strings.Join(sortedKeys(c.m.tables), ", ")+")")
			}
		}
	case "date":
		if s, ok := call.Arguments[1].(*ast.StringNode); ok {
			if msg := layoutProblem(s.Value); msg != "" {
				c.add(p.src.atOffset(s.Location().From), path, msg,
					`write the layout with Go's reference time: "2006-01-02" for yyyy-MM-dd, "2006-01-02 15:04:05" for yyyy-MM-dd HH:mm:ss`)
			}
		}
	}
}

// staticChain reports whether n is a member chain of constant names on a
// variable (doc.goods_list, line["spec_no"], doc?.remark, in the _get form
// fastMembers rewrites them to), and returns the node directly inside it.
func staticChain(n ast.Node) (ch chain, inner ast.Node, ok bool) {
	if cn, isChain := n.(*ast.ChainNode); isChain {
		ch, _, ok = staticChain(cn.Node)
		return ch, cn.Node, ok
	}
	var baseNode, propNode ast.Node
	switch x := n.(type) {
	case *ast.MemberNode:
		if x.Method {
			return chain{}, nil, false
		}
		baseNode, propNode = x.Node, x.Property
	case *ast.CallNode:
		id, isIdent := x.Callee.(*ast.IdentifierNode)
		if !isIdent || (id.Value != getFunc && id.Value != getOptionalFunc) || len(x.Arguments) != 2 {
			return chain{}, nil, false
		}
		baseNode, propNode = x.Arguments[0], x.Arguments[1]
	default:
		return chain{}, nil, false
	}
	prop, isString := propNode.(*ast.StringNode)
	if !isString {
		return chain{}, nil, false
	}
	var base chain
	switch b := baseNode.(type) {
	case *ast.IdentifierNode:
		base = chain{root: b.Value, text: b.Value}
	default:
		var okBase bool
		if base, _, okBase = staticChain(b); !okBase {
			return chain{}, nil, false
		}
	}
	ch = chain{root: base.root, path: append(append([]string(nil), base.path...), prop.Value)}
	if isIdent(prop.Value) {
		ch.text = base.text + "." + prop.Value
	} else {
		ch.text = base.text + "[" + strconv.Quote(prop.Value) + "]"
	}
	return ch, baseNode, true
}

type visitFunc func(*ast.Node)

func (f visitFunc) Visit(n *ast.Node) { f(n) }

// compileField compiles one target field and what is under it.
func (c *compiler) compileField(f *field, s scope, lineNeed *need) *cfield {
	cf := &cfield{kind: f.kind, key: f.key, konst: f.konst}
	if f.cond != nil {
		cf.cond = c.compile(*f.cond, f.path+".$if", s, lineNeed, true)
	}
	switch f.kind {
	case kindExpr:
		cf.expr = c.compile(f.expr, f.path, s, lineNeed, false)
	case kindObject, kindArray:
		for _, sub := range f.fields {
			if x := c.compileField(sub, s, lineNeed); x != nil {
				cf.fields = append(cf.fields, x)
			}
		}
		if f.kind == kindObject {
			c.fuse(cf, s)
		}
	case kindLines:
		// A source list named by a plain chain (doc.goods_list) is decoded
		// element by element, only the members the line fields read.
		elems := &need{}
		each := c.compileRaw(f.each, f.path+".$each", s, false)
		if each != nil {
			if ch, _, ok := staticChain(each.prog.Node()); ok && (ch.root == "doc" || ch.root == "line" && lineNeed != nil) {
				parent := c.m.need
				if ch.root == "line" {
					parent = lineNeed
				}
				n := parent.at(ch.path)
				if n.elems == nil {
					n.elems = &need{}
				}
				elems = n.elems
				each.reads = []chain{ch}
			} else {
				c.analyse(each, f.path+".$each", lineNeed)
			}
		}
		cf.each = each
		if f.where != nil {
			cf.where = c.compile(*f.where, f.path+".$where", scopeLines, elems, true)
		}
		for _, sub := range f.fields {
			if x := c.compileField(sub, scopeLines, elems); x != nil {
				cf.fields = append(cf.fields, x)
			}
		}
		c.fuse(cf, scopeLines)
		if cf.fused != nil && f.where != nil && len(c.probs) == 0 {
			text := "(" + f.where.text + "\n) ? " + cf.fused.src.text + " : nil"
			if prog, err := expr.Compile(text, append([]expr.Option{expr.Env(c.envs[scopeLines])}, c.opts...)...); err == nil {
				cf.fusedWhere = &program{src: exprSrc{text: text}, prog: prog, native: c.m.nativeOf(prog.Node())}
			}
		}
	}
	return cf
}

// fuse compiles the plain fields of an object into one map literal: its
// expressions without $if, and its nested objects made only of such
// expressions (K3's {"FNumber": …} references). Nothing is fused when fewer
// than two expressions qualify or the combined text does not compile (each
// field on its own already did).
func (c *compiler) fuse(cf *cfield, s scope) {
	if len(c.probs) > 0 {
		return
	}
	var b strings.Builder
	in := make([]bool, len(cf.fields))
	exprs := 0
	b.WriteString("{")
	for i, f := range cf.fields {
		text, n, ok := fusedText(f)
		if !ok {
			continue
		}
		if b.Len() > 1 {
			b.WriteString(",\n")
		}
		b.WriteString(strconv.Quote(f.key))
		b.WriteString(": ")
		b.WriteString(text)
		in[i] = true
		exprs += n
	}
	b.WriteString("}")
	if exprs < 2 {
		return
	}
	prog, err := expr.Compile(b.String(), append([]expr.Option{expr.Env(c.envs[s])}, c.opts...)...)
	if err != nil {
		return
	}
	cf.fused = &program{src: exprSrc{text: b.String()}, prog: prog, native: c.m.nativeOf(prog.Node())}
	cf.fusedIn = in
}

// fusedText is field f as a part of a map literal, with the number of
// expressions in it; ok is false when f cannot be fused.
func fusedText(f *cfield) (text string, exprs int, ok bool) {
	if f.cond != nil {
		return "", 0, false
	}
	switch f.kind {
	case kindExpr:
		if f.expr == nil {
			return "", 0, false
		}
		return "(" + f.expr.src.text + "\n)", 1, true
	case kindObject:
		if len(f.fields) == 0 {
			return "", 0, false
		}
		var b strings.Builder
		b.WriteString("{")
		for i, sub := range f.fields {
			t, n, ok := fusedText(sub)
			if !ok {
				return "", 0, false
			}
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strconv.Quote(sub.key))
			b.WriteString(": ")
			b.WriteString(t)
			exprs += n
		}
		b.WriteString("}")
		return b.String(), exprs, true
	}
	return "", 0, false
}
