package config

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// The decoder below walks goccy's AST itself instead of calling yaml.Unmarshal:
// that way every key and value keeps its line and column, unknown keys are
// found everywhere (including inside kind settings, whose type is only known
// once `kind:` is read), ${VAR} is expanded in values only, and every problem
// is collected rather than stopping at the first.

var (
	systemType          = reflect.TypeFor[System]()
	secretType          = reflect.TypeFor[Secret]()
	durationType        = reflect.TypeFor[Duration]()
	byteSizeType        = reflect.TypeFor[ByteSize]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// entry is one key: value pair of a YAML mapping.
type entry struct {
	key    string
	keyPos Position
	value  ast.Node
}

// decodeValue decodes node n into v. path names the value in messages; at is
// where the key holding it was written, the place to report a struct's missing
// required keys.
func (d *decoder) decodeValue(n ast.Node, v reflect.Value, path string, at Position) {
	pos := d.pos(n)
	rn, ok := d.resolve(n, path)
	if !ok {
		return
	}
	null := isNull(rn)
	t := v.Type()

	switch {
	case t.Kind() == reflect.Pointer:
		// A null struct still gets checked (e.g. `shop:` alone must report a
		// missing kind), so only null non-structs stay nil.
		if null && t.Elem().Kind() != reflect.Struct {
			return
		}
		if v.IsNil() {
			v.Set(reflect.New(t.Elem()))
		}
		d.decodeValue(n, v.Elem(), path, at)
		return
	case t == systemType:
		if !null && !isMapping(rn) {
			d.add(pos, path, fmt.Sprintf("expected a map with kind: and its settings, got %s", describe(rn)), "")
			return
		}
		d.decodeSystem(rn, v, path, at)
		return
	case reflect.PointerTo(t).Implements(textUnmarshalerType):
		d.decodeScalar(rn, v, path, pos, null)
		return
	}

	switch t.Kind() {
	case reflect.Struct:
		if !null && !isMapping(rn) {
			d.add(pos, path, fmt.Sprintf("expected a map, got %s", describe(rn)), "")
			return
		}
		var entries []entry
		if !null {
			entries = d.entries(rn, path)
		}
		d.decodeEntries(entries, v, path, at, nil)
	case reflect.Map:
		d.decodeMap(rn, v, path, pos, null)
	case reflect.Slice:
		d.decodeSlice(rn, v, path, pos, null)
	case reflect.Interface:
		if null {
			return
		}
		// Free-form values in a kind's settings: goccy decodes them as it
		// would for yaml.Unmarshal into any.
		x := reflect.New(t)
		if err := yaml.NodeToValue(rn, x.Interface()); err != nil {
			d.add(pos, path, err.Error(), "")
			return
		}
		v.Set(x.Elem())
	default:
		d.decodeScalar(rn, v, path, pos, null)
	}
}

// decodeScalar decodes a single value: strings (with ${VAR} expansion),
// numbers, booleans and TextUnmarshalers such as Duration and ByteSize.
func (d *decoder) decodeScalar(rn ast.Node, v reflect.Value, path string, pos Position, null bool) {
	if null {
		return
	}
	text, isString, ok := scalarText(rn)
	if !ok {
		d.add(pos, path, fmt.Sprintf("expected %s, got %s", noun(v.Type()), describe(rn)), "")
		return
	}
	if isString {
		expanded, problems := expand(text, d.env)
		for _, p := range problems {
			d.add(pos, path, p.msg, p.hint)
		}
		if len(problems) > 0 {
			return
		}
		text = expanded
	}
	if v.Type() == secretType {
		d.secrets = append(d.secrets, text)
	}
	if msg := setScalar(v, text); msg != "" {
		d.add(pos, path, msg, "")
	}
}

// setScalar sets v from its written text. The message it returns on failure
// is plain words, e.g. `expected a whole number, got "abc"`; it never quotes a
// string value, so secrets stay out of it.
func setScalar(v reflect.Value, text string) string {
	if u, ok := v.Addr().Interface().(encoding.TextUnmarshaler); ok {
		if err := u.UnmarshalText([]byte(text)); err != nil {
			return err.Error()
		}
		return ""
	}
	trimmed := strings.ReplaceAll(strings.TrimSpace(text), "_", "") // YAML allows 1_000
	switch v.Kind() {
	case reflect.String:
		v.SetString(text)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(text))
		if err != nil {
			return fmt.Sprintf("expected true or false, got %q", text)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(trimmed, 10, v.Type().Bits())
		if errors.Is(err, strconv.ErrRange) {
			return fmt.Sprintf("%s is too large", text)
		}
		if err != nil {
			return fmt.Sprintf("expected a whole number, got %q", text)
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(trimmed, 10, v.Type().Bits())
		if errors.Is(err, strconv.ErrRange) {
			return fmt.Sprintf("%s is too large", text)
		}
		if err != nil {
			return fmt.Sprintf("expected a whole number of 0 or more, got %q", text)
		}
		v.SetUint(n)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(trimmed, v.Type().Bits())
		if err != nil {
			return fmt.Sprintf("expected a number, got %q", text)
		}
		v.SetFloat(f)
	default:
		// A settings struct used a type this loader does not know: a
		// programming error in a connector, said plainly.
		return fmt.Sprintf("values of Go type %s cannot be configured", v.Type())
	}
	return ""
}

func (d *decoder) decodeMap(rn ast.Node, v reflect.Value, path string, pos Position, null bool) {
	if null {
		return
	}
	t := v.Type()
	if !isMapping(rn) {
		d.add(pos, path, fmt.Sprintf("expected a map, got %s", describe(rn)), "")
		return
	}
	if t.Key().Kind() != reflect.String {
		d.add(pos, path, fmt.Sprintf("maps with keys of Go type %s cannot be configured", t.Key()), "")
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(t))
	}
	for _, e := range d.entries(rn, path) {
		p := join(path, e.key)
		d.record(p, e)
		ev := reflect.New(t.Elem()).Elem()
		d.decodeValue(e.value, ev, p, e.keyPos)
		// Named things learn their name and where they were declared, for
		// messages at run time ("system shop (orderhub.yaml:12:3): …").
		switch x := ev.Interface().(type) {
		case *System:
			x.Name, x.Pos = e.key, e.keyPos
		case *Source:
			x.Name, x.Pos = e.key, e.keyPos
		case *Flow:
			x.Name, x.Pos = e.key, e.keyPos
		case *Rule:
			x.Name, x.Pos = e.key, e.keyPos
		case *Template:
			x.Name, x.Pos = e.key, e.keyPos
		case *Person:
			x.Key, x.Pos = e.key, e.keyPos
		}
		v.SetMapIndex(reflect.ValueOf(e.key).Convert(t.Key()), ev)
	}
}

func (d *decoder) decodeSlice(rn ast.Node, v reflect.Value, path string, pos Position, null bool) {
	if null {
		return
	}
	seq, ok := rn.(*ast.SequenceNode)
	if !ok {
		d.add(pos, path, fmt.Sprintf("expected a list, got %s", describe(rn)), "")
		return
	}
	out := reflect.MakeSlice(v.Type(), 0, len(seq.Values))
	for i, item := range seq.Values {
		p := fmt.Sprintf("%s[%d]", path, i)
		ip := d.pos(item)
		d.seen[p] = seenKey{key: ip, value: ip, null: isNull(d.target(item))}
		ev := reflect.New(v.Type().Elem()).Elem()
		d.decodeValue(item, ev, p, ip)
		out = reflect.Append(out, ev)
	}
	v.Set(out)
}

// decodeEntries decodes the entries of a mapping into struct v strictly:
// a key that names no field is an error, with a suggestion from valid (the
// struct's own keys when valid is nil). Then the struct tags are checked.
func (d *decoder) decodeEntries(entries []entry, v reflect.Value, path string, at Position, valid []string) {
	fields := fieldsOf(v.Type())
	if valid == nil {
		valid = keysOf(fields)
	}
	seen := map[string]entry{}
	for _, e := range entries {
		p := join(path, e.key)
		f, ok := findField(fields, e.key)
		if !ok {
			hint := didYouMean(e.key, valid, "valid keys")
			if len(valid) == 0 {
				hint = "nothing can be set here"
			}
			d.add(e.keyPos, p, fmt.Sprintf("unknown key %q", e.key), hint)
			continue
		}
		d.record(p, e)
		seen[e.key] = e
		d.decodeValue(e.value, v.FieldByIndex(f.index), p, e.keyPos)
	}
	d.checkFields(v, fields, seen, path, at)
}

// decodeSystem decodes one system. Its keys are kind and base_url plus the
// settings of its kind, so `kind:` is decoded first to learn which settings
// struct the remaining keys go into.
func (d *decoder) decodeSystem(rn ast.Node, v reflect.Value, path string, at Position) {
	sys := v.Addr().Interface().(*System)
	var all []entry
	if !isNull(rn) {
		all = d.entries(rn, path)
	}
	sysFields := fieldsOf(systemType)
	var own, rest []entry
	for _, e := range all {
		if _, ok := findField(sysFields, e.key); ok {
			own = append(own, e)
		} else {
			rest = append(rest, e)
		}
	}
	d.decodeEntries(own, v, path, at, nil)
	if sys.Kind == "" {
		return // reported as a missing required key
	}
	kindPath := join(path, "kind")
	spec, ok := LookupKind(sys.Kind)
	if !ok {
		if !d.bad[kindPath] {
			d.add(d.valuePos(kindPath), kindPath, fmt.Sprintf("unknown kind %q", sys.Kind), kindsHint(sys.Kind))
		}
		return // without the kind its other keys cannot be checked
	}

	valid := keysOf(sysFields)
	var settings any
	if spec.NewSettings != nil {
		settings = spec.NewSettings()
	}
	if settings == nil {
		// A kind without settings: anything but kind and base_url is unknown.
		d.decodeEntries(rest, reflect.ValueOf(&struct{}{}).Elem(), path, at, valid)
		return
	}
	sv := reflect.ValueOf(settings)
	if sv.Kind() != reflect.Pointer || sv.Elem().Kind() != reflect.Struct {
		panic(fmt.Sprintf("config: kind %q: NewSettings must return a pointer to a struct, not %T", spec.Kind, settings))
	}
	valid = append(valid, keysOf(fieldsOf(sv.Elem().Type()))...)
	d.decodeEntries(rest, sv.Elem(), path, at, valid)
	sys.Settings = settings
	d.checkSettings(settings, path, at)
}

// kindsHint names the kinds this build has, with a guess at the one meant.
func kindsHint(kind string) string {
	var names []string
	for _, k := range Kinds() {
		names = append(names, k.Kind)
	}
	if len(names) == 0 {
		return "no system kinds are registered in this build"
	}
	list := "kinds in this build: " + strings.Join(names, ", ")
	if s, ok := suggest(kind, names); ok {
		return fmt.Sprintf("did you mean %q? %s", s, list)
	}
	return list
}

// entries lists the key: value pairs of a mapping, with merge keys (<<: *base)
// applied: keys written in the mapping win over merged ones, and of merged
// ones the first wins, as YAML's merge key type specifies.
func (d *decoder) entries(n ast.Node, path string) []entry {
	var own, merged []entry
	for _, mv := range mappingValues(n) {
		if _, ok := mv.Key.(*ast.MergeKeyNode); ok {
			merged = append(merged, d.mergeEntries(mv.Value, path)...)
			continue
		}
		key, ok := d.keyText(mv.Key, path)
		if !ok {
			continue
		}
		own = append(own, entry{key: key, keyPos: d.pos(mv.Key), value: mv.Value})
	}
	have := map[string]bool{}
	for _, e := range own {
		have[e.key] = true
	}
	for _, e := range merged {
		if !have[e.key] {
			have[e.key] = true
			own = append(own, e)
		}
	}
	return own
}

func (d *decoder) mergeEntries(n ast.Node, path string) []entry {
	rn, ok := d.resolve(n, path)
	if !ok {
		return nil
	}
	if isMapping(rn) {
		return d.entries(rn, path)
	}
	if seq, ok := rn.(*ast.SequenceNode); ok {
		var out []entry
		for _, item := range seq.Values {
			out = append(out, d.mergeEntries(item, path)...)
		}
		return out
	}
	d.add(d.pos(n), path, fmt.Sprintf("<< merges a map into this one, got %s", describe(rn)),
		"write <<: *name, where &name marks a map")
	return nil
}

// keyText is the text of a mapping key. Keys are never ${VAR}-expanded: a key
// is a name from the schema (or a system's name), not data.
func (d *decoder) keyText(k ast.Node, path string) (string, bool) {
	if mk, ok := k.(*ast.MappingKeyNode); ok {
		k = mk.Value
	}
	rk, ok := d.resolve(k, path)
	if !ok {
		return "", false
	}
	text, _, ok := scalarText(rk)
	if !ok || isNull(rk) {
		d.add(d.pos(k), path, fmt.Sprintf("a key must be a plain word, got %s", describe(rk)), "")
		return "", false
	}
	return text, true
}

// record remembers where a key and its value were written.
func (d *decoder) record(path string, e entry) {
	t := d.target(e.value)
	_, block := t.(*ast.LiteralNode)
	quoted := false
	if tk := tokenOf(t); tk != nil {
		quoted = tk.Type == token.DoubleQuoteType || tk.Type == token.SingleQuoteType
	}
	d.seen[path] = seenKey{key: e.keyPos, value: d.pos(e.value), null: isNull(t), block: block, quoted: quoted}
}

func tokenOf(n ast.Node) *token.Token {
	if n == nil {
		return nil
	}
	return n.GetToken()
}

// valuePos is where the value at path was written; for a default, nothing was
// written, and the file itself is the best place to point at.
func (d *decoder) valuePos(path string) Position {
	if s, ok := d.seen[path]; ok {
		return s.value
	}
	return Position{File: d.file}
}

// written reports that the key at path was written with a value.
func (d *decoder) written(path string) bool {
	s, ok := d.seen[path]
	return ok && !s.null
}

// noun says what a value of type t is written as.
func noun(t reflect.Type) string {
	switch t {
	case durationType:
		return "a duration such as 30s or 2m"
	case byteSizeType:
		return "a size such as 1MiB"
	}
	if reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return "a single value"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a single value"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
