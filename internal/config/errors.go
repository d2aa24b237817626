package config

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// String formats the position as "file:line:col", leaving out what is unknown,
// so a read error before any line was seen prints as just "file".
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

// Error is one problem with a config file: where it is, what is wrong and how
// to fix it. Path is the dotted key path, e.g. "systems.shop.app_sign".
type Error struct {
	Pos  Position
	Path string
	Msg  string
	Hint string

	cause error // the underlying error, if any, so errors.Is(err, fs.ErrNotExist) works
}

// Error formats the problem as "file:line:col: path: msg (hint)", leaving out
// the parts that are empty.
func (e *Error) Error() string {
	var b strings.Builder
	if p := e.Pos.String(); p != "" {
		b.WriteString(p)
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Hint != "" {
		b.WriteString(" (")
		b.WriteString(e.Hint)
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns the underlying error, e.g. the *fs.PathError of a missing file.
func (e *Error) Unwrap() error { return e.cause }

// NewError is an Error with the underlying error it came from, for other
// file readers (mapping files, lookup tables) that report problems the same
// way.
func NewError(pos Position, path, msg, hint string, cause error) *Error {
	return &Error{Pos: pos, Path: path, Msg: msg, Hint: hint, cause: cause}
}

// Errors is every problem found in a config file, sorted by position. Load and
// Parse report all problems at once, so a user fixes a file in one round.
type Errors []*Error

// Error lists the problems one per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As and errors.Is look at each problem.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Sorted orders the problems by file, line and column and drops exact
// duplicates (an anchor used twice can produce the same problem twice).
func (es Errors) Sorted() Errors {
	slices.SortStableFunc(es, func(a, b *Error) int {
		return cmp.Or(
			cmp.Compare(a.Pos.File, b.Pos.File),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Column, b.Pos.Column),
		)
	})
	return slices.CompactFunc(es, func(a, b *Error) bool {
		return a.Pos == b.Pos && a.Path == b.Path && a.Msg == b.Msg && a.Hint == b.Hint
	})
}
