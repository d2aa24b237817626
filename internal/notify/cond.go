package notify

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"

	"orderhub/internal/config"
	"orderhub/internal/mapping"
	"orderhub/internal/order"
)

// Event is the transition a rule reacts to: its type, and the order's
// status before (empty for an order seen for the first time) and after.
type Event struct {
	Type order.EventType `json:"type"`
	From order.Status    `json:"from,omitempty"`
	To   order.Status    `json:"to,omitempty"`
	// Version is the order version the event came with.
	Version int64 `json:"version,omitempty"`
	// At is when the event happened.
	At time.Time `json:"at,omitzero"`
}

// moneyKeys are the amounts of the canonical order. The read API writes them
// as decimal strings; a condition sees them as numbers, so that
// `order.total >= 5000` compares amounts rather than text.
var moneyKeys = []string{"total", "goods_amount", "freight", "discount", "refunded"}

// condEnv is what a rule's when: sees: order (the read API's fields), event
// (type, from, to) and source.
func condEnv(o order.Order, ev Event, loc *time.Location) map[string]any {
	m := mapping.OrderMap(o, loc)
	for _, k := range moneyKeys {
		m[k] = amount(m[k])
	}
	for _, it := range m["items"].([]any) {
		line := it.(map[string]any)
		line["unit_price"] = amount(line["unit_price"])
		line["total"] = amount(line["total"])
	}
	return map[string]any{
		"order":  m,
		"event":  map[string]any{"type": string(ev.Type), "from": string(ev.From), "to": string(ev.To)},
		"source": o.Source,
	}
}

// amount turns a decimal string from OrderMap into a number. Amounts are
// whole fen, so the float holds them exactly up to far beyond any order.
func amount(v any) any {
	s, _ := v.(string)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return v
	}
	return f
}

// orderKeys are the names a condition may read below order and event: those
// of a fully populated order, so that a misspelt field is an error at check
// time rather than a rule that silently never matches.
var (
	orderKeys = func() []string {
		return keysOf(condEnv(sampleOrder(), sampleEvent(), nil)["order"].(map[string]any))
	}()
	eventKeys = []string{"from", "to", "type"}
)

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// condition is a compiled when:.
type condition struct {
	text  string
	prog  *vm.Program
	reads []string // member chains it reads (order.total, event.type, source), for Explain
}

// compileCondition compiles a rule's when: as a boolean over condEnv, and
// checks the names it reads below order and event.
func compileCondition(r *config.Rule) (*condition, []error) {
	if strings.TrimSpace(r.When) == "" {
		return nil, nil
	}
	env := condEnv(sampleOrder(), sampleEvent(), nil)
	prog, err := expr.Compile(r.When, expr.Env(env), expr.AsBool())
	if err != nil {
		return nil, []error{condError(r, err)}
	}
	c := &condition{text: r.When, prog: prog}
	var errs []error
	seen := map[string]bool{}
	root := prog.Node()
	ast.Walk(&root, visitor(func(n ast.Node) {
		switch n := n.(type) {
		case *ast.IdentifierNode:
			if n.Value == "source" && !seen["source"] {
				seen["source"] = true
				c.reads = append(c.reads, "source")
			}
		case *ast.MemberNode:
			root, ok := n.Node.(*ast.IdentifierNode)
			prop, isName := n.Property.(*ast.StringNode)
			if !ok || !isName {
				return
			}
			var known []string
			switch root.Value {
			case "order":
				known = orderKeys
			case "event":
				known = eventKeys
			default:
				return
			}
			chain := root.Value + "." + prop.Value
			if !slices.Contains(known, prop.Value) {
				line, col := lineCol(r.When, n.Location().From)
				errs = append(errs, &config.Error{Pos: at(r.WhenPos, line, col), Path: "rules." + r.Name + ".when",
					Msg:  fmt.Sprintf("%s has no field %q", root.Value, prop.Value),
					Hint: didYouMean(prop.Value, known, "its fields")})
				return
			}
			if !seen[chain] {
				seen[chain] = true
				c.reads = append(c.reads, chain)
			}
		}
	}))
	if len(errs) > 0 {
		return nil, errs
	}
	// The order's fields are typed only at run time, so a condition that
	// does not give a boolean (order.total + 1) or mixes types
	// (order.status > 1) is caught by running it once on a sample order.
	if _, err := c.eval(env); err != nil {
		return nil, []error{&config.Error{Pos: r.WhenPos, Path: "rules." + r.Name + ".when",
			Msg:  "on a sample order: " + firstLine(strings.TrimPrefix(err.Error(), "when: "+c.text+": ")),
			Hint: "amounts (order.total, order.items[0].total) are numbers, statuses and event types text, e.g. order.total >= 5000 && event.type == \"paid\""}}
	}
	return c, nil
}

// firstLine drops the source snippet expr appends to its run-time errors;
// the position already says where.
func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

type visitor func(ast.Node)

func (f visitor) Visit(n *ast.Node) { f(*n) }

// condError places an expr compile error at its line and column in the file.
func condError(r *config.Rule, err error) error {
	path := "rules." + r.Name + ".when"
	if fe, ok := err.(*file.Error); ok {
		hint := ""
		if strings.HasPrefix(fe.Message, "unknown name") {
			hint = "a condition reads order (e.g. order.total, order.status, order.items), event (event.type, event.from, event.to) and source"
		}
		return &config.Error{Pos: at(r.WhenPos, fe.Line, fe.Column), Path: path, Msg: fe.Message, Hint: hint}
	}
	return &config.Error{Pos: r.WhenPos, Path: path, Msg: err.Error()}
}

// at is the file position of line/column (1-based line, 0-based column, as
// expr reports them) of a text that starts at p.
func at(p config.Position, line, col int) config.Position {
	if line <= 1 {
		if p.Column > 0 {
			p.Column += col
		}
		return p
	}
	p.Line += line - 1
	p.Column = col + 1
	return p
}

// lineCol is the 1-based line and 0-based column of a rune offset into text.
func lineCol(text string, off int) (line, col int) {
	line = 1
	i := 0
	for _, r := range text {
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
	return line, col
}

// eval runs the condition; a rule without one matches every event.
func (c *condition) eval(env map[string]any) (bool, error) {
	if c == nil {
		return true, nil
	}
	out, err := expr.Run(c.prog, env)
	if err != nil {
		return false, fmt.Errorf("when: %s: %w", c.text, err)
	}
	b, ok := out.(bool)
	if !ok {
		return false, fmt.Errorf("when: %s: gives %s, not true or false", c.text, show(out))
	}
	return b, nil
}

// values says what the condition read, for Explain: "order.total = 189".
func (c *condition) values(env map[string]any) []string {
	var out []string
	for _, chain := range c.reads {
		root, key, _ := strings.Cut(chain, ".")
		var v any = env[root]
		if key != "" {
			v = env[root].(map[string]any)[key]
		}
		out = append(out, chain+" = "+show(v))
	}
	return out
}

func show(v any) string {
	switch v := v.(type) {
	case nil:
		return "nil (absent)"
	case string:
		return strconv.Quote(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

func didYouMean(got string, options []string, what string) string {
	best, bestD := "", 3
	for _, o := range options {
		if d := distance(got, o); d < bestD {
			best, bestD = o, d
		}
	}
	list := what + ": " + strings.Join(options, ", ")
	if best != "" {
		return fmt.Sprintf("did you mean %q? %s", best, list)
	}
	return list
}

// distance is the Levenshtein distance of two short names.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
