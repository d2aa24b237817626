package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"orderhub/internal/store"
)

// Languages the console speaks; the first is the default.
var langs = []string{"zh-CN", "en"}

// langCookie keeps the language a browser chose with the switch.
const langCookie = "orderhub_lang"

func knownLang(l string) bool { return l == "zh-CN" || l == "en" }

// langOf picks the page's language: the browser's latest choice (the
// cookie), then the viewer's own, then zh-CN.
func langOf(r *http.Request, v Viewer) string {
	if c, err := r.Cookie(langCookie); err == nil && knownLang(c.Value) {
		return c.Value
	}
	if knownLang(v.Lang) {
		return v.Lang
	}
	return langs[0]
}

// page is one parsed page: the layout with the page's content.
type page struct{ t *template.Template }

var pageNames = []string{"dashboard", "orders", "order", "exceptions", "deliveries", "delivery", "syncs", "rules", "bulk", "error"}

func parsePages() map[string]*page {
	out := map[string]*page{}
	for _, name := range pageNames {
		t := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/"+name+".html"))
		out[name] = &page{t: t}
	}
	return out
}

var funcs = template.FuncMap{
	"query": func(kv ...string) string {
		q := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] != "" {
				q.Set(kv[i], kv[i+1])
			}
		}
		return q.Encode()
	},
	"pathEscape": url.PathEscape,
	"itoa":       func(n int64) string { return strconv.FormatInt(n, 10) },
}

// view is what every page template gets: the layout's data and the page's.
type view struct {
	Viewer Viewer
	Signed bool // a viewer was in the context (not anonymous)
	Lang   string
	Title  string
	Nav    string // the active nav item
	Path   string // the page's path and query, where the language switch returns
	Zone   string
	Notice string // a catalogue key: what the last action did
	Error  string // a catalogue key: why the last action failed
	Data   any

	loc *time.Location
}

// T is the catalogue's text for key in the page's language.
func (v *view) T(key string) string { return text(v.Lang, key) }

// Tf formats the catalogue's text for key with args.
func (v *view) Tf(key string, args ...any) string { return fmt.Sprintf(text(v.Lang, key), args...) }

// Label is the text of a value of a kind (status, stage, …): the
// catalogue's kind.value, or the value itself for one it does not know.
func (v *view) Label(kind, value string) string {
	if s, ok := catalogue[v.Lang][kind+"."+value]; ok {
		return s
	}
	return value
}

// Time shows t in the configured zone; zero shows as a dash.
func (v *view) Time(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(v.loc).Format("2006-01-02 15:04:05")
}

func (c *pages) newView(r *http.Request, nav, titleKey string, data any) *view {
	vw, signed := viewer(r)
	lang := langOf(r, vw)
	v := &view{Viewer: vw, Signed: signed, Lang: lang, Nav: nav, Path: returnPath(r), Zone: c.Location.String(), Data: data, loc: c.Location}
	v.Title = v.T(titleKey)
	q := r.URL.Query()
	if k := q.Get("done"); k != "" && knownKey(lang, "done."+k) {
		v.Notice = "done." + k
	}
	if k := q.Get("err"); k != "" && knownKey(lang, "err."+k) {
		v.Error = "err." + k
	}
	return v
}

// returnPath is where a form on the page returns to: the page itself
// without the notice of an earlier action, or the orders page for an
// answer to a POST, which cannot be fetched again.
func returnPath(r *http.Request) string {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return "/orders"
	}
	q := r.URL.Query()
	if !q.Has("done") && !q.Has("err") {
		return r.URL.RequestURI()
	}
	q.Del("done")
	q.Del("err")
	if len(q) == 0 {
		return r.URL.Path
	}
	return r.URL.Path + "?" + q.Encode()
}

func knownKey(lang, key string) bool { _, ok := catalogue[lang][key]; return ok }

func (c *pages) render(w http.ResponseWriter, status int, name string, v *view) {
	var b bytes.Buffer
	if err := c.tmpl[name].t.Execute(&b, v); err != nil {
		c.Log.Error("console: rendering a page", "page", name, "err", err)
		http.Error(w, "the page could not be rendered; see the server log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// fail renders the error page with the catalogue's message for key.
func (c *pages) fail(w http.ResponseWriter, r *http.Request, status int, key string, args ...any) {
	v := c.newView(r, "", "error.title", nil)
	v.Data = v.Tf(key, args...)
	c.render(w, status, "error", v)
}

func (c *pages) internal(w http.ResponseWriter, r *http.Request, err error) {
	c.Log.Error("console: reading the store", "path", r.URL.Path, "err", err)
	c.fail(w, r, http.StatusInternalServerError, "error.internal")
}

// lang sets the language cookie from the form's lang and returns to the
// page the form was on.
func (c *pages) lang(w http.ResponseWriter, r *http.Request) {
	v, signed := viewer(r)
	// A signed-in viewer's form carries their token; an anonymous one has
	// no session whose token could be checked, and the cookie changes
	// nothing but how this browser's pages read.
	if signed && !csrfOK(r, v) {
		c.fail(w, r, http.StatusForbidden, "error.csrf")
		return
	}
	l := r.PostFormValue("lang")
	if !knownLang(l) {
		c.fail(w, r, http.StatusBadRequest, "error.lang", l)
		return
	}
	// A signed-in user's choice is kept with the user (as PUT /v1/me/lang
	// keeps it), so it follows them to another browser; the cookie makes
	// it hold in this one at once, and for a viewer the store does not
	// know (an API token).
	if signed && v.CSRF != "" {
		if err := c.Store.SetUserLang(r.Context(), v.Name, l, time.Now()); err != nil && !errors.Is(err, store.ErrNotFound) {
			c.Log.Error("console: keeping the language of a user", "user", v.Name, "err", err)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
	http.Redirect(w, r, localPath(r.PostFormValue("next")), http.StatusSeeOther)
}

// localPath is p when it is a path on this server, else the orders page:
// a form's next must not send the browser elsewhere.
func localPath(p string) string {
	u, err := url.Parse(p)
	if err != nil || p == "" || p[0] != '/' || (len(p) > 1 && (p[1] == '/' || p[1] == '\\')) || u.Host != "" || u.Scheme != "" {
		return "/orders"
	}
	return p
}
