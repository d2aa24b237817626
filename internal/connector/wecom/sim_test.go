package wecom

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"orderhub/internal/connector"
)

const simKey = "3f1c2b9e-1111-4bc4-97a0-0ec2sifa5aaa"

func post(t *testing.T, url, body string) (int, answer) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var a answer
	if err := json.Unmarshal(b, &a); err != nil || a.ErrCode == nil {
		t.Fatalf("answer %q is not WeCom's JSON: %v", b, err)
	}
	return resp.StatusCode, a
}

func TestSimIsStrict(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\nfake image bytes")
	sum := md5.Sum(png)
	img := base64.StdEncoding.EncodeToString(png)
	sim := NewSim(SimConfig{NoRateLimit: true})
	sim.AddRobot(simKey)
	base := serve(t, sim)
	good := WebhookURL(base, simKey)
	for _, c := range []struct {
		name, url, body string
		want            int
		wantMsg         string
	}{
		{"unknown key", WebhookURL(base, "nope"), `{"msgtype":"text","text":{"content":"x"}}`, CodeInvalidURL, "invalid webhook url"},
		{"no key", base + SendPath, `{"msgtype":"text","text":{"content":"x"}}`, CodeInvalidURL, "invalid webhook url"},
		{"not JSON", good, `{"msgtype":`, CodeInvalidParam, "wrong json format"},
		{"unknown type", good, `{"msgtype":"actionCard","actionCard":{}}`, CodeInvalidType, "invalid message type"},
		{"text without content", good, `{"msgtype":"text","text":{}}`, CodeInvalidParam, "missing field text.content"},
		{"content under the other type's key", good, `{"msgtype":"markdown","text":{"content":"x"}}`, CodeInvalidParam, "missing field markdown.content"},
		{"text too long", good, `{"msgtype":"text","text":{"content":"` + strings.Repeat("订", 683) + `"}}`, CodeInvalidParam, "text.content exceed max length 2048"},
		{"markdown too long", good, `{"msgtype":"markdown","markdown":{"content":"` + strings.Repeat("a", 4097) + `"}}`, CodeInvalidParam, "markdown.content exceed max length 4096"},
		{"markdown_v2 too long", good, `{"msgtype":"markdown_v2","markdown_v2":{"content":"` + strings.Repeat("a", 4097) + `"}}`, CodeInvalidParam, "markdown_v2.content exceed max length 4096"},
		{"news without articles", good, `{"msgtype":"news","news":{"articles":[]}}`, CodeInvalidParam, "missing field news.articles"},
		{"news without url", good, `{"msgtype":"news","news":{"articles":[{"title":"t"}]}}`, CodeInvalidParam, "news.articles[0].url"},
		{"nine articles", good, `{"msgtype":"news","news":{"articles":[` + strings.TrimSuffix(strings.Repeat(`{"title":"t","url":"u"},`, 9), ",") + `]}}`, CodeInvalidParam, "max count 8"},
		{"image md5 wrong", good, `{"msgtype":"image","image":{"base64":"` + img + `","md5":"00000000000000000000000000000000"}}`, CodeInvalidParam, "md5"},
		{"text at the limit", good, `{"msgtype":"text","text":{"content":"` + strings.Repeat("订", 682) + `"}}`, CodeOK, ""},
		{"markdown at the limit", good, `{"msgtype":"markdown","markdown":{"content":"` + strings.Repeat("a", 4096) + `"}}`, CodeOK, ""},
		{"image", good, `{"msgtype":"image","image":{"base64":"` + img + `","md5":"` + hex.EncodeToString(sum[:]) + `"}}`, CodeOK, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, a := post(t, c.url, c.body)
			if status != http.StatusOK || *a.ErrCode != c.want || !strings.Contains(a.ErrMsg, c.wantMsg) {
				t.Fatalf("HTTP %d %d %q; want HTTP 200 errcode %d with %q", status, *a.ErrCode, a.ErrMsg, c.want, c.wantMsg)
			}
			if c.want != CodeOK && !strings.Contains(a.ErrMsg, "more info at https://open.work.weixin.qq.com/devtool/query?e=") {
				t.Errorf("errmsg %q lacks WeCom's suffix", a.ErrMsg)
			}
		})
	}
	if n := len(sim.Received()); n != 3 {
		t.Errorf("the simulator accepted %d messages, want the 3 good ones", n)
	}
}

func TestSimTruncatesNewsLikeWeCom(t *testing.T) {
	sim := NewSim(SimConfig{})
	sim.AddRobot(simKey)
	base := serve(t, sim)
	long := strings.Repeat("长", 100) // 300 bytes
	post(t, WebhookURL(base, simKey), `{"msgtype":"news","news":{"articles":[{"title":"`+long+`","description":"d","url":"https://x.example/o"}]}}`)
	got := sim.Received()
	if len(got) != 1 || !strings.HasPrefix(got[0].Text, strings.Repeat("长", 42)+"\n") {
		t.Fatalf("received %+v; want the title cut to 128 bytes on a character", got)
	}
}

func TestSimRateLimitPerRobot(t *testing.T) {
	clock := newClock(time.Date(2026, 11, 26, 10, 0, 30, 0, time.UTC))
	sim := NewSim(SimConfig{Now: clock.Now})
	sim.AddRobot("robot-a", "robot-b")
	base := serve(t, sim)
	a := testSender(t, base, "robot-a", TypeMarkdown, clock.Now)
	b := testSender(t, base, "robot-b", TypeMarkdown, clock.Now)
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		if _, err := a.Send(ctx, orderMsg); err != nil {
			t.Fatalf("message %d: %v", i+1, err)
		}
		clock.Add(time.Second)
	}
	_, err := a.Send(ctx, orderMsg)
	ce, ok := connector.AsCallError(err)
	if !ok || ce.Class != connector.SlowDown || ce.Code != "45009" || ce.RetryAfter != 10*time.Second {
		t.Fatalf("the 21st message in a minute: %v (%+v); want SlowDown 45009 waiting 10 s to the minute's end", err, ce)
	}
	if !strings.HasPrefix(ce.Message, "api freq out of limit") {
		t.Errorf("errmsg %q", ce.Message)
	}
	if _, err := b.Send(ctx, orderMsg); err != nil {
		t.Fatalf("another robot on the same simulator is limited too: %v", err)
	}
	// The window slides: 10:00:30 leaves it at 10:01:30.
	clock.Add(10 * time.Second) // 10:01:00
	if _, err := a.Send(ctx, orderMsg); connector.ClassOf(err) != connector.SlowDown {
		t.Fatalf("at 10:01:00 the first message of 10:00:30 is still in the window: %v", err)
	}
	clock.Add(30*time.Second + time.Millisecond)
	if _, err := a.Send(ctx, orderMsg); err != nil {
		t.Fatalf("after the oldest left the window: %v", err)
	}
	if n := len(sim.Received()); n != 22 {
		t.Errorf("accepted %d, want 22", n)
	}
}

func TestSimRateLimitOff(t *testing.T) {
	sim := NewSim(SimConfig{NoRateLimit: true})
	sim.AddRobot(simKey)
	s := testSender(t, serve(t, sim), simKey, TypeText, nil)
	for i := 0; i < 50; i++ {
		if _, err := s.Send(context.Background(), orderMsg); err != nil {
			t.Fatalf("message %d with the limit off: %v", i+1, err)
		}
	}
}

func TestSimRemovedRobotIsPermanent(t *testing.T) {
	sim := NewSim(SimConfig{})
	sim.AddRobot(simKey)
	s := testSender(t, serve(t, sim), simKey, TypeMarkdown, nil)
	sim.RemoveRobot(simKey)
	_, err := s.Send(context.Background(), orderMsg)
	ce, ok := connector.AsCallError(err)
	if !ok || ce.Class != connector.Permanent || ce.Code != "93000" || !strings.Contains(ce.Hint, "webhook") {
		t.Fatalf("%v; want Permanent 93000 with a hint", err)
	}
	if rej := sim.Rejected(); len(rej) != 1 || rej[0].ErrCode != CodeInvalidURL {
		t.Fatalf("rejected %+v", rej)
	}
}

func TestSimRecordsMentions(t *testing.T) {
	sim := NewSim(SimConfig{})
	sim.AddRobot(simKey)
	s := testSender(t, serve(t, sim), simKey, TypeMarkdown, nil)
	ctx := context.Background()
	s.Send(ctx, with(orderMsg, func(m *connector.Message) { m.AtUserIDs = []string{"zhangsan"} }))
	s.Send(ctx, with(orderMsg, func(m *connector.Message) { m.AtMobiles = []string{"13800001234"}; m.AtAll = true }))
	got := sim.Received()
	if len(got) != 2 {
		t.Fatalf("received %d", len(got))
	}
	if got[0].MsgType != TypeMarkdown || strings.Join(got[0].Mentioned, ",") != "zhangsan" {
		t.Errorf("markdown mentions %+v", got[0])
	}
	if got[1].MsgType != TypeText || strings.Join(got[1].MentionedMobiles, ",") != "13800001234" || strings.Join(got[1].Mentioned, ",") != "@all" {
		t.Errorf("text mentions %+v", got[1])
	}
}

func TestSimKeepsTheNewest(t *testing.T) {
	sim := NewSim(SimConfig{NoRateLimit: true, Keep: 3})
	sim.AddRobot(simKey)
	s := testSender(t, serve(t, sim), simKey, TypeText, nil)
	for i := 0; i < 10; i++ {
		m := orderMsg
		m.Title, m.Text = "", fmt.Sprintf("订单 %d", i)
		if _, err := s.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	got := sim.Received()
	if len(got) != 3 || !strings.HasPrefix(got[0].Text, "订单 7") || !strings.HasPrefix(got[2].Text, "订单 9") || sim.Accepted() != 10 {
		t.Fatalf("kept %d (first %q), accepted %d; want the newest 3 of 10", len(got), got[0].Text, sim.Accepted())
	}
}

// What Render shows is what the robot receives; an oversized markdown
// body is cut and taken by the simulator's own 4096-byte check.
func TestRenderIsWhatIsSent(t *testing.T) {
	sim := NewSim(SimConfig{})
	sim.AddRobot(simKey)
	s := testSender(t, serve(t, sim), simKey, TypeMarkdown, nil)
	big := with(orderMsg, func(m *connector.Message) {
		m.Markdown = "| 订单 | 金额 |\n|---|---|\n" + strings.Repeat("| D20261126005009000001 | ¥5,999.00 |\n", 300)
	})
	for _, m := range []connector.Message{orderMsg, big} {
		want, wantCut, err := s.Render(m)
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.Send(context.Background(), m)
		if err != nil || res.Cut != wantCut {
			t.Fatalf("send: cut %v, %v; Render said cut %v", res.Cut, err, wantCut)
		}
		got := sim.Received()
		if body := got[len(got)-1].Body; string(body) != string(want) {
			t.Fatalf("sent\n%s\nrendered\n%s", body, want)
		}
	}
}

// One sender and one simulator shared by many goroutines (run with -race).
func TestConcurrentSends(t *testing.T) {
	sim := NewSim(SimConfig{NoRateLimit: true})
	sim.AddRobot("robot-a", "robot-b")
	base := serve(t, sim)
	senders := []*Sender{testSender(t, base, "robot-a", TypeMarkdown, nil), testSender(t, base, "robot-b", TypeText, nil)}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				if _, err := senders[(g+i)%2].Send(context.Background(), orderMsg); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := sim.Accepted(); n != 200 {
		t.Fatalf("accepted %d, want 200", n)
	}
}
