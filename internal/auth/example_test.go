package auth_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"orderhub/internal/auth"
)

// A page behind auth.RequirePage reads who is signed in with
// auth.FromContext and puts the session's CSRF token in its forms. Served
// for real, (*auth.Auth).Middleware puts the viewer in the context;
// auth.WithViewer does it here.
func Example() {
	page := auth.RequirePage(auth.RoleOperator)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, _ := auth.FromContext(r.Context())
		fmt.Fprintf(w, `%s (%s, %s) <input type="hidden" name="csrf_token" value="%s">`, v.Name, v.Role, v.Lang, v.CSRF)
	}))

	for _, v := range []*auth.Viewer{
		{Name: "王芳", Role: auth.RoleOperator, Lang: "zh-CN", CSRF: "t0k"},
		{Name: "vic", Role: auth.RoleViewer, Lang: "en", CSRF: "t1k"},
		nil, // not signed in
	} {
		r := httptest.NewRequest(http.MethodGet, "/exceptions?flow=a", nil)
		if v != nil {
			r = r.WithContext(auth.WithViewer(r.Context(), *v))
		}
		w := httptest.NewRecorder()
		page.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Header().Get("Location"), w.Body.String())
	}
	// Output:
	// 200  王芳 (operator, zh-CN) <input type="hidden" name="csrf_token" value="t0k">
	// 403  {"status":403,"code":"forbidden_role","title":"vic 的角色 viewer 无权执行此操作 (role viewer may not do this; it needs operator)","detail":"ask an admin for a role that allows it"}
	//
	// 303 /login?next=%2Fexceptions%3Fflow%3Da <a href="/login?next=%2Fexceptions%3Fflow%3Da">See Other</a>.
}
