package auth

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"orderhub/internal/problem"
	"orderhub/internal/store"
)

//go:embed templates/login.html
var templateFS embed.FS

var loginPage = template.Must(template.ParseFS(templateFS, "templates/login.html"))

// Register adds GET /login (the sign-in page), POST /login and POST
// /logout to mux.
func (a *Auth) Register(mux *http.ServeMux) {
	mux.Handle("GET /login", a.Middleware(http.HandlerFunc(a.loginForm)))
	mux.Handle("POST /login", http.HandlerFunc(a.login))
	mux.Handle("POST /logout", a.Middleware(Require(RoleViewer)(http.HandlerFunc(a.logout))))
}

type loginData struct {
	Error, Name, Next string
}

func (a *Auth) loginForm(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if _, ok := FromContext(r.Context()); ok {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	a.renderLogin(w, http.StatusOK, loginData{Next: next})
}

func (a *Auth) renderLogin(w http.ResponseWriter, status int, d loginData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// The page must not be framed (clickjacking) nor cached.
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "frame-ancestors 'none'")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := loginPage.Execute(w, d); err != nil {
		a.o.Log.Error("rendering the sign-in page failed", "err", err)
	}
}

// maxPassword bounds what a sign-in hashes.
const maxPassword = 1024

// login checks a name and password from the sign-in form. Every failure
// (unknown name, wrong password, disabled user) gives the same answer
// after the same work, and counts against the name and the address.
func (a *Auth) login(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		problem.New(http.StatusForbidden, "cross_origin", "登录请求来自其他站点 (the sign-in form was posted from another site)",
			"sign in from the console's own /login page").Write(w)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		problem.New(http.StatusBadRequest, "bad_form", "the sign-in form could not be read", err.Error()).Write(w)
		return
	}
	name, password := strings.TrimSpace(r.PostForm.Get("name")), r.PostForm.Get("password")
	next := safeNext(r.PostForm.Get("next"))
	d := loginData{Name: name, Next: next}
	ip := clientIP(r)
	now := a.o.Now()
	if wait := a.o.Throttle.Wait(name, ip, now); wait > 0 {
		a.o.Log.Warn("console sign-in throttled", "user", name, "ip", ip, "retry_after", wait)
		a.tooMany(w, r, wait, d)
		return
	}
	if name == "" || password == "" || len(password) > maxPassword {
		d.Error = "请输入用户名和密码。"
		a.renderLogin(w, http.StatusBadRequest, d)
		return
	}
	select {
	case a.hashing <- struct{}{}:
		defer func() { <-a.hashing }()
	case <-r.Context().Done():
		return
	}
	u, ok, err := a.checkUser(r, name, password)
	if err != nil {
		a.o.Log.Error("console sign-in failed", "user", name, "err", err)
		problem.New(http.StatusInternalServerError, "internal", "登录暂时无法完成 (signing in failed)", "retry; if it persists, see the server log").Write(w)
		return
	}
	if !ok {
		a.o.Throttle.Fail(name, ip, now)
		a.o.Log.Warn("console sign-in refused", "user", name, "ip", ip)
		d.Error = "用户名或密码错误。"
		a.renderLogin(w, http.StatusUnauthorized, d)
		return
	}
	id, idHash, err := newSessionID()
	if err == nil {
		err = a.o.Store.CreateSession(r.Context(), idHash, u.ID, u.PasswordHash, now, now.Add(a.o.MaxAge))
	}
	if errors.Is(err, store.ErrNotFound) {
		// Disabled, removed or given a new password meanwhile.
		d.Error = "用户名或密码错误。"
		a.renderLogin(w, http.StatusUnauthorized, d)
		return
	}
	if err != nil {
		a.o.Log.Error("starting a console session failed", "user", name, "err", err)
		problem.New(http.StatusInternalServerError, "internal", "登录暂时无法完成 (signing in failed)", "retry; if it persists, see the server log").Write(w)
		return
	}
	a.o.Throttle.Succeed(name)
	// A browser signing in again leaves its earlier session behind: end it.
	if c, err := r.Cookie(CookieName); err == nil && c.Value != "" {
		if _, err := a.o.Store.EndSession(r.Context(), hashID(c.Value)); err != nil {
			a.o.Log.Warn("ending the session signed in over failed", "err", err)
		}
	}
	// Sessions that ended unseen are cleared here, where a new one is
	// added, so the table holds about the sessions in use.
	if _, err := a.o.Store.EndStaleSessions(r.Context(), now, now.Add(-a.o.Idle)); err != nil {
		a.o.Log.Warn("clearing ended console sessions failed", "err", err)
	}
	a.o.Log.Info("console sign-in", "user", name, "role", u.Role, "ip", ip)
	a.setCookie(w, id)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// checkUser reports whether name may sign in with password. An unknown
// name is checked against a dummy hash, so the answer takes as long. A
// hash made with other costs is redone with the current ones.
func (a *Auth) checkUser(r *http.Request, name, password string) (store.User, bool, error) {
	if a.o.Store == nil {
		_, _, _ = CheckPassword(a.dummy, password, a.o.Params)
		return store.User{}, false, nil
	}
	u, err := a.o.Store.GetUser(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) {
		_, _, _ = CheckPassword(a.dummy, password, a.o.Params)
		return store.User{}, false, nil
	}
	if err != nil {
		return store.User{}, false, err
	}
	ok, rehash, err := CheckPassword(u.PasswordHash, password, a.o.Params)
	if err != nil {
		return store.User{}, false, fmt.Errorf("user %q: %w", name, err)
	}
	if !ok || u.Disabled || !Role(u.Role).Valid() {
		return store.User{}, false, nil
	}
	if rehash {
		if h, err := HashPassword(password, a.o.Params); err == nil {
			if done, err := a.o.Store.RehashPassword(r.Context(), u.ID, u.PasswordHash, h, a.o.Now()); err == nil && done {
				u.PasswordHash = h
			}
		}
	}
	return u, true, nil
}

// tooMany answers a throttled sign-in: a problem for programs, the page
// for a browser, both 429 with Retry-After in whole seconds.
func (a *Auth) tooMany(w http.ResponseWriter, r *http.Request, wait time.Duration, d loginData) {
	secs := int((wait + time.Second - 1) / time.Second)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	title := fmt.Sprintf("登录失败次数过多，请 %d 秒后再试 (too many failed sign-ins; retry in %d s)", secs, secs)
	if strings.Contains(r.Header.Get("Accept"), "text/html") {
		d.Error = fmt.Sprintf("登录失败次数过多，请 %d 秒后再试。", secs)
		a.renderLogin(w, http.StatusTooManyRequests, d)
		return
	}
	problem.New(http.StatusTooManyRequests, "too_many_sign_ins", title, "wait for Retry-After seconds; an admin can reset the password with orderhub users passwd").Write(w)
}

func (a *Auth) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(CookieName); err == nil && a.o.Store != nil {
		if _, err := a.o.Store.EndSession(r.Context(), hashID(c.Value)); err != nil {
			a.o.Log.Error("ending a console session failed", "err", err)
			problem.New(http.StatusInternalServerError, "internal", "退出登录失败 (signing out failed)", "retry; if it persists, see the server log").Write(w)
			return
		}
	}
	a.clearCookie(w)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// sameOrigin refuses a sign-in posted from another site (login CSRF),
// judged by Origin, or Referer when a browser sends no Origin. Programs
// that send neither are let through: the password is the proof.
func sameOrigin(r *http.Request) bool {
	from := r.Header.Get("Origin")
	if from == "" {
		from = r.Header.Get("Referer")
	}
	if from == "" {
		return true
	}
	u, err := url.Parse(from)
	return err == nil && u.Host == r.Host
}

// safeNext keeps a return address on this site: a path, not //host or a
// URL, so the sign-in page cannot send anyone elsewhere.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/"
	}
	return next
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// clientIP is the address the connection comes from. X-Forwarded-For is
// not read: without a list of trusted proxies anyone could set it to get a
// new budget per request.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
