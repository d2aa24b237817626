package dingtalkapp

import (
	"context"
	"strings"
	"testing"

	"orderhub/internal/config"
	"orderhub/internal/connector"
)

// The issue's system block builds, through the registry, a sender that
// reaches the simulator and tracks read status.
func TestConfigFromTheIssue(t *testing.T) {
	r := newRig(t, SimConfig{})
	env := map[string]string{"DING_APP_KEY": testAppKey, "DING_APP_SECRET": testAppSecret, "SIM": r.srv.URL}
	file := `systems:
  ding_app:                 # 钉钉 enterprise internal app (work notifications)
    kind: dingtalk_app
    base_url: ${SIM}
    app_key: ${DING_APP_KEY}
    app_secret: ${DING_APP_SECRET}
    agent_id: 1000001
`
	cfg, err := config.Parse([]byte(file), "orderhub.yaml", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	s, err := connector.NewSender(connector.Env{System: cfg.Systems["ding_app"], HTTP: r.srv.Client(), Now: r.clock.Now, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	m := sample
	m.To = people("u1")
	res, err := s.Send(context.Background(), m)
	if err != nil || res.Code != "0" || res.MessageID == "" {
		t.Fatalf("send: %+v, %v", res, err)
	}
	rt, ok := s.(connector.ReadTracker)
	if !ok {
		t.Fatal("the sender does not track read status")
	}
	if st, err := rt.ReadStatus(context.Background(), res.MessageID); err != nil || len(st.Unread) != 1 {
		t.Fatalf("read status: %+v, %v", st, err)
	}
}

func TestConfigProblems(t *testing.T) {
	const secret = "the-apps-secret-0123456789"
	good := "    app_key: dingabc\n    app_secret: " + secret + "\n    agent_id: 1000001\n"
	cases := []struct{ name, block, want string }{
		{"missing agent_id", "    app_key: dingabc\n    app_secret: " + secret + "\n", "agent_id"},
		{"missing app_secret", "    app_key: dingabc\n    agent_id: 1000001\n", "app_secret"},
		{"agent_id not a number", "    app_key: dingabc\n    app_secret: " + secret + "\n    agent_id: abc\n", "agent_id"},
		{"agent_id zero", "    app_key: dingabc\n    app_secret: " + secret + "\n    agent_id: 0\n", "agent_id"},
		{"robot msgtype spelling", good + "    msgtype: actionCard\n", "msgtype"},
		{"misspelt key", good + "    agentid: 1\n", "agentid"},
		{"max_msg_bytes too small", good + "    max_msg_bytes: 100\n", "max_msg_bytes"},
		{"api_base_url over plain http", good + "    api_base_url: http://api.dingtalk.com\n", "api_base_url"},
		{"ding_max_chars too small", good + "    ding_max_chars: 5\n", "ding_max_chars"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file := "systems:\n  ding_app:\n    kind: dingtalk_app\n" + tc.block
			_, err := config.Parse([]byte(file), "orderhub.yaml", func(string) (string, bool) { return "", false })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v; want one naming %s", err, tc.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("the error quotes the secret: %v", err)
			}
		})
	}
}

// base_url: DingTalk's by default; https unless on this machine.
func TestBaseURL(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"", DefaultBaseURL, true},
		{"https://oapi.dingtalk.com/", "https://oapi.dingtalk.com", true},
		{"http://127.0.0.1:9000", "http://127.0.0.1:9000", true},
		{"http://oapi.dingtalk.com", "", false},
		{"oapi.dingtalk.com", "", false},
		{"https://oapi.dingtalk.com/?x=1", "", false},
	}
	for _, c := range cases {
		got, err := checkBaseURL(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("%q: %q, %v", c.in, got, err)
		}
	}
}
