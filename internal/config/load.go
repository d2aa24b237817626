package config

import (
	"errors"
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
		d.errs = append(d.errs, d.syntaxError(err, data))
		return nil, d.errs
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
		d.scrubSecrets()
		return nil, d.errs.sorted()
	}
	return cfg, nil
}

// seenKey records where a key and its value were written, by key path, so
// checks that run after decoding can still point at the right line.
type seenKey struct {
	key, value Position
	null       bool // written with no value ("key:" or "key: ~")
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
