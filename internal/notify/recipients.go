package notify

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"time"

	"orderhub/internal/connector"
	"orderhub/internal/order"
	"orderhub/internal/store"
)

// recipients resolves a rule's to: for one order: people by key, the
// members of group:NAME (by key), a 钉钉 department, everyone, the buyer.
// Each person is addressed once.
func (rs *Rules) recipients(to []string, o order.Order) []connector.Recipient {
	var out []connector.Recipient
	seen := map[string]bool{}
	person := func(key string) {
		p := rs.people[key]
		if p == nil || seen[key] {
			return
		}
		seen[key] = true
		out = append(out, connector.Recipient{Person: key, Name: p.Name, DingUserID: p.DingUserID, Mobile: p.Mobile, Email: p.Email})
	}
	for _, t := range to {
		kind, name, _ := strings.Cut(t, ":")
		switch {
		case t == "all":
			out = append(out, connector.Recipient{All: true})
		case t == "buyer":
			if !seen["buyer"] && o.Buyer.Phone != "" {
				seen["buyer"] = true
				out = append(out, connector.Recipient{Person: "buyer", Name: o.Buyer.Name, Mobile: o.Buyer.Phone})
			}
		case kind == "dept":
			out = append(out, connector.Recipient{DingDept: name})
		case kind == "group":
			keys := make([]string, 0, len(rs.people))
			for k, p := range rs.people {
				if p != nil && slices.Contains(p.Groups, name) {
					keys = append(keys, k)
				}
			}
			sort.Strings(keys)
			for _, k := range keys {
				person(k)
			}
		default:
			person(t)
		}
	}
	return out
}

// vars are a template's standard values as text, for channels that fill
// provider-approved templates (SMS).
func vars(d Data) map[string]string {
	total, err := Yuan(d.Order.Total)
	if err != nil {
		total = d.Order.Total
	}
	return map[string]string{
		"order_no": d.Order.No, "source": d.Order.Source, "shop": d.Order.Shop, "total": total,
		"status": d.Order.Status, "event": d.Event.Label, "company": d.Order.Company, "tracking": d.Order.Tracking,
		"buyer": d.Order.Buyer, "link": d.Link, "created_at": d.Order.CreatedAt,
	}
}

// payload is the event and the order as data, for a channel that carries
// it to a team's own system (an outgoing webhook), in the shape another
// orderhub's standard-scheme webhook source takes. The order is whole,
// buyer included: the receiver is the team's own system, reached over a
// signed call, and ships or invoices with it.
func payload(o order.Order, ev Event) (json.RawMessage, error) {
	at := ev.At
	if at.IsZero() {
		at = o.UpdatedAt
	}
	return connector.OrderEventPayload(ev.Type, at, o)
}

// chainStart is where a chain begins for some of a message's recipients.
type chainStart struct {
	ChannelMessage
	index int // in the rule's channels
}

// chainStarts splits a chain rule's message by where each recipient's
// chain begins: the first channel they allow. A person who muted the
// event, or every channel of the chain, gets nothing; a critical rule with
// override_preferences goes to everyone at the first channel whatever they
// chose.
// Recipients that are not configured people (a department, everyone, the
// buyer) start at the first channel.
func chainStarts(m Match, prefs map[string]store.Prefs, ev order.EventType) []chainStart {
	first := m.Messages[0]
	if (m.Rule.Priority == "critical" && m.Rule.OverridePreferences) || len(prefs) == 0 {
		return []chainStart{{first, 0}}
	}
	byIndex := map[int][]connector.Recipient{}
	for _, rc := range first.Message.To {
		p, ok := prefs[rc.Person]
		if !ok {
			byIndex[0] = append(byIndex[0], rc)
			continue
		}
		if slices.Contains(p.MutedEvents, string(ev)) {
			continue
		}
		for i, ch := range m.Rule.Channels {
			if !slices.Contains(p.MutedChannels, ch) && (p.Only == "" || p.Only == ch) {
				byIndex[i] = append(byIndex[i], rc)
				break
			}
		}
	}
	var out []chainStart
	for i, cm := range m.Messages {
		to, ok := byIndex[i]
		if !ok {
			continue
		}
		msg := cm.Message
		msg.To = to
		out = append(out, chainStart{ChannelMessage{Channel: cm.Channel, Message: msg}, i})
	}
	return out
}

// quietGroup is some of a message's recipients who share when it may be
// sent: now, or held until until.
type quietGroup struct {
	to    []connector.Recipient
	until time.Time
	quiet bool
}

// splitQuiet splits a message's recipients by the quiet hours that apply
// to each at at: people with their own quiet_hours may be held when the
// rule's are over, or sent to while others wait. Recipients who are not
// configured people follow the rule. Groups keep the recipients' order and
// come in the order their first recipient does.
func (rs *Rules) splitQuiet(r *Rule, to []connector.Recipient, at time.Time) []quietGroup {
	var out []quietGroup
	for _, rc := range to {
		person := rc.Person
		if _, own := rs.personQuiet[person]; !own {
			person = ""
		}
		until, quiet := rs.QuietUntil(r, person, at)
		i := slices.IndexFunc(out, func(g quietGroup) bool { return g.quiet == quiet && g.until.Equal(until) })
		if i < 0 {
			out = append(out, quietGroup{until: until, quiet: quiet})
			i = len(out) - 1
		}
		out[i].to = append(out[i].to, rc)
	}
	if len(out) == 0 { // a message to no one in particular (a group robot)
		until, quiet := rs.QuietUntil(r, "", at)
		out = append(out, quietGroup{until: until, quiet: quiet})
	}
	return out
}

// recipientsKey names a group of recipients in a delivery's key, so that
// the deliveries one message splits into are told apart, the same way each
// time the event is read.
func recipientsKey(to []connector.Recipient) string {
	parts := make([]string, 0, len(to))
	for _, rc := range to {
		switch {
		case rc.Person != "":
			parts = append(parts, rc.Person)
		case rc.DingDept != "":
			parts = append(parts, "dept:"+rc.DingDept)
		case rc.All:
			parts = append(parts, "all")
		}
	}
	return strings.Join(parts, ",")
}
