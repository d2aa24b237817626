package dingtalkapp

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"orderhub/internal/connector"
	"orderhub/internal/connector/simfault"
)

// dinger is a DING sender of the rig's app, its new-API root the same
// simulator.
func (r *rig) dinger(t *testing.T, remind int, s Settings) connector.Sender {
	t.Helper()
	s.APIBaseURL = r.srv.URL
	d, err := r.client(t, s, nil).DingSender(remind)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDingSends(t *testing.T) {
	r := newRig(t, SimConfig{})
	r.sim.AddApp(App{Key: testAppKey, Secret: testAppSecret, AgentID: testAgentID, DingPack: 10})
	for _, remind := range []int{RemindApp, RemindSMS, RemindCall} {
		m := msgTo("ding "+RemindName(remind), "u1", "u2")
		res := send(t, r.dinger(t, remind, goodSettings()), m)
		got := r.sim.Dings()
		d := got[len(got)-1]
		if res.MessageID != d.OpenDingID || d.RemindType != remind || strings.Join(d.Receivers, ",") != "u1,u2" {
			t.Fatalf("%s: result %+v, ding %+v", RemindName(remind), res, d)
		}
		if !strings.Contains(d.Content, "D20261126005009000001") || !strings.Contains(d.Content, m.Link) || strings.Contains(d.Content, "**¥") || strings.Contains(d.Content, "###") {
			t.Fatalf("content %q: want the order, the link and no markup", d.Content)
		}
	}
}

// Receivers past one DING's limit go in several calls: 200 in the app, 20
// by SMS or phone.
func TestDingSplits(t *testing.T) {
	for _, tc := range []struct {
		remind, users int
		want          []int
	}{
		{RemindApp, 250, []int{200, 50}},
		{RemindSMS, 45, []int{20, 20, 5}},
		{RemindCall, 20, []int{20}},
	} {
		r := newRig(t, SimConfig{})
		r.sim.AddApp(App{Key: testAppKey, Secret: testAppSecret, AgentID: testAgentID, DingPack: 1000})
		m := msgTo("split")
		m.To = people(r.addUsers(tc.users)...)
		res := send(t, r.dinger(t, tc.remind, goodSettings()), m)
		dings := r.sim.Dings()
		var sizes, ids []string
		for _, d := range dings {
			sizes = append(sizes, strconv.Itoa(len(d.Receivers)))
			ids = append(ids, d.OpenDingID)
		}
		var want []string
		for _, n := range tc.want {
			want = append(want, strconv.Itoa(n))
		}
		if strings.Join(sizes, ",") != strings.Join(want, ",") || res.MessageID != strings.Join(ids, ",") {
			t.Errorf("%s to %d: calls of %v, MessageID %q; want %v", RemindName(tc.remind), tc.users, sizes, res.MessageID, want)
		}
	}
}

// The DING codes of im.md 2.6 and the new API's, from the simulator.
func TestDingRefusals(t *testing.T) {
	cases := []struct {
		name  string
		setup func(r *rig, s *Settings)
		code  string
		class connector.Class
		hint  string
	}{
		{"wrong robot code", func(r *rig, s *Settings) { s.RobotCode = "dingother" }, CodeDingRobot, connector.Permanent, "robot_code"},
		{"no SMS pack", func(r *rig, s *Settings) {}, CodeDingQuota, connector.Permanent, "加量包"},
		{"too fast", func(r *rig, s *Settings) {
			r.sim.AddApp(App{Key: testAppKey, Secret: testAppSecret, AgentID: testAgentID, DingPack: 10})
			send(t, r.dinger(t, RemindSMS, *s), msgTo("first", "u1"))
		}, CodeDingTooFast, connector.SlowDown, "下一分钟"},
		{"no permission", func(r *rig, s *Settings) {
			r.sim.AddApp(App{Key: testAppKey, Secret: testAppSecret, AgentID: testAgentID, NoPermission: true})
		}, "Forbidden.AccessDenied.AccessTokenPermissionDenied", connector.Permanent, "Premium.Ding.Write"},
		{"throttled", func(r *rig, s *Settings) {
			r.sim.Faults().Inject(simfault.Fault{Kind: simfault.Throttle, Count: 1, Match: func(q *http.Request) bool { return q.URL.Path == PathDing }})
		}, newAppQPS, connector.SlowDown, "限流"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, SimConfig{DingPerMinute: 1})
			s := goodSettings()
			tc.setup(r, &s)
			_, err := r.dinger(t, RemindSMS, s).Send(context.Background(), msgTo("k", "u1"))
			ce, _ := connector.AsCallError(err)
			if ce == nil || !strings.HasSuffix(ce.Code, " "+tc.code) || ce.Class != tc.class || !strings.Contains(ce.Hint, tc.hint) {
				t.Fatalf("%+v; want %s %s with %q", ce, tc.class, tc.code, tc.hint)
			}
		})
	}
}

// A revoked token is replaced once for DING too; the new API reads the
// token only from its header.
func TestDingToken(t *testing.T) {
	r := newRig(t, SimConfig{})
	d := r.dinger(t, RemindApp, goodSettings())
	send(t, d, msgTo("one", "u1"))
	r.sim.RevokeTokens(testAppKey)
	send(t, d, msgTo("two", "u1"))
	if n, m := r.sim.TokenCalls(), len(r.sim.Dings()); n != 2 || m != 2 {
		t.Fatalf("%d gettoken calls and %d dings, want 2 and 2", n, m)
	}
	tok := r.token(t)
	for name, set := range map[string]func(*http.Request){
		"query":         func(q *http.Request) { q.URL.RawQuery = "access_token=" + tok },
		"authorization": func(q *http.Request) { q.Header.Set("Authorization", "Bearer "+tok) },
	} {
		req, _ := http.NewRequest("POST", r.srv.URL+PathDing, strings.NewReader(`{"robotCode":"`+testAppKey+`","remindType":1,"receiverUserIdList":["u1"],"content":"x"}`))
		req.Header.Set("Content-Type", "application/json")
		set(req)
		resp, err := r.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("token in the %s: HTTP %d, want 400", name, resp.StatusCode)
		}
	}
}

// A DING reaches people by userid only; unknown ones come back in
// failedList, and a DING that reached nobody is permanent.
func TestDingRecipients(t *testing.T) {
	r := newRig(t, SimConfig{})
	d := r.dinger(t, RemindApp, goodSettings())
	m := msgTo("dept")
	m.To = []connector.Recipient{{DingDept: "10"}}
	_, err := d.Send(context.Background(), m)
	if ce, _ := connector.AsCallError(err); ce == nil || ce.Class != connector.Permanent || !strings.Contains(ce.Hint, "不能发给部门") {
		t.Fatalf("a DING to a department: %+v", ce)
	}
	send(t, d, msgTo("some unknown", "u1", "ghost"))
	if got := r.sim.Dings(); len(got) != 1 || strings.Join(got[0].Receivers, ",") != "u1" {
		t.Fatalf("%+v", got)
	}
	_, err = d.Send(context.Background(), msgTo("all unknown", "ghost"))
	if ce, _ := connector.AsCallError(err); ce == nil || ce.Class != connector.Permanent || !strings.Contains(ce.Hint, "userNotExist: ghost") {
		t.Fatalf("a DING nobody got: %+v", ce)
	}
}

// A long message is cut to ding_max_chars with … and the link.
func TestDingContentCut(t *testing.T) {
	for _, max := range []int{0, 80} {
		r := newRig(t, SimConfig{})
		s := goodSettings()
		s.DingMaxChars = max
		m := msgTo("long", "u1")
		m.Markdown = strings.Repeat("订单 D20261126005009000001 已付款\n", 60)
		res := send(t, r.dinger(t, RemindApp, s), m)
		c := r.sim.Dings()[0].Content
		limit := cmpOr(max, DingMaxChars)
		if !res.Cut || utf8.RuneCountInString(c) > limit || !strings.Contains(c, "…") || !strings.HasSuffix(c, m.Link) {
			t.Errorf("max %d: cut %v, %d characters: %q", max, res.Cut, utf8.RuneCountInString(c), c)
		}
	}
}

func TestRemindNames(t *testing.T) {
	for name, want := range map[string]int{"app": RemindApp, "sms": RemindSMS, "phone": RemindCall} {
		if got, ok := RemindType(name); !ok || got != want || RemindName(got) != name {
			t.Errorf("%s: %d %v", name, got, ok)
		}
	}
	if _, ok := RemindType("call"); ok {
		t.Error("call is not a remind type name")
	}
	r := newRig(t, SimConfig{})
	if _, err := r.client(t, goodSettings(), nil).DingSender(4); err == nil {
		t.Error("remind type 4 was accepted")
	}
}
