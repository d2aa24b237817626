package mapping

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Position is a place in a mapping file or a lookup CSV file. Line and
// Column count from 1; 0 means unknown.
type Position struct {
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
}

// String formats the position as "file:line:col", leaving out what is
// unknown.
func (p Position) String() string {
	var parts []string
	if p.File != "" {
		parts = append(parts, p.File)
	}
	if p.Line > 0 {
		parts = append(parts, strconv.Itoa(p.Line))
		if p.Column > 0 {
			parts = append(parts, strconv.Itoa(p.Column))
		}
	}
	return strings.Join(parts, ":")
}

// Problem is one thing wrong with a mapping found while loading it: where,
// which part of the mapping (Path, e.g. "body.material_entity.qty"), what is
// wrong and how to fix it.
type Problem struct {
	Pos  Position
	Path string
	Msg  string
	Hint string

	cause error
}

// Error formats the problem as "file:line:col: path: msg (hint)".
func (p *Problem) Error() string {
	var b strings.Builder
	if s := p.Pos.String(); s != "" {
		b.WriteString(s)
		b.WriteString(": ")
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	if p.Hint != "" {
		b.WriteString(" (")
		b.WriteString(p.Hint)
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns the underlying error, e.g. a file system error.
func (p *Problem) Unwrap() error { return p.cause }

// Problems is every problem found in a mapping, sorted by position, so a
// user fixes a file in one round. Load and Parse return it as their error.
type Problems []*Problem

// Error lists the problems one per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As and errors.Is look at each problem.
func (ps Problems) Unwrap() []error {
	out := make([]error, len(ps))
	for i, p := range ps {
		out[i] = p
	}
	return out
}

func (ps Problems) sorted() Problems {
	slices.SortStableFunc(ps, func(a, b *Problem) int {
		return cmp.Or(
			cmp.Compare(a.Pos.File, b.Pos.File),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Column, b.Pos.Column),
		)
	})
	// The cause is left out of the comparison: it may be of a type == panics on.
	return slices.CompactFunc(ps, func(a, b *Problem) bool {
		return a.Pos == b.Pos && a.Path == b.Path && a.Msg == b.Msg && a.Hint == b.Hint
	})
}

// FieldError is one target field that could not be produced from a
// document: the target path (material_entity[2].qty), the expression and
// where it is written, the document values it read, and what went wrong.
type FieldError struct {
	Field string   `json:"field"` // target path, e.g. "material_entity[2].qty"; "bill_no" or "when" for those
	Expr  string   `json:"expr"`  // the expression text
	Pos   Position `json:"pos"`   // where the expression is written
	// Values lists the document values the expression reads, as
	// `line.num = "abc"`, in the order they appear in it. Empty when the
	// expression reads none.
	Values []string `json:"values,omitempty"`
	Msg    string   `json:"message"`
}

// Value is the values joined into one line, for printing.
func (e *FieldError) Value() string { return strings.Join(e.Values, ", ") }

// Error formats the failure on one line.
func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.Field)
	b.WriteString(": ")
	b.WriteString(e.Msg)
	fmt.Fprintf(&b, " (expression %s", e.Expr)
	if p := e.Pos.String(); p != "" {
		b.WriteString(" at ")
		b.WriteString(p)
	}
	if len(e.Values) > 0 {
		b.WriteString("; ")
		b.WriteString(e.Value())
	}
	b.WriteString(")")
	return b.String()
}

// ApplyError is every field of one document that failed: Apply evaluates all
// fields before it gives up, so a preview shows every problem at once.
type ApplyError struct {
	Mapping string        `json:"mapping"`           // the mapping's name: its file, or mapping:shipped/… for a shipped one
	BillNo  string        `json:"bill_no,omitempty"` // the bill number when it could be computed
	Fields  []*FieldError `json:"fields"`
}

// Error lists the failed fields, one per line after a heading line.
func (e *ApplyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "mapping %s: %d field", e.Mapping, len(e.Fields))
	if len(e.Fields) != 1 {
		b.WriteString("s")
	}
	b.WriteString(" failed")
	if e.BillNo != "" {
		fmt.Fprintf(&b, " for bill %s", e.BillNo)
	}
	for _, f := range e.Fields {
		b.WriteString("\n  ")
		b.WriteString(f.Error())
	}
	return b.String()
}

// Unwrap lets errors.As find each FieldError.
func (e *ApplyError) Unwrap() []error {
	out := make([]error, len(e.Fields))
	for i, f := range e.Fields {
		out[i] = f
	}
	return out
}

// DocumentError is a source document that is not JSON, or not a JSON object.
type DocumentError struct {
	Mapping string
	Msg     string
}

func (e *DocumentError) Error() string {
	return "mapping " + e.Mapping + ": the source document " + e.Msg
}
