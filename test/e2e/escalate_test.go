package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"orderhub/internal/connector/aliyunsms"
	"orderhub/internal/connector/dingtalkapp"
	"orderhub/internal/connector/mall"
	"orderhub/internal/notify"
	"orderhub/internal/order"
	"orderhub/internal/testutil/mailpit"
)

// The 钉钉 app, the SMS account and the person of the escalation test.
const (
	e2eDingKey    = "dinge2eapp"
	e2eDingSecret = "e2e-ding-app-secret"
	e2eDingAgent  = 1000001
	e2eDingUser   = "manager4220"
	e2eSMSKey     = "LTAI5tE2eKey"
	e2eSMSSecret  = "e2e-sms-secret"
	e2eSMSSign    = "某某商城"
	e2eSMSCode    = "SMS_500000001"
	e2eMobile     = "13800001234"
	e2eEmail      = "zhang@example.com"
)

// escalateConfig is serve's config with the three channels of big_order's
// chain: the 钉钉 app at dingURL, SMS at smsURL and mail through the SMTP
// server on smtpPort. unread_after is 1m, the least the check allows.
func escalateConfig(t *testing.T, dir string, port int, dingURL, smsURL string, smtpPort int) string {
	t.Helper()
	path := filepath.Join(dir, "orderhub.yaml")
	writeFile(t, path, fmt.Sprintf(`store: sqlite://%s
listen: 127.0.0.1:%d
`+apiTokens+`
timezone: Asia/Shanghai
log:
  level: warn
  format: text
systems:
  shop:
    kind: mall
    app_key: e2e-mall
    app_sign: %s
  ding_app:
    kind: dingtalk_app
    base_url: %s
    app_key: %s
    app_secret: %s
    agent_id: %d
  sms:
    kind: aliyun_sms
    base_url: %s
    access_key_id: %s
    access_key_secret: %s
    sign_name: %s
    templates:
      big_order: {code: %s, params: [order_no, total]}
  mail:
    kind: smtp
    host: 127.0.0.1
    port: %d
    tls: none
    from: "订单中心 <orders@example.com>"
sources:
  shop_orders:
    system: shop
    mode: push
people:
  zhang: {name: 张三, dingtalk_userid: "%s", mobile: "%s", email: %s, groups: [finance]}
rules:
  big_order:
    on: [created]
    when: order.total >= 5000
    to: [group:finance]
    channels: [ding_app, sms, mail]
    template: big_order
    priority: critical
    escalate: {unread_after: 1m}
`, filepath.Join(dir, "orderhub.db"), port, appSign,
		dingURL, e2eDingKey, e2eDingSecret, e2eDingAgent,
		smsURL, e2eSMSKey, e2eSMSSecret, e2eSMSSign, e2eSMSCode,
		smtpPort, e2eDingUser, e2eMobile, e2eEmail))
	return path
}

// pathCounter counts the requests a simulator is asked, by path.
type pathCounter struct {
	h  http.Handler
	mu sync.Mutex
	n  map[string]int
}

func (c *pathCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.n[r.URL.Path]++
	c.mu.Unlock()
	c.h.ServeHTTP(w, r)
}

func (c *pathCounter) count(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[path]
}

// timelineStep is one entry of an order's timeline as the API shows it.
type timelineStep struct {
	Stage  string `json:"stage"`
	Detail struct {
		System string `json:"system"`
		State  string `json:"state"`
		From   string `json:"from"`
		To     string `json:"to"`
		Why    string `json:"why"`
		Unread int    `json:"unread"`
	} `json:"detail"`
}

func (s timelineStep) String() string {
	switch s.Stage {
	case "fallback":
		return fmt.Sprintf("fallback %s→%s", s.Detail.From, s.Detail.To)
	case "read_status":
		return fmt.Sprintf("read_status %s %s", s.Detail.System, s.Detail.State)
	default:
		return s.Stage + " " + s.Detail.System
	}
}

// timeline reads an order's timeline through GET /v1/orders/{source}/{no}.
func timeline(t *testing.T, c *http.Client, base, no string) []timelineStep {
	t.Helper()
	var ans struct {
		Timeline []timelineStep `json:"timeline"`
	}
	if _, err := getJSON(c, base+"/v1/orders/shop_orders/"+no, &ans); err != nil {
		t.Fatal(err)
	}
	return ans.Timeline
}

// waitStep polls the order's timeline until it holds want, or fails.
func waitStep(t *testing.T, c *http.Client, base, no, want string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		tl := timeline(t, c, base, no)
		for _, s := range tl {
			if s.String() == want {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("order %s: no %q in its timeline within %s: %v", no, want, within, tl)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// mallOrder generates orders until one's total is at least min yuan
// (above) or below it.
func mallOrder(t *testing.T, gen *mall.Generator, min order.Money, above bool) *mall.Order {
	t.Helper()
	for range 1000 {
		o := gen.New(time.Now())
		total, err := order.ParseMoney(*o.TotalPayPrice)
		if err != nil {
			t.Fatal(err)
		}
		if (total >= min) == above {
			return o
		}
	}
	t.Fatalf("the generator made no order with a total %s %s in 1000 tries", map[bool]string{true: "≥", false: "<"}[above], min)
	return nil
}

var (
	pixelLinkRE = regexp.MustCompile(`<img src="([^"]*/t/o/[^"]*\.gif)"`)
	unsubLinkRE = regexp.MustCompile(`href="([^"]*/u/[^"]*)"`)
	hrefLinkRE  = regexp.MustCompile(`href="([^"]*)"`)
)

// TestBigOrderEscalatesAcrossKill9 follows one big order through the
// big_order rule's chain, ding_app → sms → mail with unread_after: 1m, on
// the real binary: the 钉钉 work notification goes out and stays unread,
// serve is killed with SIGKILL before the minute is up and restarted on
// the same store, the read check asks 钉钉 (getsendresult), finds it
// unread and sends the SMS; serve is killed again before SMS's minute is
// up, and after that minute (SMS cannot tell whether it was read) the mail
// goes to mailpit with its HTML, plain text and one-click unsubscribe
// header. The timeline shows the three steps and each channel took
// exactly one message: nothing was sent twice across the kills. An order
// below the rule's total sends nothing.
//
// The binary has only the real clock and unread_after is at least a
// minute, so the test waits two real minutes.
func TestBigOrderEscalatesAcrossKill9(t *testing.T) {
	dir := t.TempDir()

	dingSim := dingtalkapp.NewSim(dingtalkapp.SimConfig{})
	dingSim.AddApp(dingtalkapp.App{Key: e2eDingKey, Secret: e2eDingSecret, AgentID: e2eDingAgent})
	dingSim.AddUser(e2eDingUser)
	dingCalls := &pathCounter{h: dingSim, n: map[string]int{}}
	ding := httptest.NewServer(dingCalls)
	defer ding.Close()

	smsSim := aliyunsms.NewSim(aliyunsms.SimConfig{})
	smsSim.AddKey(e2eSMSKey, e2eSMSSecret)
	smsSim.AddSign(aliyunsms.SimSign{Name: e2eSMSSign})
	smsSim.AddTemplate(aliyunsms.SimTemplate{Code: e2eSMSCode, Kind: aliyunsms.Notification, Text: "大额订单${order_no}，金额${total}，请尽快处理。"})
	sms := httptest.NewServer(smsSim)
	defer sms.Close()

	mail := mailpit.Start(t, mailpit.Options{})

	port := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	cfg := escalateConfig(t, dir, port, ding.URL, sms.URL, mail.Port)
	c := &http.Client{Timeout: 10 * time.Second}
	defer c.CloseIdleConnections()

	gen := mall.NewGenerator(uint64(time.Now().UnixNano()), appSign, shanghai, "B")
	five, _ := order.ParseMoney("5000")
	small, big := mallOrder(t, gen, five, false), mallOrder(t, gen, five, true)
	total, err := notify.Yuan(*big.TotalPayPrice)
	if err != nil {
		t.Fatal(err)
	}

	begin := time.Now()
	p := start(t, dir, "serve", "--config", cfg)
	p.waitHealthy(base, 10*time.Millisecond, 10*time.Second)
	for _, o := range []*mall.Order{small, big} {
		if status, ans, err := push(context.Background(), c, base+"/v1/push/shop_orders", mall.Body(o)); err != nil || status != http.StatusCreated {
			t.Fatalf("push %s: %d %+v %v", o.OrderNo, status, ans, err)
		}
	}

	// 1. The 钉钉 work notification goes out; nobody reads it.
	waitStep(t, c, base, big.OrderNo, "notified ding_app", 20*time.Second)
	sentDing := time.Now()
	p.stop(syscall.SIGKILL, 5*time.Second)
	if n := len(dingSim.Calls()); n != 1 {
		t.Fatalf("before the first kill 钉钉 took %d asyncsend_v2 calls, want 1", n)
	}
	if n := len(smsSim.Received()); n != 0 {
		t.Fatalf("SMS went out before unread_after: %+v", smsSim.Received())
	}

	// 2. Restarted on the same store, the hub keeps the read check it owed:
	// after the minute it asks 钉钉, finds the message unread and sends SMS.
	p = start(t, dir, "serve", "--config", cfg)
	p.waitHealthy(base, 10*time.Millisecond, 10*time.Second)
	waitStep(t, c, base, big.OrderNo, "notified sms", 90*time.Second)
	if waited := time.Since(sentDing); waited < time.Minute-time.Second {
		// The hub's own record of when it sent is a little earlier than
		// the test's; a second covers the difference.
		t.Errorf("SMS went out %s after 钉钉, before unread_after (1m)", waited)
	}
	sentSMS := time.Now()
	p.stop(syscall.SIGKILL, 5*time.Second)
	if n := dingCalls.count(dingtalkapp.PathResult); n == 0 {
		t.Errorf("the hub escalated without asking 钉钉 whether the message was read (no getsendresult call)")
	}
	if n := len(smsSim.Received()); n != 1 {
		t.Fatalf("before the second kill the SMS simulator took %d messages, want 1: %+v", n, smsSim.Received())
	}
	if n := len(mail.Messages(t)); n != 0 {
		t.Fatalf("mail went out before SMS's unread_after: %d messages", n)
	}

	// 3. Restarted again: SMS cannot tell whether it was read, so after
	// its minute the chain goes on to mail.
	p = start(t, dir, "serve", "--config", cfg)
	p.waitHealthy(base, 10*time.Millisecond, 10*time.Second)
	waitStep(t, c, base, big.OrderNo, "notified mail", 90*time.Second)
	if waited := time.Since(sentSMS); waited < time.Minute-time.Second {
		t.Errorf("mail went out %s after SMS, before unread_after (1m)", waited)
	}
	time.Sleep(2 * time.Second) // anything sent twice would arrive now

	// Each channel took exactly one message, for the big order.
	calls := dingSim.Calls()
	if len(calls) != 1 || !strings.Contains(calls[0].Text, big.OrderNo) || !strings.Contains(calls[0].Text, total) {
		t.Errorf("钉钉 took %d asyncsend_v2 calls, want one for %s (%s): %+v", len(calls), big.OrderNo, total, calls)
	}
	if inbox := dingSim.Inbox(e2eDingUser); len(inbox) != 1 || !inbox[0].ReadAt.IsZero() {
		t.Errorf("%s's 钉钉 inbox: %+v, want one unread message", e2eDingUser, inbox)
	}
	if n := dingSim.TokenCalls(); n != 1 {
		t.Errorf("the hub fetched the 钉钉 access token %d times across two restarts, want once (the token is kept in the store)", n)
	}
	if rej := dingSim.Rejected(); len(rej) > 0 {
		t.Errorf("钉钉 refused %d calls: %+v", len(rej), rej)
	}
	got := smsSim.Received()
	wantSMS := "【" + e2eSMSSign + "】大额订单" + big.OrderNo + "，金额" + total + "，请尽快处理。"
	if len(got) != 1 || got[0].Number != e2eMobile || got[0].Text != wantSMS {
		t.Errorf("the SMS simulator took %+v, want one SMS to %s: %s", got, e2eMobile, wantSMS)
	}
	if rej := smsSim.Rejected(); len(rej) > 0 {
		t.Errorf("the SMS simulator refused %d calls: %+v", len(rej), rej)
	}
	ms := mail.Messages(t)
	if len(ms) != 1 {
		t.Fatalf("mailpit holds %d messages, want 1: %+v", len(ms), ms)
	}
	checkEscalatedMail(t, c, base, mail.Message(t, ms[0].ID), big.OrderNo, total)

	// The timeline shows the three steps and the two escalations between
	// them, each once; the small order was not told anywhere. A read check
	// that escalates records the fallback and its read status in one
	// transaction, the fallback first.
	want := []string{
		"notified ding_app", "fallback ding_app→sms", "read_status ding_app escalated",
		"notified sms", "fallback sms→mail", "read_status sms escalated",
		"notified mail",
	}
	tl := timeline(t, c, base, big.OrderNo)
	var seen []string
	for _, s := range tl {
		if s.Stage == "notified" || s.Stage == "read_status" || s.Stage == "fallback" {
			seen = append(seen, s.String())
		}
		if s.Stage == "fallback" && s.Detail.Why != "not read within 1m0s" {
			t.Errorf("timeline: %s says why %q, want not read within 1m0s", s, s.Detail.Why)
		}
		if s.Stage == "read_status" && s.Detail.Unread != 1 {
			t.Errorf("timeline: %s counts %d unread, want 1", s, s.Detail.Unread)
		}
	}
	if strings.Join(seen, "; ") != strings.Join(want, "; ") {
		t.Errorf("order %s's notification timeline:\n  %s\nwant\n  %s", big.OrderNo, strings.Join(seen, "; "), strings.Join(want, "; "))
	}
	for _, s := range timeline(t, c, base, small.OrderNo) {
		if s.Stage == "notified" || s.Stage == "fallback" {
			t.Errorf("order %s (%s) is below big_order's total but its timeline shows %s", small.OrderNo, *small.TotalPayPrice, s)
		}
	}
	p.stop(syscall.SIGTERM, 10*time.Second)
	t.Logf("ding_app → sms → mail with two kills in %s", time.Since(begin).Round(time.Second))
}

// checkEscalatedMail checks the mail the chain ended with: to the person,
// the order in its HTML and its plain text, the one-click unsubscribe
// header, and a footer link that the hub answers.
func checkEscalatedMail(t *testing.T, c *http.Client, base string, m mailpit.Message, no, total string) {
	t.Helper()
	if len(m.To) != 1 || m.To[0].Address != e2eEmail {
		t.Errorf("the mail is to %+v, want %s alone", m.To, e2eEmail)
	}
	if m.From.Address != "orders@example.com" || m.From.Name != "订单中心" {
		t.Errorf("the mail is from %+v", m.From)
	}
	if !strings.Contains(m.Subject, "大额订单") || !strings.Contains(m.Subject, no) {
		t.Errorf("subject %q, want 大额订单 and %s", m.Subject, no)
	}
	orderLink := base + "/orders/shop_orders/" + no // the order's page in the console
	for _, part := range []struct{ name, body string }{{"HTML", m.HTML}, {"text", m.Text}} {
		for _, s := range []string{"大额订单 " + no, total} {
			if !strings.Contains(part.body, s) {
				t.Errorf("the mail's %s part lacks %q:\n%s", part.name, s, part.body)
			}
		}
	}
	// Both parts come from the one markdown template: rendered in the
	// HTML, written out plainly in the text (whose masked phone has
	// asterisks of its own).
	if !strings.Contains(m.HTML, ">大额订单 "+no+"</h3>") || !strings.Contains(m.HTML, "<strong>"+total+"</strong>") {
		t.Errorf("the HTML part does not render the template's heading and amount:\n%s", m.HTML)
	}
	if strings.Contains(m.Text, "###") || strings.Contains(m.Text, "**"+total) || strings.Contains(m.Text, "<") {
		t.Errorf("the plain text carries markdown or HTML:\n%s", m.Text)
	}
	if !strings.Contains(m.Text, orderLink) {
		t.Errorf("the plain text lacks the order's link %s:\n%s", orderLink, m.Text)
	}
	// In the HTML the order's link is a tracked one that leads to it.
	tracked := false
	for _, h := range hrefLinkRE.FindAllStringSubmatch(m.HTML, -1) {
		link := strings.ReplaceAll(h[1], "&amp;", "&")
		if u, err := url.Parse(link); err == nil && strings.HasPrefix(link, base+"/t/c/") && u.Query().Get("u") == orderLink {
			tracked = true
		}
	}
	if !tracked {
		t.Errorf("the HTML part has no tracked link to %s:\n%s", orderLink, m.HTML)
	}
	if pixelLinkRE.FindStringSubmatch(m.HTML) == nil {
		t.Errorf("the HTML part has no open pixel:\n%s", m.HTML)
	}
	if strings.Contains(m.Text, "/t/") {
		t.Errorf("the plain text carries tracking links:\n%s", m.Text)
	}
	lu := m.ListUnsubscribe
	if !strings.HasPrefix(lu.Header, "<"+base+"/u/") || lu.HeaderPost != "List-Unsubscribe=One-Click" || lu.Errors != "" {
		t.Errorf("List-Unsubscribe %+v: want <%s/u/…> and One-Click", lu, base)
	}
	footer := unsubLinkRE.FindStringSubmatch(m.HTML)
	if footer == nil || !strings.Contains(m.Text, base+"/u/") {
		t.Fatalf("want the unsubscribe link in the HTML footer and the text:\nHTML:\n%s\ntext:\n%s", m.HTML, m.Text)
	}
	link := strings.ReplaceAll(footer[1], "&amp;", "&")
	if !strings.Contains(lu.Header, link) {
		t.Errorf("the footer's link %s is not the header's %s", link, lu.Header)
	}
	resp, err := c.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "确认退订") {
		t.Errorf("GET %s: %d %s, want the confirmation page", link, resp.StatusCode, tail(string(body), 300))
	}
	var prefs struct {
		MutedChannels []string `json:"muted_channels"`
	}
	if _, err := getJSON(c, base+"/v1/people/zhang/preferences", &prefs); err != nil {
		t.Fatal(err)
	}
	if len(prefs.MutedChannels) != 0 {
		t.Errorf("opening the unsubscribe page muted %v before it was confirmed", prefs.MutedChannels)
	}
}
