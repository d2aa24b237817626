package web

import (
	"encoding/json"
	"html/template"
	"net/http"
	"time"

	"orderhub/internal/console"
)

// dashboardView is the dashboard page's data: the figures on top, rendered
// on the server, and the series as JSON for the charts.
type dashboardView struct {
	D        *console.Dashboard
	From, To string // the period as the form shows it
	Bucket   string
	Buckets  []string
	Quick    []quickRange
	JSON     template.JS
}

// quickRange is one of the shortcuts above the charts.
type quickRange struct{ Label, Query string }

func (c *pages) dashboard(w http.ResponseWriter, r *http.Request) {
	now := time.Now().In(c.Location)
	d, prob, err := console.BuildDashboard(r.Context(), c.Store, c.Location, r.URL.Query(), now)
	if prob != nil {
		c.fail(w, r, http.StatusBadRequest, "dash.bad_query", prob.Title)
		return
	}
	if err != nil {
		c.internal(w, r, err)
		return
	}
	v := c.newView(r, "dashboard", "dash.title", nil)
	// The charts' labels travel with the data, in the page's language.
	labels := map[string]string{
		"dash.written": v.T("dash.written"), "dash.exceptions": v.T("dash.exceptions"),
		"dash.waiting": v.T("dash.waiting"), "dash.failed_deliveries": v.T("dash.failed_deliveries"),
	}
	for _, st := range []string{"queued", "collecting", "sending", "sent", "merged", "failed"} {
		labels["dstate."+st] = v.Label("dstate", st)
	}
	data, err := json.Marshal(map[string]any{"dashboard": d, "labels": labels})
	if err != nil {
		c.internal(w, r, err)
		return
	}
	y, m, day := now.Date()
	midnight := time.Date(y, m, day, 0, 0, 0, 0, c.Location)
	const dateTime = "2006-01-02T15:04"
	v.Data = dashboardView{
		D: d, From: d.From.In(c.Location).Format(dateTime), To: d.To.In(c.Location).Format(dateTime), Bucket: d.Bucket,
		Buckets: []string{"15m", "30m", "1h", "3h", "6h", "12h", "1d"},
		Quick: []quickRange{
			{v.T("dash.today"), "from=" + midnight.Format(time.DateOnly)},
			{v.T("dash.day"), ""},
			{v.T("dash.week"), "from=" + now.AddDate(0, 0, -7).Format(time.DateOnly) + "&bucket=1d"},
			{v.T("dash.month"), "from=" + now.AddDate(0, 0, -30).Format(time.DateOnly) + "&bucket=1d"},
		},
		// json.Marshal writes <, > and & as \u escapes, so the data cannot
		// close the script element it sits in.
		JSON: template.JS(data),
	}
	c.render(w, http.StatusOK, "dashboard", v)
}
