package dingtalk

import (
	"context"
	"strings"
	"testing"

	"orderhub/internal/config"
	"orderhub/internal/connector"
)

// The issue's system block builds a sender through the registry that
// reaches the simulator: once with the webhook as the group shows it and a
// base_url pointing at the simulator, once with the webhook itself on
// loopback.
func TestConfigFromTheIssue(t *testing.T) {
	r := newRig(t, SimConfig{})
	env := map[string]string{"DING_TOKEN": testToken, "DING_SECRET": testSecret, "SIM": r.srv.URL}
	for name, block := range map[string]string{
		"base_url": `
    kind: dingtalk_robot
    base_url: ${SIM}
    webhook: https://oapi.dingtalk.com/robot/send?access_token=${DING_TOKEN}   # as the group shows it
    secret: ${DING_SECRET}          # the SEC… string, when 加签 is on
    keyword: 订单                    # when 自定义关键词 is on`,
		"loopback webhook": `
    kind: dingtalk_robot
    webhook: ${SIM}/robot/send?access_token=${DING_TOKEN}
    secret: ${DING_SECRET}
    keyword: 订单
    msgtype: text`,
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := config.Parse([]byte("systems:\n  ops_ding:"+block+"\n"), "orderhub.yaml", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
			if err != nil {
				t.Fatal(err)
			}
			s, err := connector.NewSender(connector.Env{System: cfg.Systems["ops_ding"], HTTP: r.srv.Client(), Now: r.clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			before := r.sim.Len()
			if res, err := s.Send(context.Background(), connector.Message{Title: "新订单 D1", Markdown: "### 新订单 D1"}); err != nil || res.Code != "0" {
				t.Fatalf("send: %+v, %v", res, err)
			}
			if r.sim.Len() != before+1 {
				t.Fatal("the simulator took nothing")
			}
		})
	}
}

func TestConfigProblems(t *testing.T) {
	const token = "0123456789abcdef0123456789abcdef"
	cases := []struct{ name, block, want string }{
		{"missing webhook", "secret: SECx\n", "webhook"},
		{"webhook without token", "webhook: https://oapi.dingtalk.com/robot/send?token=" + token + "\n", "access_token"},
		{"msgtype in the wrong case", "webhook: https://oapi.dingtalk.com/robot/send?access_token=" + token + "\n    msgtype: actioncard\n", "msgtype"},
		{"secret not SEC", "webhook: https://oapi.dingtalk.com/robot/send?access_token=" + token + "\n    secret: abc123456\n", "SEC"},
		{"misspelt key", "webhook: https://oapi.dingtalk.com/robot/send?access_token=" + token + "\n    keywrod: 订单\n", "keywrod"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file := "systems:\n  ops_ding:\n    kind: dingtalk_robot\n    " + tc.block
			_, err := config.Parse([]byte(file), "orderhub.yaml", func(string) (string, bool) { return "", false })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v; want one naming %s", err, tc.want)
			}
			if strings.Contains(err.Error(), token) {
				t.Fatalf("the error quotes the access_token: %v", err)
			}
		})
	}
}
