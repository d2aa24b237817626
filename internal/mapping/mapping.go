package mapping

import (
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/expr-lang/expr/vm"

	// A zone name such as Asia/Shanghai must load on machines without
	// /usr/share/zoneinfo.
	_ "time/tzdata"

	"orderhub/internal/config"
)

// Options are the per-flow settings a mapping is compiled with.
type Options struct {
	// Location is the zone of the source's date strings and of formatted
	// dates; default Asia/Shanghai.
	Location *time.Location
	// Dir is where lookup CSV files named in the mapping are read from;
	// default the mapping file's directory.
	Dir string
	// Vars are the flow's vars: they override the defaults of the mapping
	// file's vars:. A name the mapping does not declare is a problem.
	Vars map[string]any
	// Lookups are the flow's lookup entries, added to (and overriding) the
	// tables of the mapping file's lookups:. A table the mapping does not
	// declare is a problem.
	Lookups map[string]Table
	// When, if not empty, is the flow's condition; it replaces the mapping
	// file's when:. WhenPos is where it is written, for problems.
	When    string
	WhenPos Position
}

// Mapping is a compiled mapping. It is safe for concurrent use.
type Mapping struct {
	name           string
	source, target string
	loc            *time.Location
	vars           map[string]any
	tables         map[string]Table
	boxed          map[string]map[string]any            // tables' values as interfaces, what lookup returns
	funcs          map[string]func(...any) (any, error) // the functions expressions call, by name
	when           *program
	billNo         *program
	body           *cfield
	need           *need // what Apply decodes of a document
	usesOrder      bool

	states sync.Pool // *state
}

// Result is one target request made from one document.
type Result struct {
	// Skipped is true when the mapping's condition (when:) is false for the
	// document: nothing is to be written, and BillNo and Body are empty.
	Skipped bool
	BillNo  string
	// Body is the request: maps, lists, strings, bools, ints and
	// json.Number, ready for encoding/json.
	Body map[string]any
}

// Load reads and compiles the mapping file at path. On failure the error is
// a Problems value listing every problem, each at file:line:col.
func Load(path string, opts Options) (*Mapping, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		msg := err.Error()
		var pe *fs.PathError
		if errors.As(err, &pe) {
			msg = "cannot read the mapping file: " + pe.Err.Error()
		}
		return nil, Problems{config.NewError(Position{File: path}, "", msg, "check the path and its permissions", err)}
	}
	return Parse(path, data, opts)
}

// Parse compiles a mapping from data; name is the file it came from, used
// in positions and to find lookup files when opts.Dir is empty.
func Parse(name string, data []byte, opts Options) (*Mapping, error) {
	spec, probs := readFile(name, data)
	if spec == nil {
		return nil, probs.Sorted()
	}
	m := &Mapping{
		name:   name,
		source: spec.source,
		target: spec.target,
		loc:    opts.Location,
		vars:   map[string]any{},
		tables: map[string]Table{},
		need:   &need{},
	}
	if m.loc == nil {
		m.loc = shanghai()
	}
	// Vars: the file's defaults, then the flow's values.
	maps.Copy(m.vars, spec.vars)
	for _, k := range sortedKeys(opts.Vars) {
		v := opts.Vars[k]
		if _, ok := spec.vars[k]; !ok {
			probs = append(probs, &Problem{Pos: Position{File: name}, Path: "vars." + k,
				Msg:  "the mapping declares no var " + strconv.Quote(k),
				Hint: "its vars are: " + joinOrNone(sortedKeys(spec.vars))})
			continue
		}
		if _, ok := plainString(v); !ok {
			probs = append(probs, &Problem{Pos: Position{File: name}, Path: "vars." + k,
				Msg: "a var must be text, a whole number or true/false, got a " + typeName(v)})
			continue
		}
		m.vars[k] = v
	}
	// Lookup tables: inline or CSV, then the flow's entries.
	dir := opts.Dir
	if dir == "" {
		dir = filepath.Dir(name)
	}
	for _, ls := range spec.lookups {
		if ls.file == "" {
			m.tables[ls.name] = ls.entries
			continue
		}
		path := ls.file
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		t, err := LoadTable(path)
		if err != nil {
			var ps Problems
			if errors.As(err, &ps) {
				for _, p := range ps {
					if p.Path == "" {
						p.Path = "lookups." + ls.name
					}
					if p.Pos.Line == 0 { // the file itself: point at where it is named
						p.Msg = p.Msg + " (" + path + ")"
						p.Pos = ls.pos
					}
				}
				probs = append(probs, ps...)
			}
			m.tables[ls.name] = Table{}
			continue
		}
		m.tables[ls.name] = t
	}
	for _, name := range sortedKeys(opts.Lookups) {
		t, ok := m.tables[name]
		if !ok {
			probs = append(probs, &Problem{Pos: Position{File: m.name}, Path: "lookups." + name,
				Msg:  "the mapping has no lookup table " + strconv.Quote(name),
				Hint: "its tables are: " + joinOrNone(sortedKeys(m.tables))})
			continue
		}
		merged := make(Table, len(t)+len(opts.Lookups[name]))
		maps.Copy(merged, t)
		maps.Copy(merged, opts.Lookups[name])
		m.tables[name] = merged
	}

	c := newCompiler(m)
	when := spec.when
	if opts.When != "" {
		pos := opts.WhenPos
		if pos == (Position{}) {
			pos = Position{File: name}
		}
		when = &exprSrc{text: opts.When, pos: pos}
	}
	if when != nil {
		m.when = c.compile(*when, "when", scopeHead, nil, true)
	}
	billNo := spec.billNo
	if billNo == nil {
		// The canonical order's number is the source key, which is what
		// makes a retried write find the bill it may already have made.
		billNo = &exprSrc{text: "order.order_no", pos: Position{File: name}}
	}
	m.billNo = c.compile(*billNo, "bill_no", scopeHead, nil, false)
	if spec.body != nil {
		m.body = c.compileField(spec.body, scopeBody, nil)
	}
	probs = append(probs, c.probs...)
	if len(probs) > 0 {
		return nil, probs.Sorted()
	}
	m.need.finish()
	m.boxed = make(map[string]map[string]any, len(m.tables))
	for name, t := range m.tables {
		b := make(map[string]any, len(t))
		for k, v := range t {
			b[k] = v
		}
		m.boxed[name] = b
	}
	m.states.New = func() any { return m.newState() }
	return m, nil
}

// Check compiles the mapping file at path and returns every problem, for
// orderhub check; nil means the mapping loads.
func Check(path string, opts Options) Problems {
	_, err := Load(path, opts)
	var ps Problems
	if errors.As(err, &ps) {
		return ps
	}
	if err != nil {
		return Problems{{Pos: Position{File: path}, Msg: err.Error()}}
	}
	return nil
}

// Name is the file the mapping was read from.
func (m *Mapping) Name() string { return m.name }

// Source is the source API the file says it is written for ("" when it
// does not say).
func (m *Mapping) Source() string { return m.source }

// Target is the target API the file names.
func (m *Mapping) Target() string { return m.target }

// Vars returns the vars in effect: the file's defaults with the flow's
// values applied.
func (m *Mapping) Vars() map[string]any { return maps.Clone(m.vars) }

// UsesOrder reports whether any expression reads order, so a caller can skip
// building the canonical order map when none does.
func (m *Mapping) UsesOrder() bool { return m.usesOrder }

var shanghaiOnce = sync.OnceValue(func() *time.Location {
	if loc, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600) // no daylight saving since 1991
})

func shanghai() *time.Location { return shanghaiOnce() }

func joinOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	out := s[0]
	for _, x := range s[1:] {
		out += ", " + x
	}
	return out
}

// state is what one Apply call works with; states are pooled so that the
// VM's stack and the environment map are reused.
type state struct {
	vm   vm.VM
	env  map[string]any
	errs []*FieldError
	path []pathSeg

	roots [numRoots]any // env's variables, for native runs
	args  []any         // the arguments of native helper calls, a stack
}

type pathSeg struct {
	key string
	idx int // -1 for an object key
}

func (m *Mapping) newState() *state {
	return &state{env: make(map[string]any, 8)}
}
