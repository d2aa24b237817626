package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"orderhub/internal/auth"
	"orderhub/internal/config"
	"orderhub/internal/order"
	"orderhub/internal/problem"
	"orderhub/internal/store"
)

// RegisterPeople adds /v1/people and /v1/inbox to mux: the configured
// people with their preferences, and each person's in-app inbox.
// channels are the systems that can send, which preferences may name.
func (a *API) RegisterPeople(mux *http.ServeMux, people map[string]*config.Person, channels []string) {
	h := &peopleAPI{API: a, people: people, channels: channels}
	a.handle(mux, "GET /v1/people", auth.RoleViewer, h.list)
	a.handle(mux, "GET /v1/people/{id}/preferences", auth.RoleViewer, h.getPrefs)
	a.handle(mux, "PUT /v1/people/{id}/preferences", auth.RoleOperator, h.putPrefs)
	a.handle(mux, "GET /v1/inbox", auth.RoleViewer, h.inbox)
	a.handle(mux, "POST /v1/inbox/read-all", auth.RoleOperator, h.readAll)
	a.handle(mux, "POST /v1/inbox/{id}/read", auth.RoleOperator, h.read)
}

type peopleAPI struct {
	*API
	people   map[string]*config.Person
	channels []string
}

// PersonView is one configured person as the API shows them: contact
// details masked unless the caller may see PII.
type PersonView struct {
	ID          string      `json:"id"`
	Name        string      `json:"name,omitempty"`
	Groups      []string    `json:"groups,omitempty"`
	DingUserID  string      `json:"dingtalk_userid,omitempty"`
	Mobile      string      `json:"mobile,omitempty"`
	Email       string      `json:"email,omitempty"`
	Preferences store.Prefs `json:"preferences"`
}

func (h *peopleAPI) list(w http.ResponseWriter, r *http.Request) {
	pii, ok := h.caller(w, r)
	if !ok {
		return
	}
	prefs, err := h.store.AllPrefs(r.Context(), h.store.Reader())
	if err != nil {
		h.fail(w, err)
		return
	}
	ids := make([]string, 0, len(h.people))
	for id := range h.people {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]PersonView, 0, len(ids))
	for _, id := range ids {
		p := h.people[id]
		v := PersonView{ID: id, Name: p.Name, Groups: p.Groups, DingUserID: p.DingUserID, Mobile: order.MaskPhone(p.Mobile),
			Email: maskEmail(p.Email), Preferences: h.prefsOf(prefs, id)}
		if pii {
			v.Mobile, v.Email = p.Mobile, p.Email
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"people": out})
}

func (h *peopleAPI) prefsOf(all map[string]store.Prefs, id string) store.Prefs {
	p, ok := all[id]
	if !ok {
		p = store.Prefs{Person: id, MutedEvents: []string{}, MutedChannels: []string{}}
	}
	if !p.UpdatedAt.IsZero() {
		p.UpdatedAt = p.UpdatedAt.In(h.loc)
	}
	return p
}

// person answers 404 for an id that is not configured.
func (h *peopleAPI) person(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("id")
	if _, ok := h.people[id]; !ok {
		ids := make([]string, 0, len(h.people))
		for k := range h.people {
			ids = append(ids, k)
		}
		sort.Strings(ids)
		problem.New(http.StatusNotFound, "person_not_found", fmt.Sprintf("no person %q is configured", id),
			"people are configured under people: ("+strings.Join(ids, ", ")+")").Write(w)
		return "", false
	}
	return id, true
}

func (h *peopleAPI) getPrefs(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.caller(w, r); !ok {
		return
	}
	id, ok := h.person(w, r)
	if !ok {
		return
	}
	prefs, err := h.store.AllPrefs(r.Context(), h.store.Reader())
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, h.prefsOf(prefs, id))
}

// putPrefs replaces a person's preferences. Every event and channel named
// must exist, and only: must be one of the channels; otherwise nothing
// changes.
func (h *peopleAPI) putPrefs(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.caller(w, r); !ok {
		return
	}
	id, ok := h.person(w, r)
	if !ok {
		return
	}
	var in struct {
		MutedEvents   []string `json:"muted_events"`
		MutedChannels []string `json:"muted_channels"`
		Only          string   `json:"only"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		problem.New(http.StatusBadRequest, "bad_preferences", "the body is not a preferences object: "+err.Error(),
			`send {"muted_events": ["created"], "muted_channels": ["sms"], "only": ""}`).Write(w)
		return
	}
	events := make([]string, len(order.EventTypes))
	for i, e := range order.EventTypes {
		events[i] = string(e)
	}
	for _, e := range in.MutedEvents {
		if !slices.Contains(events, e) {
			problem.New(http.StatusUnprocessableEntity, "unknown_event", fmt.Sprintf("muted_events: %q is not an order event", e),
				"use "+strings.Join(events, ", ")).Write(w)
			return
		}
	}
	for _, c := range append(slices.Clone(in.MutedChannels), in.Only) {
		if c != "" && !slices.Contains(h.channels, c) {
			problem.New(http.StatusUnprocessableEntity, "unknown_channel", fmt.Sprintf("%q is not a system that sends", c),
				"use one of "+strings.Join(h.channels, ", ")).Write(w)
			return
		}
	}
	if in.Only != "" && slices.Contains(in.MutedChannels, in.Only) {
		problem.New(http.StatusUnprocessableEntity, "only_muted", fmt.Sprintf("only: %q is also muted", in.Only),
			"remove it from muted_channels, or choose another").Write(w)
		return
	}
	p := store.Prefs{Person: id, MutedEvents: nonNil(in.MutedEvents), MutedChannels: nonNil(in.MutedChannels), Only: in.Only}
	now := time.Now()
	if err := h.store.SetPrefs(r.Context(), p, now); err != nil {
		h.fail(w, err)
		return
	}
	p.UpdatedAt = now.In(h.loc)
	writeJSON(w, http.StatusOK, p)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (h *peopleAPI) inbox(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.caller(w, r); !ok {
		return
	}
	q := r.URL.Query()
	id := q.Get("person")
	if _, ok := h.people[id]; !ok {
		problem.New(http.StatusBadRequest, "bad_person", fmt.Sprintf("person=%q is not a configured person", id), "give ?person= one of the ids GET /v1/people lists").Write(w)
		return
	}
	var before int64
	if b := q.Get("before"); b != "" {
		v, err := strconv.ParseInt(b, 10, 64)
		if err != nil || v <= 0 {
			problem.New(http.StatusBadRequest, "bad_before", fmt.Sprintf("before=%q is not a message id", b), "use the next value of the previous page").Write(w)
			return
		}
		before = v
	}
	items, unread, err := h.store.Inbox(r.Context(), id, q.Get("unread") == "1", before, 50)
	if err != nil {
		h.fail(w, err)
		return
	}
	for i := range items {
		items[i].CreatedAt = items[i].CreatedAt.In(h.loc)
		if !items[i].ReadAt.IsZero() {
			items[i].ReadAt = items[i].ReadAt.In(h.loc)
		}
	}
	out := map[string]any{"person": id, "unread": unread, "messages": nonNilItems(items)}
	if len(items) == 50 {
		out["next"] = strconv.FormatInt(items[len(items)-1].ID, 10)
	}
	writeJSON(w, http.StatusOK, out)
}

func nonNilItems(items []store.InboxItem) []store.InboxItem {
	if items == nil {
		return []store.InboxItem{}
	}
	return items
}

func (h *peopleAPI) read(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.caller(w, r); !ok {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		problem.New(http.StatusBadRequest, "bad_id", fmt.Sprintf("%q is not a message id", r.PathValue("id")), "use an id from GET /v1/inbox").Write(w)
		return
	}
	person, err := h.store.InboxOwner(r.Context(), id)
	if err != nil {
		h.fail(w, err)
		return
	}
	if person == "" {
		problem.New(http.StatusNotFound, "message_not_found", fmt.Sprintf("no inbox message %d", id), "list them with GET /v1/inbox?person=").Write(w)
		return
	}
	n, err := h.store.MarkRead(r.Context(), person, id, time.Now())
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "person": person, "marked": n})
}

func (h *peopleAPI) readAll(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.caller(w, r); !ok {
		return
	}
	id := r.URL.Query().Get("person")
	if _, ok := h.people[id]; !ok {
		problem.New(http.StatusBadRequest, "bad_person", fmt.Sprintf("person=%q is not a configured person", id), "give ?person= one of the ids GET /v1/people lists").Write(w)
		return
	}
	n, err := h.store.MarkRead(r.Context(), id, 0, time.Now())
	if err != nil {
		h.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"person": id, "marked": n})
}

func (h *peopleAPI) fail(w http.ResponseWriter, err error) {
	h.log.Error("people API: store", "err", err)
	problem.New(http.StatusInternalServerError, "internal", "the store could not be read or written", "try again; see the server log").Write(w)
}
