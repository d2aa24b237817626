package config

import (
	"fmt"
	"sort"
	"sync"
)

// KindSpec declares one system kind: what its settings look like and what it
// can do. Each connector room registers its kind in an init function, so the
// loader, the checker and the JSON Schema all learn of a kind from one place.
type KindSpec struct {
	// Kind is the value of `kind:` in a system, e.g. "mall".
	Kind string
	// Summary is one line for the schema and `orderhub check` messages.
	Summary string
	// NewSettings returns a pointer to a zero settings struct. The system's YAML
	// keys other than kind and base_url are decoded into it strictly.
	NewSettings func() any
	// Push reports that sources with mode push may use systems of this kind.
	Push bool
	// PullAPIs are the APIs sources with mode pull may name for this kind.
	PullAPIs []string
	// WriteAPIs are the APIs flows may write to on a target of this kind.
	WriteAPIs []string
	// Send reports that rules may name systems of this kind as channels.
	Send bool
	// Addressed reports that the kind sends to people, so a rule using it
	// needs to:.
	Addressed bool
	// VariantPrefix and Variants are the kind's other ways to send, named
	// in a rule as PREFIX:NAME or SYSTEM:NAME (ding:phone).
	VariantPrefix string
	Variants      []string
}

// SettingsValidator is implemented by settings structs that need checks beyond
// the `required` and `enum` struct tags. Each returned FieldProblem names the
// YAML key it is about, so the error points at the right line.
type SettingsValidator interface {
	Validate() []FieldProblem
}

// FieldProblem is one problem a settings struct found with itself.
type FieldProblem struct {
	Key  string // YAML key inside the system, e.g. "app_sign"
	Msg  string // what is wrong
	Hint string // how to fix it
}

var (
	kindsMu sync.RWMutex
	kinds   = map[string]KindSpec{}
)

// RegisterKind makes a system kind known. It panics on a duplicate, which is a
// programming error caught at start-up.
func RegisterKind(spec KindSpec) {
	kindsMu.Lock()
	defer kindsMu.Unlock()
	if _, dup := kinds[spec.Kind]; dup {
		panic(fmt.Sprintf("config: system kind %q registered twice", spec.Kind))
	}
	kinds[spec.Kind] = spec
}

// LookupKind returns the spec of a registered kind.
func LookupKind(kind string) (KindSpec, bool) {
	kindsMu.RLock()
	defer kindsMu.RUnlock()
	s, ok := kinds[kind]
	return s, ok
}

// Kinds returns every registered kind, sorted by name.
func Kinds() []KindSpec {
	kindsMu.RLock()
	defer kindsMu.RUnlock()
	out := make([]KindSpec, 0, len(kinds))
	for _, s := range kinds {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kind < out[j].Kind })
	return out
}

var (
	templatesMu sync.RWMutex
	shipped     = map[string]bool{}
)

// RegisterTemplates makes the names of shipped message templates known, so
// that a rule naming one passes the check. The notification engine, which
// embeds them, registers them in an init function.
func RegisterTemplates(names ...string) {
	templatesMu.Lock()
	defer templatesMu.Unlock()
	for _, n := range names {
		shipped[n] = true
	}
}

// ShippedTemplates returns the names of the shipped templates, sorted.
func ShippedTemplates() []string {
	templatesMu.RLock()
	defer templatesMu.RUnlock()
	return keys(shipped)
}
