package notify_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"orderhub/internal/config"
	"orderhub/internal/connector"
	"orderhub/internal/connector/dingtalk"
	"orderhub/internal/notify"
	"orderhub/internal/order"
	"orderhub/internal/store"
)

// testApp is a channel to people that reports reads, standing in for a
// 钉钉 app in the engine's tests (the connector has its own).
const testApp = "test_people_app"

func init() {
	connector.Register(connector.Kind{
		KindSpec: config.KindSpec{Kind: testApp, Summary: "a test channel to people"},
		Send: &connector.SendCapability{Addressed: true, Provider: "测试", New: func(connector.Env) (connector.Sender, error) {
			return &personSender{}, nil
		}},
	})
}

// personSender records what it is sent; it refuses everything while
// refuse is set, and says who read what through ReadStatus.
type personSender struct {
	mu     sync.Mutex
	got    []connector.Message
	refuse *connector.CallError
	read   map[string]bool // userids who read every message
	// limited refuses, once each, messages to these people as the
	// provider's per-number limit does.
	limited map[string]time.Duration
}

func (p *personSender) Send(_ context.Context, m connector.Message) (connector.SendResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.refuse != nil {
		return connector.SendResult{}, p.refuse
	}
	for _, rc := range m.To {
		if wait, ok := p.limited[rc.Person]; ok {
			delete(p.limited, rc.Person)
			return connector.SendResult{}, &connector.CallError{Class: connector.SlowDown, Code: "isv.BUSINESS_LIMIT_CONTROL", RetryAfter: wait, PerMessage: true}
		}
	}
	p.got = append(p.got, m)
	return connector.SendResult{MessageID: "task-" + m.Key, Code: "0"}, nil
}

func (p *personSender) ReadStatus(_ context.Context, id string) (connector.ReadStatus, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var st connector.ReadStatus
	for _, m := range p.got {
		if "task-"+m.Key != id {
			continue
		}
		for _, rc := range m.To {
			if p.read[rc.DingUserID] {
				st.Read = append(st.Read, rc.DingUserID)
			} else {
				st.Unread = append(st.Unread, rc.DingUserID)
			}
		}
	}
	return st, nil
}

func (p *personSender) messages() []connector.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.got)
}

const peopleConfig = `systems:
  shop: {kind: mall, app_key: mall-1, app_sign: "0123456789abcdef"}
  ops_ding: {kind: dingtalk_robot, webhook: "https://oapi.dingtalk.com/robot/send?access_token=t0k3n", keyword: 订单}
  app: {kind: test_people_app}
  app2: {kind: test_people_app}
  inbox: {kind: inbox}
sources:
  shop_orders: {system: shop, mode: push}
people:
  zhang: {name: 张三, dingtalk_userid: manager4220, mobile: "13800001234", groups: [finance]}
  li: {name: 李四, dingtalk_userid: li01, mobile: "13900005678", groups: [finance]}
`

// peopleEnv is a stage with the robot simulator and two channels to
// people, app and app2.
func peopleEnv(t *testing.T, rules string) (*stageEnv, *personSender, *personSender) {
	t.Helper()
	return peopleEnvFrom(t, peopleConfig+rules)
}

// peopleEnvFrom is peopleEnv from a whole configuration.
func peopleEnvFrom(t *testing.T, conf string) (*stageEnv, *personSender, *personSender) {
	t.Helper()
	e := newStageEnv(t, newOrderRule, dingtalk.SimConfig{})
	cfg, err := config.Parse([]byte(conf), "t.yaml", func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	rs, errs := notify.Compile(cfg)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	app, app2 := &personSender{read: map[string]bool{}}, &personSender{read: map[string]bool{}}
	e.rules = rs
	e.stage.SetSetup(&notify.Setup{Rules: rs, Endpoints: map[string]*notify.Endpoint{
		"ops_ding": e.ep,
		"app":      {System: "app", Kind: testApp, Sender: app},
		"app2":     {System: "app2", Kind: testApp, Sender: app2},
		"inbox":    {System: "inbox", Kind: notify.InboxKind, Sender: notify.NewInboxSender(e.store)},
	}})
	return e, app, app2
}

func (e *stageEnv) drainAll(names ...string) {
	e.t.Helper()
	for range 3 { // a fallback queues work for a later endpoint
		for _, n := range names {
			if _, err := e.stage.Drain(context.Background(), e.stage.Setup().Endpoints[n]); err != nil {
				e.t.Fatal(err)
			}
		}
	}
}

func (e *stageEnv) stages(no string) []string {
	e.t.Helper()
	rec, err := e.store.GetOrder(context.Background(), "shop_orders", no)
	if err != nil {
		e.t.Fatal(err)
	}
	tl, err := e.store.Timeline(context.Background(), rec.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, s := range tl {
		out = append(out, s.Stage)
	}
	return out
}

// A chain: the first channel refuses for good, so the next one, a group
// robot, tells the group and @mentions the people the rule is for.
func TestChainFallsBackWhenAChannelFailsForGood(t *testing.T) {
	e, app, _ := peopleEnv(t, `rules:
  big: {on: [created], channels: [app, ops_ding], to: ["group:finance"], template: big_order}
`)
	app.refuse = &connector.CallError{Class: connector.Permanent, Code: "33012", Message: "无效的userid", Hint: "检查 dingtalk_userid"}
	nos := e.push(1, 599900)
	e.drainAll("app", "ops_ding")

	got := e.sim.ReceivedBy(robotToken)
	if len(got) != 1 {
		t.Fatalf("the robot took %d messages, want the fallback's one", len(got))
	}
	if !slices.Equal(got[0].AtMobiles, []string{"13900005678", "13800001234"}) || !strings.Contains(got[0].Text, nos[0]) {
		t.Errorf("the fallback message: @%v\n%s", got[0].AtMobiles, got[0].Text)
	}
	st := e.stages(nos[0])
	if !slices.Contains(st, "notify_failed") || !slices.Contains(st, "fallback") || !slices.Contains(st, "notified") {
		t.Errorf("timeline stages %v, want notify_failed, fallback and notified", st)
	}
}

// A message not read within unread_after goes to the next channel, to
// the people who have not read it.
func TestEscalatesToThoseWhoDidNotRead(t *testing.T) {
	e, app, app2 := peopleEnv(t, `rules:
  big: {on: [created], channels: [app, app2], to: [zhang, li], template: big_order, priority: critical, escalate: {unread_after: 15m}}
`)
	app.read["li01"] = true
	nos := e.push(1, 599900)
	e.drainAll("app", "app2")
	if n := len(app.messages()); n != 1 {
		t.Fatalf("app got %d messages", n)
	}
	if got := app.messages()[0].To; len(got) != 2 || got[0].DingUserID != "manager4220" {
		t.Fatalf("app addressed %+v", got)
	}
	e.clock.Add(14 * time.Minute)
	if err := e.stage.CheckReads(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.drainAll("app2")
	if n := len(app2.messages()); n != 0 {
		t.Fatalf("escalated after 14 minutes: app2 got %d", n)
	}
	e.clock.Add(time.Minute)
	if err := e.stage.CheckReads(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.drainAll("app2")
	got := app2.messages()
	if len(got) != 1 || len(got[0].To) != 1 || got[0].To[0].Person != "zhang" {
		t.Fatalf("after 15 minutes app2 got %+v, want one message to zhang alone", got)
	}
	if st := e.stages(nos[0]); !slices.Contains(st, "read_status") || !slices.Contains(st, "fallback") {
		t.Errorf("timeline stages %v", st)
	}
	// Asked once: nothing more escalates.
	e.clock.Add(time.Hour)
	if err := e.stage.CheckReads(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.drainAll("app2")
	if n := len(app2.messages()); n != 1 {
		t.Errorf("app2 got %d messages after another hour", n)
	}
}

// Quiet hours hold what comes in at night and send it as one digest in the
// morning; a critical rule goes through at once.
func TestQuietHoursHoldUntilMorning(t *testing.T) {
	e, _, _ := peopleEnv(t, `quiet_hours: {from: "22:00", to: "08:00"}
rules:
  new_order: {on: [created], channels: [ops_ding], template: new_order}
  alarm: {on: [created], when: order.total >= 1000, channels: [ops_ding], template: big_order, priority: critical}
`)
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	night := time.Date(2026, 3, 9, 23, 0, 0, 0, shanghai) // a Monday
	e.clock.Add(night.Sub(e.clock.Now()))
	small := e.push(5, 100)
	big := e.push(1, 200000)
	e.drain()
	got := e.sim.ReceivedBy(robotToken)
	if len(got) != 1 || !strings.Contains(got[0].Text, big[0]) {
		t.Fatalf("at night the robot took %d messages, want the critical one alone", len(got))
	}
	e.clock.Add(8*time.Hour + 59*time.Minute) // 07:59
	e.drain()
	if n := len(e.sim.ReceivedBy(robotToken)); n != 1 {
		t.Fatalf("before 08:00 the robot took %d messages", n)
	}
	e.clock.Add(time.Minute) // 08:00
	e.drain()
	got = e.sim.ReceivedBy(robotToken)
	if len(got) != 2 {
		t.Fatalf("at 08:00 the robot took %d messages in all, want the night's digest", len(got))
	}
	for _, no := range append(small, big...) {
		if !strings.Contains(got[1].Text, no) && no != big[0] {
			t.Errorf("the morning digest does not list %s", no)
		}
	}
}

func TestQuietHoursOnChinasCalendar(t *testing.T) {
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, shanghai) }
	cfg, err := config.Parse([]byte(peopleConfig+`quiet_hours: {from: "22:00", to: "08:00", holidays: cn}
rules:
  r: {on: [created], channels: [ops_ding], template: new_order}
`), "t.yaml", func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	rs, errs := notify.Compile(cfg)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	r, _ := rs.Rule("r")
	tests := []struct {
		name  string
		at    time.Time
		quiet bool
		until time.Time
	}{
		{"a workday afternoon", at(2026, 9, 29, 15, 0), false, time.Time{}},
		{"a workday night", at(2026, 9, 29, 23, 0), true, at(2026, 9, 30, 8, 0)},
		{"the night before 国庆", at(2026, 9, 30, 23, 0), true, at(2026, 10, 8, 8, 0)},
		{"国庆", at(2026, 10, 3, 12, 0), true, at(2026, 10, 8, 8, 0)},
		{"a Saturday", at(2026, 3, 14, 12, 0), true, at(2026, 3, 16, 8, 0)},
		{"a make-up Saturday (调休)", at(2026, 10, 10, 12, 0), false, time.Time{}},
		{"the morning after a make-up workday", at(2026, 10, 10, 23, 30), true, at(2026, 10, 12, 8, 0)},
		{"春节 eve's make-up Saturday night", at(2026, 2, 14, 22, 30), true, at(2026, 2, 24, 8, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			until, quiet := r.QuietUntil(tt.at)
			if quiet != tt.quiet || !until.Equal(tt.until) {
				t.Errorf("QuietUntil(%s) = %s, %v; want %s, %v", tt.at, until, quiet, tt.until, tt.quiet)
			}
		})
	}
}

func TestShippedCalendar(t *testing.T) {
	c := notify.ShippedCalendar()
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 12, 0, 0, 0, shanghai) }
	for _, d := range []time.Time{day(1, 1), day(2, 15), day(2, 23), day(4, 6), day(5, 5), day(6, 19), day(9, 27), day(10, 7), day(3, 8)} {
		if !c.DayOff(d) {
			t.Errorf("%s is a day off", d.Format(time.DateOnly))
		}
	}
	for _, d := range []time.Time{day(1, 4), day(2, 14), day(2, 28), day(5, 9), day(9, 20), day(10, 10), day(3, 9), day(2, 24)} {
		if c.DayOff(d) {
			t.Errorf("%s is a workday", d.Format(time.DateOnly))
		}
	}
	if _, err := notify.ParseCalendar("x.txt", []byte("2026-13-01 off 假\n")); err == nil || !strings.Contains(err.Error(), "x.txt:1:") {
		t.Errorf("a bad date: %v", err)
	}
}

// Recipients resolve people, groups, departments, everyone and the buyer
// into the message, each person once.
func TestRecipients(t *testing.T) {
	cfg, err := config.Parse([]byte(peopleConfig+`rules:
  r: {on: [created], channels: [app], to: [zhang, "group:finance", "dept:1234", buyer], template: new_order}
`), "t.yaml", func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	rs, errs := notify.Compile(cfg)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	r, _ := rs.Rule("r")
	o := sample()
	msgs, err := rs.Render(r, o, notify.Event{Type: order.EventCreated})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(msgs[0].Message.To)
	want := `[{"person":"zhang","name":"张三","dingtalk_userid":"manager4220","mobile":"13800001234"},` +
		`{"person":"li","name":"李四","dingtalk_userid":"li01","mobile":"13900005678"},{"dingtalk_dept":"1234"},` +
		`{"person":"buyer","name":"李四","mobile":"13800001234"}]`
	if string(b) != want {
		t.Errorf("To = %s\nwant %s", b, want)
	}
	if m := msgs[0].Message; !slices.Equal(m.AtMobiles, []string{"13800001234", "13900005678"}) || m.Vars["total"] != "¥5,999.00" || m.Template != "new_order" {
		t.Errorf("AtMobiles %v, Vars %v, Template %q", m.AtMobiles, m.Vars, m.Template)
	}
}

// Preferences: a person who muted the event gets nothing, one who chose a
// single channel starts the chain there; a critical rule respects both
// unless it says override_preferences.
func TestPreferencesShapeTheChain(t *testing.T) {
	e, app, app2 := peopleEnv(t, `rules:
  big: {on: [created], channels: [app, app2], to: [zhang, li], template: big_order}
  urgent: {on: [created], when: order.total >= 100000, channels: [app, app2], to: [zhang, li], template: big_order, priority: critical}
  alarm: {on: [created], when: order.total >= 100000, channels: [app, app2], to: [zhang, li], template: big_order, priority: critical, override_preferences: true}
`)
	ctx := context.Background()
	if err := e.store.SetPrefs(ctx, store.Prefs{Person: "li", MutedEvents: []string{"created"}}, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := e.store.SetPrefs(ctx, store.Prefs{Person: "zhang", Only: "app2"}, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	e.push(1, 100) // big only
	e.drainAll("app", "app2")
	if got := app.messages(); len(got) != 0 {
		t.Errorf("app got %d messages; zhang chose app2 only and li muted created", len(got))
	}
	if got := app2.messages(); len(got) != 1 || len(got[0].To) != 1 || got[0].To[0].Person != "zhang" {
		t.Errorf("app2 got %+v, want one message to zhang", got)
	}
	e.push(1, 20000000) // ¥200,000: alarm and urgent (both critical) and big
	e.drainAll("app", "app2")
	byRule := func(msgs []connector.Message, rule string) (out []connector.Message) {
		for _, m := range msgs {
			if strings.HasPrefix(m.Key, rule+"/") {
				out = append(out, m)
			}
		}
		return out
	}
	if alarm := byRule(app.messages(), "alarm"); len(alarm) != 1 || len(alarm[0].To) != 2 {
		t.Errorf("the overriding critical message on app: %+v, want one to both", alarm)
	}
	if urgent := byRule(app.messages(), "urgent"); len(urgent) != 0 {
		t.Errorf("the critical message that respects preferences reached app: %+v", urgent)
	}
	if urgent := byRule(app2.messages(), "urgent"); len(urgent) != 1 || len(urgent[0].To) != 1 || urgent[0].To[0].Person != "zhang" {
		t.Errorf("the critical message that respects preferences on app2: %+v, want one to zhang alone", urgent)
	}
}

// A person's own quiet hours replace the rule's for messages to them: zhang
// sleeps from 22:00 while the others are told at once, and li, whose quiet
// hours are off, is told at night when the configuration's hold everyone
// else.
func TestPersonQuietHours(t *testing.T) {
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	night := time.Date(2026, 3, 9, 23, 0, 0, 0, shanghai) // a Monday
	people := strings.NewReplacer(
		`groups: [finance]}
  li:`, `groups: [finance], quiet_hours: {from: "22:00", to: "08:00"}}
  li:`,
		`mobile: "13900005678", groups: [finance]}`, `mobile: "13900005678", groups: [finance], quiet_hours: {off: true}}
  wang: {name: 王五, dingtalk_userid: wang01, mobile: "13700001111"}`,
	).Replace(peopleConfig)
	if people == peopleConfig {
		t.Fatal("the people's quiet hours were not written into the configuration")
	}
	for _, tc := range []struct {
		name, top string
		night     []string // told at 23:00
		morning   []string // told at 08:00
	}{
		{"no quiet hours but zhang's", "", []string{"li", "wang"}, []string{"zhang"}},
		{"everyone quiet but li", `quiet_hours: {from: "21:00", to: "09:00"}` + "\n", []string{"li"}, []string{"zhang", "wang"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, app, _ := peopleEnvFrom(t, people+tc.top+`rules:
  big: {on: [created], channels: [app], to: [zhang, li, wang], template: big_order}
`)
			e.clock.Add(night.Sub(e.clock.Now()))
			e.push(1, 599900)
			e.drainAll("app")
			told := func() (out []string) {
				for _, m := range app.messages() {
					for _, rc := range m.To {
						out = append(out, rc.Person)
					}
				}
				slices.Sort(out)
				return out
			}
			if got := told(); !slices.Equal(got, tc.night) {
				t.Fatalf("at 23:00 app told %v, want %v", got, tc.night)
			}
			e.clock.Add(10 * time.Hour) // 09:00, past every quiet hour here
			e.drainAll("app")
			want := slices.Sorted(slices.Values(append(slices.Clone(tc.night), tc.morning...)))
			if got := told(); !slices.Equal(got, want) {
				t.Errorf("in the morning app had told %v, want %v (each once)", got, want)
			}
		})
	}
}

// The inbox keeps each person's messages, counts the unread and marks them
// read; the buyer, who is no configured person, gets none there.
func TestInbox(t *testing.T) {
	e, _, _ := peopleEnv(t, `rules:
  big: {on: [created], channels: [inbox], to: ["group:finance", buyer], template: big_order}
`)
	ctx := context.Background()
	nos := e.push(2, 599900)
	e.drainAll("inbox")
	items, unread, err := e.store.Inbox(ctx, "zhang", false, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	// Messages to one endpoint without a pace go side by side: either
	// order.
	titles := ""
	for _, it := range items {
		titles += it.Title + "\n"
	}
	if len(items) != 2 || unread != 2 || !strings.Contains(titles, nos[0]) || !strings.Contains(titles, nos[1]) {
		t.Fatalf("zhang's inbox: %d items, %d unread: %+v", len(items), unread, items)
	}
	if n, err := e.store.MarkRead(ctx, "zhang", items[0].ID, e.clock.Now()); err != nil || n != 1 {
		t.Fatalf("MarkRead: %d %v", n, err)
	}
	if _, unread, _ = e.store.Inbox(ctx, "zhang", false, 0, 10); unread != 1 {
		t.Errorf("after reading one, %d unread", unread)
	}
	if n, _ := e.store.MarkRead(ctx, "li", 0, e.clock.Now()); n != 2 {
		t.Errorf("li marked %d read, want all 2", n)
	}
	if items, _, _ := e.store.Inbox(ctx, "buyer", false, 0, 10); len(items) != 0 {
		t.Errorf("the buyer has an inbox: %+v", items)
	}
	for _, d := range e.deliveries(store.DeliveryFilter{}) {
		if d.State != store.DeliverySent {
			t.Errorf("delivery %d is %s", d.ID, d.State)
		}
	}
}

// A throttle of one message's recipients holds that message alone; the
// endpoint's other messages go on.
func TestARecipientsLimitHoldsOnlyTheirMessage(t *testing.T) {
	e, app, _ := peopleEnv(t, `rules:
  to_buyer: {on: [created], channels: [app], to: [buyer], template: new_order}
`)
	in := func(no, phone string) store.Incoming {
		at := e.clock.Now()
		return store.Incoming{Order: order.Order{Source: "shop_orders", OrderNo: no, Status: order.StatusCreated, Currency: "CNY", Total: 100,
			Buyer: order.Buyer{Phone: phone}, CreatedAt: at, UpdatedAt: at}, Raw: []byte(`{}`), ReceivedAt: at}
	}
	if _, err := e.store.Apply(context.Background(), []store.Incoming{in("B1", "13700000001"), in("B2", "13700000002")}, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.disp.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	app.limited = map[string]time.Duration{"buyer": time.Hour} // the first buyer's number is over its limit
	if _, err := e.stage.SendFor(context.Background(), e.stage.Setup().Endpoints["app"], 0); err != nil {
		t.Fatal(err)
	}
	if got := app.messages(); len(got) != 1 || got[0].To[0].Mobile != "13700000002" {
		t.Fatalf("while one number is held, app got %+v; want the other buyer's message", got)
	}
	e.clock.Add(time.Hour)
	e.drainAll("app")
	if got := app.messages(); len(got) != 2 || got[1].To[0].Mobile != "13700000001" {
		t.Errorf("after the hour app got %+v", got)
	}
}

// Links in messages point at public_url when it is set, and at the listen
// address otherwise.
func TestLinksUsePublicURL(t *testing.T) {
	for _, tc := range []struct{ conf, want string }{
		{"listen: 0.0.0.0:9090\n", "http://127.0.0.1:9090/"},
		{"listen: 0.0.0.0:9090\npublic_url: https://hub.example.com/orderhub/\n", "https://hub.example.com/orderhub/"},
	} {
		cfg, err := config.Parse([]byte(tc.conf+peopleConfig+`rules:
  big: {on: [created], channels: [app], to: [zhang], template: big_order}
`), "t.yaml", func(string) (string, bool) { return "", false })
		if err != nil {
			t.Fatal(err)
		}
		rs, errs := notify.Compile(cfg)
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		r, _ := rs.Rule("big")
		msgs, err := rs.Render(r, order.Order{Source: "shop_orders", OrderNo: "A1", Status: order.StatusPaid, Total: 599900}, notify.Event{Type: order.EventCreated})
		if err != nil {
			t.Fatal(err)
		}
		if link := msgs[0].Message.Link; !strings.HasPrefix(link, tc.want) || !strings.HasPrefix(rs.LinkBase()+"/", tc.want) {
			t.Errorf("%q: link %q and base %q, want under %s", tc.conf, link, rs.LinkBase(), tc.want)
		}
	}
}
