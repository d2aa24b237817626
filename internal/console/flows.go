package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"orderhub/internal/auth"
	"orderhub/internal/problem"
	"orderhub/internal/store"
)

// FlowInfo is what the API shows of one configured flow.
type FlowInfo struct {
	Name   string `json:"name"`
	Source string `json:"source"`
	Target string `json:"target"`
	API    string `json:"api"`
}

// Flows is what the flows API needs of the running hub: the configured
// flows and pull sources, and the actions on exceptions.
type Flows interface {
	FlowInfos() []FlowInfo
	PullSources() []string
	Retry(ctx context.Context, id int64) error
	Skip(ctx context.Context, id int64) error
}

// RegisterFlows adds /v1/flows and /v1/exceptions to mux.
func (a *API) RegisterFlows(mux *http.ServeMux, f Flows) {
	h := &flowsAPI{API: a, flows: f}
	a.handle(mux, "GET /v1/flows", auth.RoleViewer, h.list)
	a.handle(mux, "GET /v1/exceptions", auth.RoleViewer, h.exceptions)
	a.handle(mux, "GET /v1/exceptions/{id}", auth.RoleViewer, h.exception)
	a.handle(mux, "POST /v1/exceptions/{id}/retry", auth.RoleOperator, h.resolve(f.Retry, "retried"))
	a.handle(mux, "POST /v1/exceptions/{id}/skip", auth.RoleOperator, h.resolve(f.Skip, "skipped"))
}

type flowsAPI struct {
	*API
	flows Flows
}

// SourceView is one pull source's standing: its sync state and the
// documents it refused, the most recent first.
type SourceView struct {
	store.PullState
	Refused      []store.PullRefusal `json:"refused,omitempty"`
	RefusedTotal int                 `json:"refused_total"`
}

// refusalsShown is how many refused documents of a source GET /v1/flows
// lists; refused_total says how many there are.
const refusalsShown = 20

// FlowView is one flow's standing.
type FlowView struct {
	FlowInfo
	store.FlowStats
	// SourceSync is the pull source's state, when the source is pulled.
	SourceSync *store.PullState `json:"source_sync,omitempty"`
}

func (h *flowsAPI) list(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.caller(w, r); !ok {
		return
	}
	states, err := h.store.PullStates(r.Context())
	if err != nil {
		h.internal(w, err)
		return
	}
	byName := map[string]store.PullState{}
	for _, s := range states {
		byName[s.Source] = h.zoned(s)
	}
	var sources []SourceView
	for _, name := range h.flows.PullSources() {
		s, ok := byName[name]
		if !ok {
			s = store.PullState{Source: name}
		}
		refused, total, err := h.store.PullRefusals(r.Context(), name, refusalsShown)
		if err != nil {
			h.internal(w, err)
			return
		}
		for i := range refused {
			rf := &refused[i]
			rf.Modified, rf.WindowFrom, rf.WindowTo, rf.FirstAt, rf.LastAt = h.in(rf.Modified), h.in(rf.WindowFrom), h.in(rf.WindowTo), h.in(rf.FirstAt), h.in(rf.LastAt)
		}
		sources = append(sources, SourceView{PullState: s, Refused: refused, RefusedTotal: total})
	}
	infos := h.flows.FlowInfos()
	sort.Slice(infos, func(i, j int) bool { return infos[i].Name < infos[j].Name })
	out := make([]FlowView, 0, len(infos))
	for _, fi := range infos {
		st, err := h.store.FlowStatsOf(r.Context(), fi.Name)
		if err != nil {
			h.internal(w, err)
			return
		}
		st.LastSuccess, st.LastErrorAt = h.in(st.LastSuccess), h.in(st.LastErrorAt)
		v := FlowView{FlowInfo: fi, FlowStats: st}
		if s, ok := byName[fi.Source]; ok {
			v.SourceSync = &s
		}
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"flows": out, "sources": sources})
}

func (h *flowsAPI) exceptions(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.caller(w, r); !ok {
		return
	}
	q := r.URL.Query()
	f := store.FlowFilter{Flow: q.Get("flow"), States: []store.FlowState{store.FlowException}, Limit: 100}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			problem.New(http.StatusBadRequest, "bad_limit", fmt.Sprintf("limit %q is not a number from 1 to 1000", v), "").Write(w)
			return
		}
		f.Limit = n
	}
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			problem.New(http.StatusBadRequest, "bad_after", fmt.Sprintf("after %q is not an exception id", v), "pass the next_after of the previous page").Write(w)
			return
		}
		f.After = n
	}
	items, err := h.store.ListFlowItems(r.Context(), f)
	if err != nil {
		h.internal(w, err)
		return
	}
	for i := range items {
		items[i] = h.zonedItem(items[i])
	}
	resp := map[string]any{"exceptions": items, "has_more": len(items) == f.Limit}
	if len(items) > 0 {
		resp["next_after"] = items[len(items)-1].ID
	}
	if items == nil {
		resp["exceptions"] = []store.FlowItem{}
	}
	writeJSON(w, http.StatusOK, resp)
}

func (h *flowsAPI) exception(w http.ResponseWriter, r *http.Request) {
	if _, ok := h.caller(w, r); !ok {
		return
	}
	it, ok := h.item(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, h.zonedItem(it))
}

func (h *flowsAPI) item(w http.ResponseWriter, r *http.Request) (store.FlowItem, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		problem.New(http.StatusBadRequest, "bad_id", fmt.Sprintf("%q is not an exception id", r.PathValue("id")), "use the id from GET /v1/exceptions").Write(w)
		return store.FlowItem{}, false
	}
	it, err := h.store.GetFlowItem(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		problem.New(http.StatusNotFound, "exception_not_found", fmt.Sprintf("no exception %d", id), "list them with GET /v1/exceptions").Write(w)
		return it, false
	}
	if err != nil {
		h.internal(w, err)
		return it, false
	}
	return it, true
}

func (h *flowsAPI) resolve(action func(context.Context, int64) error, done string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, ok := h.caller(w, r); !ok {
			return
		}
		it, ok := h.item(w, r)
		if !ok {
			return
		}
		if it.State != store.FlowException {
			problem.New(http.StatusConflict, "not_an_exception", fmt.Sprintf("item %d is %s, not waiting as an exception", it.ID, it.State),
				"only items in state exception can be retried or skipped").Write(w)
			return
		}
		if err := action(r.Context(), it.ID); err != nil {
			problem.New(http.StatusConflict, "not_an_exception", err.Error(), "read it again with GET /v1/exceptions/"+strconv.FormatInt(it.ID, 10)).Write(w)
			return
		}
		h.log.Info("exception "+done, "id", it.ID, "flow", it.Flow, "order_no", it.OrderNo, "remote", r.RemoteAddr)
		writeJSON(w, http.StatusOK, map[string]any{"id": it.ID, "result": done})
	}
}

func (h *flowsAPI) internal(w http.ResponseWriter, err error) {
	h.log.Error("flows API", "err", err)
	problem.New(http.StatusInternalServerError, "internal", "the store could not be read", "try again; see the server log").Write(w)
}

func (h *flowsAPI) in(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.In(h.loc)
}

func (h *flowsAPI) zoned(s store.PullState) store.PullState {
	s.SyncedTo, s.LastFrom, s.LastTo, s.LastRunAt, s.LastErrorAt = h.in(s.SyncedTo), h.in(s.LastFrom), h.in(s.LastTo), h.in(s.LastRunAt), h.in(s.LastErrorAt)
	return s
}

func (h *flowsAPI) zonedItem(it store.FlowItem) store.FlowItem {
	it.NextAt, it.CreatedAt, it.UpdatedAt, it.WrittenAt = h.in(it.NextAt), h.in(it.CreatedAt), h.in(it.UpdatedAt), h.in(it.WrittenAt)
	return it
}
