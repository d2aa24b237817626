package app

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// The console's pages are served beside the API, which keeps its routes
// and answers, both behind sign-in.
func TestConsoleMounted(t *testing.T) {
	n := startNode(t, twoSources+"api:\n  tokens: [{name: reader, token: "+readerToken+", role: viewer}]\n")
	if code, body := n.pushMall("shop_orders", signA, "WEB"); code/100 != 2 {
		t.Fatalf("push = %d %s", code, body)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tests := []struct {
		method, path string
		token        string
		status       int
		typ, want    string
	}{
		{"GET", "/", readerToken, 200, "text/html", "概览"},
		{"GET", "/assets/vendor/echarts.common.min.js", "", 200, "text/javascript", "Apache"},
		{"GET", "/orders", readerToken, 200, "text/html", "WEB"},
		{"GET", "/exceptions", readerToken, 200, "text/html", "异常"},
		{"GET", "/deliveries", readerToken, 200, "text/html", "投递"},
		{"GET", "/syncs", readerToken, 200, "text/html", "同步"},
		{"GET", "/rules", readerToken, 200, "text/html", "规则"},
		{"GET", "/assets/console.css", "", 200, "text/css", "@media"},
		{"GET", "/v1/orders", readerToken, 200, "application/json", `"orders"`},
		{"GET", "/v1/exceptions", readerToken, 200, "application/json", `"exceptions"`},
		{"GET", "/healthz", "", 200, "application/json", `"ok"`},
		{"GET", "/v1/push/shop_orders", "", http.StatusMethodNotAllowed, "", ""},
		{"GET", "/nowhere", readerToken, http.StatusNotFound, "", ""},
		// No session: pages send to sign-in, the API refuses.
		{"GET", "/orders", "", http.StatusSeeOther, "", ""},
		{"GET", "/v1/orders", "", http.StatusUnauthorized, "", ""},
		// A viewer may not act.
		{"POST", "/exceptions/1/retry", readerToken, http.StatusForbidden, "", ""},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, n.base+tt.path, nil)
		if tt.token != "" {
			req.Header.Set("Authorization", "Bearer "+tt.token)
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), tt.typ) || !strings.Contains(string(b), tt.want) {
			t.Errorf("%s %s = %d %s, want %d %s with %q\n%.300s", tt.method, tt.path, resp.StatusCode, resp.Header.Get("Content-Type"), tt.status, tt.typ, tt.want, b)
		}
	}
}

const readerToken = "tok-reader-0123456789"
