package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestDemoReadme runs the README's demo the way a user does and follows the
// lines it prints: the curl that pushes one order, the curl that reads it
// back; then checks that the built-in simulator's orders arrive, that
// /healthz and /metrics answer, and that Ctrl-C stops it cleanly.
func TestDemoReadme(t *testing.T) {
	cwd := t.TempDir()
	dir := filepath.Join(cwd, "demo")
	args := []string{"demo", "--dir", dir, "--listen", "127.0.0.1:0", "--every", "200ms"}
	demo := exec.Command(bin, args...)
	demo.Dir = cwd
	// The demo's token is new on every start unless chosen; getJSON sends
	// this one.
	demo.Env = []string{"ORDERHUB_DEMO_TOKEN=" + e2eToken}
	p := startCmd(t, strings.Join(args, " "), demo)
	out := p.waitStdout(15*time.Second, "push one order:", "read it back:", "Ctrl-C stops")

	var pushLine, readLine, base string
	for _, l := range readLines(out) {
		switch {
		case strings.HasPrefix(l, "push one order:"):
			pushLine = strings.TrimSpace(strings.TrimPrefix(l, "push one order:"))
		case strings.HasPrefix(l, "read it back:"):
			readLine = strings.TrimSpace(strings.TrimPrefix(l, "read it back:"))
		case strings.HasPrefix(l, "orderhub demo is running at "):
			base = strings.TrimSpace(strings.TrimPrefix(l, "orderhub demo is running at "))
		}
	}
	if pushLine == "" || readLine == "" || base == "" {
		t.Fatalf("demo output lacks the URL, push or read-back line:\n%s", out)
	}
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("demo runs at %q, want http://127.0.0.1:<port>", base)
	}
	if !strings.HasPrefix(pushLine, "curl ") || !strings.HasPrefix(readLine, "curl ") {
		t.Fatalf("printed lines are not curl commands:\n  %s\n  %s", pushLine, readLine)
	}

	// Push the sample order exactly as printed.
	status, body := runCurl(t, cwd, pushLine)
	var pa pushAnswer
	if err := json.Unmarshal(body, &pa); err != nil {
		t.Fatalf("push line answered %d %q: %v", status, body, err)
	}
	switch {
	case status == http.StatusCreated && pa.Result == "created":
	case status == http.StatusOK && pa.Result == "duplicate":
	default:
		t.Fatalf("push line answered %d %s, want 201 created (or 200 duplicate)", status, body)
	}
	if pa.Source != "shop_orders" || pa.OrderNo == "" || pa.Version != 1 {
		t.Errorf("push answer %+v: want source shop_orders, an order_no, version 1", pa)
	}
	if !strings.HasSuffix(readLine, "/"+pa.OrderNo) {
		t.Errorf("read-back line %q does not name the pushed order %s", readLine, pa.OrderNo)
	}

	// Read it back exactly as printed.
	status, body = runCurl(t, cwd, readLine)
	var oa orderAnswer
	if err := json.Unmarshal(body, &oa); err != nil || status != http.StatusOK {
		t.Fatalf("read-back line answered %d %q (%v)", status, body, err)
	}
	sample := readSample(t, pushLine)
	if oa.Order.OrderNo != pa.OrderNo || oa.Order.OrderNo != sample.OrderNo {
		t.Errorf("read back order %q, pushed %q (sample file has %q)", oa.Order.OrderNo, pa.OrderNo, sample.OrderNo)
	}
	// The demo advances its sample once: usually paid, now and then cancelled.
	wantStatus := "created"
	switch {
	case sample.CancelStatus == 1:
		wantStatus = "cancelled"
	case sample.IsPay == 1:
		wantStatus = "paid"
	}
	if oa.Order.Status != wantStatus {
		t.Errorf("read back status %q, want %q (sample is_pay=%d cancel_status=%d)", oa.Order.Status, wantStatus, sample.IsPay, sample.CancelStatus)
	}
	if !strings.Contains(oa.Order.Buyer.Phone, "****") || oa.Order.Buyer.Phone == sample.Mobile {
		t.Errorf("read back phone %q: want it masked like 138****1234 (sample %s)", oa.Order.Buyer.Phone, sample.Mobile)
	} else if want := sample.Mobile[:3] + "****" + sample.Mobile[len(sample.Mobile)-4:]; oa.Order.Buyer.Phone != want {
		t.Errorf("read back phone %q, want %q", oa.Order.Buyer.Phone, want)
	}
	if strings.Contains(string(body), sample.Mobile) {
		t.Errorf("the read-back answer contains the unmasked phone %s", sample.Mobile)
	}
	var types []string
	for _, e := range oa.Events {
		types = append(types, e.Type)
	}
	if !slices.Contains(types, "created") {
		t.Errorf("read back events %v, want one of them created", types)
	}
	if oa.Version != 1 {
		t.Errorf("read back version %d, want 1", oa.Version)
	}

	c := &http.Client{Timeout: 5 * time.Second}
	defer c.CloseIdleConnections()

	// The simulator pushes every 200ms: its orders (prefix S) show up.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var list struct {
			Orders []struct {
				Order struct {
					OrderNo string `json:"order_no"`
				} `json:"order"`
			} `json:"orders"`
		}
		if _, err := getJSON(c, base+"/v1/orders?source=shop_orders&limit=50", &list); err != nil {
			t.Fatal(err)
		}
		sim := 0
		for _, o := range list.Orders {
			if strings.HasPrefix(o.Order.OrderNo, "S") {
				sim++
			}
		}
		if len(list.Orders) > 1 && sim > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 10s GET /v1/orders lists %d orders (%d from the simulator), want > 1", len(list.Orders), sim)
		}
		time.Sleep(100 * time.Millisecond)
	}

	var h struct{ Status string }
	if code, err := getJSON(c, base+"/healthz", &h); err != nil || h.Status != "ok" {
		t.Errorf("/healthz: %d %+v %v", code, h, err)
	}
	resp, err := c.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Contains(metrics, []byte("orderhub_push_requests_total")) {
		t.Errorf("/metrics: %d, orderhub_push_requests_total present: %v", resp.StatusCode, bytes.Contains(metrics, []byte("orderhub_push_requests_total")))
	}

	// The 旺店通 → 金蝶 flows: the printed trade is pulled and written, and
	// the printed refused trade waits as an exception with the ERP's message.
	var tradeLine, excLine string
	for _, l := range readLines(out) {
		switch {
		case strings.HasPrefix(l, "a written trade:"):
			tradeLine = strings.TrimSpace(strings.TrimPrefix(l, "a written trade:"))
		case strings.HasPrefix(l, "exceptions (异常):"):
			excLine = strings.TrimSpace(strings.TrimPrefix(l, "exceptions (异常):"))
			excLine, _, _ = strings.Cut(excLine, "   (")
		}
	}
	if tradeLine == "" || excLine == "" {
		t.Fatalf("demo output lacks the flow lines:\n%s", out)
	}
	deadline = time.Now().Add(30 * time.Second)
	for {
		status, body := runCurl(t, cwd, tradeLine)
		if status == http.StatusOK && bytes.Contains(body, []byte(`"stage":"written"`)) && bytes.Contains(body, []byte(`"stage":"pulled"`)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30s the printed trade is not pulled and written: %d %s", status, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for {
		status, body := runCurl(t, cwd, excLine)
		var exc struct {
			Exceptions []struct {
				OrderNo string `json:"order_no"`
				Error   struct{ Message, Hint string }
			} `json:"exceptions"`
		}
		_ = json.Unmarshal(body, &exc)
		if status == http.StatusOK && len(exc.Exceptions) == 1 && exc.Exceptions[0].Error.Hint != "" && strings.Contains(exc.Exceptions[0].Error.Message, "NEW-SKU-2026") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30s the exceptions line shows %d %s; want the one refused trade with 星辰's message and a hint", status, body)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// Notifications: new mall orders reach the built-in 钉钉 robot as
	// signed markdown carrying its keyword, and the printed robot line lists
	// them.
	var robotLine string
	for _, l := range readLines(out) {
		if strings.HasPrefix(l, "what the robot got:") {
			robotLine = strings.TrimSpace(strings.TrimPrefix(l, "what the robot got:"))
		}
	}
	if robotLine == "" {
		t.Fatalf("demo output lacks the robot line:\n%s", out)
	}
	for {
		status, body := runCurl(t, cwd, robotLine)
		var got struct {
			Received []struct{ MsgType, Text string } `json:"received"`
			Rejected []struct{ ErrCode int }          `json:"rejected"`
		}
		_ = json.Unmarshal(body, &got)
		if len(got.Rejected) > 0 {
			t.Fatalf("the robot refused calls: %s", body)
		}
		told := false
		for _, m := range got.Received {
			if m.MsgType == "markdown" && strings.Contains(m.Text, "订单") && strings.Contains(m.Text, "/orders/shop_orders/") {
				told = true
			}
		}
		if status == http.StatusOK && told {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30s the robot holds no markdown message of a mall order: %d %s", status, body)
		}
		time.Sleep(200 * time.Millisecond)
	}

	if code := p.stop(os.Interrupt, 10*time.Second); code != 0 {
		t.Fatalf("demo exited with %d after SIGINT, want 0", code)
	}
	if _, err := os.Stat(filepath.Join(dir, "orderhub.db")); err != nil {
		t.Errorf("the demo's data is not where it said: %v", err)
	}
}

// runCurl runs a printed curl line: with /usr/bin/curl through bash when it
// exists, otherwise by parsing its URL and @file and sending it with
// net/http. It returns the HTTP status and body.
func runCurl(t *testing.T, dir, line string) (int, []byte) {
	t.Helper()
	if _, err := os.Stat("/usr/bin/curl"); err == nil {
		if _, err := exec.LookPath("bash"); err == nil {
			// -w appends the status on a line of its own.
			cmd := exec.Command("bash", "-c", line+` -w '\n%{http_code}'`)
			cmd.Dir = dir
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			done := make(chan struct{})
			var out []byte
			var err error
			go func() { out, err = cmd.Output(); close(done) }()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				_ = cmd.Process.Kill()
				<-done
				t.Fatalf("%s did not finish within 20s", line)
			}
			if err != nil {
				t.Fatalf("%s: %v\n%s", line, err, stderr.String())
			}
			i := bytes.LastIndexByte(out, '\n')
			var code int
			if _, err := fmt.Sscan(string(out[i+1:]), &code); err != nil {
				t.Fatalf("%s: no status in %q", line, out)
			}
			return code, out[:i]
		}
	}
	url, file := parseCurl(t, line)
	c := &http.Client{Timeout: 10 * time.Second}
	method, body := http.MethodGet, io.Reader(nil)
	if file != "" {
		b, rerr := os.ReadFile(file)
		if rerr != nil {
			t.Fatalf("%s: %v", line, rerr)
		}
		method, body = http.MethodPost, bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	if file != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	// The printed lines carry their headers as -H 'Name: value'.
	for _, m := range curlHeader.FindAllStringSubmatch(line, -1) {
		if k, v, ok := strings.Cut(m[1], ":"); ok {
			req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
		}
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, bytes.TrimSpace(b)
}

// parseCurl finds the URL and the --data-binary @file of a curl line.
var curlHeader = regexp.MustCompile(`-H '([^']*)'`)

func parseCurl(t *testing.T, line string) (url, file string) {
	t.Helper()
	for _, f := range strings.Fields(line) {
		f = strings.Trim(f, `'"`)
		switch {
		case strings.HasPrefix(f, "http://"), strings.HasPrefix(f, "https://"):
			url = f
		case strings.HasPrefix(f, "@"):
			file = f[1:]
		}
	}
	if url == "" {
		t.Fatalf("no URL in %q", line)
	}
	return url, file
}

// sampleOrder is the part of the demo's sample order the test compares.
type sampleOrder struct {
	OrderNo string `json:"order_no"`
	Mobile  string `json:"mobile"`
	IsPay   int    `json:"is_pay"`
	// CancelStatus is 1 for a cancelled order.
	CancelStatus int `json:"cancel_status"`
}

func readSample(t *testing.T, pushLine string) sampleOrder {
	t.Helper()
	_, file := parseCurl(t, pushLine)
	if file == "" {
		t.Fatalf("the push line %q names no @file", pushLine)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("reading the sample order the push line names: %v", err)
	}
	var s sampleOrder
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("the sample order %s is not JSON: %v", file, err)
	}
	return s
}
