// Package e2e runs the orderhub binary the way users and operators do: the
// demo from the README, serve with a config file, kill -9 in the middle of
// concurrent pushes, restarts on the same data, and the CLI's check, schema,
// version and help. The tests talk to the binary only over 127.0.0.1 and read
// its SQLite store after it has stopped.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// bin is the orderhub binary built once by TestMain.
var bin string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "orderhub-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin = filepath.Join(dir, "orderhub")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/orderhub")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: building orderhub: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// moduleRoot walks up from the working directory to the folder with go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// syncBuffer is a goroutine-safe output sink that can be waited on for a line.
type syncBuffer struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	cond chan struct{} // closed and replaced on every write
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{cond: make(chan struct{})} }

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	close(b.cond)
	b.cond = make(chan struct{})
	return n, err
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) changed() (string, <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String(), b.cond
}

// tail is the last n bytes of s, for failure messages.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// proc is one running orderhub process.
type proc struct {
	t      *testing.T
	name   string
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan struct{}
	err    error // cmd.Wait's answer, valid once done is closed
}

// start runs the binary with args in dir. The process is killed in cleanup if
// it is still running, and its output is logged when the test failed.
func start(t *testing.T, dir string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	return startCmd(t, strings.Join(args, " "), cmd)
}

// startCmd starts cmd (orderhub, or a wrapper that execs it) like start.
func startCmd(t *testing.T, name string, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{t: t, name: name, stdout: newSyncBuffer(), stderr: newSyncBuffer(), done: make(chan struct{}), cmd: cmd}
	p.cmd.Stdout = p.stdout
	p.cmd.Stderr = p.stderr
	p.cmd.Env = append(append(os.Environ(), "NO_COLOR=1"), p.cmd.Env...)
	setProcAttr(p.cmd)
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting orderhub %s: %v", p.name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if !p.exited() {
			_ = p.cmd.Process.Kill()
			select {
			case <-p.done:
			case <-time.After(10 * time.Second):
				t.Errorf("orderhub %s (pid %d) did not die after SIGKILL", p.name, p.cmd.Process.Pid)
			}
		}
		if t.Failed() {
			t.Logf("orderhub %s (pid %d) stdout:\n%s\nstderr:\n%s", p.name, p.cmd.Process.Pid, tail(p.stdout.String(), 4000), tail(p.stderr.String(), 6000))
		}
	})
	return p
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// signal sends sig and waits (bounded) for the process to exit; it returns
// the exit code, or -1 when the process died of a signal.
func (p *proc) stop(sig os.Signal, within time.Duration) int {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil && !p.exited() {
		p.t.Fatalf("signalling orderhub %s: %v", p.name, err)
	}
	return p.wait(within)
}

func (p *proc) wait(within time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(within):
		p.t.Fatalf("orderhub %s did not exit within %s", p.name, within)
	}
	if p.err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return -1
		}
		return ee.ExitCode()
	}
	p.t.Fatalf("waiting for orderhub %s: %v", p.name, p.err)
	return 0
}

// waitStdout waits until stdout holds every marker, or fails.
func (p *proc) waitStdout(within time.Duration, markers ...string) string {
	p.t.Helper()
	deadline := time.After(within)
	for {
		s, ch := p.stdout.changed()
		all := true
		for _, m := range markers {
			if !strings.Contains(s, m) {
				all = false
			}
		}
		if all {
			return s
		}
		select {
		case <-ch:
		case <-p.done:
			s = p.stdout.String()
			p.t.Fatalf("orderhub %s exited (%v) before printing %q; stdout:\n%s\nstderr:\n%s", p.name, p.err, markers, s, tail(p.stderr.String(), 4000))
		case <-deadline:
			p.t.Fatalf("orderhub %s printed no %q within %s; stdout:\n%s", p.name, markers, within, s)
		}
	}
}

// waitHealthy polls /healthz every interval until it answers 200 and returns
// how long that took. It fails when the process exits or the deadline passes.
func (p *proc) waitHealthy(base string, interval, within time.Duration) time.Duration {
	p.t.Helper()
	c := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	defer c.CloseIdleConnections()
	begin := time.Now()
	deadline := begin.Add(within)
	var last string
	for {
		if p.exited() {
			p.t.Fatalf("orderhub %s exited (%v) before /healthz was green; stderr:\n%s", p.name, p.err, tail(p.stderr.String(), 4000))
		}
		resp, err := c.Get(base + "/healthz")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				var h struct{ Status string }
				if err := json.Unmarshal(body, &h); err != nil || h.Status != "ok" {
					p.t.Fatalf("/healthz answered 200 with %q, want status ok", body)
				}
				return time.Since(begin)
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(body))
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("/healthz not green within %s (last: %s)", within, last)
		}
		time.Sleep(interval)
	}
}

// freePort returns a port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// pushAnswer is the JSON answer of POST /v1/push/{source}.
type pushAnswer struct {
	Source  string   `json:"source"`
	OrderNo string   `json:"order_no"`
	Result  string   `json:"result"`
	Version int64    `json:"version"`
	Events  []string `json:"events"`
}

// orderAnswer is the JSON answer of GET /v1/orders/{source}/{order_no}.
type orderAnswer struct {
	Order struct {
		Source  string `json:"source"`
		OrderNo string `json:"order_no"`
		Status  string `json:"status"`
		Buyer   struct {
			Name  string `json:"name"`
			Phone string `json:"phone"`
		} `json:"buyer"`
	} `json:"order"`
	Version int64 `json:"version"`
	Events  []struct {
		Type    string `json:"type"`
		Version int64  `json:"version"`
	} `json:"events"`
}

// push POSTs body and decodes a 2xx answer. A transport error is returned as
// err; a non-2xx status is returned with its body as err's text.
func push(ctx context.Context, c *http.Client, url string, body []byte) (int, *pushAnswer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("reading the answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, nil, fmt.Errorf("answer %d: %s", resp.StatusCode, bytes.TrimSpace(b))
	}
	var a pushAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		return resp.StatusCode, nil, fmt.Errorf("decoding the answer %q: %w", b, err)
	}
	return resp.StatusCode, &a, nil
}

// e2eToken is the API token of the tests' configurations (apiTokens),
// which getJSON sends.
const e2eToken = "e2e-token-0123456789"

// apiTokens is the api section every test configuration has.
const apiTokens = "api: {tokens: [{name: e2e, token: " + e2eToken + "}]}"

// getJSON GETs url with the tests' API token and decodes a 200 answer into v.
func getJSON(c *http.Client, url string, v any) (int, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+e2eToken)
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, bytes.TrimSpace(b))
	}
	if err := json.Unmarshal(b, v); err != nil {
		return resp.StatusCode, fmt.Errorf("GET %s: decoding %q: %w", url, tail(string(b), 300), err)
	}
	return resp.StatusCode, nil
}

// listAll pages through GET /v1/orders and returns order_no → version.
func listAll(t *testing.T, c *http.Client, base string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	cursor := ""
	for page := 0; ; page++ {
		if page > 10000 {
			t.Fatalf("GET /v1/orders: too many pages")
		}
		url := base + "/v1/orders?source=shop_orders&limit=500"
		if cursor != "" {
			url += "&cursor=" + cursor
		}
		var ans struct {
			Orders []struct {
				Order struct {
					OrderNo string `json:"order_no"`
				} `json:"order"`
				Version int64 `json:"version"`
			} `json:"orders"`
			NextCursor string `json:"next_cursor"`
			HasMore    bool   `json:"has_more"`
		}
		if _, err := getJSON(c, url, &ans); err != nil {
			t.Fatal(err)
		}
		for _, o := range ans.Orders {
			if _, dup := out[o.Order.OrderNo]; dup {
				t.Errorf("GET /v1/orders lists order %s twice", o.Order.OrderNo)
			}
			out[o.Order.OrderNo] = o.Version
		}
		if !ans.HasMore {
			return out
		}
		cursor = ans.NextCursor
	}
}

// readLines splits s into trimmed lines.
func readLines(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		out = append(out, strings.TrimSpace(sc.Text()))
	}
	return out
}
