package notify_test

import (
	"strings"
	"testing"
	"time"

	"orderhub/internal/config"
	_ "orderhub/internal/connector/all"
	"orderhub/internal/notify"
	"orderhub/internal/order"
)

const systems = `systems:
  shop: {kind: mall, app_key: mall-1, app_sign: "0123456789abcdef"}
  ops_ding: {kind: dingtalk_robot, webhook: "https://oapi.dingtalk.com/robot/send?access_token=t0k3n", keyword: 订单}
  ops_feishu: {kind: feishu_bot, webhook: "https://open.feishu.cn/open-apis/bot/v2/hook/abc"}
sources:
  shop_orders: {system: shop, mode: push}
`

func configFor(yaml string) (*config.Config, error) {
	return config.Parse([]byte(systems+yaml), "t.yaml", func(string) (string, bool) { return "", false })
}

func load(t *testing.T, yaml string) *config.Config {
	t.Helper()
	cfg, err := configFor(yaml)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

func compile(t *testing.T, yaml string) *notify.Rules {
	t.Helper()
	rs, errs := notify.Compile(load(t, yaml))
	if len(errs) > 0 {
		t.Fatalf("Compile: %v", errs)
	}
	return rs
}

// sample is the order of seed 002's big-order case: ¥5,999.00, paid.
func sample() order.Order {
	t := time.Date(2026, 3, 8, 9, 15, 0, 0, time.UTC)
	return order.Order{Source: "shop_orders", OrderNo: "M20260308001", Status: order.StatusPaid, Currency: "CNY",
		Total: 599900, Goods: 599900, Buyer: order.Buyer{Name: "李四", Phone: "13800001234"},
		Items:     []order.Item{{SKU: "DJ-01", Name: "羽绒服", Spec: "黑色 XL", Quantity: 1, UnitPrice: 599900, Total: 599900}},
		CreatedAt: t, PaidAt: t}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // each "pos: text" prefix of one error, in order
	}{
		{"condition syntax error", "rules:\n  r:\n    on: [created]\n    when: order.total >=\n    channels: [ops_ding]\n    template: new_order\n",
			[]string{"t.yaml:10:24: rules.r.when: unexpected token EOF"}},
		{"unknown field of order", "rules:\n  r: {on: [created], when: \"order.totl > 1\", channels: [ops_ding], template: new_order}\n",
			[]string{`t.yaml:8:35: rules.r.when: order has no field "totl" (did you mean "total"?`}},
		{"unknown name", "rules:\n  r:\n    on: [created]\n    when: amount > 1\n    channels: [ops_ding]\n    template: new_order\n",
			[]string{"t.yaml:10:11: rules.r.when: unknown name amount"}},
		{"condition that is not a boolean", "rules:\n  r:\n    on: [created]\n    when: order.total + 1\n    channels: [ops_ding]\n    template: new_order\n",
			[]string{"t.yaml:10:11: rules.r.when: on a sample order: invalid operation"}},
		{"unknown variable in a title", "rules:\n  r: {on: [created], channels: [ops_ding], template: t}\ntemplates:\n  t:\n    en: {title: \"New {{.Order.Number}}\", markdown: x}\n",
			[]string{"t.yaml:11:18: templates.t.en.title:", "can't evaluate field Number"}},
		{"unknown variable on a later line of a block", "rules:\n  r: {on: [created], channels: [ops_ding], template: t}\ntemplates:\n  t:\n    zh-CN:\n      title: 新订单\n      markdown: |\n        **{{.Order.No}}**\n        {{.Order.Phone}}\n",
			[]string{"t.yaml:15: templates.t.zh-CN.markdown:", "can't evaluate field Phone"}},
		{"unknown variable in the branch a full order skips", "templates:\n  t:\n    en: {title: x, markdown: \"{{if .Order.Remark}}ok{{else}}{{.Order.Note}}{{end}}\"}\n",
			[]string{"t.yaml:9:", "can't evaluate field Note"}},
		{"template syntax error", "templates:\n  t:\n    en: {title: \"{{.Order.No\", markdown: x}\n",
			[]string{"t.yaml:9:18: templates.t.en.title:", "unclosed action"}},
		{"helper given a non-amount", "templates:\n  t:\n    en: {title: \"{{yuan .Order.No}}\", markdown: x}\n",
			[]string{"t.yaml:9:18: templates.t.en.title:", "yuan:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, errs := notify.Compile(load(t, tt.yaml))
			if rs != nil || len(errs) != 1 {
				t.Fatalf("Compile = %v, %d errors, want one: %v", rs, len(errs), errs)
			}
			got := errs[0].Error()
			if !strings.HasPrefix(got, tt.want[0]) {
				t.Errorf("error = %q\nwant it to start with %q", got, tt.want[0])
			}
			for _, w := range tt.want[1:] {
				if !strings.Contains(got, w) {
					t.Errorf("error = %q\nwant it to contain %q", got, w)
				}
			}
		})
	}
}

const bigOrder = `rules:
  big_order:
    on: [created, paid]
    when: order.total >= 5000 && source == "shop_orders"
    channels: [ops_ding, ops_feishu]
    template: big_order
    at: {mobiles: ["13800001234"]}
  shipped_en:
    on: [shipped]
    channels: [ops_ding]
    template: shipped
    language: en
branding: {name: 小店, signature: "— 小店订单中心", color: "#FF6A00"}
`

func TestMatchAndExplain(t *testing.T) {
	rs := compile(t, bigOrder)
	small := sample()
	small.Total = 18900
	shipped := sample()
	shipped.Status, shipped.Shipping = order.StatusShipped, order.Shipping{Company: "顺丰", TrackingNo: "SF123"}
	tests := []struct {
		name    string
		o       order.Order
		ev      notify.Event
		rules   []string
		explain string // rule to explain
		reason  string
		read    string
	}{
		{"big order paid", sample(), notify.Event{Type: order.EventPaid, From: order.StatusCreated, To: order.StatusPaid},
			[]string{"big_order"}, "big_order", "", "order.total = 5999"},
		{"small order", small, notify.Event{Type: order.EventCreated, To: order.StatusPaid},
			nil, "big_order", `when: order.total >= 5000 && source == "shop_orders" is false`, "order.total = 189"},
		{"wrong event", sample(), notify.Event{Type: order.EventCancelled},
			nil, "big_order", "the event is cancelled; rule big_order waits for on: [created, paid]", ""},
		{"shipped, no condition", shipped, notify.Event{Type: order.EventShipped, From: order.StatusPaid, To: order.StatusShipped},
			[]string{"shipped_en"}, "shipped_en", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := rs.Match(tt.o, tt.ev)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range ms {
				got = append(got, m.Rule.Name)
			}
			if strings.Join(got, ",") != strings.Join(tt.rules, ",") {
				t.Errorf("matched %v, want %v", got, tt.rules)
			}
			r, _ := rs.Rule(tt.explain)
			x := rs.Explain(r, tt.o, tt.ev)
			if x.Matches != (tt.reason == "") || x.Reason != tt.reason {
				t.Errorf("Explain = %+v, want reason %q", x, tt.reason)
			}
			if tt.read != "" && !strings.Contains(strings.Join(x.Read, "; "), tt.read) {
				t.Errorf("Explain read %v, want %q", x.Read, tt.read)
			}
		})
	}
}

func TestMessages(t *testing.T) {
	rs := compile(t, bigOrder)
	ms, err := rs.Match(sample(), notify.Event{Type: order.EventCreated, To: order.StatusPaid})
	if err != nil || len(ms) != 1 {
		t.Fatalf("Match = %v, %v", ms, err)
	}
	msgs := ms[0].Messages
	if len(msgs) != 2 || msgs[0].Channel != "ops_ding" || msgs[1].Channel != "ops_feishu" {
		t.Fatalf("messages = %+v", msgs)
	}
	m := msgs[0].Message
	for _, c := range []struct{ what, got, want string }{
		{"title", m.Title, "大额订单 ¥5,999.00 M20260308001"},
		{"key", m.Key, "big_order/shop_orders/M20260308001/created"},
		{"link", m.Link, "http://127.0.0.1:8080/orders/shop_orders/M20260308001"},
		{"colour", m.Color, "#FF6A00"},
		{"mobiles", strings.Join(m.AtMobiles, ","), "13800001234"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}
	for _, want := range []string{"**¥5,999.00**（已付款）", "138****1234", "羽绒服（黑色 XL） × 1", "店铺：shop", "下单时间：2026-03-08 17:15:00",
		"[查看订单](http://127.0.0.1:8080/orders/shop_orders/M20260308001)", "— 小店订单中心"} {
		if !strings.Contains(m.Markdown, want) {
			t.Errorf("markdown lacks %q:\n%s", want, m.Markdown)
		}
	}
	if strings.Contains(m.Markdown, "13800001234") || strings.Contains(m.Text, "**¥") || !strings.Contains(m.Text, "买家：138****1234") ||
		!strings.Contains(m.Text, "查看订单: http://") || strings.Contains(m.Text, "###") {
		t.Errorf("text = %q", m.Text)
	}
}

// TestShippedTemplates renders every shipped template in both languages.
func TestShippedTemplates(t *testing.T) {
	var yaml strings.Builder
	yaml.WriteString("rules:\n")
	for _, name := range notify.ShippedNames {
		for _, lang := range notify.Languages {
			yaml.WriteString("  " + name + "_" + strings.ToLower(lang) + ": {on: [created], channels: [ops_ding], template: " + name + ", language: " + lang + "}\n")
		}
	}
	rs := compile(t, yaml.String())
	o := sample()
	o.Refunded = 599900
	for _, name := range notify.ShippedNames {
		for _, lang := range notify.Languages {
			t.Run(name+"/"+lang, func(t *testing.T) {
				r, ok := rs.Rule(name + "_" + strings.ToLower(lang))
				if !ok || r.Language != lang {
					t.Fatalf("rule %v in %q", ok, r.Language)
				}
				msgs, err := rs.Render(r, o, notify.Event{Type: order.EventCreated})
				if err != nil {
					t.Fatal(err)
				}
				m := msgs[0].Message
				for _, want := range []string{"M20260308001", "138****1234", "¥5,999.00", "/orders/shop_orders/M20260308001"} {
					if !strings.Contains(m.Title+"\n"+m.Markdown, want) {
						t.Errorf("lacks %q:\n%s\n%s", want, m.Title, m.Markdown)
					}
				}
				zh := strings.ContainsAny(m.Markdown, "订单金额店铺")
				if zh != (lang == "zh-CN") {
					t.Errorf("%s message in the wrong language:\n%s", lang, m.Markdown)
				}
				if strings.Contains(m.Markdown, "<no value>") || strings.Contains(m.Markdown, "\n\n\n") {
					t.Errorf("message has a hole:\n%q", m.Markdown)
				}
			})
		}
	}
}

func TestConfiguredTemplateReplacesShipped(t *testing.T) {
	rs := compile(t, "rules:\n  r: {on: [paid], channels: [ops_ding], template: paid}\ntemplates:\n  paid:\n    zh-CN: {title: \"收款 {{.Order.No}}\", markdown: \"{{yuan .Order.Total}} {{.Event.Label}}\"}\n")
	r, _ := rs.Rule("r")
	msgs, err := rs.Render(r, sample(), notify.Event{Type: order.EventPaid})
	if err != nil || msgs[0].Message.Title != "收款 M20260308001" || msgs[0].Message.Markdown != "¥5,999.00 已付款" {
		t.Fatalf("Render = %+v, %v", msgs, err)
	}
}

func TestYuan(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"5999", "¥5,999.00"}, {"5999.5", "¥5,999.50"}, {"0.1", "¥0.10"}, {"999", "¥999.00"},
		{"1234567.89", "¥1,234,567.89"}, {"-12.3", "-¥12.30"}, {"100000", "¥100,000.00"},
	} {
		got, err := notify.Yuan(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Yuan(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := notify.Yuan("abc"); err == nil {
		t.Error("Yuan(abc) did not fail")
	}
}

func TestPlainText(t *testing.T) {
	rs := compile(t, "rules:\n  r: {on: [paid], channels: [ops_ding], template: t}\ntemplates:\n  t:\n    zh-CN:\n      title: x\n      markdown: |\n        ### 标题 {{.Order.No}}\n        **{{yuan .Order.Total}}** 买家 {{.Order.Buyer}} **未闭合\n        `SKU-1` [查看订单]({{.Link}}) #不是标题 ****\n")
	r, _ := rs.Rule("r")
	msgs, err := rs.Render(r, sample(), notify.Event{Type: order.EventPaid})
	if err != nil {
		t.Fatal(err)
	}
	want := "标题 M20260308001\n¥5,999.00 买家 138****1234 **未闭合\nSKU-1 查看订单: http://127.0.0.1:8080/orders/shop_orders/M20260308001 #不是标题 ****"
	if got := msgs[0].Message.Text; got != want {
		t.Errorf("text =\n%s\nwant\n%s", got, want)
	}
}

// A rule names a DING step of the 钉钉 app as ding:phone (or
// SYSTEM:phone); check places a wrong one at its line.
func TestChannelSteps(t *testing.T) {
	const base = `systems:
  ding_app: {kind: dingtalk_app, app_key: k, app_secret: s, agent_id: 1000001}
people:
  zhang: {name: 张三, dingtalk_userid: manager4220}
rules:
`
	parse := func(rule string) error {
		_, err := config.Parse([]byte(base+rule), "t.yaml", func(string) (string, bool) { return "", false })
		return err
	}
	if err := parse("  r: {on: [created], channels: [ding_app, \"ding:phone\", \"ding_app:sms\"], to: [zhang], template: big_order}\n"); err != nil {
		t.Errorf("steps by prefix and by system: %v", err)
	}
	for _, tt := range []struct{ ch, want string }{
		{"ding:fax", `t.yaml:6:33: rules.r.channels[0]: system "ding_app" has no step "fax" (its steps: app, sms, phone)`},
		{"dong:phone", `t.yaml:6:33: rules.r.channels[0]: channel "dong:phone" names no system and no kind of step`},
	} {
		err := parse("  r: {on: [created], channels: [\"" + tt.ch + "\"], to: [zhang], template: big_order}\n")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("channel %s: %v\nwant %s", tt.ch, err, tt.want)
		}
	}
}
