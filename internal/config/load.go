package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	// Timezone names must resolve on machines and containers without
	// /usr/share/zoneinfo; the embedded database costs about 450 KB.
	_ "time/tzdata"
)

// Load reads and validates the config file at path, taking ${VAR} values from
// the process environment. On failure the error is an Errors value listing
// every problem found.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		msg := err.Error()
		var pe *fs.PathError
		if errors.As(err, &pe) {
			msg = "cannot read the config file: " + pe.Err.Error()
		}
		return nil, Errors{{Pos: Position{File: path}, Msg: msg, Hint: "check the path and its permissions", cause: err}}
	}
	return Parse(data, path, os.LookupEnv)
}

// Parse decodes and validates a config from data. file names it in positions
// and becomes Config.File; env looks up the variables of ${VAR} references (a
// nil env means none is set). On failure the error is an Errors value listing
// every problem found, sorted by position, and the *Config is nil.
func Parse(data []byte, file string, env func(string) (string, bool)) (*Config, error) {
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	d := &decoder{
		file:    file,
		env:     env,
		aliases: map[*ast.AliasNode]ast.Node{},
		seen:    map[string]seenKey{},
		bad:     map[string]bool{},
	}
	cfg := &Config{File: file}

	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		// An unquoted ${VAR} inside { } or [ ] is the usual cause, and it
		// would hide every other problem in the file: say where each one is
		// and how to quote it, then check the file as if they were quoted.
		quoted, refs := quoteFlowRefs(data)
		if len(refs) == 0 {
			d.errs = append(d.errs, d.syntaxError(err, data))
			return nil, d.errs
		}
		d.quoted = refs
		for _, r := range refs {
			d.add(Position{File: file, Line: r.line, Column: r.col}, "",
				fmt.Sprintf("%s inside %s must be quoted: unquoted, the } of the reference ends the YAML collection", r.ref, r.within),
				fmt.Sprintf("quote it: \"%s\"", r.ref))
		}
		if f, err = parser.ParseBytes(quoted, 0); err != nil {
			d.errs = append(d.errs, d.syntaxError(err, quoted))
			return nil, d.errs.Sorted()
		}
	}
	var body ast.Node
	for i, doc := range f.Docs {
		switch {
		case i == 0:
			body = doc.Body
		case doc.Body != nil:
			d.add(d.pos(doc.Body), "", "a config file holds one YAML document; this is a second one",
				"remove the --- line and merge the documents")
		}
	}
	if body != nil {
		d.collectAnchors(body, map[string]ast.Node{})
	}
	d.decodeTop(body, cfg)
	d.applyDefaults(cfg)
	d.validate(cfg)

	if len(d.errs) > 0 {
		d.unshift()
		d.scrubSecrets()
		return nil, d.errs.Sorted()
	}
	return cfg, nil
}

// seenKey records where a key and its value were written, by key path, so
// checks that run after decoding can still point at the right line.
type seenKey struct {
	key, value Position
	null       bool // written with no value ("key:" or "key: ~")
	// block marks a | or > scalar, whose text starts on the line after
	// value; quoted one written in quotes, whose text starts one column on.
	block, quoted bool
}

// decoder walks the YAML AST into the Go types, collecting every problem.
type decoder struct {
	file    string
	env     func(string) (string, bool)
	errs    Errors
	aliases map[*ast.AliasNode]ast.Node // each *alias to the node its &anchor names
	seen    map[string]seenKey          // by key path, e.g. "systems.shop.app_sign"
	bad     map[string]bool             // key paths that already have an error
	secrets []string                    // decoded Secret values, kept out of messages
	quoted  []flowRef                   // references quoted before parsing, see quoteFlowRefs
}

// add records a problem.
func (d *decoder) add(pos Position, path, msg, hint string) {
	d.errs = append(d.errs, &Error{Pos: pos, Path: path, Msg: msg, Hint: hint})
	d.bad[path] = true
}

// syntaxError turns a goccy error into an Error at the position goccy reports.
// Only the message is kept: goccy's own text quotes the source lines, which
// may hold a secret.
func (d *decoder) syntaxError(err error, data []byte) *Error {
	e := &Error{Pos: Position{File: d.file}, Msg: err.Error(), Hint: "fix the YAML syntax", cause: err}
	var ye yaml.Error
	if errors.As(err, &ye) {
		e.Msg = ye.GetMessage()
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			e.Pos.Line, e.Pos.Column = tk.Position.Line, tk.Position.Column
		}
	}
	if strings.Contains(e.Msg, "already defined") {
		e.Hint = "each key may appear once in a map; remove or merge the repeated key"
	}
	// `{app_sign: ${SIGN}}` is the classic: inside { } and [ ] a brace ends
	// an unquoted value, so YAML itself rejects the line.
	if lines := strings.Split(string(data), "\n"); e.Pos.Line > 0 && e.Pos.Line <= len(lines) &&
		strings.Contains(lines[e.Pos.Line-1], "${") {
		e.Hint = `inside { } or [ ], put values with environment variables in quotes: "${VAR}"`
	}
	return e
}

// scrubSecrets replaces every Secret value found in a message with "the
// value". Our own messages never quote secrets; this is the safety net for a
// connector's SettingsValidator that does. Only whole words are replaced (a
// secret "short" must not turn "shorter" into nonsense), and values under
// three characters are left alone: they protect nothing and would garble text.
func (d *decoder) scrubSecrets() {
	for _, e := range d.errs {
		for _, s := range d.secrets {
			if len(s) >= 3 {
				e.Msg = replaceWord(e.Msg, s, "the value")
				e.Hint = replaceWord(e.Hint, s, "the value")
			}
		}
	}
}

// replaceWord replaces the occurrences of old in s that are not part of a
// longer word.
func replaceWord(s, old, repl string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, old)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := i + len(old)
		// An occurrence is embedded when a word character touches a word
		// character of old on either side.
		embedded := i > 0 && isWordByte(s[i-1]) && isWordByte(old[0]) ||
			end < len(s) && isWordByte(s[end]) && isWordByte(old[len(old)-1])
		b.WriteString(s[:i])
		if embedded {
			b.WriteString(old)
		} else {
			b.WriteString(repl)
		}
		s = s[end:]
	}
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// decodeTop decodes the document into cfg. An empty file (or one with only
// comments) is a valid config: every key has a default.
func (d *decoder) decodeTop(body ast.Node, cfg *Config) {
	if rn := d.target(body); rn != nil && !isNull(rn) && !isMapping(rn) {
		d.add(d.pos(body), "", "the config file must be a map of keys such as store:, systems: and sources:, got "+describe(rn), "")
		return
	}
	d.decodeValue(body, reflect.ValueOf(cfg).Elem(), "", Position{File: d.file, Line: 1, Column: 1})
}

// unshift moves the columns of problems found in the quoted text back to
// where they are in the file: each quoted reference before them on their
// line added two characters.
func (d *decoder) unshift() {
	for _, e := range d.errs {
		if strings.Contains(e.Msg, " must be quoted: ") {
			continue // ours, already placed in the file's own columns
		}
		shift := 0
		for _, r := range d.quoted {
			if r.line == e.Pos.Line && r.col < e.Pos.Column {
				shift += 2
			}
		}
		e.Pos.Column -= shift
	}
}

// flowRef is an unquoted ${VAR} reference inside a YAML flow collection.
type flowRef struct {
	line, col int
	ref       string // ${VAR} or ${VAR:-default}, as written
	within    string // "{ }" or "[ ]"
}

// quoteFlowRefs finds ${…} references written unquoted inside { } or [ ]
// and returns data with each put in double quotes. It reads the text line by
// line with just enough YAML to know whether a position is inside quotes, a
// comment or a flow collection; nesting carries over lines.
func quoteFlowRefs(data []byte) ([]byte, []flowRef) {
	var refs []flowRef
	var out strings.Builder
	var stack []byte // open flow brackets
	for n, line := range strings.SplitAfter(string(data), "\n") {
		var quote byte
		for i := 0; i < len(line); i++ {
			c := line[i]
			switch {
			case quote == '"' && c == '\\' && i+1 < len(line):
				out.WriteByte(c)
				i++
				c = line[i]
			case quote == '\'' && c == '\'' && i+1 < len(line) && line[i+1] == '\'':
				out.WriteByte(c)
				i++
			case quote != 0:
				if c == quote {
					quote = 0
				}
			case (c == '"' || c == '\'') && startsScalar(line[:i]):
				quote = c
			case c == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t'):
				out.WriteString(line[i:])
				i = len(line)
				continue
			case c == '{' || c == '[':
				stack = append(stack, c)
			case (c == '}' || c == ']') && len(stack) > 0:
				stack = stack[:len(stack)-1]
			case c == '$' && len(stack) > 0 && strings.HasPrefix(line[i:], "${"):
				if end := strings.IndexByte(line[i:], '}'); end > 0 {
					ref := line[i : i+end+1]
					within := "{ }"
					if stack[len(stack)-1] == '[' {
						within = "[ ]"
					}
					refs = append(refs, flowRef{line: n + 1, col: i + 1, ref: ref, within: within})
					out.WriteString(`"` + ref + `"`)
					i += end
					continue
				}
			}
			out.WriteByte(c)
		}
	}
	return []byte(out.String()), refs
}

// startsScalar reports whether a scalar may start after before on its line:
// a quote inside a plain scalar (it's) opens nothing.
func startsScalar(before string) bool {
	t := strings.TrimRight(before, " \t")
	return t == "" || strings.ContainsRune(":,[{-?", rune(t[len(t)-1]))
}
