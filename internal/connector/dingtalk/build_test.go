package dingtalk

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"orderhub/internal/config"
	"orderhub/internal/connector"
)

func decodeBody(t *testing.T, b []byte) wireMsg {
	t.Helper()
	var m wireMsg
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("body %s: %v", b, err)
	}
	return m
}

func testClient(t *testing.T, o Options) *Client {
	t.Helper()
	if o.Webhook == "" {
		o.Webhook = "https://oapi.dingtalk.com/robot/send?access_token=" + testToken
	}
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMessageTypes(t *testing.T) {
	m := connector.Message{
		Title:     "新订单 D1",
		Markdown:  "### 新订单 D1\n金额：**¥5,999.00**\n[查看](http://127.0.0.1:8080/orders/shop/D1)",
		Link:      "http://127.0.0.1:8080/orders/shop/D1",
		AtMobiles: []string{"13800001234", "13800001234", " "},
		AtUserIDs: []string{"user001"},
		Key:       "k",
	}
	t.Run("markdown", func(t *testing.T) {
		b, err := testClient(t, Options{Keyword: "订单"}).build(m, MaxBytes)
		if err != nil {
			t.Fatal(err)
		}
		w := decodeBody(t, b.body)
		want := "### 新订单 D1  \n金额：**¥5,999.00**  \n[查看](http://127.0.0.1:8080/orders/shop/D1)\n\n@13800001234 @user001"
		if w.MsgType != "markdown" || w.Markdown.Title != "新订单 D1" || w.Markdown.Text != want {
			t.Fatalf("markdown %+v\nwant text %q", w.Markdown, want)
		}
		if w.At == nil || strings.Join(w.At.AtMobiles, ",") != "13800001234" || strings.Join(w.At.AtUserIDs, ",") != "user001" || w.MsgUUID == "" {
			t.Fatalf("at %+v uuid %q", w.At, w.MsgUUID)
		}
	})
	t.Run("markdown keyword goes after the heading marks", func(t *testing.T) {
		b, _ := testClient(t, Options{Keyword: "告警"}).build(m, MaxBytes)
		if w := decodeBody(t, b.body); !strings.HasPrefix(w.Markdown.Text, "### 【告警】新订单 D1") {
			t.Fatalf("text %q", w.Markdown.Text)
		}
	})
	t.Run("text", func(t *testing.T) {
		b, _ := testClient(t, Options{Keyword: "告警", MsgType: TypeText}).build(m, MaxBytes)
		w := decodeBody(t, b.body)
		want := "【告警】新订单 D1\n金额：¥5,999.00\n查看 http://127.0.0.1:8080/orders/shop/D1\n@13800001234 @user001"
		if w.MsgType != "text" || w.Text.Content != want || w.At == nil {
			t.Fatalf("content %q\nwant     %q", w.Text.Content, want)
		}
	})
	t.Run("actionCard", func(t *testing.T) {
		b, _ := testClient(t, Options{MsgType: TypeActionCard}).build(m, MaxBytes)
		w := decodeBody(t, b.body)
		if w.MsgType != "actionCard" || w.ActionCard.SingleURL != m.Link || w.ActionCard.SingleTitle == "" || w.ActionCard.BtnOrientation != "0" || w.At != nil {
			t.Fatalf("card %+v at %+v", w.ActionCard, w.At)
		}
		if !strings.HasSuffix(w.ActionCard.Text, "@13800001234 @user001") {
			t.Fatalf("a card mentions by @ in its text: %q", w.ActionCard.Text)
		}
		noLink := m
		noLink.Link = ""
		b, _ = testClient(t, Options{MsgType: TypeActionCard}).build(noLink, MaxBytes)
		if w := decodeBody(t, b.body); w.MsgType != "markdown" {
			t.Fatalf("a card without a link to open is %s, want markdown", w.MsgType)
		}
	})
	t.Run("feedCard", func(t *testing.T) {
		mm := m
		mm.Markdown += "\n[D2](http://127.0.0.1:8080/orders/shop/D2) ![logo](http://x/l.png)"
		b, _ := testClient(t, Options{MsgType: TypeFeedCard, PicURL: "https://shop.example/logo.png", Keyword: "告警"}).build(mm, MaxBytes)
		w := decodeBody(t, b.body)
		if w.MsgType != "feedCard" || len(w.FeedCard.Links) != 2 {
			t.Fatalf("feed %+v", w.FeedCard)
		}
		if l := w.FeedCard.Links[0]; l.Title != "【告警】新订单 D1" || l.MessageURL != m.Link || l.PicURL == "" {
			t.Fatalf("first entry %+v", l)
		}
		if l := w.FeedCard.Links[1]; l.Title != "D2" || l.MessageURL != "http://127.0.0.1:8080/orders/shop/D2" {
			t.Fatalf("second entry %+v", l)
		}
	})
	t.Run("at all", func(t *testing.T) {
		b, _ := testClient(t, Options{}).build(connector.Message{Title: "t", Markdown: "x", AtAll: true}, MaxBytes)
		if w := decodeBody(t, b.body); w.At == nil || !w.At.IsAtAll {
			t.Fatalf("at %+v", w.At)
		}
	})
}

func TestMentionsCappedAt50(t *testing.T) {
	var m connector.Message
	m.Markdown = "x"
	for i := range 60 {
		m.AtMobiles = append(m.AtMobiles, "138"+strings.Repeat("0", 6)+string(rune('0'+i/10))+string(rune('0'+i%10)))
	}
	b, _ := testClient(t, Options{}).build(m, MaxBytes)
	if w := decodeBody(t, b.body); len(w.At.AtMobiles) != MaxMentions {
		t.Fatalf("%d mentions, want %d", len(w.At.AtMobiles), MaxMentions)
	}
}

func TestDialect(t *testing.T) {
	in := "## 另有 3 笔新订单\n\n| 订单 | 金额 | 状态 |\n|---|---:|---|\n| D1 | ¥1 | 已付款 |\n| D2 | ¥2 | 已发货 |\n\n~~旧~~ `code`\n```\nblock\n```"
	wantMD := "## 另有 3 笔新订单\n\n**订单 · 金额 · 状态**  \n- D1 · ¥1 · 已付款  \n- D2 · ¥2 · 已发货\n\n旧 code  \nblock"
	if got := toDingMarkdown(in); got != wantMD {
		t.Errorf("markdown\n%q\nwant\n%q", got, wantMD)
	}
	wantPlain := "另有 3 笔新订单\n\n订单  金额  状态\nD1  ¥1  已付款\nD2  ¥2  已发货\n\n旧 code\nblock"
	if got := toPlain(in); got != wantPlain {
		t.Errorf("plain\n%q\nwant\n%q", got, wantPlain)
	}
	if got := toPlain("**粗** *斜* > q [链接](http://x) [http://y](http://y) ![图](http://i)"); got != "粗 斜 > q 链接 http://x http://y 图" {
		t.Errorf("inline: %q", got)
	}
}

// Cuts through the simulator: for every message type a body over the limit
// arrives whole (never 460101), under 20000 bytes, on a line boundary, with
// "…", the link, the keyword and the mentions.
func TestCutThroughTheSimulator(t *testing.T) {
	row := "- D20261126005009000001 · ¥5,999.00 · 已付款 \"引号\" \\ 反斜杠\t制表"
	var lines []string
	for range 600 {
		lines = append(lines, row)
	}
	long := connector.Message{
		Title:     "另有 600 笔新订单",
		Markdown:  "### 汇总\n" + strings.Join(lines, "\n"),
		Link:      "http://127.0.0.1:8080/deliveries/42",
		AtMobiles: []string{"13800001234"},
		Key:       "digest/1",
	}
	oneLine := long
	oneLine.Markdown = strings.Repeat("订单汇总", 3000) // one line, no place to break but runes
	oneLine.Text = oneLine.Markdown
	for _, mt := range []string{TypeMarkdown, TypeText, TypeActionCard} {
		for name, m := range map[string]connector.Message{"lines": long, "one line": oneLine} {
			t.Run(mt+"/"+name, func(t *testing.T) {
				r := newRig(t, SimConfig{})
				s := goodSettings()
				s.Keyword = "告警"
				r.sim.AddRobot(testToken, testSecret, "告警")
				s.MsgType = mt
				res, err := r.client(t, s).Send(context.Background(), m)
				if err != nil || !res.Cut {
					t.Fatalf("send: %+v, %v", res, err)
				}
				got := r.sim.Received()[0]
				if len(got.Body) > MaxBytes || len(got.Body) < MaxBytes-400 {
					t.Fatalf("body %d bytes; want just under %d", len(got.Body), MaxBytes)
				}
				for _, want := range []string{"…", m.Link, "告警", "@13800001234"} {
					if !strings.Contains(got.Text, want) {
						t.Errorf("the cut message lacks %q: …%s", want, tail(got.Text))
					}
				}
				if !utf8.ValidString(got.Text) {
					t.Error("cut inside a character")
				}
				if name == "lines" && mt != TypeText {
					for _, l := range strings.Split(got.Text, "\n") {
						l = strings.TrimSuffix(l, "  ")
						if strings.HasPrefix(l, "- D") && l != row {
							t.Fatalf("a row was cut in the middle: %q", l)
						}
					}
				}
			})
		}
	}
	t.Run("feedCard", func(t *testing.T) {
		r := newRig(t, SimConfig{})
		s := goodSettings()
		s.MsgType, s.PicURL = TypeFeedCard, "https://shop.example/logo.png"
		m := long
		var b strings.Builder
		for i := range 400 {
			b.WriteString("[D" + strings.Repeat("9", 20) + string(rune('a'+i%26)) + "](http://127.0.0.1:8080/orders/shop/D" + strings.Repeat("1", i%7+1) + "/" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + ")\n")
		}
		m.Markdown = b.String()
		res, err := r.client(t, s).Send(context.Background(), m)
		if err != nil || !res.Cut {
			t.Fatalf("send: %+v, %v", res, err)
		}
		got := r.sim.Received()[0]
		if len(got.Body) > MaxBytes || !strings.HasSuffix(got.Text, "… 查看完整内容") || !strings.Contains(got.Text, "订单") {
			t.Fatalf("%d bytes, ends %q", len(got.Body), tail(got.Text))
		}
	})
}

func tail(s string) string {
	r := []rune(s)
	if len(r) > 80 {
		return string(r[len(r)-80:])
	}
	return s
}

func TestWebhookURL(t *testing.T) {
	c := testClient(t, Options{Webhook: "https://oapi.dingtalk.com/robot/send?access_token=abc", BaseURL: "http://127.0.0.1:9999"})
	if got := c.url(newClock().Now()); got != "http://127.0.0.1:9999/robot/send?access_token=abc" {
		t.Fatalf("without a secret: %s", got)
	}
	c = testClient(t, Options{Webhook: "https://oapi.dingtalk.com/robot/send?access_token=abc", Secret: "SECtest"})
	if got := c.url(newClock().Now()); !strings.HasPrefix(got, "https://oapi.dingtalk.com/robot/send?access_token=abc&sign=") || !strings.HasSuffix(got, "&timestamp="+strconv.FormatInt(newClock().Now().UnixMilli(), 10)) {
		t.Fatalf("signed: %s", got)
	}
}

func TestSettingsValidate(t *testing.T) {
	good := "https://oapi.dingtalk.com/robot/send?access_token=" + testToken
	cases := []struct {
		name string
		s    Settings
		keys string
	}{
		{"good", Settings{Webhook: config.Secret(good), Secret: testSecret, Keyword: "订单"}, ""},
		{"simulator on loopback", Settings{Webhook: "http://127.0.0.1:8081/robot/send?access_token=t"}, ""},
		{"no token", Settings{Webhook: "https://oapi.dingtalk.com/robot/send"}, "webhook"},
		{"plain http to the internet", Settings{Webhook: "http://oapi.dingtalk.com/robot/send?access_token=t"}, "webhook"},
		{"not absolute", Settings{Webhook: "oapi.dingtalk.com/robot/send?access_token=t"}, "webhook"},
		{"secret without SEC", Settings{Webhook: config.Secret(good), Secret: "0123abcd"}, "secret"},
		{"blank keyword", Settings{Webhook: config.Secret(good), Keyword: "  "}, "keyword"},
		{"feedCard without picture", Settings{Webhook: config.Secret(good), MsgType: TypeFeedCard}, "pic_url"},
		{"bad picture", Settings{Webhook: config.Secret(good), PicURL: "logo.png"}, "pic_url"},
		{"IPv6 allow-list", Settings{Webhook: config.Secret(good), IP: "2001:db8::1"}, "ip"},
		{"CIDR", Settings{Webhook: config.Secret(good), IP: "203.0.113.0/24"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var keys []string
			for _, p := range c.s.Validate() {
				keys = append(keys, p.Key)
				if p.Hint == "" || strings.Contains(p.Msg+p.Hint, testToken) {
					t.Errorf("problem %+v: needs a hint and must not quote the token", p)
				}
			}
			if got := strings.Join(keys, ","); got != c.keys {
				t.Fatalf("problems with %q, want %q", got, c.keys)
			}
		})
	}
}

func TestEmptyMessageIsRefusedBeforeSending(t *testing.T) {
	r := newRig(t, SimConfig{})
	_, err := r.client(t, goodSettings()).Send(context.Background(), connector.Message{Key: "k", Link: "http://x"})
	if ce, ok := connector.AsCallError(err); !ok || ce.Class != connector.Permanent || ce.Hint == "" {
		t.Fatalf("empty message: %v", err)
	}
	if n := len(r.sim.Rejected()) + r.sim.Len(); n != 0 {
		t.Fatalf("an empty message reached the robot (%d calls)", n)
	}
}

// A message with only a title still has the text every type needs.
func TestTitleOnly(t *testing.T) {
	for _, mt := range []string{TypeMarkdown, TypeText, TypeActionCard, TypeFeedCard} {
		r := newRig(t, SimConfig{})
		s := goodSettings()
		s.MsgType, s.PicURL = mt, "https://shop.example/logo.png"
		if _, err := r.client(t, s).Send(context.Background(), connector.Message{Title: "新订单 D1", Link: "http://127.0.0.1:8080/o/D1"}); err != nil {
			t.Errorf("%s: %v", mt, err)
		}
	}
}
