package config

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
)

// Patterns for the values decoded by UnmarshalText. Each also admits any
// value with a ${VAR} reference, which is only known when orderhub starts.
const (
	envRefPattern   = `\$\{`
	durationPattern = `^\s*(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)\s*$|` + envRefPattern
	sizePattern     = `^\s*[0-9]+\s*(KiB|MiB|GiB|KB|MB|GB|B)?\s*$|` + envRefPattern
)

type object = map[string]any

// Schema returns the JSON Schema (draft 2020-12) of the config file, generated
// from the Go types and their tags, and from the kinds registered so far: call
// it after the connector packages are imported. Editors use it to complete
// keys and flag mistakes before orderhub ever reads the file.
func Schema() ([]byte, error) {
	g := schemaGen{visiting: map[reflect.Type]bool{}}
	root := g.structSchema(reflect.TypeFor[Config](), "", true)
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["title"] = "orderhub configuration"
	root["description"] = "Systems (external accounts) by name, the sources orders arrive from, and the server's own settings. Values may use ${ENV_VAR} or ${ENV_VAR:-default}."

	// encoding/json sorts map keys, which makes the output deterministic.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep <, > and & readable in descriptions
	enc.SetIndent("", "  ")
	if err := enc.Encode(root); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

type schemaGen struct {
	visiting map[reflect.Type]bool // struct types being generated, to stop on recursive types
}

// typeSchema is the schema of a value of type t. path is the key path of the
// value below Config when rooted, so defaults can be shown; values inside maps
// and lists are not rooted.
func (g *schemaGen) typeSchema(t reflect.Type, path string, rooted bool) object {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case secretType:
		return object{"type": "string", "writeOnly": true}
	case durationType:
		// A string such as 2m; YAML reads a bare 0 as a number, which the
		// loader accepts too, so the number 0 (and only it) is allowed.
		// pattern applies to strings only, minimum and maximum to numbers only.
		return object{"type": []string{"string", "integer"}, "pattern": durationPattern, "minimum": 0, "maximum": 0}
	case byteSizeType:
		return object{"oneOf": []any{
			object{"type": "integer", "minimum": 0},
			object{"type": "string", "pattern": sizePattern},
		}}
	case systemType:
		return g.systemSchema()
	}
	if reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return object{"type": "string"}
	}
	switch t.Kind() {
	case reflect.String:
		return object{"type": "string"}
	case reflect.Bool:
		return object{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return object{"type": "integer"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return object{"type": "integer", "minimum": 0}
	case reflect.Float32, reflect.Float64:
		return object{"type": "number"}
	case reflect.Struct:
		return g.structSchema(t, path, rooted)
	case reflect.Slice, reflect.Array:
		return object{"type": "array", "items": g.typeSchema(t.Elem(), "", false)}
	case reflect.Map:
		s := object{"type": "object", "additionalProperties": g.typeSchema(t.Elem(), "", false)}
		if e := t.Elem(); e == reflect.TypeFor[*System]() || e == reflect.TypeFor[*Source]() {
			s["propertyNames"] = object{"pattern": namePattern.String()}
		}
		return s
	}
	return object{} // any value
}

// structSchema is a closed object: only the struct's keys are allowed, as the
// loader is strict about unknown keys too.
func (g *schemaGen) structSchema(t reflect.Type, path string, rooted bool) object {
	if g.visiting[t] {
		return object{"type": "object"}
	}
	g.visiting[t] = true
	defer delete(g.visiting, t)

	props, required := g.properties(fieldsOf(t), path, rooted)
	s := object{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func (g *schemaGen) properties(fields []field, path string, rooted bool) (object, []string) {
	props := object{}
	var required []string
	for _, f := range fields {
		props[f.key] = g.fieldSchema(f, join(path, f.key), rooted)
		if f.required {
			required = append(required, f.key)
		}
	}
	return props, required
}

func (g *schemaGen) fieldSchema(f field, path string, rooted bool) object {
	s := g.typeSchema(f.typ, path, rooted)
	desc := f.doc
	if f.typ == secretType && !strings.Contains(desc, "${") {
		desc = strings.TrimPrefix(desc+"; a secret: write ${ENV_VAR} to keep it out of the file", "; ")
	}
	if desc != "" {
		s["description"] = desc
	}
	if f.enum != nil {
		s["enum"] = f.enum
	}
	if f.min != nil {
		s["minimum"] = *f.min
	}
	if rooted {
		for _, def := range defaults {
			if def.path == path {
				s["default"] = defaultJSON(f.typ, def.text)
			}
		}
	}
	return s
}

// defaultJSON is a default as JSON shows it: a number for plain integers, the
// written text for everything else (durations and sizes read better as 5m and
// 1MiB).
func defaultJSON(t reflect.Type, text string) any {
	if t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64 && !reflect.PointerTo(t).Implements(textUnmarshalerType) {
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			return n
		}
	}
	return text
}

// systemSchema describes a system: kind and base_url, and for each registered
// kind an if/then that adds the kind's settings and closes the object, so an
// editor completes the settings of the kind written.
func (g *schemaGen) systemSchema() object {
	sysFields := fieldsOf(systemType)
	props, required := g.properties(sysFields, "", false)
	kinds := Kinds()
	if len(kinds) > 0 {
		var names, summaries []string
		for _, k := range kinds {
			names = append(names, k.Kind)
			if k.Summary != "" {
				summaries = append(summaries, k.Kind+": "+k.Summary)
			}
		}
		kind := props["kind"].(object)
		kind["enum"] = names
		if len(summaries) > 0 {
			kind["description"] = kind["description"].(string) + ". " + strings.Join(summaries, "; ")
		}
	}
	props["base_url"].(object)["format"] = "uri"
	s := object{"type": "object", "properties": props, "required": required}

	var allOf []any
	for _, k := range kinds {
		// kind and base_url are listed again because additionalProperties
		// only sees the properties of its own schema object.
		thenProps, _ := g.properties(sysFields, "", false)
		thenProps["base_url"].(object)["format"] = "uri"
		var settingsRequired []string
		if k.NewSettings != nil {
			if st := reflect.TypeOf(k.NewSettings()); st != nil && st.Kind() == reflect.Pointer && st.Elem().Kind() == reflect.Struct {
				var settingsProps object
				settingsProps, settingsRequired = g.properties(fieldsOf(st.Elem()), "", false)
				for key, p := range settingsProps {
					thenProps[key] = p
				}
			}
		}
		then := object{"properties": thenProps, "additionalProperties": false}
		if len(settingsRequired) > 0 {
			then["required"] = settingsRequired
		}
		if k.Summary != "" {
			then["description"] = k.Summary
		}
		allOf = append(allOf, object{
			"if":   object{"properties": object{"kind": object{"const": k.Kind}}, "required": []string{"kind"}},
			"then": then,
		})
	}
	if len(allOf) > 0 {
		s["allOf"] = allOf
	}
	return s
}
