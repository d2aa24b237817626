// Package notify is the rule engine of notifications: it compiles the
// configured rules (events, a when: condition over the canonical order,
// channels, @mentions) and their templates once, reporting every problem at
// its place in the file, and turns an order event into the rendered
// messages each matching rule sends, one per channel. Sending, pacing and
// the delivery log build on what it produces.
package notify

import (
	"bytes"
	"fmt"
	"net"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"orderhub/internal/config"
	"orderhub/internal/connector"
	"orderhub/internal/order"
)

// Rules are the compiled rules of one configuration.
type Rules struct {
	rules  []*Rule // by name
	byName map[string]*Rule
	loc    *time.Location
	brand  config.Branding
	shops  map[string]string // source → its system's name
	base   string            // the read API's root, for links
	people map[string]*config.Person
	// personQuiet are the people who have their own quiet_hours; a nil
	// value is a person with quiet_hours off.
	personQuiet map[string]*quiet
	// payload are the channels that carry the event and order as data.
	payload map[string]bool
}

// Rule is one compiled rule.
type Rule struct {
	Name      string
	On        []order.EventType
	Channels  []string
	Template  string
	Language  string
	Priority  string
	AtMobiles []string
	AtAll     bool
	// OverridePreferences: a critical rule that reaches people whatever
	// they muted or chose.
	OverridePreferences bool
	// Track: email from the rule carries an open pixel and tracked links.
	Track bool

	when     *condition
	text     *text
	digest   *config.Digest
	to       []string
	escalate time.Duration
	quiet    *quiet
}

// Chain reports that the rule's channels are a fallback chain (a rule
// with to:): the message goes to the first, and to the next when one
// fails for good or, with escalate:, is not read in time.
func (r *Rule) Chain() bool { return len(r.to) > 0 }

// EscalateAfter is how long a message may stay unread before the next
// channel of the chain is tried (0: not escalated).
func (r *Rule) EscalateAfter() time.Duration { return r.escalate }

// QuietUntil reports whether at falls in the rule's quiet hours and when
// they end. A critical rule is never held.
func (r *Rule) QuietUntil(at time.Time) (time.Time, bool) {
	if r.Priority == "critical" {
		return time.Time{}, false
	}
	return r.quiet.until(at)
}

// QuietUntil reports whether a message of rule r to person (a people:
// key, or "" for recipients that are not configured people) falls in quiet
// hours at at, and when they end. A person's own quiet_hours replace the
// rule's for messages to them; a critical rule is never held.
func (rs *Rules) QuietUntil(r *Rule, person string, at time.Time) (time.Time, bool) {
	if r.Priority == "critical" {
		return time.Time{}, false
	}
	if q, own := rs.personQuiet[person]; own && person != "" {
		return q.until(at)
	}
	return r.quiet.until(at)
}

// ChannelMessage is the message a rule sends to one channel.
type ChannelMessage struct {
	Channel string
	Message connector.Message
}

// Match is one rule an event matched, with its messages, one per channel
// in the order the rule lists them.
type Match struct {
	Rule     *Rule
	Messages []ChannelMessage
}

// Compile compiles every rule's condition and template of cfg (a loaded,
// valid configuration). It returns every problem, each at its file:line,
// and no Rules when there is any.
func Compile(cfg *config.Config) (*Rules, []error) {
	rs := &Rules{byName: map[string]*Rule{}, loc: cfg.Location, brand: cfg.Branding,
		shops: map[string]string{}, base: linkBase(cfg), people: cfg.People, payload: map[string]bool{}}
	for name, sys := range cfg.Systems {
		if k, ok := connector.Lookup(sys.Kind); ok && k.Send != nil && k.Send.Payload {
			rs.payload[name] = true
		}
	}
	for name, src := range cfg.Sources {
		if src != nil {
			rs.shops[name] = src.System
		}
	}
	var errs []error
	rs.personQuiet = map[string]*quiet{}
	for key, p := range cfg.People {
		if p == nil || p.QuietHours == nil {
			continue
		}
		q, err := compileQuiet(p.QuietHours, cfg, "people."+key+".quiet_hours")
		if err != nil {
			errs = append(errs, err)
		}
		rs.personQuiet[key] = q
	}
	texts := map[[2]string]*text{} // (template, language) compiled once for all rules using it
	names := make([]string, 0, len(cfg.Rules))
	for n := range cfg.Rules {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		cr := cfg.Rules[name]
		r := &Rule{Name: name, Channels: cr.Channels, Template: cr.Template, Language: cr.Language,
			Priority: cr.Priority, AtMobiles: cr.At.Mobiles, AtAll: cr.At.All, OverridePreferences: cr.OverridePreferences, digest: cr.Digest,
			Track: cr.Track == nil || *cr.Track}
		if r.Language == "" {
			r.Language = Languages[0]
		}
		if r.Priority == "" {
			r.Priority = "normal"
		}
		for _, ev := range cr.On {
			r.On = append(r.On, order.EventType(ev))
		}
		cond, cerrs := compileCondition(cr)
		errs = append(errs, cerrs...)
		r.when = cond
		r.to = cr.To
		if cr.Escalate != nil {
			r.escalate = cr.Escalate.UnreadAfter.Std()
		}
		q, qpath := cfg.QuietHours, "quiet_hours"
		if cr.QuietHours != nil {
			q, qpath = cr.QuietHours, "rules."+name+".quiet_hours"
		}
		quiet, err := compileQuiet(q, cfg, qpath)
		if err != nil {
			errs = append(errs, err)
		}
		r.quiet = quiet

		tpl, ok := findTemplate(cfg, cr.Template)
		if !ok {
			errs = append(errs, &config.Error{Pos: cr.Pos, Path: "rules." + name + ".template",
				Msg: fmt.Sprintf("unknown template %q", cr.Template), Hint: "shipped templates: " + strings.Join(ShippedNames, ", ")})
			continue
		}
		lang, tt := pickLanguage(tpl, r.Language)
		key := [2]string{cr.Template, lang}
		t, done := texts[key]
		if !done {
			var terrs []error
			t, terrs = compileText(cr.Template, lang, *tt)
			errs = append(errs, terrs...)
			texts[key] = t
		}
		r.Language, r.text = lang, t
		rs.rules = append(rs.rules, r)
		rs.byName[name] = r
	}
	// Templates no rule uses are checked too: a mistake in one should not
	// wait until a rule starts using it.
	for name, tpl := range cfg.Templates {
		for _, lang := range Languages {
			tt := textOf(tpl, lang)
			if _, done := texts[[2]string{name, lang}]; done || tt == nil {
				continue
			}
			t, terrs := compileText(name, lang, *tt)
			errs = append(errs, terrs...)
			texts[[2]string{name, lang}] = t
		}
	}
	if len(errs) > 0 {
		sortErrors(errs)
		return nil, errs
	}
	return rs, nil
}

// findTemplate finds a template by name: a configured one, its missing
// languages filled from the shipped one of the same name.
func findTemplate(cfg *config.Config, name string) (*config.Template, bool) {
	shipped, isShipped := shippedTemplate(name)
	conf, isConf := cfg.Templates[name]
	switch {
	case isConf && conf != nil && isShipped:
		merged := *conf
		if merged.ZhCN == nil {
			merged.ZhCN = shipped.ZhCN
		}
		if merged.En == nil {
			merged.En = shipped.En
		}
		return &merged, true
	case isConf && conf != nil:
		return conf, true
	}
	return shipped, isShipped
}

func textOf(t *config.Template, lang string) *config.TemplateText {
	if lang == "en" {
		return t.En
	}
	return t.ZhCN
}

// pickLanguage returns the wanted language of t, or the one it has.
func pickLanguage(t *config.Template, want string) (string, *config.TemplateText) {
	if tt := textOf(t, want); tt != nil {
		return want, tt
	}
	for _, lang := range Languages {
		if tt := textOf(t, lang); tt != nil {
			return lang, tt
		}
	}
	panic("notify: template " + t.Name + " has no language") // config refuses such a template
}

func sortErrors(errs []error) {
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
}

// apiBase is the read API's root from the listen address: a host left out
// or listening on every interface is reached on loopback.
// linkBase is where the links messages carry point: public_url when set,
// else the listen address.
func linkBase(cfg *config.Config) string {
	if cfg.PublicURL != "" {
		return strings.TrimRight(cfg.PublicURL, "/")
	}
	return apiBase(cfg.Listen)
}

func apiBase(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "http://127.0.0.1:8080"
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// LinkBase is the hub's address as the messages' links carry it.
func (rs *Rules) LinkBase() string { return rs.base }

// Rule returns the compiled rule of that name.
func (rs *Rules) Rule(name string) (*Rule, bool) {
	r, ok := rs.byName[name]
	return r, ok
}

// Names returns the rule names, sorted.
func (rs *Rules) Names() []string {
	out := make([]string, len(rs.rules))
	for i, r := range rs.rules {
		out[i] = r.Name
	}
	return out
}

// Match returns every rule the event matches, in name order, with its
// rendered messages. An error is a condition that failed to run (a value
// of an unexpected type) or a template that failed to render.
func (rs *Rules) Match(o order.Order, ev Event) ([]Match, error) {
	env := condEnv(o, ev, rs.loc)
	var out []Match
	for _, r := range rs.rules {
		if !slices.Contains(r.On, ev.Type) {
			continue
		}
		ok, err := r.when.eval(env)
		if err != nil {
			return nil, fmt.Errorf("rule %s: %w", r.Name, err)
		}
		if !ok {
			continue
		}
		msgs, err := rs.Render(r, o, ev)
		if err != nil {
			return nil, err
		}
		out = append(out, Match{Rule: r, Messages: msgs})
	}
	return out, nil
}

// Explanation says whether a rule matches an event, and why not.
type Explanation struct {
	Matches bool
	// Reason is empty when the rule matches: the event it waits for, or
	// the condition that was false with the values it read.
	Reason string
	// Read are the values the condition read: "order.total = 189".
	Read []string
}

// Explain says whether rule r matches the event and, if not, why: the event
// is not one it waits for, or its condition is false (with what it read).
func (rs *Rules) Explain(r *Rule, o order.Order, ev Event) Explanation {
	if !slices.Contains(r.On, ev.Type) {
		on := make([]string, len(r.On))
		for i, e := range r.On {
			on[i] = string(e)
		}
		return Explanation{Reason: fmt.Sprintf("the event is %s; rule %s waits for on: [%s]", ev.Type, r.Name, strings.Join(on, ", "))}
	}
	if r.when == nil {
		return Explanation{Matches: true}
	}
	env := condEnv(o, ev, rs.loc)
	x := Explanation{Read: r.when.values(env)}
	ok, err := r.when.eval(env)
	switch {
	case err != nil:
		x.Reason = "the condition could not be evaluated: " + err.Error()
	case !ok:
		x.Reason = "when: " + r.when.text + " is false"
	default:
		x.Matches = true
	}
	return x
}

// Render renders rule r's message for the order and event, one per channel.
func (rs *Rules) Render(r *Rule, o order.Order, ev Event) ([]ChannelMessage, error) {
	link := rs.base + "/orders/" + url.PathEscape(o.Source) + "/" + url.PathEscape(o.OrderNo)
	d := newData(r.Name, o, ev, r.Language, rs.shops[o.Source], link, rs.brand, rs.loc)
	var title, body bytes.Buffer
	if err := r.text.title.Execute(&title, d); err != nil {
		return nil, fmt.Errorf("rule %s: template %s: %w", r.Name, r.Template, err)
	}
	if err := r.text.markdown.Execute(&body, d); err != nil {
		return nil, fmt.Errorf("rule %s: template %s: %w", r.Name, r.Template, err)
	}
	md := strings.TrimSpace(body.String())
	msg := connector.Message{
		Title:     strings.TrimSpace(title.String()),
		Markdown:  md,
		Text:      plain(md),
		Link:      link,
		Color:     rs.brand.Color,
		AtMobiles: slices.Clone(r.AtMobiles),
		AtAll:     r.AtAll,
		Key:       Key(r.Name, o.Source, o.OrderNo, ev),
		Template:  r.Template,
		Vars:      vars(d),
		Priority:  r.Priority,
	}
	if len(r.to) > 0 {
		msg.To = rs.recipients(r.to, o)
		for _, rc := range msg.To {
			// Configured people are @mentioned in group robots; the buyer
			// never is: a staff group is no place for a customer's number.
			if rc.Mobile != "" && rc.Person != "buyer" && !slices.Contains(msg.AtMobiles, rc.Mobile) {
				msg.AtMobiles = append(msg.AtMobiles, rc.Mobile)
			}
		}
	}
	out := make([]ChannelMessage, len(r.Channels))
	for i, ch := range r.Channels {
		m := msg
		if rs.payload[ch] {
			p, err := payload(o, ev)
			if err != nil {
				return nil, fmt.Errorf("rule %s: %w", r.Name, err)
			}
			m.Payload = p
		}
		out[i] = ChannelMessage{Channel: ch, Message: m}
	}
	return out, nil
}

// Key is a message's dedupe key: one event gives one message per rule (and
// channel endpoint, which the delivery keys beside it). An order is created,
// paid or shipped once, but it can change many times: a change is told once
// per version.
func Key(rule, source, orderNo string, ev Event) string {
	k := rule + "/" + source + "/" + orderNo + "/" + string(ev.Type)
	if ev.Type == order.EventChanged && ev.Version > 0 {
		k += "@" + strconv.FormatInt(ev.Version, 10)
	}
	return k
}

// plain is the Markdown body as plain text, for text-only message types:
// heading marks dropped, **bold** and `code` marks taken off in pairs (so the
// stars of a masked phone, 138****1234, stay), links written as "text: url".
// One pass over each line: it runs for every message sent.
func plain(md string) string {
	var b strings.Builder
	b.Grow(len(md))
	for i, line := range strings.Split(md, "\n") {
		if i > 0 {
			b.WriteByte('\n')
		}
		if t := strings.TrimLeft(line, "#"); len(t) < len(line) && len(line)-len(t) <= 6 && strings.HasPrefix(t, " ") {
			line = strings.TrimLeft(t, " ")
		}
		writePlainLine(&b, line)
	}
	return b.String()
}

// writePlainLine writes one line without its inline marks. A ** pair is
// emphasis only as Markdown reads it: the opening one not touching another
// star and followed by text, the closing one preceded by text.
func writePlainLine(b *strings.Builder, s string) {
	var prev byte
	for len(s) > 0 {
		switch {
		case strings.HasPrefix(s, "**") && prev != '*' && len(s) > 2 && s[2] != '*' && s[2] != ' ':
			if end := strings.Index(s[2:], "**"); end > 0 && s[2+end-1] != '*' && s[2+end-1] != ' ' {
				writePlainLine(b, s[2:2+end])
				s = s[2+end+2:]
				continue
			}
		case s[0] == '`':
			if end := strings.IndexByte(s[1:], '`'); end > 0 {
				b.WriteString(s[1 : 1+end])
				s = s[1+end+1:]
				continue
			}
		case s[0] == '[':
			if mid := strings.Index(s, "]("); mid > 0 {
				if end := strings.IndexByte(s[mid+2:], ')'); end >= 0 {
					b.WriteString(s[1:mid])
					b.WriteString(": ")
					b.WriteString(s[mid+2 : mid+2+end])
					s = s[mid+2+end+1:]
					continue
				}
			}
		}
		prev = s[0]
		b.WriteByte(s[0])
		s = s[1:]
	}
}
