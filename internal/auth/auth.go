// Package auth says who is asking and what they may do: console users who
// sign in with a name and a password and then carry a session cookie, and
// programs that send one of the configured API tokens.
//
// Middleware identifies the caller and puts a Viewer in the request's
// context; Require and RequirePage refuse a request whose viewer's role is
// too low, and a state-changing request made with a session cookie that
// does not carry the session's CSRF token. Handlers read the viewer with
// FromContext.
package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"time"

	"orderhub/internal/config"
	"orderhub/internal/problem"
	"orderhub/internal/store"
)

// CookieName is the session cookie's name.
const CookieName = "orderhub_session"

// CSRFHeader and CSRFField carry the CSRF token of a state-changing request
// made with a session cookie: the header for scripts, the field for forms.
const (
	CSRFHeader = "X-CSRF-Token"
	CSRFField  = "csrf_token"
)

// DefaultLang is the console's language for a user who chose none.
const DefaultLang = "zh-CN"

// Viewer is who a request comes from.
type Viewer struct {
	// Name is the user's name, or the API token's name.
	Name string
	Role Role
	// CSRF is the token a state-changing request of this session must
	// carry (header X-CSRF-Token or form field csrf_token); pages put it
	// in their forms. Empty for API tokens, which need none.
	CSRF string
	// Lang is the language to answer in: zh-CN unless the user chose en.
	Lang string
	// PII reports whether the viewer may ask for unmasked buyer data:
	// tokens configured with pii: true, and admins.
	PII bool
	// Token is true when the request was authenticated by an API token.
	Token bool
}

// Options configure an Auth.
type Options struct {
	// Store keeps users and sessions; without one only API tokens are
	// accepted.
	Store *store.Store
	// Tokens are the API tokens (api.tokens); a token without a role is
	// an admin's.
	Tokens []config.APIToken
	// MaxAge is how long a session lasts at most, Idle how long it lasts
	// unused (console.session_max_age, console.session_idle).
	MaxAge, Idle time.Duration
	// InsecureCookie leaves Secure off the cookie (console.insecure_cookie).
	InsecureCookie bool
	// Params are the password hashing costs; zero means DefaultParams.
	Params Params
	// Throttle limits failed sign-ins; nil makes one with DefaultLimits.
	// Keep one across configuration reloads so a reload does not forget.
	Throttle *Throttle
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	Log *slog.Logger
}

// Auth authenticates requests and signs users in and out.
type Auth struct {
	o       Options
	dummy   string        // a hash to check unknown names against, so they take as long
	hashing chan struct{} // bounds concurrent password checks, each of which takes Params.Memory
}

// New makes an Auth. It hashes one dummy password, so it takes as long as
// a sign-in.
func New(o Options) (*Auth, error) {
	if o.Params == (Params{}) {
		o.Params = DefaultParams
	}
	if o.MaxAge <= 0 {
		o.MaxAge = 12 * time.Hour
	}
	if o.Idle <= 0 {
		o.Idle = time.Hour
	}
	if o.Throttle == nil {
		o.Throttle = NewThrottle(DefaultLimits)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	for i, t := range o.Tokens {
		if t.Role != "" && !Role(t.Role).Valid() {
			return nil, fmt.Errorf("auth: api.tokens[%d] (%s): unknown role %q", i, t.Name, t.Role)
		}
	}
	dummy, err := HashPassword("not a password: unknown users are checked against this", o.Params)
	if err != nil {
		return nil, err
	}
	return &Auth{o: o, dummy: dummy, hashing: make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))}, nil
}

// TokensOnly is an Auth that accepts the API tokens and no sessions, for
// an API served without the console's sign-in.
func TokensOnly(tokens []config.APIToken) *Auth {
	a, err := New(Options{Tokens: tokens, Params: Params{Memory: 8, Time: 1, Threads: 1}})
	if err != nil {
		// Unreachable for a validated configuration; refuse every token
		// rather than accept one of an unknown role.
		a, _ = New(Options{Params: Params{Memory: 8, Time: 1, Threads: 1}})
	}
	return a
}

type ctxKey struct{}

// state is what Middleware found out about a request.
type state struct {
	viewer Viewer
	ok     bool
	// why is the problem code when ok is false: no credentials, a wrong
	// token, an ended session.
	why string
}

// FromContext returns the viewer Middleware found for the request.
func FromContext(ctx context.Context) (Viewer, bool) {
	st, _ := ctx.Value(ctxKey{}).(*state)
	if st == nil || !st.ok {
		return Viewer{}, false
	}
	return st.viewer, true
}

// WithViewer returns ctx with v as its viewer, as Middleware would have
// found it; for tests of handlers behind Require.
func WithViewer(ctx context.Context, v Viewer) context.Context {
	return context.WithValue(ctx, ctxKey{}, &state{viewer: v, ok: true})
}

// Middleware identifies the caller of every request and puts what it found
// in the request's context; it refuses nothing itself (Require does). A
// request that already went through it is passed on as it is.
func (a *Auth) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, done := r.Context().Value(ctxKey{}).(*state); done {
			next.ServeHTTP(w, r)
			return
		}
		st := a.identify(w, r)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, st)))
	})
}

func (a *Auth) identify(w http.ResponseWriter, r *http.Request) *state {
	// A request with an Authorization header is a program's: its token
	// decides, and a cookie beside it is not looked at.
	if h := r.Header.Get("Authorization"); h != "" {
		got, found := strings.CutPrefix(h, "Bearer ")
		if !found || got == "" {
			return &state{why: "missing_token"}
		}
		for _, t := range a.o.Tokens {
			if subtle.ConstantTimeCompare([]byte(got), []byte(t.Token.Reveal())) == 1 {
				role := Role(t.Role)
				if role == "" {
					role = RoleAdmin
				}
				return &state{ok: true, viewer: Viewer{Name: t.Name, Role: role, Lang: DefaultLang, PII: t.PII, Token: true}}
			}
		}
		return &state{why: "bad_token"}
	}
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" || a.o.Store == nil {
		return &state{why: "sign_in_required"}
	}
	v, err := a.session(r.Context(), c.Value)
	if err != nil {
		if !errors.Is(err, errSessionEnded) {
			a.o.Log.Error("reading a console session failed", "err", err)
		}
		a.clearCookie(w)
		return &state{why: "session_ended"}
	}
	return &state{ok: true, viewer: v}
}

var errSessionEnded = errors.New("auth: the session has ended")

// session finds the viewer of a session cookie's value. A session that
// expired, sat unused past the idle time, or whose user is disabled is
// ended here.
func (a *Auth) session(ctx context.Context, id string) (Viewer, error) {
	idHash := hashID(id)
	sess, err := a.o.Store.GetSession(ctx, idHash)
	if errors.Is(err, store.ErrNotFound) {
		return Viewer{}, errSessionEnded
	}
	if err != nil {
		return Viewer{}, err
	}
	now := a.o.Now()
	role := Role(sess.User.Role)
	if sess.User.Disabled || !now.Before(sess.ExpiresAt) || now.Sub(sess.SeenAt) >= a.o.Idle || !role.Valid() {
		if _, err := a.o.Store.EndSession(ctx, idHash); err != nil {
			return Viewer{}, err
		}
		return Viewer{}, errSessionEnded
	}
	// Recording every request's use would be a write per read; a
	// granularity of a tenth of the idle time (at most a minute) is
	// enough to end idle sessions on time.
	if now.Sub(sess.SeenAt) >= min(a.o.Idle/10, time.Minute) {
		if err := a.o.Store.TouchSession(ctx, idHash, now); err != nil {
			return Viewer{}, err
		}
	}
	lang := sess.User.Lang
	if lang == "" {
		lang = DefaultLang
	}
	return Viewer{Name: sess.User.Name, Role: role, CSRF: csrfToken(id), Lang: lang, PII: role == RoleAdmin}, nil
}

// newSessionID returns a random cookie value and the hash the store keeps.
func newSessionID() (id, idHash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("auth: reading random session id: %w", err)
	}
	id = base64.RawURLEncoding.EncodeToString(b)
	return id, hashID(id), nil
}

func hashID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// csrfToken is derived from the session's secret id, so it is bound to the
// session, changes with it, and needs no storage: only who holds the
// cookie's value, or a page the server rendered for them, knows it.
func csrfToken(id string) string {
	m := hmac.New(sha256.New, []byte(id))
	m.Write([]byte("orderhub csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (a *Auth) setCookie(w http.ResponseWriter, id string) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: id, Path: "/", MaxAge: int(a.o.MaxAge / time.Second),
		HttpOnly: true, Secure: !a.o.InsecureCookie, SameSite: http.SameSiteLaxMode})
}

func (a *Auth) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: !a.o.InsecureCookie, SameSite: http.SameSiteLaxMode})
}

// Require lets a request through to next only when Middleware found a
// viewer whose role allows need, and, for a state-changing method (POST,
// PUT, PATCH, DELETE) authenticated by a session, when it carries the
// session's CSRF token. Refusals are problems: 401 without a viewer, 403
// for a missing or wrong CSRF token or a role too low.
func Require(need Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if p := check(r, need); p != nil {
				p.Write(w)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// RequirePage is Require for pages: a request without a viewer is sent to
// /login, which returns to the page after signing in.
func RequirePage(need Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p := check(r, need)
			if p != nil && p.Status == http.StatusUnauthorized {
				http.Redirect(w, r, LoginURL(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			if p != nil {
				p.Write(w)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// LoginURL is the sign-in page that returns to next afterwards.
func LoginURL(next string) string {
	if next == "" || next == "/" {
		return "/login"
	}
	return "/login?next=" + urlQueryEscape(next)
}

// check says why r may not do what need needs, or nil.
func check(r *http.Request, need Role) *problem.Problem {
	st, _ := r.Context().Value(ctxKey{}).(*state)
	if st == nil || !st.ok {
		why := "sign_in_required"
		if st != nil {
			why = st.why
		}
		return unauthenticated(why)
	}
	v := st.viewer
	if !v.Token && unsafeMethod(r.Method) && !validCSRF(r, v.CSRF) {
		return problem.New(http.StatusForbidden, "csrf_failed", "请求缺少有效的 CSRF 令牌 (the request does not carry this session's CSRF token)",
			"send the token of the signed-in session in the X-CSRF-Token header or the csrf_token form field; reload the page to get it")
	}
	if !v.Role.Allows(need) {
		return problem.New(http.StatusForbidden, "forbidden_role",
			fmt.Sprintf("%s 的角色 %s 无权执行此操作 (role %s may not do this; it needs %s)", v.Name, v.Role, v.Role, need),
			"ask an admin for a role that allows it")
	}
	return nil
}

func unauthenticated(why string) *problem.Problem {
	switch why {
	case "missing_token":
		return problem.New(http.StatusUnauthorized, "missing_token", "this API needs a bearer token", "send Authorization: Bearer <token> with a token from api.tokens")
	case "bad_token":
		return problem.New(http.StatusUnauthorized, "bad_token", "the bearer token is not one of api.tokens", "check the token")
	case "session_ended":
		return problem.New(http.StatusUnauthorized, "session_ended", "登录已过期，请重新登录 (the session has ended)", "sign in again at /login")
	}
	return problem.New(http.StatusUnauthorized, "sign_in_required", "请先登录 (sign in, or send an API token)",
		"sign in at /login, or send Authorization: Bearer <token> with a token from api.tokens")
}

func unsafeMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return false
	}
	return true
}

// validCSRF compares the request's token with want in constant time. The
// form field is read only from a form body, so a JSON body is left alone.
func validCSRF(r *http.Request, want string) bool {
	got := r.Header.Get(CSRFHeader)
	if got == "" {
		ct := r.Header.Get("Content-Type")
		if strings.HasPrefix(ct, "application/x-www-form-urlencoded") || strings.HasPrefix(ct, "multipart/form-data") {
			got = r.PostFormValue(CSRFField)
		}
	}
	return want != "" && got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
