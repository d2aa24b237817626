package web

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"orderhub/internal/notify"
	"orderhub/internal/store"
)

type exceptionsData struct {
	Items  []store.FlowItem
	Next   template.URL // the next page, built from url.Values
	CanAct bool
}

// exceptionsPage is how many exceptions one page lists.
const exceptionsPage = 50

func (c *pages) exceptions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.FlowFilter{Flow: q.Get("flow"), States: []store.FlowState{store.FlowException}, Limit: exceptionsPage + 1}
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			c.fail(w, r, http.StatusBadRequest, "error.bad_id", v)
			return
		}
		f.After = n
	}
	items, err := c.Store.ListFlowItems(r.Context(), f)
	if err != nil {
		c.internal(w, r, err)
		return
	}
	vw, _ := viewer(r)
	d := &exceptionsData{CanAct: vw.CanAct()}
	if len(items) > exceptionsPage {
		items = items[:exceptionsPage]
		next := url.Values{"after": {strconv.FormatInt(items[len(items)-1].ID, 10)}}
		if f.Flow != "" {
			next.Set("flow", f.Flow)
		}
		d.Next = template.URL("/exceptions?" + next.Encode())
	}
	d.Items = items
	c.render(w, http.StatusOK, "exceptions", c.newView(r, "exceptions", "exceptions.title", d))
}

// pathID reads the {id} of the path.
func pathID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

// mayAct answers the request itself, and reports false, unless the viewer
// may act and the form carries their CSRF token.
func (c *pages) mayAct(w http.ResponseWriter, r *http.Request) bool {
	v, _ := viewer(r)
	if !v.CanAct() {
		c.fail(w, r, http.StatusForbidden, "error.role")
		return false
	}
	if !csrfOK(r, v) {
		c.fail(w, r, http.StatusForbidden, "error.csrf")
		return false
	}
	return true
}

// resolve retries or skips an exception, checked as POST
// /v1/exceptions/{id}/retry and /skip check it, and returns to the list.
func (c *pages) resolve(action func(context.Context, int64) error, done string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !c.mayAct(w, r) {
			return
		}
		id, ok := pathID(r)
		if !ok {
			c.fail(w, r, http.StatusBadRequest, "error.bad_id", r.PathValue("id"))
			return
		}
		it, err := c.Store.GetFlowItem(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) {
			c.fail(w, r, http.StatusNotFound, "error.no_exception", id)
			return
		}
		if err != nil {
			c.internal(w, r, err)
			return
		}
		back := localPath(r.PostFormValue("next"))
		if it.State != store.FlowException {
			http.Redirect(w, r, withParam(back, "err", "not_exception"), http.StatusSeeOther)
			return
		}
		if err := action(r.Context(), it.ID); err != nil {
			c.Log.Warn("console: exception not "+done, "id", it.ID, "err", err)
			http.Redirect(w, r, withParam(back, "err", "not_exception"), http.StatusSeeOther)
			return
		}
		v, _ := viewer(r)
		c.Log.Info("exception "+done, "id", it.ID, "flow", it.Flow, "order_no", it.OrderNo, "by", v.Name, "remote", r.RemoteAddr)
		http.Redirect(w, r, withParam(back, "done", done), http.StatusSeeOther)
	}
}

// bulkMax bounds one bulk action: a page of exceptions and then some.
const bulkMax = 200

// bulkData is the confirmation page of a bulk action.
type bulkData struct {
	Action string // retry or skip
	Items  []store.FlowItem
	IDs    []int64
	Back   string
}

// bulk retries or skips the exceptions ticked on the list, after a
// confirmation page that names each of them: the list's form posts without
// confirm, the confirmation page's with confirm=1. Each is checked as one
// retry or skip is; those no longer exceptions are passed over.
func (c *pages) bulk(w http.ResponseWriter, r *http.Request) {
	if !c.mayAct(w, r) {
		return
	}
	back := localPath(r.PostFormValue("next"))
	action := r.PostFormValue("action")
	var run func(context.Context, int64) error
	switch action {
	case "retry":
		run = c.Flows.Retry
	case "skip":
		run = c.Flows.Skip
	default:
		c.fail(w, r, http.StatusBadRequest, "error.bulk_action", action)
		return
	}
	raw := r.PostForm["id"]
	if len(raw) == 0 {
		http.Redirect(w, r, withParam(back, "err", "none_selected"), http.StatusSeeOther)
		return
	}
	if len(raw) > bulkMax {
		c.fail(w, r, http.StatusBadRequest, "error.bulk_too_many", len(raw), bulkMax)
		return
	}
	d := bulkData{Action: action, Back: back}
	seen := map[int64]bool{}
	for _, v := range raw {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			c.fail(w, r, http.StatusBadRequest, "error.bad_id", v)
			return
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		it, err := c.Store.GetFlowItem(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) {
			c.fail(w, r, http.StatusNotFound, "error.no_exception", id)
			return
		}
		if err != nil {
			c.internal(w, r, err)
			return
		}
		if it.State == store.FlowException {
			d.Items, d.IDs = append(d.Items, it), append(d.IDs, id)
		}
	}
	if len(d.Items) == 0 {
		http.Redirect(w, r, withParam(back, "err", "not_exception"), http.StatusSeeOther)
		return
	}
	if r.PostFormValue("confirm") != "1" {
		c.render(w, http.StatusOK, "bulk", c.newView(r, "exceptions", "bulk.title", d))
		return
	}
	v, _ := viewer(r)
	for _, it := range d.Items {
		if err := run(r.Context(), it.ID); err != nil {
			// Handled meanwhile by someone else: the rest go on.
			c.Log.Warn("console: bulk "+action+" passed over an exception", "id", it.ID, "err", err)
			continue
		}
		c.Log.Info("exception "+action+" in bulk", "id", it.ID, "flow", it.Flow, "order_no", it.OrderNo, "by", v.Name, "remote", r.RemoteAddr)
	}
	done := map[string]string{"retry": "bulk_retried", "skip": "bulk_skipped"}[action]
	http.Redirect(w, r, withParam(back, "done", done), http.StatusSeeOther)
}

// withParam adds one query parameter to a local path, replacing the
// notices of an earlier action.
func withParam(p, k, v string) string {
	base, rawq, _ := strings.Cut(p, "?")
	q, _ := url.ParseQuery(rawq)
	q.Del("done")
	q.Del("err")
	q.Set(k, v)
	return base + "?" + q.Encode()
}

func (c *pages) resend(w http.ResponseWriter, r *http.Request) {
	if !c.mayAct(w, r) {
		return
	}
	id, ok := pathID(r)
	if !ok {
		c.fail(w, r, http.StatusBadRequest, "error.bad_id", r.PathValue("id"))
		return
	}
	back := localPath(r.PostFormValue("next"))
	err := c.Deliveries.Resend(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNoDelivery):
		c.fail(w, r, http.StatusNotFound, "error.no_delivery", id)
		return
	case errors.Is(err, notify.ErrNotFailed):
		http.Redirect(w, r, withParam(back, "err", "not_failed"), http.StatusSeeOther)
		return
	case err != nil:
		c.Log.Error("console: resending", "id", id, "err", err)
		c.fail(w, r, http.StatusInternalServerError, "error.internal")
		return
	}
	v, _ := viewer(r)
	c.Log.Info("delivery resent", "id", id, "by", v.Name, "remote", r.RemoteAddr)
	http.Redirect(w, r, withParam(back, "done", "resent"), http.StatusSeeOther)
}
