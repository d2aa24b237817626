package aliyunsms

import (
	"context"
	"strings"
	"testing"

	"orderhub/internal/config"
	"orderhub/internal/connector"
)

// The issue's system block, with templates:, builds a sender through the
// registry that reaches the simulator.
func TestConfigFromTheIssue(t *testing.T) {
	r := newRig(t, SimConfig{})
	env := map[string]string{"ALIYUN_AK": testAK, "ALIYUN_SK": testSecret, "SIM": r.srv.URL}
	file := `systems:
  sms:
    kind: aliyun_sms
    base_url: ${SIM}                # https://dysmsapi.aliyuncs.com in production
    access_key_id: ${ALIYUN_AK}
    access_key_secret: ${ALIYUN_SK}
    sign_name: 某某商城
    templates:
      shipped: {code: SMS_300000001, params: [order_no, company, tracking]}
      new_order:
        code: SMS_300000002
        params: [order_no, total]
`
	cfg, err := config.Parse([]byte(file), "orderhub.yaml", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	s, err := connector.NewSender(connector.Env{System: cfg.Systems["sms"], HTTP: r.srv.Client(), Now: r.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(context.Background(), shipped("13800001234")); err != nil {
		t.Fatal(err)
	}
	if got := r.sim.ReceivedBy("13800001234"); len(got) != 1 || !strings.Contains(got[0].Text, "运单号SF1234567890") {
		t.Fatalf("received %+v", got)
	}
}

// Without base_url the sender calls the service's global endpoint.
func TestDefaultBaseURL(t *testing.T) {
	c, err := New(Options{System: "sms", AccessKeyID: testAK, AccessKeySecret: testSecret, SignName: testSign, Templates: testTemplates})
	if err != nil {
		t.Fatal(err)
	}
	if c.endpoint != DefaultBaseURL+"/" || c.host != "dysmsapi.aliyuncs.com" {
		t.Fatalf("endpoint %s, host %s", c.endpoint, c.host)
	}
}

func TestConfigProblems(t *testing.T) {
	const good = "access_key_id: LTAI5tTestAccessKeyID01\n    access_key_secret: s3cr3t-value\n    sign_name: 某某商城\n"
	const tpl = "    templates: {shipped: {code: SMS_300000001, params: [order_no]}}\n"
	cases := []struct{ name, block, want string }{
		{"missing secret", "access_key_id: LTAI5tTestAccessKeyID01\n    sign_name: 某某商城\n" + tpl, "access_key_secret"},
		{"missing sign name", "access_key_id: LTAI5tTestAccessKeyID01\n    access_key_secret: s3cr3t-value\n" + tpl, "sign_name"},
		{"sign name in brackets", "access_key_id: LTAI5tTestAccessKeyID01\n    access_key_secret: s3cr3t-value\n    sign_name: 【某某商城】\n" + tpl, "【】"},
		{"no templates", good, "templates"},
		{"template code", good + "    templates: {shipped: {code: 300000001}}\n", "SMS_"},
		{"template without code", good + "    templates: {shipped: {params: [order_no]}}\n", "code"},
		{"param twice", good + "    templates: {shipped: {code: SMS_300000001, params: [order_no, order_no]}}\n", "twice"},
		{"param not a name", good + "    templates: {shipped: {code: SMS_300000001, params: [\"order no\"]}}\n", "variable name"},
		{"misspelt key", good + "    templates: {shipped: {code: SMS_300000001, parms: [order_no]}}\n", "parms"},
		{"secret with a line break", "access_key_id: LTAI5tTestAccessKeyID01\n    access_key_secret: \"s3cr3t-value\\n\"\n    sign_name: 某某商城\n" + tpl, "access_key_secret"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file := "systems:\n  sms:\n    kind: aliyun_sms\n    " + tc.block
			_, err := config.Parse([]byte(file), "orderhub.yaml", func(string) (string, bool) { return "", false })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v; want one naming %s", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cr3t-value") {
				t.Fatalf("the error quotes the secret: %v", err)
			}
		})
	}
}
