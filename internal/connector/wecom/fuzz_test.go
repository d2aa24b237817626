package wecom

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"orderhub/internal/connector"
)

// Whatever a template renders, a body Build returns fits the robot's
// limits and passes the simulator's checks.
func FuzzBuild(f *testing.F) {
	f.Add("新订单 D1", orderMsg.Markdown, orderMsg.Text, uint8(0), false)
	f.Add("", strings.Repeat("| D1 | ¥1 |\n", 500), "", uint8(1), true)
	f.Add("t", strings.Repeat("长", 3000), strings.Repeat("x\n", 3000), uint8(2), false)
	f.Add("", "```", "hello", uint8(4), false)
	f.Add(strings.Repeat("标", 100), "\x00\u2028<a&b>\"\\", strings.Repeat("\xff", 10), uint8(3), true)
	sim := NewSim(SimConfig{})
	types := []string{TypeMarkdown, TypeMarkdownV2, TypeText, TypeNews}
	f.Fuzz(func(t *testing.T, title, md, text string, kind uint8, mention bool) {
		m := connector.Message{Title: title, Markdown: md, Text: text}
		if kind&4 == 0 {
			m.Link = orderMsg.Link
		}
		if mention {
			m.AtMobiles = []string{"13800001234"}
		}
		body, used, _, err := Build(types[int(kind)%len(types)], m)
		if err != nil {
			if strings.TrimSpace(title+md+text) != "" {
				t.Fatalf("Build refused %q/%q/%q: %v", title, md, text, err)
			}
			return
		}
		if len(body) > Limits.MaxBytes || !json.Valid(body) {
			t.Fatalf("%s body of %d bytes, valid JSON %v", used, len(body), json.Valid(body))
		}
		if _, code, msg := sim.check("k", body, time.Now()); code != CodeOK {
			t.Fatalf("the robot refuses the %s body: %d %s\n%s", used, code, msg, body)
		}
		var req request
		json.Unmarshal(body, &req)
		if req.Text != nil && !utf8.ValidString(req.Text.Content) && utf8.ValidString(title+md+text) {
			t.Fatalf("a cut broke a character: %q", req.Text.Content)
		}
	})
}
