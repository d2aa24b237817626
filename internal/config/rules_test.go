package config

import (
	"errors"
	"strings"
	"testing"
)

type testRobotSettings struct {
	Webhook string `yaml:"webhook" doc:"the robot's webhook"`
}

func init() {
	RegisterKind(KindSpec{Kind: "testrobot", Summary: "a test group robot", Send: true,
		NewSettings: func() any { return &testRobotSettings{} }})
	RegisterKind(KindSpec{Kind: "testmail", Summary: "a test channel to people", Send: true, Addressed: true})
	RegisterTemplates("new_order", "big_order")
}

const rulesSystems = `systems:
  ding: {kind: testrobot, webhook: "http://127.0.0.1:1/send"}
  shop: {kind: testshop, app_sign: "0123456789"}
`

func TestParseRules(t *testing.T) {
	cfg, err := Parse([]byte(rulesSystems+`rules:
  big_order:
    on: [created, paid]
    when: order.total >= 5000
    channels: [ding]
    template: big_order
    at: {mobiles: ["13800001234"], all: true}
    priority: high
    language: en
  mine:
    on: [shipped]
    channels: [ding]
    template: custom
templates:
  custom:
    zh-CN: {title: "发货 {{.Order.No}}", markdown: "**{{.Order.No}}**"}
    en:
      title: "Shipped {{.Order.No}}"
      markdown: |
        **{{.Order.No}}**
branding: {name: 小店, signature: "— 订单中心", color: "#1677FF"}
`), "t.yaml", envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Rules["big_order"]
	if r.Name != "big_order" || r.Pos.String() != "t.yaml:5:3" || r.WhenPos.String() != "t.yaml:7:11" {
		t.Errorf("rule name %q at %s, when at %s", r.Name, r.Pos, r.WhenPos)
	}
	if strings.Join(r.On, ",") != "created,paid" || r.When != "order.total >= 5000" || r.Priority != "high" || r.Language != "en" ||
		!r.At.All || len(r.At.Mobiles) != 1 || r.At.Mobiles[0] != "13800001234" {
		t.Errorf("rule = %+v", r)
	}
	tpl := cfg.Templates["custom"]
	if tpl.ZhCN.Title != "发货 {{.Order.No}}" || tpl.ZhCN.TitlePos.String() != "t.yaml:19:21" ||
		tpl.En.MarkdownPos.String() != "t.yaml:23" {
		t.Errorf("template = %+v %+v", tpl.ZhCN, tpl.En)
	}
	if cfg.Branding.Color != "#1677FF" || cfg.Branding.Signature != "— 订单中心" {
		t.Errorf("branding = %+v", cfg.Branding)
	}
}

func TestRuleErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []want
	}{
		{"unknown event type", "rules:\n  r:\n    on: [created, payed]\n    channels: [ding]\n    template: new_order\n",
			[]want{{"t.yaml:6:19", `rules.r.on[1]: unknown event type "payed" (did you mean "paid"?`}}},
		{"channel names no system", "rules:\n  r: {on: [created], channels: [dign], template: new_order}\n",
			[]want{{"t.yaml:5:33", `rules.r.channels[0]: unknown system "dign" (did you mean "ding"?`}}},
		{"channel cannot send", "rules:\n  r:\n    on: [created]\n    channels:\n      - ding\n      - shop\n    template: new_order\n",
			[]want{{"t.yaml:9:9", `rules.r.channels[1]: system "shop" is of kind "testshop", which cannot send messages (use a system whose kind sends: testmail, testrobot)`}}},
		{"template neither shipped nor configured", "rules:\n  r: {on: [created], channels: [ding], template: big_ordr}\n",
			[]want{{"t.yaml:5:50", `rules.r.template: unknown template "big_ordr" (did you mean "big_order"?`}}},
		{"missing channels", "rules:\n  r: {on: [created], template: new_order}\n",
			[]want{{"t.yaml:5:3", `rules.r.channels: missing required key "channels"`}}},
		{"bad priority", "rules:\n  r: {on: [created], channels: [ding], template: new_order, priority: urgent}\n",
			[]want{{"t.yaml:5:71", `rules.r.priority: unknown priority "urgent"`}}},
		{"bad mobile", "rules:\n  r: {on: [created], channels: [ding], template: new_order, at: {mobiles: [\"1380000\"]}}\n",
			[]want{{"t.yaml:5:76", `rules.r.at.mobiles[0]: "1380000" is not a mobile number`}}},
		{"unknown key in a rule", "rules:\n  r: {on: [created], channels: [ding], template: new_order, colour: red}\n",
			[]want{{"t.yaml:5:61", `rules.r.colour: unknown key "colour"`}}},
		{"digest as a single value", "rules:\n  r: {on: [created], channels: [ding], template: new_order, digest: 1h}\n",
			[]want{{"t.yaml:5:69", `rules.r.digest: expected a map`}}},
		{"digest without a time", "rules:\n  r: {on: [created], channels: [ding], template: new_order, digest: {}}\n",
			[]want{{"t.yaml:5:69", `rules.r.digest: a digest needs every: or at:`}}},
		{"digest with both", "rules:\n  r: {on: [created], channels: [ding], template: new_order, digest: {every: 1h, at: [\"09:00\"]}}\n",
			[]want{{"t.yaml:5:69", `rules.r.digest: a digest takes every: or at:, not both`}}},
		{"digest every that does not divide the day", "rules:\n  r: {on: [created], channels: [ding], template: new_order, digest: {every: 7h}}\n",
			[]want{{"t.yaml:5:77", `rules.r.digest.every: every: 7h0m0s does not divide the day`}}},
		{"digest at a bad time", "rules:\n  r: {on: [created], channels: [ding], template: new_order, digest: {at: [\"09:00\", \"25:00\"]}}\n",
			[]want{{"t.yaml:5:84", `rules.r.digest.at[1]: "25:00" is not a time of day`}}},
		{"unknown language", "templates:\n  t:\n    fr: {title: a, markdown: b}\n",
			[]want{{"t.yaml:6:5", `templates.t.fr: unknown key "fr"`}}},
		{"template without markdown", "templates:\n  t:\n    en: {title: a}\n",
			[]want{{"t.yaml:6:5", `templates.t.en.markdown: missing required key "markdown"`}}},
		{"template without a language", "templates:\n  t: {}\n",
			[]want{{"t.yaml:5:3", `templates.t: a template needs at least one language`}}},
		{"unknown person", "people:\n  zhang: {name: 张三}\nrules:\n  r: {on: [created], channels: [ding], template: new_order, to: [zhnag]}\n",
			[]want{{"t.yaml:7:66", `rules.r.to[0]: unknown person "zhnag" (did you mean "zhang"?`}}},
		{"unknown group", "people:\n  zhang: {name: 张三, groups: [finance]}\nrules:\n  r: {on: [created], channels: [ding], template: new_order, to: [\"group:finanse\"]}\n",
			[]want{{"t.yaml:7:66", `rules.r.to[0]: no person is in group "finanse"`}}},
		{"bad department", "rules:\n  r: {on: [created], channels: [ding], template: new_order, to: [\"dept:sales\"]}\n",
			[]want{{"t.yaml:5:66", `rules.r.to[0]: "sales" is not a 钉钉 department id`}}},
		{"bad mobile and email", "people:\n  zhang: {name: 张三, mobile: \"1380000\", email: zhang}\n",
			[]want{{"t.yaml:5:29", `people.zhang.mobile: "1380000" is not a mobile number`}, {"t.yaml:5:47", `people.zhang.email: "zhang" is not an email address`}}},
		{"quiet hours without an end", "quiet_hours: {from: \"22:00\"}\n",
			[]want{{"t.yaml:4:14", `quiet_hours: quiet hours need from: and to:`}}},
		{"quiet hours at a bad time", "quiet_hours: {from: \"22:00\", to: \"8am\"}\n",
			[]want{{"t.yaml:4:34", `quiet_hours.to: "8am" is not a time of day`}}},
		{"escalation too soon", "rules:\n  r: {on: [created], channels: [ding], template: new_order, escalate: {unread_after: 10s}}\n",
			[]want{{"t.yaml:5:86", `rules.r.escalate.unread_after: unread_after must be at least 1m`}}},
		{"overriding preferences without critical", "rules:\n  r: {on: [created], channels: [ding], template: new_order, priority: high, override_preferences: true}\n",
			[]want{{"t.yaml:5:99", `rules.r.override_preferences: override_preferences needs priority: critical`}}},
		{"bad colour", "branding: {color: blue}\n",
			[]want{{"t.yaml:4:19", `branding.color: colour "blue" is not #RRGGBB`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(rulesSystems+tt.yaml), "t.yaml", envOf(nil))
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error is %T (%v), want Errors", err, err)
			}
			if len(errs) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(errs), len(tt.want), err)
			}
			for i, w := range tt.want {
				if got := errs[i].Pos.String(); got != w.pos {
					t.Errorf("error %d at %s, want %s: %v", i, got, w.pos, errs[i])
				}
				if !strings.Contains(errs[i].Error(), w.text) {
					t.Errorf("error %d = %q\nwant it to contain %q", i, errs[i].Error(), w.text)
				}
			}
		})
	}
}

func TestChannelToPeopleNeedsTo(t *testing.T) {
	_, err := Parse([]byte("systems:\n  mail: {kind: testmail}\nrules:\n  r: {on: [created], channels: [mail], template: new_order}\n"), "t.yaml", envOf(nil))
	want := `t.yaml:4:33: rules.r.channels[0]: system "mail" (testmail) sends to people, and the rule says not to whom`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v\nwant %s", err, want)
	}
	if _, err := Parse([]byte("people:\n  zhang: {name: 张三, email: zhang@example.com}\nsystems:\n  mail: {kind: testmail}\nrules:\n  r: {on: [created], channels: [mail], template: new_order, to: [zhang, buyer]}\n"), "t.yaml", envOf(nil)); err != nil {
		t.Errorf("a rule to a person and the buyer: %v", err)
	}
}
