package dingtalkapp

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// simAnswer is what the simulator answered, read loosely.
type simAnswer struct {
	ErrCode     int    `json:"errcode"`
	SubCode     string `json:"sub_code"`
	ErrMsg      string `json:"errmsg"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int    `json:"expires_in"`
	TaskID      int64  `json:"task_id"`
	SendResult  *struct {
		ForbiddenList []forbiddenItem `json:"forbidden_list"`
		Unread        []string        `json:"unread_user_id_list"`
	} `json:"send_result"`
}

func (r *rig) do(t *testing.T, method, path, contentType, body string) simAnswer {
	t.Helper()
	req, _ := http.NewRequest(method, r.srv.URL+path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := r.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s: HTTP %d %s", method, path, resp.StatusCode, b)
	}
	var a simAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return a
}

func (r *rig) token(t *testing.T) string {
	t.Helper()
	a := r.do(t, "GET", PathToken+"?"+url.Values{"appkey": {testAppKey}, "appsecret": {testAppSecret}}.Encode(), "", "")
	if a.ErrCode != 0 || a.AccessToken == "" || a.ExpiresIn != 7200 {
		t.Fatalf("gettoken: %+v", a)
	}
	return a.AccessToken
}

func (r *rig) post(t *testing.T, path, token, body string) simAnswer {
	t.Helper()
	return r.do(t, "POST", path+"?access_token="+token, "application/json", body)
}

const okMsg = `{"msgtype":"markdown","markdown":{"title":"新订单","text":"### 新订单 D1"}}`

func sendBody(users, depts string, msg string) string {
	return fmt.Sprintf(`{"agent_id":%d,"userid_list":%q,"dept_id_list":%q,"msg":%s}`, testAgentID, users, depts, msg)
}

// gettoken returns the same token while it is valid and extends it; a
// wrong secret gets 40096; a POST is refused.
func TestSimToken(t *testing.T) {
	r := newRig(t, SimConfig{})
	first := r.token(t)
	r.clock.Add(7000 * time.Second)
	if again := r.token(t); again != first {
		t.Fatal("a valid token was not returned again")
	}
	r.clock.Add(7000 * time.Second) // 14000 s after the first, 7000 after the extension
	if a := r.post(t, PathSend, first, sendBody("u1", "", okMsg)); a.ErrCode != 0 {
		t.Fatalf("the extended token was refused: %+v", a)
	}
	r.clock.Add(201 * time.Second)
	if a := r.post(t, PathSend, first, sendBody("u1", "", okMsg)); a.ErrCode != CodeTokenExpired {
		t.Fatalf("expired token: %+v", a)
	}
	if next := r.token(t); next == first {
		t.Fatal("an expired token was issued again")
	}
	if a := r.do(t, "GET", PathToken+"?appkey="+testAppKey+"&appsecret=wrong", "", ""); a.ErrCode != CodeBadAppKey {
		t.Fatalf("wrong secret: %+v", a)
	}
	if a := r.do(t, "POST", PathToken, "application/x-www-form-urlencoded", "appkey="+testAppKey+"&appsecret="+testAppSecret); a.ErrCode != CodeBadParam {
		t.Fatalf("POST gettoken: %+v", a)
	}
}

// asyncsend_v2's checks, each with its code.
func TestSimSendChecks(t *testing.T) {
	var hundredOne, twentyOne []string
	for i := range 101 {
		hundredOne = append(hundredOne, "x"+strconv.Itoa(i))
	}
	for i := range 21 {
		twentyOne = append(twentyOne, strconv.Itoa(i))
	}
	cases := []struct {
		name     string
		token    string // "" for a good one
		body     string
		code     int
		sub      string
		errmsgIn string
	}{
		{"accepted", "", sendBody("u1", "", okMsg), 0, "", ""},
		{"unknown token", "nope", sendBody("u1", "", okMsg), CodeAuth, "40014", ""},
		{"no agent_id", "", `{"userid_list":"u1","msg":` + okMsg + `}`, CodeNoAgent, "", ""},
		{"wrong agent_id", "", `{"agent_id":7,"userid_list":"u1","msg":` + okMsg + `}`, CodeBadAgent, "", ""},
		{"no recipient", "", sendBody("", "", okMsg), CodeBadParam, "", "至少填一项"},
		{"101 userids", "", sendBody(strings.Join(hundredOne, ","), "", okMsg), CodeBadParam, "", "最多 100"},
		{"21 departments", "", sendBody("", strings.Join(twentyOne, ","), okMsg), CodeBadParam, "", "最多 20"},
		{"userid_list as an array", "", `{"agent_id":1000001,"userid_list":["u1"],"msg":` + okMsg + `}`, CodeBadParam, "", "逗号分隔"},
		{"msg over 2048 bytes", "", sendBody("u1", "", `{"msgtype":"text","text":{"content":"`+strings.Repeat("长", 700)+`"}}`), CodeBadParam, "", "2048"},
		{"no msg", "", `{"agent_id":1000001,"userid_list":"u1"}`, CodeBadParam, "", "msg"},
		{"the robot's actionCard", "", sendBody("u1", "", `{"msgtype":"actionCard","actionCard":{"title":"t","text":"x","singleTitle":"a","singleURL":"https://x"}}`), CodeBadParam, "", "不支持"},
		{"action_card with robot field names", "", sendBody("u1", "", `{"msgtype":"action_card","action_card":{"title":"t","markdown":"x","singleTitle":"a","singleURL":"https://x"}}`), CodeBadParam, "", "single_title"},
		{"button title over 20", "", sendBody("u1", "", `{"msgtype":"action_card","action_card":{"title":"t","markdown":"x","single_title":"`+strings.Repeat("按", 21)+`","single_url":"https://x"}}`), CodeBadParam, "", "20"},
		{"two types", "", sendBody("u1", "", `{"msgtype":"markdown","markdown":{"title":"t","text":"x"},"text":{"content":"x"}}`), CodeBadParam, "", "一种"},
		{"markdown without text", "", sendBody("u1", "", `{"msgtype":"markdown","markdown":{"title":"t"}}`), CodeBadParam, "", "text"},
		{"link in camelCase", "", sendBody("u1", "", `{"msgtype":"link","link":{"title":"t","text":"x","messageUrl":"https://x","picUrl":"https://p"}}`), 0, "", ""},
		{"oa", "", sendBody("u2", "", `{"msgtype":"oa","oa":{"message_url":"https://x","head":{"bgcolor":"FFBBBBBB"},"body":{"title":"订单","content":"请发货"}}}`), 0, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, SimConfig{})
			tok := tc.token
			if tok == "" {
				tok = r.token(t)
			}
			a := r.post(t, PathSend, tok, tc.body)
			if a.ErrCode != tc.code || a.SubCode != tc.sub || !strings.Contains(a.ErrMsg, tc.errmsgIn) {
				t.Fatalf("%+v; want errcode %d sub_code %q with %q", a, tc.code, tc.sub, tc.errmsgIn)
			}
			if (tc.code == 0) != (a.TaskID != 0) || (tc.code == 0) != (len(r.sim.Calls()) == 1) {
				t.Fatalf("task %d, %d calls recorded", a.TaskID, len(r.sim.Calls()))
			}
		})
	}
}

// The legacy SDK posts a form with msg as a JSON string; it is taken too.
func TestSimFormBody(t *testing.T) {
	r := newRig(t, SimConfig{})
	form := url.Values{"agent_id": {"1000001"}, "userid_list": {"u1,u2"}, "to_all_user": {"false"}, "msg": {okMsg}}
	a := r.do(t, "POST", PathSend+"?access_token="+r.token(t), "application/x-www-form-urlencoded", form.Encode())
	if a.ErrCode != 0 || a.TaskID == 0 {
		t.Fatalf("%+v", a)
	}
	if c := r.sim.Calls(); len(c) != 1 || !c[0].Form || len(r.sim.Deliveries()) != 2 {
		t.Fatalf("%+v", c)
	}
}

// The silent drops: the send succeeds and getsendresult tells. The same
// content reaches a person once a day; at most PerUserDaily messages a
// day; the day is China's.
func TestSimDailyCapAndDedupe(t *testing.T) {
	r := newRig(t, SimConfig{PerUserDaily: 2}) // the clock says 18:00:15 in Shanghai
	tok := r.token(t)
	msg := func(n int) string {
		return fmt.Sprintf(`{"msgtype":"markdown","markdown":{"title":"订单","text":"第 %d 条"}}`, n)
	}
	forbidden := func(a simAnswer) string {
		t.Helper()
		res := r.post(t, PathResult, tok, fmt.Sprintf(`{"agent_id":%d,"task_id":%d}`, testAgentID, a.TaskID))
		if res.ErrCode != 0 || res.SendResult == nil {
			t.Fatalf("getsendresult: %+v", res)
		}
		if len(res.SendResult.ForbiddenList) == 0 {
			return ""
		}
		return res.SendResult.ForbiddenList[0].Code
	}
	steps := []struct {
		name    string
		advance time.Duration
		msg     int
		want    string // forbidden code, "" when delivered
	}{
		{"first", 0, 1, ""},
		{"the same content again", time.Minute, 1, ForbiddenDuplicate},
		{"second", 0, 2, ""},
		{"third is over the cap", 0, 3, ForbiddenDaily},
		{"still the same day at 23:59 in Shanghai", 5*time.Hour + 58*time.Minute, 4, ForbiddenDaily},
		{"a new day at 00:00 in Shanghai", time.Minute, 4, ""},
		{"yesterday's content is new today", 0, 1, ""},
	}
	for _, s := range steps {
		r.clock.Add(s.advance)
		tok = r.token(t) // hours pass: a token lives two
		a := r.post(t, PathSend, tok, sendBody("u1", "", msg(s.msg)))
		if a.ErrCode != 0 {
			t.Fatalf("%s: the send itself must succeed: %+v", s.name, a)
		}
		if got := forbidden(a); got != s.want {
			t.Fatalf("%s: forbidden %q, want %q", s.name, got, s.want)
		}
	}
	if n := len(r.sim.Inbox("u1")); n != 4 {
		t.Fatalf("u1 received %d messages, want 4", n)
	}
}

// 20 calls to one API in a second; the 21st gets 90018.
func TestSimQPS(t *testing.T) {
	r := newRig(t, SimConfig{})
	tok := r.token(t)
	for i := range 21 {
		a := r.post(t, PathProgress, tok, `{"agent_id":1000001,"task_id":1}`)
		switch {
		case i < 20 && a.ErrCode != CodeBadParam: // an unknown task, but not throttled
			t.Fatalf("call %d: %+v", i, a)
		case i == 20 && a.ErrCode != CodeAppQPS:
			t.Fatalf("call 21: %+v, want 90018", a)
		}
	}
	r.clock.Add(time.Second)
	if a := r.post(t, PathSend, tok, sendBody("u1", "", okMsg)); a.ErrCode != 0 {
		t.Fatalf("another API, a second later: %+v", a)
	}
}

// getsendresult and getsendprogress answer for the app's own tasks within
// 24 hours; anything else is 40035.
func TestSimTasks(t *testing.T) {
	r := newRig(t, SimConfig{})
	r.sim.AddApp(App{Key: "other", Secret: "other-secret", AgentID: 2})
	tok := r.token(t)
	a := r.post(t, PathSend, tok, sendBody("u1", "", okMsg))
	task := func(agent int64, id int64) string { return fmt.Sprintf(`{"agent_id":%d,"task_id":%d}`, agent, id) }
	if p := r.post(t, PathProgress, tok, task(testAgentID, a.TaskID)); p.ErrCode != 0 {
		t.Fatalf("progress: %+v", p)
	}
	other := r.do(t, "GET", PathToken+"?appkey=other&appsecret=other-secret", "", "").AccessToken
	if res := r.post(t, PathResult, other, task(2, a.TaskID)); res.ErrCode != CodeBadParam {
		t.Fatalf("another app's task: %+v", res)
	}
	r.clock.Add(24*time.Hour + time.Second)
	tok = r.token(t)
	if res := r.post(t, PathResult, tok, task(testAgentID, a.TaskID)); res.ErrCode != CodeBadParam {
		t.Fatalf("a task past 24 h: %+v", res)
	}
}

// The inspection endpoints a person trying the demo uses.
func TestSimInspection(t *testing.T) {
	r := newRig(t, SimConfig{})
	a := r.post(t, PathSend, r.token(t), sendBody("u1,u2", "", okMsg))
	resp, err := r.srv.Client().Post(r.srv.URL+PathRead+"?task_id="+strconv.FormatInt(a.TaskID, 10)+"&userid=u2", "", nil)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("mark read: %v %v", resp, err)
	}
	resp, err = r.srv.Client().Get(r.srv.URL + PathInspect)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Deliveries []Delivery `json:"deliveries"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || len(got.Deliveries) != 2 {
		t.Fatalf("%+v %v", got, err)
	}
	if !got.Deliveries[0].ReadAt.IsZero() || got.Deliveries[1].ReadAt.IsZero() || got.Deliveries[1].UserID != "u2" {
		t.Fatalf("read marks: %+v", got.Deliveries)
	}
}
