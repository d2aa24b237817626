package feishu

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"orderhub/internal/connector"
)

func TestDialects(t *testing.T) {
	md := "### 另有 2 笔新订单\n\n| 订单 | 金额 |\n|---|--:|\n| D1 | ¥1.00 |\n| D2 | ¥2.00 |\n\n![logo](https://x.example/l.png)\n```\nraw\n```\n> 注意 **D1** `x`\n[查看](https://x.example/o)"
	for _, c := range []struct {
		name string
		conv func(string) string
		want string
	}{
		{"lark_md", larkMD, "**另有 2 笔新订单**\n\n**订单** | **金额**\nD1 | ¥1.00\nD2 | ¥2.00\n\n[logo](https://x.example/l.png)\nraw\n> 注意 **D1** `x`\n[查看](https://x.example/o)"},
		{"post source", postSource, "另有 2 笔新订单\n\n订单  金额\nD1  ¥1.00\nD2  ¥2.00\n\n[logo](https://x.example/l.png)\nraw\n注意 D1 x\n[查看](https://x.example/o)"},
		{"plain", plainText, "另有 2 笔新订单\n\n订单  金额\nD1  ¥1.00\nD2  ¥2.00\n\nlogo\nraw\n注意 D1 x\n查看 https://x.example/o"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.conv(md); got != c.want {
				t.Errorf("got\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}

func TestCardLayout(t *testing.T) {
	m := with(orderMsg, func(m *connector.Message) { m.Color = "#E8340C"; m.AtUserIDs = []string{"ou_abc"} })
	body, cut, err := Build(TypeInteractive, m, "大单", NewStamp("demo", 1700000000))
	if err != nil || cut {
		t.Fatalf("cut %v err %v", cut, err)
	}
	var req struct {
		request
		Card card `json:"card"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		t.Fatal(err)
	}
	if req.Timestamp != "1700000000" || req.Sign != "8oT2n3SMKFfEnDoiwer8BUM/SjKLwe9SqoEIHlhDTKo=" {
		t.Errorf("stamp %q %q", req.Timestamp, req.Sign)
	}
	if h := req.Card.Header; h == nil || h.Title.Content != "【大单】新订单 D20261126005009000001" || h.Template != "red" {
		t.Errorf("header %+v; want the keyword before the title and a red template", h)
	}
	content := req.Card.Elements[0].Text.Content
	if strings.Contains(content, "新订单 D2026") {
		t.Errorf("the body repeats the header: %q", content)
	}
	if !strings.HasPrefix(content, "- 金额：**¥5,999.00**") || !strings.HasSuffix(content, "\n<at id=ou_abc></at>") {
		t.Errorf("lark_md %q", content)
	}
	if len(req.Card.Elements) != 2 || req.Card.Elements[1].Actions[0].URL != orderMsg.Link {
		t.Errorf("no button to the order: %+v", req.Card.Elements)
	}
}

func TestPostParagraphs(t *testing.T) {
	got := paragraphs("金额 ¥1\n\n见 [订单](https://x.example/o) 与 [坏链接](javascript:x) 完")
	want := [][]postNode{
		{{Tag: "text", Text: "金额 ¥1"}},
		{{Tag: "text", Text: "见 "}, {Tag: "a", Text: "订单", Href: "https://x.example/o"}, {Tag: "text", Text: " 与 [坏链接](javascript:x) 完"}},
	}
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Errorf("got  %s\nwant %s", g, w)
	}
}

func TestKeywordIsCarried(t *testing.T) {
	plain := with(orderMsg, func(m *connector.Message) { m.Title = "New order D1"; m.Text = "D1 paid"; m.Markdown = "D1 paid" })
	for _, mt := range []string{TypeInteractive, TypePost, TypeText} {
		body, _, err := Build(mt, plain, "订单", Stamp{})
		if err != nil {
			t.Fatal(err)
		}
		var req request
		json.Unmarshal(body, &req)
		rec, kw, reason := parseMessage(req)
		if reason != "" || !strings.Contains(kw, "【订单】") {
			t.Errorf("%s: keyword text %q (%s); body %s", mt, kw, reason, body)
		}
		if strings.Count(rec.Text, "订单") != 1 {
			t.Errorf("%s: the keyword shows %d times: %q", mt, strings.Count(rec.Text, "订单"), rec.Text)
		}
	}
	// A title that has it is left alone.
	body, _, _ := Build(TypeInteractive, orderMsg, "订单", Stamp{})
	if strings.Contains(string(body), "【订单】") {
		t.Errorf("the keyword was added to a title that has it: %s", body)
	}
}

func TestCutKeepsLinesAndFits(t *testing.T) {
	row := "| D20261126005009000001 | ¥5,999.00 | 已付款 \"引号\" <b> |\n"
	big := with(orderMsg, func(m *connector.Message) {
		m.Markdown = "### 另有很多笔新订单\n\n| 订单 | 金额 | 状态 |\n|---|---|---|\n" + strings.Repeat(row, 600)
		m.Text = strings.Repeat("订单 D20261126005009000001 已付款\n", 800)
		m.AtUserIDs = []string{"ou_abc"}
	})
	oneLine := with(big, func(m *connector.Message) {
		m.Markdown = strings.Repeat("很长的一行没有换行", 3000)
		m.Text = m.Markdown
	})
	for _, c := range []struct {
		name, msgType string
		m             connector.Message
		rowEnd        string
	}{
		{"card", TypeInteractive, big, "<b>"},
		{"post", TypePost, big, "<b>"},
		{"text", TypeText, big, "已付款"},
		{"card one line", TypeInteractive, oneLine, ""},
		{"text one line", TypeText, oneLine, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			body, cut, err := Build(c.msgType, c.m, "订单", NewStamp("demo", 1700000000))
			if err != nil || !cut {
				t.Fatalf("cut %v err %v", cut, err)
			}
			if len(body) > MaxBody || len(body) < MaxBody-600 {
				t.Fatalf("body %d bytes; want just under %d", len(body), MaxBody)
			}
			var req request
			if err := json.Unmarshal(body, &req); err != nil {
				t.Fatal(err)
			}
			rec, _, reason := parseMessage(req)
			if reason != "" || !utf8.ValidString(rec.Text) {
				t.Fatalf("the simulator would refuse it: %s", reason)
			}
			if !strings.Contains(rec.Text, "…") || !strings.Contains(rec.Text, orderMsg.Link) || strings.Join(rec.Mentioned, ",") != "ou_abc" {
				t.Fatalf("cut message lacks … , the link or the mention: %q", rec.Text[len(rec.Text)-300:])
			}
			if c.rowEnd != "" {
				kept, _, _ := strings.Cut(rec.Text, "…")
				for _, l := range strings.Split(kept, "\n") {
					if strings.Contains(l, "D20261126005009000001") && !strings.HasSuffix(l, c.rowEnd) && !strings.Contains(l, "新订单") {
						t.Fatalf("line %q was cut inside", l)
					}
				}
			}
		})
	}
}

func TestTemplateColours(t *testing.T) {
	for in, want := range map[string]string{"": "blue", "#3370FF": "blue", "#00B050": "green", "#FF9900": "orange", "#d32f2f": "red", "#999999": "grey", "bad": "blue", "#12345": "blue"} {
		if got := template(in); got != want {
			t.Errorf("template(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestEmptyMessageIsRefusedBeforeSending(t *testing.T) {
	sim := NewSim(SimConfig{})
	sim.AddRobot(Robot{Token: "a"})
	s := testSender(t, Config{Webhook: HookURL(serve(t, sim), "a")})
	_, err := s.Send(context.Background(), connector.Message{Link: orderMsg.Link, Key: "k"})
	ce, ok := connector.AsCallError(err)
	if !ok || ce.Class != connector.Permanent || ce.Hint == "" {
		t.Fatalf("%v; want Permanent with a hint", err)
	}
	if len(sim.Received())+len(sim.Rejected()) != 0 {
		t.Fatal("an empty message reached the bot")
	}
}
