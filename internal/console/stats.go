package console

import (
	"net/http"
	"sort"
	"time"

	"orderhub/internal/auth"
	"orderhub/internal/problem"
	"orderhub/internal/store"
)

// RegisterStats adds GET /v1/stats/notifications to mux: per rule,
// channel and template, how many messages were sent, merged into digests,
// failed, read or left unread (channels that report reads), opened (the
// inbox), and the rates, over a period. templates maps a rule to its
// template.
func (a *API) RegisterStats(mux *http.ServeMux, templates map[string]string) {
	a.handle(mux, "GET /v1/stats/notifications", auth.RoleViewer, func(w http.ResponseWriter, r *http.Request) { a.notificationStats(w, r, templates) })
}

// NotifyStat is one row of the notification statistics.
type NotifyStat struct {
	Rule     string `json:"rule"`
	System   string `json:"system"`
	Template string `json:"template,omitempty"`
	// Sent counts messages the provider took (a digest once), Merged the
	// messages digests carried, Failed those that failed for good,
	// Waiting those not yet sent.
	Sent      int `json:"sent"`
	Merged    int `json:"merged"`
	Failed    int `json:"failed"`
	Waiting   int `json:"waiting"`
	Read      int `json:"read"`
	Unread    int `json:"unread"`
	Escalated int `json:"escalated"`
	Opened    int `json:"opened"`
	// Clicked counts mails in which a tracked link was followed.
	Clicked int `json:"clicked"`
	// DeliveredRate is (sent + merged) / all settled; ReadRate read of the
	// tracked; OpenRate opened of the inbox messages, or of the mails sent;
	// ClickRate clicked of the mails sent.
	DeliveredRate float64 `json:"delivered_rate"`
	ReadRate      float64 `json:"read_rate"`
	OpenRate      float64 `json:"open_rate"`
	ClickRate     float64 `json:"click_rate"`
	inbox         int
}

func (a *API) notificationStats(w http.ResponseWriter, r *http.Request, templates map[string]string) {
	if _, ok := a.caller(w, r); !ok {
		return
	}
	now := time.Now().In(a.loc)
	from, to, prob := parsePeriod(r.URL.Query(), a.loc, now.AddDate(0, 0, -7), now)
	if prob != nil {
		prob.Write(w)
		return
	}
	ds, err := a.store.DeliveryStats(r.Context(), from, to)
	if err != nil {
		a.storeFailed(w, err)
		return
	}
	ins, err := a.store.InboxStats(r.Context(), from, to)
	if err != nil {
		a.storeFailed(w, err)
		return
	}
	rows := map[[2]string]*NotifyStat{}
	row := func(rule, system string) *NotifyStat {
		k := [2]string{rule, system}
		if rows[k] == nil {
			rows[k] = &NotifyStat{Rule: rule, System: system, Template: templates[rule]}
		}
		return rows[k]
	}
	for _, d := range ds {
		s := row(d.Rule, d.System)
		switch d.State {
		case store.DeliverySent:
			s.Sent += d.Count
		case store.DeliveryMerged:
			s.Merged += d.Count
		case store.DeliveryFailed:
			s.Failed += d.Count
		default:
			s.Waiting += d.Count
		}
		s.Opened += d.Opened
		s.Clicked += d.Clicked
		switch d.ReadState {
		case "read":
			s.Read += d.Count
		case "unread", "partial":
			s.Unread += d.Count
		case "escalated":
			s.Unread += d.Count
			s.Escalated += d.Count
		}
	}
	for _, in := range ins {
		s := row(in.Rule, "inbox")
		s.Opened, s.inbox = in.Opened, in.Count
	}
	out := make([]NotifyStat, 0, len(rows))
	for _, s := range rows {
		if settled := s.Sent + s.Merged + s.Failed; settled > 0 {
			s.DeliveredRate = float64(s.Sent+s.Merged) / float64(settled)
		}
		if tracked := s.Read + s.Unread; tracked > 0 {
			s.ReadRate = float64(s.Read) / float64(tracked)
		}
		if s.inbox > 0 {
			s.OpenRate = float64(s.Opened) / float64(s.inbox)
		}
		if a.tracked[s.System] && s.Sent > 0 {
			s.OpenRate = float64(s.Opened) / float64(s.Sent)
			s.ClickRate = float64(s.Clicked) / float64(s.Sent)
		}
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Rule != out[j].Rule {
			return out[i].Rule < out[j].Rule
		}
		return out[i].System < out[j].System
	})
	writeJSON(w, http.StatusOK, map[string]any{"from": from.In(a.loc), "to": to.In(a.loc), "rows": out})
}

// parseWhen reads a date (midnight in loc) or an RFC 3339 time.
func parseWhen(v string, loc *time.Location) (time.Time, error) {
	// A date, or a date and time as a browser's datetime-local field sends
	// it, are in the configured zone.
	for _, layout := range []string{time.DateOnly, "2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t, nil
		}
	}
	return time.Parse(time.RFC3339, v)
}

func (a *API) storeFailed(w http.ResponseWriter, err error) {
	a.log.Error("API: store", "err", err)
	problem.New(http.StatusInternalServerError, "internal", "the store could not be read", "try again; see the server log").Write(w)
}
