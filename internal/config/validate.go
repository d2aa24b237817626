package config

import (
	"fmt"
	"net"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"orderhub/internal/order"
)

// checkFields applies the struct tags of v once its entries are decoded:
// required, enum and min. seen holds the keys that were written; at is where
// the struct itself was written, where a missing key is reported.
func (d *decoder) checkFields(v reflect.Value, fields []field, seen map[string]entry, path string, at Position) {
	for _, f := range fields {
		p := join(path, f.key)
		if d.bad[p] {
			continue // already reported; one problem per key is enough
		}
		fv := v.FieldByIndex(f.index)
		e, present := seen[f.key]
		if f.required && fv.IsZero() {
			hint := requiredHint(v.Type(), f)
			if present {
				d.add(e.keyPos, p, fmt.Sprintf("required key %q is empty", f.key), hint)
			} else {
				d.add(at, p, fmt.Sprintf("missing required key %q", f.key), hint)
			}
			continue
		}
		if !present || !d.written(p) {
			continue
		}
		if f.enum != nil && fv.Kind() == reflect.String && fv.String() != "" && !slices.Contains(f.enum, fv.String()) {
			msg, hint := enumProblem(v.Type(), f, fv)
			d.add(d.valuePos(p), p, msg, hint)
		}
		if f.min != nil && fv.CanInt() && fv.Int() < *f.min {
			d.add(d.valuePos(p), p, fmt.Sprintf("%s must be at least %d, got %d", f.key, *f.min, fv.Int()), f.doc)
		}
	}
}

// plannedValues are enum values the design has but this build does not
// implement; "not available in this build" is kinder than "unknown".
var plannedValues = map[reflect.Type]map[string][]string{}

// enumProblem says what is wrong with a value outside its enum tag's list and
// how to fix it.
func enumProblem(t reflect.Type, f field, fv reflect.Value) (msg, hint string) {
	list := strings.Join(f.enum, ", ")
	if fv.Type() == secretType {
		return fmt.Sprintf("the value of %s is not allowed", f.key), "use one of: " + list
	}
	got := fv.String()
	if slices.Contains(plannedValues[t][f.key], got) {
		return fmt.Sprintf("%s %q is not available in this build; supported: %s", f.key, got, list), ""
	}
	hint = "use one of: " + list
	if s, ok := suggest(got, f.enum); ok {
		hint = fmt.Sprintf("did you mean %q? %s", s, hint)
	}
	return fmt.Sprintf("unknown %s %q", f.key, got), hint
}

func requiredHint(t reflect.Type, f field) string {
	if t == systemType && f.key == "kind" {
		return "add kind: to say which connector this system uses; " + kindsHint("")
	}
	return f.doc
}

// checkSettings runs a kind's own checks. A problem about a key that already
// has an error is dropped: the settings of a key that failed to decode are
// zero, and the validator would only repeat the news.
func (d *decoder) checkSettings(settings any, path string, at Position) {
	sv, ok := settings.(SettingsValidator)
	if !ok {
		return
	}
	for _, p := range sv.Validate() {
		kp := path
		if p.Key != "" {
			kp = join(path, p.Key)
		}
		if d.bad[kp] {
			continue
		}
		pos := at
		if s, ok := d.seen[kp]; ok {
			pos = s.key
		}
		d.add(pos, kp, p.Msg, p.Hint)
	}
}

// defaults are the values of keys not written, as YAML text: applyDefaults
// decodes them like written values and Schema shows them to editors, so the
// two cannot disagree.
var defaults = []struct{ path, text string }{
	{"store", "sqlite://data/orderhub.db"},
	{"listen", "127.0.0.1:8080"},
	{"timezone", "Asia/Shanghai"},
	{"log.level", "info"},
	{"log.format", "json"},
	{"ingest.max_body", "1MiB"},
	{"ingest.batch_max", "256"},
	{"ingest.batch_wait", "2ms"},
	{"ingest.replay_window", "5m"},
	{"ingest.sqlite_synchronous", "FULL"},
	{"console.session_max_age", "12h"},
	{"console.session_idle", "1h"},
}

// applyDefaults fills keys that were not written. An empty string counts as
// not written, so `store: ${ORDERHUB_STORE:-}` falls back to the default; a
// number written as 0 is kept (and checked), since 0 can be meant.
func (d *decoder) applyDefaults(cfg *Config) {
	root := reflect.ValueOf(cfg).Elem()
	for _, def := range defaults {
		fv := fieldByPath(root, def.path)
		if d.bad[def.path] || !fv.IsZero() || fv.Kind() != reflect.String && d.written(def.path) {
			continue
		}
		if msg := setScalar(fv, def.text); msg != "" {
			panic("config: bad default for " + def.path + ": " + msg)
		}
	}
	// A source without its own limit has the ingest one, so the push path
	// reads one field.
	for _, src := range cfg.Sources {
		if src != nil && src.MaxBody == 0 {
			src.MaxBody = cfg.Ingest.MaxBody
		}
	}
}

// fieldByPath finds the field at a dotted yaml key path below struct v.
func fieldByPath(v reflect.Value, path string) reflect.Value {
	for _, key := range strings.Split(path, ".") {
		f, ok := findField(fieldsOf(v.Type()), key)
		if !ok {
			panic("config: no field at " + path)
		}
		v = v.FieldByIndex(f.index)
	}
	return v
}

// namePattern is what system and source names must match: they appear in URLs
// (POST /v1/push/{source}), metrics labels and file names.
var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// validate checks what the struct tags cannot say: URLs, addresses, the time
// zone, names, and the references between sources and systems.
func (d *decoder) validate(cfg *Config) {
	d.checkStore(cfg.Store)
	d.checkListen(cfg.Listen)
	if !d.bad["timezone"] {
		loc, err := time.LoadLocation(cfg.Timezone)
		switch {
		case cfg.Timezone == "Local":
			// The machine's zone differs between a laptop and a container;
			// order times must not.
			d.add(d.valuePos("timezone"), "timezone", "timezone Local depends on the machine orderhub runs on",
				"use an IANA name such as Asia/Shanghai")
		case err != nil:
			d.add(d.valuePos("timezone"), "timezone", fmt.Sprintf("unknown time zone %q", cfg.Timezone),
				"use an IANA name such as Asia/Shanghai")
		default:
			cfg.Location = loc
		}
	}
	if d.written("ingest.max_body") && cfg.Ingest.MaxBody == 0 && !d.bad["ingest.max_body"] {
		d.add(d.valuePos("ingest.max_body"), "ingest.max_body", "max_body must be more than 0",
			"leave it out for the default of 1MiB")
	}

	for name, sys := range cfg.Systems {
		p := join("systems", name)
		d.checkName("system", name, p)
		if sys != nil && sys.BaseURL != "" && !d.bad[p+".base_url"] {
			d.checkBaseURL(sys.BaseURL, p+".base_url")
		}
		if sys != nil && sys.Rate != (Rate{}) {
			if spec, ok := LookupKind(sys.Kind); ok && !spec.Send {
				d.add(d.valuePos(join(p, "rate")), join(p, "rate"), fmt.Sprintf("rate: only applies to systems that send messages, and kind %q does not", sys.Kind),
					"remove rate: from this system")
			}
		}
	}
	for name, src := range cfg.Sources {
		p := join("sources", name)
		d.checkName("source", name, p)
		if src != nil {
			d.checkSource(cfg, src, p)
		}
	}
	for name, fl := range cfg.Flows {
		p := join("flows", name)
		d.checkName("flow", name, p)
		if fl != nil {
			d.checkFlow(cfg, fl, p)
		}
	}
	for name, t := range cfg.Templates {
		p := join("templates", name)
		d.checkName("template", name, p)
		if t != nil {
			d.checkTemplate(t, p)
		}
	}
	for name, r := range cfg.Rules {
		p := join("rules", name)
		d.checkName("rule", name, p)
		if r != nil {
			d.checkRule(cfg, r, p)
		}
	}
	for key, pr := range cfg.People {
		p := join("people", key)
		d.checkName("person", key, p)
		if pr != nil {
			d.checkPerson(pr, p)
		}
	}
	if cfg.QuietHours != nil {
		d.checkQuietHours(cfg.QuietHours, "quiet_hours")
	}
	d.checkBranding(cfg.Branding)
	d.checkConsole(cfg)
}

// checkConsole checks the session lengths, and that the cookie goes
// without Secure only where plain http stays on the machine.
func (d *decoder) checkConsole(cfg *Config) {
	c := cfg.Console
	for _, k := range []struct {
		key string
		v   Duration
	}{{"console.session_max_age", c.SessionMaxAge}, {"console.session_idle", c.SessionIdle}} {
		if !d.bad[k.key] && k.v <= 0 {
			d.add(d.valuePos(k.key), k.key, fmt.Sprintf("%s must be more than 0", k.key[len("console."):]),
				"leave it out for the default, or write a duration such as 30m or 8h")
		}
	}
	if c.InsecureCookie && !d.bad["listen"] && !loopbackListen(cfg.Listen) {
		d.add(d.valuePos("console.insecure_cookie"), "console.insecure_cookie",
			fmt.Sprintf("insecure_cookie is only allowed when listen is a loopback address, and listen is %q", cfg.Listen),
			"serve the console over https (a TLS proxy in front) and remove insecure_cookie, or listen on 127.0.0.1")
	}
}

// loopbackListen reports whether listen binds only the machine itself.
func loopbackListen(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (d *decoder) checkPerson(pr *Person, path string) {
	if pr.Mobile != "" && !mobilePattern.MatchString(pr.Mobile) {
		d.add(d.valuePos(join(path, "mobile")), join(path, "mobile"), fmt.Sprintf("%q is not a mobile number", pr.Mobile),
			"write the 11 digits, e.g. \"13800001234\"")
	}
	if pr.Email != "" && !emailPattern.MatchString(pr.Email) {
		d.add(d.valuePos(join(path, "email")), join(path, "email"), fmt.Sprintf("%q is not an email address", pr.Email),
			"write it like zhang@example.com")
	}
	for i, g := range pr.Groups {
		if !namePattern.MatchString(g) {
			d.add(d.elemPos(join(path, "groups"), i), fmt.Sprintf("%s.groups[%d]", path, i), fmt.Sprintf("group name %q has characters a rule cannot name", g),
				"use letters, digits, _ and -")
		}
	}
	if pr.QuietHours != nil {
		d.checkQuietHours(pr.QuietHours, join(path, "quiet_hours"))
	}
}

var emailPattern = regexp.MustCompile(`^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$`)

// checkQuietHours asks for from: and to: as HH:MM, or off: true.
func (d *decoder) checkQuietHours(q *QuietHours, path string) {
	if q.Off {
		if q.From != "" || q.To != "" {
			d.add(d.valuePos(path), path, "quiet hours that are off: true take no from: or to:", "keep off: true, or from: and to:")
		}
		return
	}
	if q.From == "" || q.To == "" {
		d.add(d.valuePos(path), path, "quiet hours need from: and to:", `write e.g. {from: "22:00", to: "08:00"}, or off: true`)
		return
	}
	for _, k := range []string{"from", "to"} {
		v := q.From
		if k == "to" {
			v = q.To
		}
		if _, err := ParseClock(v); err != nil {
			d.add(d.valuePos(join(path, k)), join(path, k), fmt.Sprintf("%q is not a time of day", v), `write it HH:MM on a 24-hour clock, e.g. "22:00"`)
		}
	}
	if q.From == q.To {
		d.add(d.valuePos(path), path, "quiet hours from and to are the same time", "give the span a length, or write off: true")
	}
}

// checkTemplate records where each text was written, so that a template
// that does not compile is reported at its line, and asks for one language.
func (d *decoder) checkTemplate(t *Template, path string) {
	if t.ZhCN == nil && t.En == nil && !d.badBelow(path) {
		d.add(t.Pos, path, "a template needs at least one language", "add zh-CN: {title: …, markdown: …} (the default language) or en:")
	}
	for lang, tt := range map[string]*TemplateText{"zh-CN": t.ZhCN, "en": t.En} {
		if tt == nil {
			continue
		}
		lp := join(path, lang)
		tt.TitlePos = d.textPos(join(lp, "title"))
		tt.MarkdownPos = d.textPos(join(lp, "markdown"))
	}
}

// checkRule checks a rule's references: known event types, channels that
// name systems able to send, and a template that is shipped or configured.
func (d *decoder) checkRule(cfg *Config, r *Rule, path string) {
	r.WhenPos = d.textPos(join(path, "when"))
	events := make([]string, len(order.EventTypes))
	for i, e := range order.EventTypes {
		events[i] = string(e)
	}
	for i, ev := range r.On {
		p := fmt.Sprintf("%s.on[%d]", path, i)
		if !slices.Contains(events, ev) {
			d.add(d.elemPos(join(path, "on"), i), p, fmt.Sprintf("unknown event type %q", ev),
				didYouMean(ev, events, "order events"))
		}
	}
	for i, ch := range r.Channels {
		p := fmt.Sprintf("%s.channels[%d]", path, i)
		at := d.elemPos(join(path, "channels"), i)
		if strings.Contains(ch, ":") {
			if _, _, problem, hint := ResolveChannel(cfg, ch); problem != "" {
				d.add(at, p, problem, hint)
			}
			continue
		}
		sys, ok := cfg.Systems[ch]
		if !ok || sys == nil {
			d.add(at, p, fmt.Sprintf("unknown system %q", ch), didYouMean(ch, keys(cfg.Systems), "configured systems"))
			continue
		}
		spec, ok := LookupKind(sys.Kind)
		if !ok {
			continue // reported at the system
		}
		if !spec.Send {
			var kinds []string
			for _, k := range Kinds() {
				if k.Send {
					kinds = append(kinds, k.Kind)
				}
			}
			d.add(at, p, fmt.Sprintf("system %q is of kind %q, which cannot send messages", ch, sys.Kind),
				"use a system whose kind sends: "+strings.Join(kinds, ", "))
		}
	}
	if r.Template != "" && !d.bad[join(path, "template")] {
		_, configured := cfg.Templates[r.Template]
		known := ShippedTemplates()
		if !configured && !slices.Contains(known, r.Template) {
			d.add(d.valuePos(join(path, "template")), join(path, "template"), fmt.Sprintf("unknown template %q", r.Template),
				didYouMean(r.Template, append(known, keys(cfg.Templates)...), "shipped and configured templates"))
		}
	}
	d.checkRecipients(cfg, r, path)
	if r.QuietHours != nil {
		d.checkQuietHours(r.QuietHours, join(path, "quiet_hours"))
	}
	if r.OverridePreferences && r.Priority != "critical" {
		d.add(d.valuePos(join(path, "override_preferences")), join(path, "override_preferences"),
			"override_preferences needs priority: critical", "set priority: critical, or remove override_preferences so people's choices hold")
	}
	if r.Escalate != nil && r.Escalate.UnreadAfter.Std() < time.Minute && !d.badBelow(join(path, "escalate")) {
		d.add(d.valuePos(join(path, "escalate.unread_after")), join(path, "escalate.unread_after"), "unread_after must be at least 1m",
			"give people time to read it, e.g. 15m")
	}
	if r.Digest != nil && !d.bad[join(path, "digest")] && !d.badBelow(join(path, "digest")) {
		d.checkDigest(r.Digest, join(path, "digest"))
	}
	for i, m := range r.At.Mobiles {
		if !mobilePattern.MatchString(m) {
			d.add(d.elemPos(join(path, "at.mobiles"), i), fmt.Sprintf("%s.at.mobiles[%d]", path, i),
				fmt.Sprintf("%q is not a mobile number", m), "write the 11 digits the member registered with, e.g. \"13800001234\"")
		}
	}
}

// ResolveChannel reads a channel step written PREFIX:NAME or SYSTEM:NAME
// (ding:phone): a variant of a system's way to send. It returns the system
// and the variant, or a problem and a hint.
func ResolveChannel(cfg *Config, ch string) (system, variant, problem, hint string) {
	head, name, _ := strings.Cut(ch, ":")
	var candidates []string
	if sys, ok := cfg.Systems[head]; ok && sys != nil {
		candidates = []string{head}
	} else {
		for sname, sys := range cfg.Systems {
			if spec, ok := LookupKind(sys.Kind); ok && sys != nil && spec.VariantPrefix == head {
				candidates = append(candidates, sname)
			}
		}
		sort.Strings(candidates)
	}
	switch len(candidates) {
	case 0:
		var known []string
		for _, k := range Kinds() {
			if k.VariantPrefix != "" {
				known = append(known, k.VariantPrefix+":"+strings.Join(k.Variants, "|")+" (with a "+k.Kind+" system)")
			}
		}
		return "", "", fmt.Sprintf("channel %q names no system and no kind of step", ch), "steps are written " + strings.Join(known, ", ") + ", or SYSTEM:STEP"
	case 1:
	default:
		return "", "", fmt.Sprintf("channel %q could mean any of the systems %s", ch, strings.Join(candidates, ", ")),
			"write the system's name before the colon, e.g. " + candidates[0] + ":" + name
	}
	system = candidates[0]
	spec, _ := LookupKind(cfg.Systems[system].Kind)
	if len(spec.Variants) == 0 {
		return "", "", fmt.Sprintf("system %q (%s) has no steps to name after a colon", system, cfg.Systems[system].Kind), "name the system alone"
	}
	if !slices.Contains(spec.Variants, name) {
		return "", "", fmt.Sprintf("system %q has no step %q", system, name), "its steps: " + strings.Join(spec.Variants, ", ")
	}
	return system, name, "", ""
}

// checkRecipients checks a rule's to: entries and that its channels fit
// them: a channel that sends to people needs to:.
func (d *decoder) checkRecipients(cfg *Config, r *Rule, path string) {
	groups := map[string]bool{}
	for _, pr := range cfg.People {
		if pr != nil {
			for _, g := range pr.Groups {
				groups[g] = true
			}
		}
	}
	for i, to := range r.To {
		at, p := d.elemPos(join(path, "to"), i), fmt.Sprintf("%s.to[%d]", path, i)
		switch kind, name, _ := strings.Cut(to, ":"); {
		case to == "all" || to == "buyer":
		case kind == "group" && name != "":
			if !groups[name] {
				d.add(at, p, fmt.Sprintf("no person is in group %q", name), didYouMean(name, keys(groups), "groups"))
			}
		case kind == "dept" && name != "":
			if strings.Trim(name, "0123456789") != "" {
				d.add(at, p, fmt.Sprintf("%q is not a 钉钉 department id", name), "write dept: with the number 通讯录 shows for the department, e.g. dept:1234")
			}
		case strings.Contains(to, ":"):
			d.add(at, p, fmt.Sprintf("unknown kind of addressee %q", to), "write a person key, group:NAME, dept:ID, all or buyer")
		default:
			if _, ok := cfg.People[to]; !ok {
				d.add(at, p, fmt.Sprintf("unknown person %q", to), didYouMean(to, keys(cfg.People), "people"))
			}
		}
	}
	if len(r.To) > 0 {
		return
	}
	for i, ch := range r.Channels {
		if sysName, _, problem, _ := ResolveChannel(cfg, ch); strings.Contains(ch, ":") && problem == "" {
			ch = sysName
		}
		if sys, ok := cfg.Systems[ch]; ok && sys != nil {
			if spec, ok := LookupKind(sys.Kind); ok && spec.Addressed {
				d.add(d.elemPos(join(path, "channels"), i), fmt.Sprintf("%s.channels[%d]", path, i),
					fmt.Sprintf("system %q (%s) sends to people, and the rule says not to whom", ch, sys.Kind), "add to: [a person key, group:NAME, dept:ID, all or buyer]")
			}
		}
	}
}

// checkDigest asks for exactly one of every: and at:, an every: that
// divides the day (so the clock times are the same each day), and at:
// times written HH:MM.
func (d *decoder) checkDigest(g *Digest, path string) {
	switch {
	case g.Every == 0 && len(g.At) == 0:
		d.add(d.valuePos(path), path, "a digest needs every: or at:", `write every: 1h (on the hour) or at: ["09:00", "18:00"]`)
	case g.Every != 0 && len(g.At) > 0:
		d.add(d.valuePos(path), path, "a digest takes every: or at:, not both", "keep the one that says when to send")
	case g.Every != 0:
		e := g.Every.Std()
		if e < time.Minute || e > 24*time.Hour || (24*time.Hour)%e != 0 || e%time.Minute != 0 {
			d.add(d.valuePos(join(path, "every")), join(path, "every"), fmt.Sprintf("every: %s does not divide the day into whole minutes", e),
				"use a span from 1m to 24h that divides 24h, e.g. 15m, 30m, 1h, 2h, 6h, 24h")
		}
	}
	for i, at := range g.At {
		if _, err := ParseClock(at); err != nil {
			d.add(d.elemPos(join(path, "at"), i), fmt.Sprintf("%s.at[%d]", path, i), fmt.Sprintf("%q is not a time of day", at),
				`write it HH:MM on a 24-hour clock, e.g. "09:00" or "18:30"`)
		}
	}
}

// ParseClock reads a time of day written HH:MM as the span since midnight.
func ParseClock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// mobilePattern is a mainland mobile number, which is what the robots
// @mention by.
var mobilePattern = regexp.MustCompile(`^1[3-9][0-9]{9}$`)

var colorPattern = regexp.MustCompile(`^#[0-9A-Fa-f]{6}$`)

func (d *decoder) checkBranding(b Branding) {
	if b.Color != "" && !colorPattern.MatchString(b.Color) {
		d.add(d.valuePos("branding.color"), "branding.color", fmt.Sprintf("colour %q is not #RRGGBB", b.Color), "write it like #1677FF")
	}
}

// textPos is where the text of the string at path starts: the value's
// position, one column on for a quoted one, or for a | or > block the start
// of the line after it (column 0: the block's indentation is not kept).
func (d *decoder) textPos(path string) Position {
	s, ok := d.seen[path]
	if ok && s.quoted {
		p := s.value
		p.Column++
		return p
	}
	if !ok || !s.block {
		return d.valuePos(path)
	}
	p := s.value
	p.Line++
	p.Column = 0
	return p
}

// badBelow reports whether a key below path already has a problem (an
// unknown language), which says more than a second message would.
func (d *decoder) badBelow(path string) bool {
	for p := range d.bad {
		if strings.HasPrefix(p, path+".") {
			return true
		}
	}
	return false
}

// elemPos is where the i-th element of the list at path was written, or the
// list itself when the element's place is not known.
func (d *decoder) elemPos(path string, i int) Position {
	if s, ok := d.seen[fmt.Sprintf("%s[%d]", path, i)]; ok {
		return s.value
	}
	return d.valuePos(path)
}

// checkPull checks what a pull source needs besides its system: an API the
// system's kind can be pulled from, and a start time in the configured zone.
func (d *decoder) checkPull(cfg *Config, src *Source, spec KindSpec, path string) {
	if src.Mode != "pull" {
		for _, key := range []string{"api", "every", "overlap", "start", "max_window_docs"} {
			if d.written(join(path, key)) {
				d.add(d.valuePos(join(path, key)), join(path, key), fmt.Sprintf("%s applies to pull sources only", key),
					"remove it, or set mode: pull")
			}
		}
		return
	}
	if d.written(join(path, "max_body")) {
		d.add(d.valuePos(join(path, "max_body")), join(path, "max_body"), "max_body applies to push sources only", "remove it")
	}
	apiPath := join(path, "api")
	switch {
	case len(spec.PullAPIs) == 0:
		var kinds []string
		for _, k := range Kinds() {
			if len(k.PullAPIs) > 0 {
				kinds = append(kinds, k.Kind)
			}
		}
		d.add(d.valuePos(join(path, "system")), join(path, "system"),
			fmt.Sprintf("system %q is of kind %q, which cannot be pulled from", src.System, spec.Kind),
			"use a system whose kind has pull APIs: "+strings.Join(kinds, ", "))
	case src.API == "":
		d.add(d.seen[path].key, apiPath, "a pull source needs api:", "add api: with one of: "+strings.Join(spec.PullAPIs, ", "))
	case !slices.Contains(spec.PullAPIs, src.API):
		d.add(d.valuePos(apiPath), apiPath, fmt.Sprintf("kind %q has no pull API %q", spec.Kind, src.API),
			didYouMean(src.API, spec.PullAPIs, "its pull APIs"))
	}
	if src.Start != "" && cfg.Location != nil && !d.bad[join(path, "start")] {
		t, err := src.Start.In(cfg.Location)
		if err != nil {
			d.add(d.valuePos(join(path, "start")), join(path, "start"), err.Error(), "")
		}
		src.StartAt = t
	}
	if d.written(join(path, "every")) && src.Every.Std() < time.Second {
		d.add(d.valuePos(join(path, "every")), join(path, "every"), "every must be at least 1s", "poll every 1m unless the provider allows more")
	}
}

// checkFlow checks a flow's references: a source, and a target whose kind
// writes the named API.
func (d *decoder) checkFlow(cfg *Config, fl *Flow, path string) {
	if fl.Source != "" && !d.bad[join(path, "source")] {
		if _, ok := cfg.Sources[fl.Source]; !ok {
			d.add(d.valuePos(join(path, "source")), join(path, "source"), fmt.Sprintf("unknown source %q", fl.Source),
				didYouMean(fl.Source, keys(cfg.Sources), "configured sources"))
		}
	}
	if fl.Target == "" || d.bad[join(path, "target")] {
		return
	}
	sys, ok := cfg.Systems[fl.Target]
	if !ok || sys == nil {
		d.add(d.valuePos(join(path, "target")), join(path, "target"), fmt.Sprintf("unknown system %q", fl.Target),
			didYouMean(fl.Target, keys(cfg.Systems), "configured systems"))
		return
	}
	spec, ok := LookupKind(sys.Kind)
	if !ok {
		return // reported at the system
	}
	if len(spec.WriteAPIs) == 0 {
		var kinds []string
		for _, k := range Kinds() {
			if len(k.WriteAPIs) > 0 {
				kinds = append(kinds, k.Kind)
			}
		}
		d.add(d.valuePos(join(path, "target")), join(path, "target"),
			fmt.Sprintf("system %q is of kind %q, which cannot be written to", fl.Target, sys.Kind),
			"use a system whose kind takes bills: "+strings.Join(kinds, ", "))
		return
	}
	if fl.API != "" && !d.bad[join(path, "api")] && !slices.Contains(spec.WriteAPIs, fl.API) {
		d.add(d.valuePos(join(path, "api")), join(path, "api"), fmt.Sprintf("kind %q has no API %q to write", spec.Kind, fl.API),
			didYouMean(fl.API, spec.WriteAPIs, "its APIs"))
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (d *decoder) checkStore(store string) {
	if d.bad["store"] {
		return
	}
	const hint = "write sqlite://data/orderhub.db (embedded) or postgres://user@host:5432/db (several nodes)"
	// Quote only the scheme: a PostgreSQL URL may carry a password.
	scheme, rest, ok := strings.Cut(store, "://")
	switch {
	case !ok:
		d.add(d.valuePos("store"), "store", "store must be a URL starting with sqlite://, postgres:// or postgresql://", hint)
	case scheme != "sqlite" && scheme != "postgres" && scheme != "postgresql":
		d.add(d.valuePos("store"), "store", fmt.Sprintf("store scheme %q is not supported; use sqlite, postgres or postgresql", scheme), hint)
	case scheme == "sqlite" && strings.TrimSpace(rest) == "":
		d.add(d.valuePos("store"), "store", "store sqlite:// needs a file path", hint)
	}
}

func (d *decoder) checkListen(listen string) {
	if d.bad["listen"] {
		return
	}
	_, port, err := net.SplitHostPort(listen)
	if err == nil {
		if n, perr := strconv.Atoi(port); perr == nil && n >= 0 && n <= 65535 {
			return
		}
	}
	d.add(d.valuePos("listen"), "listen", fmt.Sprintf("listen address %q is not host:port", listen),
		"write 127.0.0.1:8080, or :8080 to listen on every interface")
}

func (d *decoder) checkBaseURL(raw, path string) {
	u, err := url.Parse(raw)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		return
	}
	d.add(d.valuePos(path), path, fmt.Sprintf("base_url %q is not an absolute http or https URL", raw),
		"write it like https://api.example.com/v1")
}

func (d *decoder) checkName(what, name, path string) {
	if namePattern.MatchString(name) {
		return
	}
	hint := "names appear in URLs: use 1 to 63 lowercase letters, digits, _ and -, starting with a letter or digit"
	if fixed := fixName(name); namePattern.MatchString(fixed) {
		hint += fmt.Sprintf(", e.g. %q", fixed)
	}
	d.add(d.seen[path].key, path, fmt.Sprintf("invalid %s name %q", what, name), hint)
}

// fixName guesses a valid name from an invalid one: "Shop Orders" → "shop_orders".
func fixName(name string) string {
	b := []rune(strings.ToLower(strings.TrimSpace(name)))
	for i, r := range b {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			b[i] = '_'
		}
	}
	return strings.TrimLeft(string(b), "_-")
}

func (d *decoder) checkSource(cfg *Config, src *Source, path string) {
	sysPath := path + ".system"
	if src.System == "" || d.bad[sysPath] {
		return // missing system is reported by the required tag
	}
	sys, ok := cfg.Systems[src.System]
	if !ok || sys == nil {
		var names []string
		for n := range cfg.Systems {
			names = append(names, n)
		}
		hint := didYouMean(src.System, names, "configured systems")
		if len(names) == 0 {
			hint = "no systems are configured; add it under systems:"
		}
		d.add(d.valuePos(sysPath), sysPath, fmt.Sprintf("unknown system %q", src.System), hint)
		return
	}
	spec, ok := LookupKind(sys.Kind)
	if !ok {
		return // an unknown kind is reported where it was written
	}
	d.checkPull(cfg, src, spec, path)
	if src.Mode != "push" || spec.Push {
		return
	}
	var pushKinds []string
	for _, k := range Kinds() {
		if k.Push {
			pushKinds = append(pushKinds, k.Kind)
		}
	}
	hint := "no kind in this build accepts pushes"
	if len(pushKinds) > 0 {
		hint = "use a system whose kind accepts pushes: " + strings.Join(pushKinds, ", ")
	}
	d.add(d.valuePos(sysPath), sysPath,
		fmt.Sprintf("system %q is of kind %q, which cannot push orders to orderhub", src.System, sys.Kind), hint)
}

// NothingConfigured returns a problem for a config with no systems and no
// sources. Every key has a default, so such a file (an empty one, or only
// comments) is valid, but a hub started from it receives nothing: checking
// it should not say "ok".
func NothingConfigured(cfg *Config) *Error {
	if len(cfg.Systems) > 0 || len(cfg.Sources) > 0 {
		return nil
	}
	return &Error{Pos: Position{File: cfg.File}, Msg: "nothing is configured: the file has no systems and no sources",
		Hint: "add a system under systems: and a source that receives its orders under sources: (see the README's example, or orderhub schema)"}
}
