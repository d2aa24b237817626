package notify_test

import (
	"context"
	"strings"
	"testing"

	"orderhub/internal/connector"
	"orderhub/internal/notify"
)

// As a message goes out, each configured person gets an unsubscribe link
// naming the channel it goes out on (after a fallback, the next one), and
// the message the open pixel and click links of its own delivery, unless
// its rule says track: false.
func TestLinksAsMessagesGoOut(t *testing.T) {
	e, app, app2 := peopleEnv(t, `rules:
  chain: {on: [created], channels: [app, app2], to: [zhang], template: big_order}
  quiet: {on: [created], channels: [app2], to: [li], template: big_order, track: false}
`)
	app.refuse = &connector.CallError{Class: connector.Permanent, Code: "33012", Message: "无效的userid"}
	e.push(1, 599900)
	e.drainAll("app", "app2")
	key, err := e.store.LinkSecret(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	links := notify.NewLinks(key, e.rules.LinkBase())
	got := map[string]connector.Message{}
	for _, m := range app2.messages() {
		got[m.To[0].Person] = m
	}
	cases := []struct {
		person, channel string
		tracked         bool
	}{
		{"zhang", "app2", true}, // fell back from app: the link mutes app2, where it was sent
		{"li", "app2", false},
	}
	for _, tc := range cases {
		m, ok := got[tc.person]
		if !ok {
			t.Fatalf("app2 sent nothing to %s (%d messages)", tc.person, len(app2.messages()))
		}
		link := m.To[0].UnsubscribeURL
		tok, ok := strings.CutPrefix(link, e.rules.LinkBase()+"/u/")
		if !ok {
			t.Fatalf("%s's unsubscribe link %q is not under %s/u/", tc.person, link, e.rules.LinkBase())
		}
		u, err := links.ReadUnsubscribe(tok)
		if err != nil || u.Person != tc.person || u.Channel != tc.channel {
			t.Errorf("%s's link names %+v (%v), want %s on %s", tc.person, u, err, tc.person, tc.channel)
		}
		if (m.Track != nil) != tc.tracked {
			t.Fatalf("%s: tracked %v, want %v", tc.person, m.Track != nil, tc.tracked)
		}
		if m.Track != nil {
			pix := strings.TrimSuffix(strings.TrimPrefix(m.Track.OpenPixel, e.rules.LinkBase()+"/t/o/"), ".gif")
			id, err := links.ReadOpen(pix)
			if err != nil || id <= 0 {
				t.Errorf("pixel %q: %d, %v", m.Track.OpenPixel, id, err)
			}
			c := m.Track.Click("https://shop.example/x")
			tokc := strings.TrimPrefix(c[:strings.Index(c, "?")], e.rules.LinkBase()+"/t/c/")
			if cid, err := links.ReadClick(tokc, "https://shop.example/x"); err != nil || cid != id {
				t.Errorf("click %q: %d, %v; want delivery %d", c, cid, err, id)
			}
			if _, err := links.ReadClick(tokc, "https://evil.example/"); err == nil {
				t.Errorf("click token taken for another target")
			}
		}
	}
}
