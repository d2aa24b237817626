package feishu

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"orderhub/internal/connector"
)

func postRaw(t *testing.T, url, contentType, body string) (int, answer) {
	t.Helper()
	resp, err := http.Post(url, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var a answer
	if err := json.Unmarshal(b, &a); err != nil || a.Code == nil {
		t.Fatalf("answer %q is not Feishu's JSON: %v", b, err)
	}
	return resp.StatusCode, a
}

func TestSimIsStrict(t *testing.T) {
	clock := newClock(time.Unix(1700000000, 0))
	sim := NewSim(SimConfig{Now: clock.Now, NoRateLimit: true})
	sim.AddRobot(
		Robot{Token: "signed", Secret: "demo"},
		Robot{Token: "keyword", Keywords: []string{"订单", "发货"}},
		Robot{Token: "ip-list", AllowIPs: []string{"10.0.0.1", "192.168.1.*"}},
		Robot{Token: "ip-cidr", AllowIPs: []string{"127.0.0.0/8"}},
		Robot{Token: "open"},
	)
	base := serve(t, sim)
	signed := func(ts int64, sign, rest string) string {
		return `{"timestamp":"` + strconv.FormatInt(ts, 10) + `","sign":"` + sign + `",` + rest + `}`
	}
	text := `"msg_type":"text","content":{"text":"订单 D1 已付款"}`
	for _, c := range []struct {
		name, token, ctype, body string
		want                     int
	}{
		{"unknown token", "nope", "application/json", `{` + text + `}`, CodeTokenInvalid},
		{"not JSON", "open", "application/json", `{"msg_type":`, CodeBadRequest},
		{"form body", "open", "application/x-www-form-urlencoded", `{` + text + `}`, CodeBadRequest},
		{"over 20000 bytes", "open", "application/json", `{"msg_type":"text","content":{"text":"` + strings.Repeat("a", MaxBody) + `"}}`, CodeBadRequest},
		{"F-2 signed", "signed", "application/json", signed(1700000000, "8oT2n3SMKFfEnDoiwer8BUM/SjKLwe9SqoEIHlhDTKo=", text), CodeOK},
		{"another secret's sign", "signed", "application/json", signed(1700000000, Sign("other", 1700000000), text), CodeSignFailed},
		{"F-1 sign an hour and more old", "signed", "application/json", signed(1599360473, "l1N0gAcBjdwBvGm1xMjOF0XSyaLRpR7tuO5dHfhAYc8=", text), CodeSignFailed},
		{"sign 59 min ahead", "signed", "application/json", signed(1700000000+3540, Sign("demo", 1700000000+3540), text), CodeOK},
		{"sign 61 min behind", "signed", "application/json", signed(1700000000-3660, Sign("demo", 1700000000-3660), text), CodeSignFailed},
		{"milliseconds timestamp", "signed", "application/json", signed(1700000000000, Sign("demo", 1700000000000), text), CodeSignFailed},
		{"no sign", "signed", "application/json", `{` + text + `}`, CodeSignFailed},
		{"keyword in text", "keyword", "application/json", `{` + text + `}`, CodeOK},
		{"keyword only in an href", "keyword", "application/json", `{"msg_type":"post","content":{"post":{"zh_cn":{"title":"D1","content":[[{"tag":"a","text":"查看","href":"https://x.example/订单"}]]}}}}`, CodeKeywordsMiss},
		{"keyword in a post title", "keyword", "application/json", `{"msg_type":"post","content":{"post":{"zh_cn":{"title":"发货 D1","content":[[{"tag":"text","text":"x"}]]}}}}`, CodeOK},
		{"keyword in a card header", "keyword", "application/json", `{"msg_type":"interactive","card":{"header":{"title":{"tag":"plain_text","content":"订单 D1"}},"elements":[{"tag":"div","text":{"tag":"lark_md","content":"x"}}]}}`, CodeOK},
		{"keyword missing", "keyword", "application/json", `{"msg_type":"text","content":{"text":"D1 paid"}}`, CodeKeywordsMiss},
		{"ip not listed", "ip-list", "application/json", `{` + text + `}`, CodeIPNotAllowed},
		{"ip in CIDR", "ip-cidr", "application/json", `{` + text + `}`, CodeOK},
		{"unknown msg_type", "open", "application/json", `{"msg_type":"markdown","content":{"text":"x"}}`, CodeBadRequest},
		{"text without text", "open", "application/json", `{"msg_type":"text","content":{}}`, CodeBadRequest},
		{"card inside content", "open", "application/json", `{"msg_type":"interactive","content":{"card":{"elements":[{"tag":"div"}]}}}`, CodeBadRequest},
		{"card without elements", "open", "application/json", `{"msg_type":"interactive","card":{"header":{}}}`, CodeBadRequest},
		{"card 2.0", "open", "application/json", `{"msg_type":"interactive","card":{"schema":"2.0","body":{"elements":[{"tag":"markdown","content":"x"}]}}}`, CodeOK},
		{"post a with bad href", "open", "application/json", `{"msg_type":"post","content":{"post":{"zh_cn":{"content":[[{"tag":"a","text":"x","href":"not a url"}]]}}}}`, CodeBadRequest},
		{"post unknown tag", "open", "application/json", `{"msg_type":"post","content":{"post":{"zh_cn":{"content":[[{"tag":"b","text":"x"}]]}}}}`, CodeBadRequest},
		{"post without locale", "open", "application/json", `{"msg_type":"post","content":{"post":{}}}`, CodeBadRequest},
		{"image", "open", "application/json", `{"msg_type":"image","content":{"image_key":"img_v2_1"}}`, CodeOK},
		{"share_chat without id", "open", "application/json", `{"msg_type":"share_chat","content":{}}`, CodeBadRequest},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, a := postRaw(t, HookURL(base, c.token), c.ctype, c.body)
			if status != http.StatusOK || *a.Code != c.want {
				t.Fatalf("HTTP %d code %d %q; want HTTP 200 code %d", status, *a.Code, a.Msg, c.want)
			}
			if c.want != CodeOK && a.Msg != codeMsg[c.want] {
				t.Errorf("msg %q, want Feishu's %q", a.Msg, codeMsg[c.want])
			}
			if c.want == CodeOK && (a.StatusCode == nil || *a.StatusCode != 0 || a.StatusMessage != "success") {
				t.Errorf("success lacks the legacy StatusCode/StatusMessage: %+v", a)
			}
		})
	}
}

func TestSimRateLimitsPerBot(t *testing.T) {
	clock := newClock(time.Date(2026, 11, 26, 10, 0, 10, 0, time.UTC))
	sim := NewSim(SimConfig{Now: clock.Now})
	sim.AddRobot(Robot{Token: "a"}, Robot{Token: "b"})
	base := serve(t, sim)
	a := testSender(t, Config{Webhook: HookURL(base, "a"), Now: clock.Now})
	b := testSender(t, Config{Webhook: HookURL(base, "b"), Now: clock.Now})
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		if _, err := a.Send(ctx, orderMsg); err != nil {
			t.Fatalf("message %d in a second: %v", i+1, err)
		}
	}
	_, err := a.Send(ctx, orderMsg)
	if ce, ok := connector.AsCallError(err); !ok || ce.Class != connector.SlowDown || ce.Code != "11232" {
		t.Fatalf("the 6th message in a second: %v; want SlowDown 11232", err)
	}
	if _, err := b.Send(ctx, orderMsg); err != nil {
		t.Fatalf("another bot is limited too: %v", err)
	}
	// 100 a minute: 5 a second for 19 more seconds reaches it.
	for i := 0; i < 19; i++ {
		clock.Add(time.Second)
		for j := 0; j < 5; j++ {
			if _, err := a.Send(ctx, orderMsg); err != nil {
				t.Fatalf("second %d message %d: %v", i+2, j+1, err)
			}
		}
	}
	clock.Add(time.Second)
	if _, err := a.Send(ctx, orderMsg); connector.ClassOf(err) != connector.SlowDown {
		t.Fatalf("the 101st message in a minute: %v; want SlowDown", err)
	}
	clock.Add(40 * time.Second) // the first second's five leave the window
	if _, err := a.Send(ctx, orderMsg); err != nil {
		t.Fatalf("once the window slid: %v", err)
	}
}

func TestSimBusyAtHalfHours(t *testing.T) {
	clock := newClock(time.Date(2026, 11, 26, 10, 29, 59, 0, time.UTC))
	sim := NewSim(SimConfig{Now: clock.Now, BusyAtHalfHours: true})
	sim.AddRobot(Robot{Token: "a"})
	s := testSender(t, Config{Webhook: HookURL(serve(t, sim), "a"), Now: clock.Now})
	ctx := context.Background()
	if _, err := s.Send(ctx, orderMsg); err != nil {
		t.Fatalf("at 10:29:59: %v", err)
	}
	clock.Add(time.Second)
	if _, err := s.Send(ctx, orderMsg); connector.ClassOf(err) != connector.SlowDown {
		t.Fatalf("at 10:30:00: %v; want SlowDown", err)
	}
	clock.Add(2 * time.Second)
	if _, err := s.Send(ctx, orderMsg); err != nil {
		t.Fatalf("at 10:30:02: %v", err)
	}
}

func TestSimRateLimitOff(t *testing.T) {
	sim := NewSim(SimConfig{NoRateLimit: true})
	sim.AddRobot(Robot{Token: "a"})
	s := testSender(t, Config{Webhook: HookURL(serve(t, sim), "a")})
	for i := 0; i < 50; i++ {
		if _, err := s.Send(context.Background(), orderMsg); err != nil {
			t.Fatalf("message %d with the limits off: %v", i+1, err)
		}
	}
}

// The sender's signature passes the simulator at its clock, and a sender
// whose clock is more than an hour off is refused with a hint.
func TestSignedSendAndClockSkew(t *testing.T) {
	clock := newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	sim := NewSim(SimConfig{Now: clock.Now})
	sim.AddRobot(Robot{Token: simToken, Secret: simSecret})
	url := HookURL(serve(t, sim), simToken)
	ok := testSender(t, Config{Webhook: url, Secret: simSecret, Now: clock.Now})
	skewed := testSender(t, Config{Webhook: url, Secret: simSecret, Now: func() time.Time { return clock.Now().Add(-61 * time.Minute) }})
	if _, err := ok.Send(context.Background(), orderMsg); err != nil {
		t.Fatal(err)
	}
	_, err := skewed.Send(context.Background(), orderMsg)
	ce, isCE := connector.AsCallError(err)
	if !isCE || ce.Class != connector.Permanent || ce.Code != "19021" || !strings.Contains(ce.Hint, "时钟") {
		t.Fatalf("%v; want Permanent 19021 with a hint about the clock", err)
	}
	if rej := sim.Rejected(); len(rej) != 1 || !strings.Contains(rej[0].Reason, "from now") {
		t.Fatalf("rejected %+v", rej)
	}
	if got := sim.Received(); len(got) != 1 || !got[0].Signed {
		t.Fatalf("received %+v", got)
	}
}

func TestSimRecordsMentions(t *testing.T) {
	sim := NewSim(SimConfig{})
	sim.AddRobot(Robot{Token: "a"})
	url := HookURL(serve(t, sim), "a")
	m := with(orderMsg, func(m *connector.Message) { m.AtUserIDs = []string{"ou_abc"}; m.AtAll = true })
	for _, mt := range []string{TypeInteractive, TypePost, TypeText} {
		s := testSender(t, Config{Webhook: url, MsgType: mt})
		if _, err := s.Send(context.Background(), m); err != nil {
			t.Fatalf("%s: %v", mt, err)
		}
	}
	for _, r := range sim.Received() {
		if got := strings.Join(r.Mentioned, ","); got != "ou_abc,all" {
			t.Errorf("%s mentions %q, want ou_abc,all; body %s", r.MsgType, got, r.Body)
		}
	}
}

func TestSimKeepsTheNewest(t *testing.T) {
	sim := NewSim(SimConfig{NoRateLimit: true, Keep: 2})
	sim.AddRobot(Robot{Token: "a"})
	s := testSender(t, Config{Webhook: HookURL(serve(t, sim), "a"), MsgType: TypeText})
	for i := 0; i < 7; i++ {
		m := orderMsg
		m.Title, m.Text = "", fmt.Sprintf("订单 %d", i)
		if _, err := s.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	got := sim.Received()
	if len(got) != 2 || !strings.HasPrefix(got[0].Text, "订单 5") || sim.Accepted() != 7 {
		t.Fatalf("kept %d, accepted %d; want the newest 2 of 7", len(got), sim.Accepted())
	}
}

func TestRenderIsWhatIsSent(t *testing.T) {
	clock := newClock(time.Unix(1700000000, 0))
	sim := NewSim(SimConfig{Now: clock.Now})
	sim.AddRobot(Robot{Token: "a", Secret: "demo", Keywords: []string{"订单"}})
	url := HookURL(serve(t, sim), "a")
	for _, mt := range []string{TypeInteractive, TypePost, TypeText} {
		s := testSender(t, Config{Webhook: url, Secret: "demo", Keyword: "订单", MsgType: mt, Now: clock.Now})
		want, _, err := s.Render(orderMsg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Send(context.Background(), orderMsg); err != nil {
			t.Fatal(err)
		}
		got := sim.Received()
		if body := got[len(got)-1].Body; string(body) != string(want) {
			t.Fatalf("%s: sent\n%s\nrendered\n%s", mt, body, want)
		}
	}
}

// One signed sender and one simulator shared by many goroutines (run with
// -race).
func TestConcurrentSends(t *testing.T) {
	sim := NewSim(SimConfig{NoRateLimit: true})
	sim.AddRobot(Robot{Token: "a", Secret: "demo", Keywords: []string{"订单"}})
	s := testSender(t, Config{Webhook: HookURL(serve(t, sim), "a"), Secret: "demo", Keyword: "订单", MsgType: TypePost})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				if _, err := s.Send(context.Background(), orderMsg); err != nil {
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
