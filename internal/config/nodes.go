package config

import (
	"github.com/goccy/go-yaml/ast"
)

// Helpers over goccy's AST: positions, anchors and aliases, and what a node is.

// pos is where node n starts. A block mapping's own token is its first ":",
// so its position is taken from its first key instead.
func (d *decoder) pos(n ast.Node) Position {
	if m, ok := n.(*ast.MappingNode); ok && !m.IsFlowStyle && len(m.Values) > 0 {
		return d.pos(m.Values[0].Key)
	}
	if n == nil {
		return Position{File: d.file}
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return Position{File: d.file}
	}
	return Position{File: d.file, Line: tk.Position.Line, Column: tk.Position.Column}
}

// collectAnchors resolves every *alias to the &anchor defined before it, in
// document order as YAML requires. An anchor is registered after its own value
// is walked, so an alias inside its own anchor stays unresolved instead of
// making a cycle.
func (d *decoder) collectAnchors(n ast.Node, defined map[string]ast.Node) {
	switch x := n.(type) {
	case *ast.AnchorNode:
		d.collectAnchors(x.Value, defined)
		defined[nodeText(x.Name)] = x.Value
	case *ast.AliasNode:
		if target, ok := defined[nodeText(x.Value)]; ok {
			d.aliases[x] = target
		}
	case *ast.TagNode:
		d.collectAnchors(x.Value, defined)
	case *ast.MappingKeyNode:
		d.collectAnchors(x.Value, defined)
	case *ast.MappingNode:
		for _, mv := range x.Values {
			d.collectAnchors(mv, defined)
		}
	case *ast.MappingValueNode:
		d.collectAnchors(x.Key, defined)
		d.collectAnchors(x.Value, defined)
	case *ast.SequenceNode:
		for _, v := range x.Values {
			d.collectAnchors(v, defined)
		}
	}
}

// resolve looks through tags, anchors and aliases to the node holding the
// value. It reports an alias to an undefined anchor and returns false.
func (d *decoder) resolve(n ast.Node, path string) (ast.Node, bool) {
	t, broken := d.follow(n)
	if broken != nil {
		name := nodeText(broken.Value)
		d.add(d.pos(broken), path, "*"+name+" refers to no anchor defined before it",
			"define the value first with &"+name)
		return nil, false
	}
	return t, true
}

// nodeText is the text of a scalar node, "" for others.
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

// target is resolve without reporting: the node a value finally stands for,
// or nil for a broken alias.
func (d *decoder) target(n ast.Node) ast.Node {
	t, _ := d.follow(n)
	return t
}

// follow walks through tags, anchors and aliases. For an alias to an
// undefined anchor it returns that alias as broken.
func (d *decoder) follow(n ast.Node) (node ast.Node, broken *ast.AliasNode) {
	for {
		switch x := n.(type) {
		case *ast.TagNode:
			n = x.Value
		case *ast.AnchorNode:
			n = x.Value
		case *ast.AliasNode:
			t, ok := d.aliases[x]
			if !ok {
				return nil, x
			}
			n = t
		default:
			return n, nil
		}
	}
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

// scalarText returns the text of a single value and whether YAML read it as a
// string (only those are ${VAR}-expanded). Numbers and booleans keep the text
// as written, so `version: 1.10` stays "1.10" in a string field.
func scalarText(n ast.Node) (text string, isString, ok bool) {
	switch x := n.(type) {
	case *ast.StringNode, *ast.LiteralNode:
		return nodeText(x), true, true
	case *ast.NullNode:
		return "", false, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return nodeText(x), false, true
	}
	return "", false, false
}

// describe names what a node is, in plain words, without quoting its value
// (the value might be a secret put in the wrong place).
func describe(n ast.Node) string {
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a map"
	case *ast.SequenceNode:
		return "a list"
	case *ast.NullNode, nil:
		return "nothing"
	}
	return "a single value"
}
