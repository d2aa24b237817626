package mapping

import (
	"fmt"
	"strings"

	"orderhub/internal/config"
)

// Position is a place in a mapping file or a lookup CSV file, written
// "file:line:col" as in the config file's problems. Line and Column count
// from 1; 0 means unknown.
type Position = config.Position

// Problem is one thing wrong with a mapping found while loading it: where,
// which part of the mapping (Path, e.g. "body.material_entity.qty"), what is
// wrong and how to fix it. It is the config file's problem type, so both
// read and print alike.
type Problem = config.Error

// Problems is every problem found in a mapping, sorted by position, so a
// user fixes a file in one round. Load and Parse return it as their error.
type Problems = config.Errors

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
