package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"orderhub/internal/order"
	"orderhub/internal/store"
)

const rulesConfig = `store: sqlite://%DIR%/hub.db
systems:
  shop: {kind: mall, app_key: mall-1, app_sign: "0123456789abcdef"}
  ops_ding: {kind: dingtalk_robot, webhook: "https://oapi.dingtalk.com/robot/send?access_token=t0k3n", keyword: 订单}
  ops_wecom: {kind: wecom_robot, webhook: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k3y"}
  ops_feishu: {kind: feishu_bot, webhook: "https://open.feishu.cn/open-apis/bot/v2/hook/abc", secret: s3cr3t, keyword: 订单}
sources:
  shop_orders: {system: shop, mode: push}
rules:
  big_order:
    on: [created, paid]
    when: order.total >= 5000
    channels: [ops_ding, ops_wecom, ops_feishu]
    template: big_order
    at: {mobiles: ["13800001234"]}
`

func bigSample() order.Order {
	return order.Order{Source: "shop_orders", OrderNo: "M20260308001", Status: order.StatusPaid, Currency: "CNY",
		Total: 599900, Goods: 599900, Buyer: order.Buyer{Phone: "13800001234"},
		Items:     []order.Item{{SKU: "DJ-01", Name: "羽绒服", Quantity: 1, UnitPrice: 599900, Total: 599900}},
		CreatedAt: time.Date(2026, 3, 8, 1, 15, 0, 0, time.UTC)}
}

// TestRulesTest runs `orderhub rules test` on sample files and on a stored
// order, and checks what it says and shows per channel.
func TestRulesTest(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "orderhub.yaml")
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("orderhub.yaml", []byte(strings.ReplaceAll(rulesConfig, "%DIR%", dir)))
	big, _ := json.Marshal(map[string]any{"order": bigSample()}) // the read API's answer
	bigFile := write("big.json", big)
	small := bigSample()
	small.OrderNo, small.Total = "M2", 18900
	smallJSON, _ := json.Marshal(small) // the order object alone
	smallFile := write("small.json", smallJSON)
	write("bad.json", []byte(`{"total": 1}`))

	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(dir, "hub.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	stored := bigSample()
	stored.OrderNo = "M3"
	if _, err := st.Apply(context.Background(), []store.Incoming{{Order: stored, Raw: []byte(`{}`), ReceivedAt: time.Now()}}, nil); err != nil {
		t.Fatal(err)
	}
	st.Close()

	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string // in stdout, or stderr when the command fails
		not      []string
	}{
		{"matches, with each channel's body", []string{"--rule", "big_order", "--sample", bigFile, "--event", "paid"}, 0, []string{
			"rule big_order matches shop_orders/M20260308001 on paid (order.total = 5999); template big_order (zh-CN), priority normal; nothing is sent",
			"channel ops_ding (dingtalk_robot):", `"msgtype": "markdown"`, `"title": "大额订单 ¥5,999.00 M20260308001"`, `"atMobiles": [`, "@13800001234",
			"channel ops_wecom (wecom_robot):", `"msgtype": "text"`, `"mentioned_mobile_list": [`,
			"channel ops_feishu (feishu_bot):", `"sign": "`, `"msg_type": "interactive"`, "138****1234",
		}, []string{`"content": "13800001234`, "买家：13800001234"}},
		{"condition false", []string{"--rule", "big_order", "--sample", smallFile}, 0, []string{
			"rule big_order does not match shop_orders/M2 on created: when: order.total >= 5000 is false\n  order.total = 189\n",
		}, []string{"channel"}},
		{"wrong event", []string{"--rule", "big_order", "--sample", bigFile, "--event", "shipped"}, 0, []string{
			"rule big_order does not match shop_orders/M20260308001 on shipped: the event is shipped; rule big_order waits for on: [created, paid]",
		}, nil},
		{"stored order", []string{"--rule", "big_order", "--order", "shop_orders/M3"}, 0, []string{
			"rule big_order matches shop_orders/M3 on created", "大额订单 ¥5,999.00 M3",
		}, nil},
		{"unknown stored order", []string{"--rule", "big_order", "--order", "shop_orders/NOPE"}, 1, []string{"--order shop_orders/NOPE:"}, nil},
		{"unknown rule", []string{"--rule", "big", "--sample", bigFile}, 1, []string{`--rule "big" is not a rule in`, "(rules: big_order)"}, nil},
		{"unknown event", []string{"--rule", "big_order", "--sample", bigFile, "--event", "payed"}, 1, []string{`--event "payed" is not an order event`}, nil},
		{"not an order", []string{"--rule", "big_order", "--sample", filepath.Join(dir, "bad.json")}, 1, []string{`not a canonical order: it has no "order_no"`}, nil},
		{"neither sample nor order", []string{"--rule", "big_order"}, 1, []string{"give one of --sample FILE or --order SOURCE/ORDER_NO"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(append([]string{"rules", "test", "-c", cfgPath}, tt.args...))
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, stdout, stderr)
			}
			out := stdout
			if code != 0 {
				out = stderr
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(out, n) {
					t.Errorf("output holds %q:\n%s", n, out)
				}
			}
		})
	}
}

// TestCheckRules: orderhub check compiles every rule and template.
func TestCheckRules(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "orderhub.yaml")
	bad := strings.ReplaceAll(rulesConfig, "%DIR%", dir) + `    language: en
templates:
  big_order:
    en:
      title: "Big {{.Order.Amount}}"
      markdown: x
`
	bad = strings.Replace(bad, "when: order.total >= 5000", "when: order.total >= ", 1)
	if err := os.WriteFile(cfgPath, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI([]string{"check", "-c", cfgPath})
	if code != 1 {
		t.Fatalf("check exit %d, want 1: %s", code, stderr)
	}
	for _, w := range []string{
		cfgPath + ":12:25: rules.big_order.when: unexpected token EOF",
		cfgPath + ":20:15: templates.big_order.en.title: at <.Order.Amount>: can't evaluate field Amount",
		"2 problem(s) in the configuration",
	} {
		if !strings.Contains(stderr, w) {
			t.Errorf("check output lacks %q:\n%s", w, stderr)
		}
	}
}

func runCLI(args []string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	root := newRoot(&out, &errb)
	root.SetArgs(args)
	err := root.Execute()
	var ee exitError
	switch {
	case errors.As(err, &ee):
		code = ee.code
	case err != nil:
		code = 1
		errb.WriteString(err.Error())
	}
	return code, out.String(), errb.String()
}
