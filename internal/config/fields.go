package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// field is one configurable struct field, as its tags describe it.
type field struct {
	key      string
	index    []int
	typ      reflect.Type
	doc      string
	required bool
	enum     []string
	min      *int64
}

// fieldsOf lists the configurable fields of struct type t in declaration
// order: those with a yaml name (the lower-cased Go name when the tag has
// none, as goccy does), skipping `yaml:"-"` and unexported fields. Embedded
// structs without a name, or tagged ",inline", contribute their fields.
func fieldsOf(t reflect.Type) []field {
	var out []field
	for i := range t.NumField() {
		sf := t.Field(i)
		name, opts, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if sf.Anonymous && sf.Type.Kind() == reflect.Struct && (name == "" || strings.Contains(opts, "inline")) {
			for _, f := range fieldsOf(sf.Type) {
				f.index = append([]int{i}, f.index...)
				out = append(out, f)
			}
			continue
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(sf.Name)
		}
		f := field{
			key:      name,
			index:    []int{i},
			typ:      sf.Type,
			doc:      sf.Tag.Get("doc"),
			required: sf.Tag.Get("required") == "true",
		}
		if e := sf.Tag.Get("enum"); e != "" {
			f.enum = strings.Split(e, ",")
		}
		if m := sf.Tag.Get("min"); m != "" {
			n, err := strconv.ParseInt(m, 10, 64)
			if err != nil {
				panic(fmt.Sprintf("config: %s.%s: bad min tag %q", t, sf.Name, m))
			}
			f.min = &n
		}
		out = append(out, f)
	}
	return out
}

func findField(fields []field, key string) (field, bool) {
	for _, f := range fields {
		if f.key == key {
			return f, true
		}
	}
	return field{}, false
}

func keysOf(fields []field) []string {
	keys := make([]string, len(fields))
	for i, f := range fields {
		keys[i] = f.key
	}
	return keys
}
