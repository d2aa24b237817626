package main

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHealth(t *testing.T) {
	answer := func(code int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/healthz" {
				http.NotFound(w, r)
				return
			}
			w.WriteHeader(code)
			_, _ = w.Write([]byte(body))
		}
	}
	release := make(chan struct{})
	defer close(release)
	slow := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}
	// A port that was free a moment ago: nothing listens there.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/healthz"
	ln.Close()

	for _, tc := range []struct {
		name       string
		handler    http.HandlerFunc // nil: ask url instead of a test server
		url        string
		wantCode   int // exit code
		wantStdout string
		wantStderr string
	}{
		{name: "healthy", handler: answer(200, `{"status":"ok","version":"dev"}`+"\n"),
			wantStdout: `/healthz: {"status":"ok","version":"dev"}`},
		{name: "stopping", handler: answer(503, `{"status":"stopping","version":"dev"}`),
			wantCode: 1, wantStderr: `unhealthy: 503 Service Unavailable {"status":"stopping","version":"dev"}`},
		{name: "store unreachable", handler: answer(503, `{"status":"store unreachable"}`),
			wantCode: 1, wantStderr: `unhealthy: 503 Service Unavailable {"status":"store unreachable"}`},
		{name: "200 from something else", handler: answer(200, `<html>hello</html>`),
			wantCode: 1, wantStderr: `answered 200 but not {"status":"ok"}: "<html>hello</html>"`},
		{name: "a redirect", handler: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/login", http.StatusFound)
		}, wantCode: 1, wantStderr: "unhealthy: 302 Found"},
		{name: "no answer in time", handler: slow, wantCode: 1, wantStderr: "no answer in time"},
		{name: "nothing listening", url: closed, wantCode: 1, wantStderr: "not reachable: "},
		{name: "not a URL", url: "http://127.0.0.1:8080/\x7f", wantCode: 1, wantStderr: "not a URL to ask"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url := tc.url
			if tc.handler != nil {
				srv := httptest.NewServer(tc.handler)
				defer srv.Close()
				url = srv.URL + "/healthz"
			}
			var stdout, stderr bytes.Buffer
			root := newRoot(&stdout, &stderr)
			root.SetArgs([]string{"health", "--url", url, "--timeout", "200ms"})
			err := root.Execute()
			code := 0
			var ee exitError
			if errors.As(err, &ee) {
				code = ee.code
			} else if err != nil {
				t.Fatalf("health: %v", err)
			}
			if code != tc.wantCode {
				t.Errorf("exit %d, want %d; stdout %q, stderr %q", code, tc.wantCode, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.wantStdout) || (tc.wantStdout == "" && stdout.Len() > 0) {
				t.Errorf("stdout %q, want %q", stdout.String(), tc.wantStdout)
			}
			if !strings.Contains(stderr.String(), tc.wantStderr) || (tc.wantStderr == "" && stderr.Len() > 0) {
				t.Errorf("stderr %q, want %q", stderr.String(), tc.wantStderr)
			}
			if tc.wantCode != 0 && !strings.HasPrefix(stderr.String(), "orderhub health: "+url+": ") {
				t.Errorf("stderr %q does not name the URL it asked", stderr.String())
			}
		})
	}
}
