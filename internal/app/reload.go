package app

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"orderhub/internal/config"
	"orderhub/internal/store"
)

// restartOnly are the settings the running process holds on to for its
// whole life: the open database and its pragmas, the bound socket, the
// committer's batching and the log's encoder. A reload that changes one
// keeps the running value, says so, and applies everything else.
var restartOnly = []string{
	"store", "listen", "log.format",
	"ingest.sqlite_synchronous", "ingest.batch_max", "ingest.batch_wait",
}

// ReloadReport says what a reload did.
type ReloadReport struct {
	// Added, Removed and Changed name what differs from the configuration
	// that ran before, e.g. "sources.shop2", "systems.partner",
	// "api.tokens". Secrets count as a change without being shown.
	Added, Removed, Changed []string
	// NeedRestart are the settings that changed in the file but keep their
	// running values until the process is restarted.
	NeedRestart []Setting
}

// Setting is one restart-only setting that a reload could not change.
type Setting struct {
	Key, Running, Configured string
}

// Empty reports whether the reload changed nothing at all.
func (r *ReloadReport) Empty() bool {
	return len(r.Added)+len(r.Removed)+len(r.Changed)+len(r.NeedRestart) == 0
}

// ReloadFile reads the configuration at path and checks it exactly as
// `orderhub check` does (config.Load), then applies it with Reload. A file
// with problems is refused: each problem is logged as check prints it, the
// error lists them all, and the running configuration stays.
func (a *App) ReloadFile(path string) (*ReloadReport, error) {
	if path == "" {
		err := errors.New("this configuration was not read from a file, so there is nothing to reload")
		a.reloadRefused(err)
		return nil, err
	}
	cfg, err := config.Load(path)
	if err != nil {
		var problems config.Errors
		if errors.As(err, &problems) {
			for _, p := range problems {
				a.log.Error("config problem", "problem", p.Error())
			}
			err = fmt.Errorf("%s: %d problem(s) in the configuration", path, len(problems))
		}
		a.reloadRefused(err)
		return nil, err
	}
	if len(cfg.Systems) == 0 && len(cfg.Sources) == 0 {
		// A file emptied by mistake would take every source away at once.
		err := fmt.Errorf("%s configures no systems and no sources; a reload keeps the running configuration rather than serve nothing (restart to run without any)", path)
		a.reloadRefused(err)
		return nil, err
	}
	return a.Reload(cfg)
}

// Reload swaps in a checked configuration between requests. Requests already
// running finish on the runtime they started with. Restart-only settings
// keep their running values (they are listed in the report); if the new
// runtime cannot be built, nothing changes and the error says why.
func (a *App) Reload(cfg *config.Config) (*ReloadReport, error) {
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	running := a.rt.Load().Config
	next := *cfg // shallow: restart-only values are put back into the copy
	rep := &ReloadReport{}
	for _, c := range diffConfig(running, &next) {
		switch {
		case a.restartOnly(c.key):
			rep.NeedRestart = append(rep.NeedRestart, Setting{Key: c.key, Running: shown(c.key, c.old), Configured: shown(c.key, c.new)})
			c.new.Set(c.old)
		case c.what == added:
			rep.Added = append(rep.Added, c.key)
		case c.what == removed:
			rep.Removed = append(rep.Removed, c.key)
		default:
			rep.Changed = append(rep.Changed, c.key)
		}
	}
	rt, err := a.buildRuntime(&next)
	if err != nil {
		err = fmt.Errorf("the configuration cannot be applied: %w", err)
		a.reloadRefused(err)
		return nil, err
	}
	a.rt.Store(rt)
	if a.level != nil {
		_ = a.level.UnmarshalText([]byte(next.Log.Level))
	}
	a.reloads.WithLabelValues("applied").Inc()
	a.reloadOK.Set(1)
	for _, s := range rep.NeedRestart {
		a.log.Warn("setting needs a restart to change; the running value stays", "key", s.Key, "running", s.Running, "configured", s.Configured)
	}
	a.log.Info("configuration reloaded", "file", cfg.File, "added", rep.Added, "removed", rep.Removed, "changed", rep.Changed,
		"need_restart", len(rep.NeedRestart), "push_sources", len(rt.Sources))
	return rep, nil
}

func (a *App) reloadRefused(err error) {
	a.reloads.WithLabelValues("refused").Inc()
	a.reloadOK.Set(0)
	a.log.Error("configuration not reloaded; the running one stays", "err", err)
}

// restartOnly reports whether key cannot change while the process runs. The
// log level can, when the logger's level was handed over (WithLogLevel).
func (a *App) restartOnly(key string) bool {
	return slices.Contains(restartOnly, key) || key == "log.level" && a.level == nil
}

type changeKind int

const (
	changed changeKind = iota
	added
	removed
)

// change is one key whose value differs; old and new are settable fields of
// the two configurations (zero Values for an added or removed map entry).
type change struct {
	key      string
	what     changeKind
	old, new reflect.Value
}

// diffConfig lists what differs between two configurations, key by key as
// they are written in the file: the sections (log, ingest, api) field by
// field, named maps (systems, sources, …) entry by entry, the rest whole.
// Positions do not count: moving a block in the file changes nothing.
func diffConfig(a, b *config.Config) []change {
	var out []change
	diffStruct(reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem(), "", &out)
	return out
}

func diffStruct(a, b reflect.Value, prefix string, out *[]change) {
	t := a.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "" || name == "-" {
			continue
		}
		key := prefix + name
		fa, fb := a.Field(i), b.Field(i)
		switch {
		case f.Type.Kind() == reflect.Struct && hasYAMLFields(f.Type):
			diffStruct(fa, fb, key+".", out)
		case f.Type.Kind() == reflect.Map && f.Type.Key().Kind() == reflect.String:
			diffMap(fa, fb, key+".", out)
		case !reflect.DeepEqual(fa.Interface(), fb.Interface()):
			*out = append(*out, change{key: key, what: changed, old: fa, new: fb})
		}
	}
}

func diffMap(a, b reflect.Value, prefix string, out *[]change) {
	keys := map[string]bool{}
	for _, k := range a.MapKeys() {
		keys[k.String()] = true
	}
	for _, k := range b.MapKeys() {
		keys[k.String()] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	slices.Sort(sorted)
	for _, k := range sorted {
		kv := reflect.ValueOf(k).Convert(a.Type().Key())
		va, vb := a.MapIndex(kv), b.MapIndex(kv)
		switch {
		case !va.IsValid():
			*out = append(*out, change{key: prefix + k, what: added})
		case !vb.IsValid():
			*out = append(*out, change{key: prefix + k, what: removed})
		case !reflect.DeepEqual(withoutPos(va), withoutPos(vb)):
			*out = append(*out, change{key: prefix + k, what: changed})
		}
	}
}

// withoutPos is an entry's value with its Pos field cleared, for comparing.
func withoutPos(v reflect.Value) any {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return v.Interface()
	}
	c := reflect.New(v.Type()).Elem()
	c.Set(v)
	if p := c.FieldByName("Pos"); p.IsValid() && p.CanSet() {
		p.Set(reflect.Zero(p.Type()))
	}
	return c.Interface()
}

func hasYAMLFields(t reflect.Type) bool {
	for i := 0; i < t.NumField(); i++ {
		if tag := t.Field(i).Tag.Get("yaml"); tag != "" && tag != "-" {
			return true
		}
	}
	return false
}

// shown is a restart-only value as the log shows it: the store without its
// password, durations and sizes as they are written.
func shown(key string, v reflect.Value) string {
	if key == "store" {
		return store.Redact(v.String())
	}
	if m, ok := v.Interface().(encoding.TextMarshaler); ok {
		if b, err := m.MarshalText(); err == nil {
			return string(b)
		}
	}
	return fmt.Sprint(v.Interface())
}
