package feishu

import (
	"encoding/json"
	"strings"
	"testing"

	"orderhub/internal/connector"
)

// Whatever a template renders, a body Build returns fits Feishu's limit,
// carries the keyword where Feishu looks, and passes the simulator's
// checks.
func FuzzBuild(f *testing.F) {
	f.Add("新订单 D1", orderMsg.Markdown, orderMsg.Text, uint8(0), false)
	f.Add("", strings.Repeat("| D1 | ¥1 |\n", 2000), "", uint8(1), true)
	f.Add("t", strings.Repeat("长", 8000), strings.Repeat("x\n", 9000), uint8(2), false)
	f.Add("\xac\xeb]", "[a](javascript:x) ![i](http://x) <at id=1>", "\x00\u2028<&>", uint8(3), true)
	f.Add("", "```", "hello", uint8(4), false)
	types := []string{TypeInteractive, TypePost, TypeText}
	f.Fuzz(func(t *testing.T, title, md, text string, kind uint8, mention bool) {
		m := connector.Message{Title: title, Markdown: md, Text: text}
		if kind&4 == 0 {
			m.Link = orderMsg.Link
		}
		if mention {
			m.AtUserIDs, m.AtAll = []string{"ou_abc"}, true
		}
		mt := types[int(kind)%len(types)]
		body, _, err := Build(mt, m, "订单", NewStamp("demo", 1700000000))
		if err != nil {
			if strings.TrimSpace(title+md+text) != "" {
				t.Fatalf("Build refused %q/%q/%q: %v", title, md, text, err)
			}
			return
		}
		if len(body) > MaxBody {
			t.Fatalf("%s body of %d bytes", mt, len(body))
		}
		var req request
		if err := json.Unmarshal(body, &req); err != nil {
			t.Fatalf("%s body is not the webhook's JSON: %v", mt, err)
		}
		_, kw, reason := parseMessage(req)
		if reason != "" {
			t.Fatalf("the bot refuses the %s body: %s\n%s", mt, reason, body)
		}
		if !strings.Contains(kw, "订单") {
			t.Fatalf("the %s body lacks the keyword where Feishu looks: %s", mt, body)
		}
	})
}
