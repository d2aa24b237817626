package dingtalkapp

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"orderhub/internal/connector"
	"orderhub/internal/connector/simfault"
)

// Recipients past one call's limits go out in several calls, each within
// 100 userids and 20 departments; the task ids come back joined by commas
// in call order, and everyone gets the message once.
func TestRecipientsSplitIntoCalls(t *testing.T) {
	cases := []struct {
		name         string
		users, depts int
		wantCalls    int
	}{
		{"one user", 1, 0, 1},
		{"exactly 100 users", 100, 0, 1},
		{"101 users", 101, 0, 2},
		{"250 users and 3 departments", 250, 3, 3},
		{"21 departments", 0, 21, 2},
		{"50 users and 45 departments", 50, 45, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, SimConfig{QPS: -1})
			users := r.addUsers(tc.users)
			var depts []string
			for i := range tc.depts {
				d := strconv.Itoa(100 + i)
				r.sim.AddDept(d, "")
				depts = append(depts, d)
			}
			m := msgTo("split")
			m.To = people(users...)
			for _, d := range depts {
				m.To = append(m.To, connector.Recipient{DingDept: d})
			}
			res := send(t, r.client(t, goodSettings(), nil), m)
			calls := r.sim.Calls()
			if len(calls) != tc.wantCalls {
				t.Fatalf("%d calls, want %d", len(calls), tc.wantCalls)
			}
			var ids, gotUsers, gotDepts []string
			for _, c := range calls {
				if len(c.UserIDs) > MaxUsers || len(c.DeptIDs) > MaxDepts {
					t.Errorf("call %s carries %d users and %d departments", c.TaskID, len(c.UserIDs), len(c.DeptIDs))
				}
				ids = append(ids, c.TaskID)
				gotUsers = append(gotUsers, c.UserIDs...)
				gotDepts = append(gotDepts, c.DeptIDs...)
			}
			if res.MessageID != strings.Join(ids, ",") {
				t.Errorf("MessageID %q, want the task ids %v", res.MessageID, ids)
			}
			if !slices.Equal(gotUsers, users) || !slices.Equal(gotDepts, depts) {
				t.Errorf("users %d/%d, departments %v/%v: each must be sent once, in order", len(gotUsers), len(users), gotDepts, depts)
			}
		})
	}
}

// Departments reach their sub-departments; everyone reaches the whole
// company in one call; a person addressed twice gets the message once.
func TestAddressing(t *testing.T) {
	cases := []struct {
		name string
		to   []connector.Recipient
		want []string
	}{
		{"department with a sub-department", []connector.Recipient{{DingDept: "10"}}, []string{"u1", "u2", "u3"}},
		{"user and own department", []connector.Recipient{{DingUserID: "u1"}, {DingDept: "10"}}, []string{"u1", "u2", "u3"}},
		{"everyone", []connector.Recipient{{All: true}, {DingUserID: "u1"}}, []string{"u1", "u2", "u3", "u4", "u5"}},
		{"the same user twice", []connector.Recipient{{DingUserID: "u4"}, {Person: "x", DingUserID: " u4 "}}, []string{"u4"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, SimConfig{})
			m := msgTo("addr")
			m.To = tc.to
			send(t, r.client(t, goodSettings(), nil), m)
			var got []string
			for _, d := range r.sim.Deliveries() {
				got = append(got, d.UserID)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("delivered to %v, want %v", got, tc.want)
			}
			if calls := r.sim.Calls(); len(calls) != 1 {
				t.Fatalf("%d calls", len(calls))
			}
		})
	}
}

// A message none of whose recipients has a 钉钉 address is refused before
// any call, with a hint naming who lacks dingtalk_userid.
func TestNoReachableRecipient(t *testing.T) {
	r := newRig(t, SimConfig{})
	c := r.client(t, goodSettings(), nil)
	for _, to := range [][]connector.Recipient{
		nil,
		{{Person: "zhang", Name: "张三", Mobile: "13800001234"}},
	} {
		m := sample
		m.To = to
		_, err := c.Send(context.Background(), m)
		ce, _ := connector.AsCallError(err)
		if ce == nil || ce.Class != connector.Permanent || !strings.Contains(ce.Hint, "dingtalk_userid") {
			t.Fatalf("to %+v: %+v", to, ce)
		}
		if len(to) > 0 && !strings.Contains(ce.Hint, "zhang（张三）") {
			t.Errorf("the hint does not name the person: %s", ce.Hint)
		}
	}
	// One reachable recipient is enough; the other is left out.
	m := sample
	m.To = append(people("u2"), connector.Recipient{Person: "zhang", Name: "张三"})
	send(t, c, m)
	if n := len(r.sim.Calls()); n != 1 {
		t.Fatalf("%d calls", n)
	}
}

// When a call of a split message is throttled, sending the message again
// sends only the calls that did not go out, and answers all task ids.
func TestSplitMessageResumes(t *testing.T) {
	r := newRig(t, SimConfig{QPS: -1})
	users := r.addUsers(250)
	var sends atomic.Int32
	r.sim.Faults().Inject(simfault.Fault{Kind: simfault.Throttle, Count: 1, Match: func(req *http.Request) bool {
		return req.URL.Path == PathSend && sends.Add(1) == 2
	}})
	c := r.client(t, goodSettings(), nil)
	m := msgTo("resume")
	m.To = people(users...)
	_, err := c.Send(context.Background(), m)
	if connector.ClassOf(err) != connector.SlowDown {
		t.Fatalf("second call throttled: %v", err)
	}
	if n := len(r.sim.Calls()); n != 1 {
		t.Fatalf("%d calls before the throttle, want 1", n)
	}
	res := send(t, c, m)
	calls := r.sim.Calls()
	if len(calls) != 3 {
		t.Fatalf("%d calls in all, want 3: the first must not go out again", len(calls))
	}
	if want := calls[0].TaskID + "," + calls[1].TaskID + "," + calls[2].TaskID; res.MessageID != want {
		t.Fatalf("MessageID %q, want %q", res.MessageID, want)
	}
	for _, u := range []string{users[0], users[150], users[249]} {
		if n := len(r.sim.Inbox(u)); n != 1 {
			t.Errorf("%s received %d messages", u, n)
		}
	}
}

// A message over the msg limit is cut, not refused: within 2048 bytes
// (or max_msg_bytes), ending with … and the link, in both types.
func TestCutToTheMsgLimit(t *testing.T) {
	row := "| D20261126005009000001 | ¥5,999.00 | 已付款 |\n"
	big := msgTo("big", "u1")
	big.Markdown = "### 很多笔新订单\n\n| 订单 | 金额 | 状态 |\n|---|---|---|\n" + strings.Repeat(row, 100)
	oneLine := msgTo("line", "u1")
	oneLine.Markdown = strings.Repeat("很长的一行没有换行", 300)
	for _, tc := range []struct {
		name    string
		msgType string
		max     int
		m       connector.Message
	}{
		{"markdown table", TypeMarkdown, 0, big},
		{"action_card table", TypeActionCard, 0, big},
		{"one long line", TypeMarkdown, 0, oneLine},
		{"max_msg_bytes 1024", TypeMarkdown, 1024, big},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, SimConfig{MaxMsgBytes: tc.max})
			s := goodSettings()
			s.MsgType, s.MaxMsgBytes = tc.msgType, tc.max
			res := send(t, r.client(t, s, nil), tc.m)
			limit := cmpOr(tc.max, MaxMsgBytes)
			c := r.sim.Calls()[0]
			if !res.Cut || len(c.Msg) > limit || len(c.Msg) < limit*3/4 {
				t.Fatalf("cut %v, msg %d bytes; want cut to just under %d", res.Cut, len(c.Msg), limit)
			}
			if c.MsgType != tc.msgType || !strings.Contains(c.Text, "…") || !strings.Contains(c.Text, tc.m.Link) {
				t.Fatalf("%s shows %q", c.MsgType, c.Text)
			}
		})
	}
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// What the app posts: the common Markdown in DingTalk's dialect, a card
// with one button to the order, and markdown when there is no link.
func TestMessageShape(t *testing.T) {
	md := "### 新订单 D1\n| 商品 | 数量 |\n|---|---|\n| 水杯 | 2 |\n```\ncode\n```\n- 状态：~~待付款~~ `已付款`\n- 买家：138****1234"
	wantText := "### 新订单 D1  \n**商品 · 数量**  \n- 水杯 · 2  \ncode  \n- 状态：待付款 已付款  \n- 买家：138****1234"
	cases := []struct {
		name, msgType, link string
		want                string
		text                string // a message with only Text, when set
	}{
		{"text only", TypeMarkdown, "", `{"msgtype":"markdown","markdown":{"title":"新订单 D1","text":"新订单 D1  \n金额 ¥5,999.00"}}`, "新订单 D1\n金额 ¥5,999.00"},
		{"markdown", TypeMarkdown, "https://shop.example/o/1",
			`{"msgtype":"markdown","markdown":{"title":"新订单 D1","text":` + jsonQuote(wantText) + `}}`, ""},
		{"action_card", TypeActionCard, "https://shop.example/o/1",
			`{"msgtype":"action_card","action_card":{"title":"新订单 D1","markdown":` + jsonQuote(wantText) + `,"single_title":"查看订单","single_url":"https://shop.example/o/1"}}`, ""},
		{"action_card without a link", TypeActionCard, "",
			`{"msgtype":"markdown","markdown":{"title":"新订单 D1","text":` + jsonQuote(wantText) + `}}`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, SimConfig{})
			s := goodSettings()
			s.MsgType = tc.msgType
			c := r.client(t, s, nil)
			m := connector.Message{Title: "新订单 D1", Markdown: md, Link: tc.link, To: people("u1")}
			if tc.text != "" {
				m.Markdown, m.Text = "", tc.text
			}
			msg, cut, err := c.Render(m)
			if err != nil || cut || string(msg) != tc.want {
				t.Fatalf("render: %v %v\n got %s\nwant %s", err, cut, msg, tc.want)
			}
			send(t, c, m) // and the simulator takes it
			if got := r.sim.Calls()[0].Msg; string(got) != tc.want {
				t.Fatalf("posted %s", got)
			}
		})
	}
}

func jsonQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// The simulator refuses what DingTalk refuses, with DingTalk's codes, and
// the client classifies each.
func TestSimRefusals(t *testing.T) {
	cases := []struct {
		name  string
		setup func(r *rig, s *Settings)
		code  string
		class connector.Class
		hint  string
	}{
		{"wrong agent_id", func(r *rig, s *Settings) { s.AgentID = 999 }, "40056", connector.Permanent, "AgentId"},
		{"no permission", func(r *rig, s *Settings) {
			r.sim.AddApp(App{Key: testAppKey, Secret: testAppSecret, AgentID: testAgentID, NoPermission: true})
		}, "88/60011", connector.Permanent, "权限"},
		{"throttled", func(r *rig, s *Settings) { r.sim.Faults().Inject(simfault.Fault{Kind: simfault.Throttle, Count: 1}) }, "90018", connector.SlowDown, "每秒"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, SimConfig{})
			s := goodSettings()
			tc.setup(r, &s)
			_, err := r.client(t, s, nil).Send(context.Background(), msgTo("k", "u1"))
			ce, _ := connector.AsCallError(err)
			if ce == nil || ce.Code != tc.code || ce.Class != tc.class || !strings.Contains(ce.Hint, tc.hint) {
				t.Fatalf("%+v; want %s %s with %q", ce, tc.class, tc.code, tc.hint)
			}
			if len(r.sim.Deliveries()) != 0 {
				t.Fatal("a refused message was delivered")
			}
		})
	}
}

// An answer lost after the send is an unknown outcome; sending again is
// safe, since DingTalk gives the same content to a person once a day. A
// lost answer to gettoken or getsendresult changed nothing: retry.
func TestLostAnswers(t *testing.T) {
	r := newRig(t, SimConfig{})
	c := r.client(t, goodSettings(), nil)
	m := msgTo("lost", "u1")
	r.sim.Faults().Inject(simfault.Fault{Kind: simfault.LoseAnswer, Count: 1, Match: func(req *http.Request) bool { return req.URL.Path == PathSend }})
	_, err := c.Send(context.Background(), m)
	ce, _ := connector.AsCallError(err)
	if ce == nil || ce.Class != connector.Unknown || !strings.Contains(ce.Hint, "只送达一次") {
		t.Fatalf("lost answer to asyncsend_v2: %+v", ce)
	}
	res := send(t, c, m)
	if n := len(r.sim.Inbox("u1")); n != 1 {
		t.Fatalf("u1 received %d messages after the resend, want 1", n)
	}
	got, err := c.Result(context.Background(), res.MessageID)
	if err != nil || len(got.Forbidden) != 1 || got.Forbidden[0].Code != ForbiddenDuplicate {
		t.Fatalf("the resend's result: %+v, %v; want u1 held back as a duplicate", got, err)
	}

	// Go's transport sends a GET again by itself when a reused connection
	// drops before the answer, so gettoken loses two answers here.
	for path, lose := range map[string]int{PathToken: 2, PathResult: 1} {
		r := newRig(t, SimConfig{})
		c := r.client(t, goodSettings(), nil)
		res := send(t, c, msgTo("x", "u1"))
		if path == PathToken {
			r.clock.Add(2 * time.Hour) // the cached token is due for renewal
		}
		r.sim.Faults().Inject(simfault.Fault{Kind: simfault.LoseAnswer, Count: lose, Match: func(req *http.Request) bool { return req.URL.Path == path }})
		if _, err := c.ReadStatus(context.Background(), res.MessageID); connector.ClassOf(err) != connector.Retry {
			t.Errorf("lost answer to %s: %v, want retry", path, err)
		}
	}
}
