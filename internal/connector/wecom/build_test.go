package wecom

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"orderhub/internal/connector"
)

func TestMarkdownDialects(t *testing.T) {
	md := "### 另有 3 笔新订单\n\n| 订单 | 金额 | 状态 |\n|---|--:|:-:|\n| D1 | ¥1.00 | 已付款 |\n| D2 | ¥2.00 | 待发货 |\n\n![logo](https://x.example/l.png)\n```\nraw\n```\n> 注意 `D1`\n[查看](https://x.example/o)"
	for _, c := range []struct {
		name string
		conv func(string) string
		want string
	}{
		{"markdown", markdownV1, "### 另有 3 笔新订单\n\n**订单** | **金额** | **状态**\nD1 | ¥1.00 | 已付款\nD2 | ¥2.00 | 待发货\n\n[logo](https://x.example/l.png)\nraw\n> 注意 `D1`\n[查看](https://x.example/o)"},
		{"markdown_v2", markdownV2, strings.TrimRight(md, "\n")},
		{"plain", plainText, "另有 3 笔新订单\n\n订单  金额  状态\nD1  ¥1.00  已付款\nD2  ¥2.00  待发货\n\nlogo\nraw\n注意 D1\n查看 https://x.example/o"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.conv(md); got != c.want {
				t.Errorf("got\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}

func TestMentionsPickTheType(t *testing.T) {
	for _, c := range []struct {
		name, configured, want string
		m                      connector.Message
	}{
		{"markdown stays", TypeMarkdown, TypeMarkdown, orderMsg},
		{"mobiles need text", TypeMarkdown, TypeText, with(orderMsg, func(m *connector.Message) { m.AtMobiles = []string{"13800001234"} })},
		{"@all needs text", TypeNews, TypeText, with(orderMsg, func(m *connector.Message) { m.AtAll = true })},
		{"user ids stay markdown", TypeMarkdown, TypeMarkdown, with(orderMsg, func(m *connector.Message) { m.AtUserIDs = []string{"zhangsan"} })},
		{"markdown_v2 has no <@userid>", TypeMarkdownV2, TypeMarkdown, with(orderMsg, func(m *connector.Message) { m.AtUserIDs = []string{"zhangsan"} })},
		{"news needs a link", TypeNews, TypeMarkdown, with(orderMsg, func(m *connector.Message) { m.Link = "" })},
		{"news", TypeNews, TypeNews, orderMsg},
		{"default", "", TypeMarkdown, orderMsg},
	} {
		t.Run(c.name, func(t *testing.T) {
			body, used, _, err := Build(c.configured, c.m)
			if err != nil {
				t.Fatal(err)
			}
			if used != c.want {
				t.Fatalf("sent as %s, want %s", used, c.want)
			}
			var req request
			if err := json.Unmarshal(body, &req); err != nil || req.MsgType != used {
				t.Fatalf("body %s: msgtype %q, %v", body, req.MsgType, err)
			}
		})
	}
}

func TestMentionsAreWrittenWeComsWay(t *testing.T) {
	m := with(orderMsg, func(m *connector.Message) {
		m.AtMobiles, m.AtUserIDs, m.AtAll = []string{"13800001234"}, []string{"lisi"}, true
	})
	body, _, _, _ := Build(TypeMarkdown, m)
	var req request
	json.Unmarshal(body, &req)
	if got := strings.Join(req.Text.MentionedMobileList, ","); got != "13800001234" {
		t.Errorf("mentioned_mobile_list %q", got)
	}
	if got := strings.Join(req.Text.MentionedList, ","); got != "lisi,@all" {
		t.Errorf("mentioned_list %q", got)
	}
	body, _, _, _ = Build(TypeMarkdown, with(orderMsg, func(m *connector.Message) { m.AtUserIDs = []string{"lisi", "wangwu"} }))
	json.Unmarshal(body, &req)
	if !strings.HasSuffix(req.Markdown.Content, "\n<@lisi><@wangwu>") {
		t.Errorf("markdown content %q does not end with the <@userid> mentions", req.Markdown.Content)
	}
}

func TestCutKeepsLinesAndFitsEveryType(t *testing.T) {
	row := "| D20261126005009000001 | ¥5,999.00 | 已付款 <font> & \"引号\" |\n"
	big := with(orderMsg, func(m *connector.Message) {
		m.Markdown = "### 另有很多笔新订单\n\n| 订单 | 金额 | 状态 |\n|---|---|---|\n" + strings.Repeat(row, 400)
		m.Text = strings.Repeat("订单 D20261126005009000001 已付款\n", 400)
	})
	oneLine := with(big, func(m *connector.Message) {
		m.Markdown = strings.Repeat("很长的一行没有换行", 1000)
		m.Text = m.Markdown
	})
	for _, c := range []struct {
		name    string
		msgType string
		m       connector.Message
		limit   int
		rowEnd  string // what every kept line before the tail ends with
	}{
		{"markdown", TypeMarkdown, big, MarkdownMax, "\"引号\""},
		{"markdown_v2", TypeMarkdownV2, big, MarkdownMax, "\"引号\" |"},
		{"text", TypeText, big, TextMax, "已付款"},
		{"one long line", TypeMarkdown, oneLine, MarkdownMax, ""},
		{"one long text line", TypeText, oneLine, TextMax, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			body, used, cut, err := Build(c.msgType, c.m)
			if err != nil || !cut {
				t.Fatalf("cut %v, err %v", cut, err)
			}
			if len(body) > Limits.MaxBytes {
				t.Fatalf("body %d bytes, over %d", len(body), Limits.MaxBytes)
			}
			var req request
			if err := json.Unmarshal(body, &req); err != nil {
				t.Fatal(err)
			}
			content := map[string]func() string{
				TypeMarkdown:   func() string { return req.Markdown.Content },
				TypeMarkdownV2: func() string { return req.MarkdownV2.Content },
				TypeText:       func() string { return req.Text.Content },
			}[used]()
			if len(content) > c.limit || !utf8.ValidString(content) {
				t.Fatalf("content %d bytes (limit %d), valid UTF-8 %v", len(content), c.limit, utf8.ValidString(content))
			}
			if !strings.Contains(content, "…") || !strings.HasSuffix(strings.TrimSuffix(content, ")"), orderMsg.Link) {
				t.Fatalf("the cut content does not end with … and the link: %q", content[len(content)-200:])
			}
			// A cut leaves room for little more than one line: nearly the
			// whole limit is used.
			if len(body) < Limits.MaxBytes-300 && c.limit == MarkdownMax {
				t.Errorf("body %d bytes: the cut threw away more than needed", len(body))
			}
			if c.rowEnd != "" {
				kept, _, _ := strings.Cut(content, "…")
				for _, l := range strings.Split(strings.TrimSpace(kept), "\n") {
					if strings.HasPrefix(l, "D2026") || strings.HasPrefix(l, "| D2026") || strings.HasPrefix(l, "订单 D") {
						if !strings.HasSuffix(l, c.rowEnd) {
							t.Fatalf("line %q was cut inside", l)
						}
					}
				}
			}
		})
	}
}

func TestNewsTruncatesTitleAndDescriptionOnCharacters(t *testing.T) {
	m := with(orderMsg, func(m *connector.Message) {
		m.Title = strings.Repeat("标题", 50)
		m.Text = strings.Repeat("描述", 200)
	})
	body, used, cut, err := Build(TypeNews, m)
	if err != nil || used != TypeNews || !cut {
		t.Fatalf("used %s cut %v err %v", used, cut, err)
	}
	var req request
	json.Unmarshal(body, &req)
	a := req.News.Articles[0]
	if len(a.Title) > NewsTitleMax || len(a.Description) > NewsDescMax || !utf8.ValidString(a.Title+a.Description) {
		t.Fatalf("title %d B, description %d B", len(a.Title), len(a.Description))
	}
	if !strings.HasSuffix(a.Title, "…") || !strings.HasSuffix(a.Description, "…") || a.URL != orderMsg.Link {
		t.Fatalf("article %+v", a)
	}
}

func TestTitleIsShownOnce(t *testing.T) {
	body, _, _, _ := Build(TypeMarkdown, orderMsg)
	if n := strings.Count(string(body), orderMsg.Title); n != 1 {
		t.Errorf("the title appears %d times in %s", n, body)
	}
	body, _, _, _ = Build(TypeMarkdown, with(orderMsg, func(m *connector.Message) { m.Markdown = "- 金额：¥1" }))
	if !strings.Contains(string(body), "**"+orderMsg.Title+"**") {
		t.Errorf("a title the body lacks is not added: %s", body)
	}
}

func with(m connector.Message, f func(*connector.Message)) connector.Message {
	f(&m)
	return m
}

func TestEmptyMessageIsRefusedBeforeSending(t *testing.T) {
	sim := NewSim(SimConfig{})
	sim.AddRobot(simKey)
	s := testSender(t, serve(t, sim), simKey, TypeMarkdown, nil)
	_, err := s.Send(context.Background(), connector.Message{Link: orderMsg.Link, Key: "k"})
	ce, ok := connector.AsCallError(err)
	if !ok || ce.Class != connector.Permanent || ce.Hint == "" {
		t.Fatalf("%v; want Permanent with a hint", err)
	}
	if len(sim.Received())+len(sim.Rejected()) != 0 {
		t.Fatal("an empty message reached the robot")
	}
}
