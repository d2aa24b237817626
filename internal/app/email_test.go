package app

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"orderhub/internal/testutil/mailpit"
)

// The hub as configured: an email channel to a real SMTP server (mailpit),
// one rule tracked and one with track: false.
const emailConfig = `store: %%s
listen: 127.0.0.1:0
log: {level: info}
systems:
  shop: {kind: mall, app_key: k, app_sign: ` + signA + `}
  mail: {kind: smtp, host: 127.0.0.1, port: %d, tls: none, from: "订单中心 <orders@example.com>"}
sources:
  shop_orders: {system: shop, mode: push}
people:
  zhang: {name: 张三, email: zhang@example.com}
  li: {name: 李四, email: li@example.com}
rules:
  tracked: {on: [created], to: [zhang], channels: [mail], template: new_order}
  untracked: {on: [created], to: [li], channels: [mail], template: new_order, track: false}
`

// waitMail waits for mailpit to hold n messages.
func waitMail(t *testing.T, srv *mailpit.Server, n int) []mailpit.Summary {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if ms := srv.Messages(t); len(ms) >= n {
			return ms
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailpit holds %d messages after 30s, want %d", len(srv.Messages(t)), n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var (
	pixelRE = regexp.MustCompile(`<img src="([^"]*/t/o/[^"]*\.gif)"`)
	hrefRE  = regexp.MustCompile(`href="([^"]*)"`)
)

// An order's mail reaches mailpit with its unsubscribe header and footer
// link, an open pixel and tracked links; fetching the pixel and following
// a link over HTTP shows as opened and clicked in the statistics. A
// tampered tracked link is refused, and track: false sends a plain mail.
func TestEmailTrackingEndToEnd(t *testing.T) {
	srv := mailpit.Start(t, mailpit.Options{})
	n := startNode(t, fmt.Sprintf(emailConfig, srv.Port))
	if code, body := n.pushMall("shop_orders", signA, "T"); code != 201 {
		t.Fatalf("push: %d %s", code, body)
	}
	ms := waitMail(t, srv, 2)
	// mailpit may hold the mails before the hub has recorded the answers.
	var sent struct {
		Rows []struct{ Sent int }
	}
	waitJSON(t, n.base+"/v1/stats/notifications", &sent, func() bool {
		return len(sent.Rows) == 2 && sent.Rows[0].Sent == 1 && sent.Rows[1].Sent == 1
	})
	byTo := map[string]mailpit.Message{}
	for _, s := range ms {
		byTo[s.To[0].Address] = srv.Message(t, s.ID)
	}
	// The links carry the address the hub derives from listen:; this node
	// listens on a port the system chose, so the test reaches it there.
	local := func(link string) string {
		i := strings.Index(link, "/t/")
		if i < 0 {
			i = strings.Index(link, "/u/")
		}
		if i < 0 {
			t.Fatalf("%q is not one of the hub's links", link)
		}
		return n.base + link[i:]
	}

	zhang := byTo["zhang@example.com"]
	if !strings.Contains(zhang.ListUnsubscribe.Header, "/u/") || zhang.ListUnsubscribe.HeaderPost != "List-Unsubscribe=One-Click" || zhang.ListUnsubscribe.Errors != "" {
		t.Errorf("List-Unsubscribe %+v: want a /u/ link and One-Click", zhang.ListUnsubscribe)
	}
	pm := pixelRE.FindStringSubmatch(zhang.HTML)
	if pm == nil {
		t.Fatalf("the tracked mail has no open pixel:\n%s", zhang.HTML)
	}
	var tracked, unsub string
	for _, m := range hrefRE.FindAllStringSubmatch(zhang.HTML, -1) {
		link := strings.ReplaceAll(m[1], "&amp;", "&")
		switch {
		case strings.Contains(link, "/t/c/"):
			tracked = link
		case strings.Contains(link, "/u/"):
			unsub = link
		case strings.HasPrefix(link, "http"):
			t.Errorf("link %s in the tracked mail is not tracked", link)
		}
	}
	if tracked == "" || unsub == "" {
		t.Fatalf("want a tracked link and the footer's unsubscribe link in:\n%s", zhang.HTML)
	}
	if !strings.Contains(zhang.Text, "/u/") || strings.Contains(zhang.Text, "/t/") {
		t.Errorf("the plain text should carry the unsubscribe link and no tracking:\n%s", zhang.Text)
	}

	li := byTo["li@example.com"]
	if strings.Contains(li.HTML, "/t/") || !strings.Contains(li.HTML, "/u/") {
		t.Errorf("track: false: want no pixel nor tracked link, but the unsubscribe link:\n%s", li.HTML)
	}

	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(u string) (*http.Response, []byte) {
		t.Helper()
		resp, err := noFollow.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	target, err := urlParam(tracked, "u")
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name     string
		url      string
		status   int
		location string
		opened   int
		clicked  int
	}{
		{"tampered target", strings.Replace(local(tracked), "u=http", "u=https%3A%2F%2Fevil.example%2F%3Fx%3Dhttp", 1), 400, "", 0, 0},
		{"tampered token", strings.Replace(local(tracked), "/t/c/", "/t/c/A", 1), 400, "", 0, 0},
		{"tampered pixel", strings.Replace(local(pm[1]), "/t/o/", "/t/o/A", 1), 400, "", 0, 0},
		{"pixel", local(pm[1]), 200, "", 1, 0},
		{"pixel again", local(pm[1]), 200, "", 1, 0},
		{"link", local(tracked), 302, target, 1, 1},
	}
	for _, s := range steps {
		resp, body := get(s.url)
		if resp.StatusCode != s.status || resp.Header.Get("Location") != s.location {
			t.Fatalf("%s: GET %s: %d Location %q, want %d %q (%s)", s.name, s.url, resp.StatusCode, resp.Header.Get("Location"), s.status, s.location, body)
		}
		if s.name == "pixel" && (resp.Header.Get("Content-Type") != "image/gif" || !strings.HasPrefix(string(body), "GIF89a")) {
			t.Errorf("pixel: %s %q", resp.Header.Get("Content-Type"), body)
		}
		var stats struct {
			Rows []struct {
				Rule, System    string
				Sent            int
				Opened, Clicked int
				OpenRate        float64 `json:"open_rate"`
				ClickRate       float64 `json:"click_rate"`
			}
		}
		resp, body = get(n.base + "/v1/stats/notifications")
		if err := json.Unmarshal(body, &stats); err != nil || resp.StatusCode != 200 {
			t.Fatalf("stats: %d %s", resp.StatusCode, body)
		}
		for _, r := range stats.Rows {
			want := [2]int{}
			if r.Rule == "tracked" {
				want = [2]int{s.opened, s.clicked}
			}
			if r.System != "mail" || r.Sent != 1 || r.Opened != want[0] || r.Clicked != want[1] ||
				r.OpenRate != float64(want[0]) || r.ClickRate != float64(want[1]) {
				t.Fatalf("after %s: stats row %+v, want sent 1, opened %d, clicked %d", s.name, r, want[0], want[1])
			}
		}
		if len(stats.Rows) != 2 {
			t.Fatalf("after %s: %d stats rows, want 2", s.name, len(stats.Rows))
		}
	}

	// The footer's link, confirmed, mutes mail for zhang.
	if resp, body := get(local(unsub)); resp.StatusCode != 200 || !strings.Contains(string(body), "确认退订") {
		t.Fatalf("GET unsubscribe: %d %s", resp.StatusCode, body)
	}
	resp, err := http.Post(local(unsub), "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var prefs struct {
		MutedChannels []string `json:"muted_channels"`
	}
	if resp, body := get(n.base + "/v1/people/zhang/preferences"); json.Unmarshal(body, &prefs) != nil || len(prefs.MutedChannels) != 1 || prefs.MutedChannels[0] != "mail" {
		t.Fatalf("after unsubscribing: %d %s", resp.StatusCode, body)
	}
}

func urlParam(raw, key string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	return u.Query().Get(key), nil
}
