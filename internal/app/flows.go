package app

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"

	"orderhub/internal/config"
	"orderhub/internal/connector"
	"orderhub/internal/flow"
	"orderhub/internal/mapping"
	"orderhub/internal/notify"
	"orderhub/internal/order"
)

// Mapper adapts a compiled mapping to the flow stage.
type Mapper struct {
	M   *mapping.Mapping
	cfg *config.Config
}

// WithConfig returns the mapper reading the zone from cfg.
func (mp Mapper) WithConfig(cfg *config.Config) Mapper { mp.cfg = cfg; return mp }

// UsesOrder implements flow.OrderUser.
func (mp Mapper) UsesOrder() bool { return mp.M.UsesOrder() }

// Map implements flow.Mapper.
func (mp Mapper) Map(raw []byte, o *order.Order) (connector.Bill, bool, error) {
	var ord map[string]any
	if mp.M.UsesOrder() {
		ord = mapping.OrderMap(*o, mp.cfg.Location)
	}
	res, err := mp.M.Apply(raw, ord)
	if err != nil {
		return connector.Bill{}, false, err
	}
	if res.Skipped {
		return connector.Bill{}, false, nil
	}
	return connector.Bill{No: res.BillNo, Body: res.Body}, true, nil
}

// FlowMapping compiles a flow's mapping: its mapping: file (relative to the
// config file), or the one shipped for its source API and target API.
func FlowMapping(cfg *config.Config, name string) (*mapping.Mapping, error) {
	fl := cfg.Flows[name]
	src, ok := cfg.Sources[fl.Source]
	if !ok {
		return nil, fmt.Errorf("flow %q: unknown source %q", name, fl.Source)
	}
	opts := mapping.Options{Location: cfg.Location, When: fl.When, WhenPos: fl.Pos}
	if len(fl.Vars) > 0 {
		opts.Vars = map[string]any{}
		for k, v := range fl.Vars {
			opts.Vars[k] = v
		}
	}
	if len(fl.Lookups) > 0 {
		opts.Lookups = map[string]mapping.Table{}
		for t, entries := range fl.Lookups {
			opts.Lookups[t] = mapping.Table(entries)
		}
	}
	if fl.Mapping != "" {
		path := fl.Mapping
		if !filepath.IsAbs(path) && cfg.File != "" {
			path = filepath.Join(filepath.Dir(cfg.File), path)
		}
		return mapping.Load(path, opts)
	}
	m, ok, err := mapping.Shipped(src.API, fl.API, opts)
	if !ok {
		var pairs []string
		for _, p := range mapping.ShippedPairs() {
			pairs = append(pairs, p[0]+" → "+p[1])
		}
		return nil, fmt.Errorf("flow %q: orderhub ships no mapping from %s to %s; write one and name it in mapping: (shipped: %v)", name, src.API, fl.API, pairs)
	}
	return m, err
}

// Check is what `orderhub check` adds to loading the file: every mapping
// compiled, and every pull source and flow built as start-up builds them
// (clients are made; nothing is called). Start-up and a reload fail on the
// same problems, so a configuration that passes check starts.
func Check(cfg *config.Config, log *slog.Logger) []error {
	out := append(CheckFlows(cfg), CheckRules(cfg)...)
	if len(out) > 0 {
		return out
	}
	if _, err := PullSources(cfg, log); err != nil {
		out = append(out, err)
	}
	if _, err := Flows(cfg, log); err != nil {
		out = append(out, err)
	}
	return out
}

// CheckFlows compiles every flow's mapping and returns each problem, for
// orderhub check and for a reload; positions are file:line:col.
func CheckFlows(cfg *config.Config) []error {
	var out []error
	for _, name := range sortedFlowNames(cfg) {
		if _, err := FlowMapping(cfg, name); err != nil {
			var ps mapping.Problems
			if errors.As(err, &ps) {
				for _, p := range ps {
					out = append(out, flowProblem(cfg, name, p))
				}
				continue
			}
			out = append(out, err)
		}
	}
	return out
}

// CheckRules compiles every notification rule's condition and every
// template, shipped or configured, and returns each problem at its
// file:line:col, for orderhub check, start-up and a reload.
func CheckRules(cfg *config.Config) []error {
	_, errs := notify.Compile(cfg)
	return errs
}

// flowProblem places a mapping problem: a problem with the flow's own vars,
// lookups or when: is reported at the flow in the config file; one inside a
// mapping file at its line there.
func flowProblem(cfg *config.Config, name string, p *mapping.Problem) error {
	fl := cfg.Flows[name]
	for _, key := range []string{"vars", "lookups", "when"} {
		if p.Path == key || strings.HasPrefix(p.Path, key+".") || (key == "when" && p.Pos.Line == 0 && fl.When != "" && strings.Contains(p.Path, "when")) {
			return &config.Error{Pos: fl.Pos, Path: "flows." + name + "." + p.Path, Msg: p.Msg, Hint: p.Hint}
		}
	}
	return fmt.Errorf("flows.%s: %w", name, p)
}

func sortedFlowNames(cfg *config.Config) []string {
	names := make([]string, 0, len(cfg.Flows))
	for n := range cfg.Flows {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Flows builds every flow of cfg: its mapping, its target's writer and its
// retry settings.
func Flows(cfg *config.Config, log *slog.Logger) ([]*flow.Flow, error) {
	var out []*flow.Flow
	writers := map[string]connector.Writer{}
	for _, name := range sortedFlowNames(cfg) {
		fl := cfg.Flows[name]
		sys, ok := cfg.Systems[fl.Target]
		if !ok {
			return nil, fmt.Errorf("flow %q: target %q is not configured", name, fl.Target)
		}
		kind, ok := connector.Lookup(sys.Kind)
		if !ok || kind.Write == nil {
			return nil, fmt.Errorf("flow %q: system %q of kind %q cannot be written to", name, sys.Name, sys.Kind)
		}
		api, ok := kind.Write.API(fl.API)
		if !ok {
			return nil, fmt.Errorf("flow %q: kind %q has no API %q", name, sys.Kind, fl.API)
		}
		m, err := FlowMapping(cfg, name)
		if err != nil {
			return nil, err
		}
		w, ok := writers[sys.Name]
		if !ok {
			// One writer per target system, so flows into one ERP share its
			// session or token.
			if w, err = connector.NewWriter(ConnectorEnv(cfg, sys, log)); err != nil {
				return nil, fmt.Errorf("flow %q: %w", name, err)
			}
			writers[sys.Name] = w
		}
		out = append(out, &flow.Flow{
			Name: name, Source: fl.Source, Target: sys.Name, API: api, Writer: w, Mapper: Mapper{M: m, cfg: cfg},
			Batch: fl.Batch, Initial: fl.Retry.Initial.Std(), Max: fl.Retry.Max.Std(), Attempts: fl.Retry.Attempts,
		})
	}
	return out, nil
}
