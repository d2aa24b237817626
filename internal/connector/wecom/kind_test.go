package wecom

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"orderhub/internal/config"
	"orderhub/internal/connector"
)

// The issue's system block, pointed at the simulator, builds a sender
// through the registry that delivers.
func TestConfigFromTheIssue(t *testing.T) {
	sim := NewSim(SimConfig{})
	sim.AddRobot(simKey)
	base := serve(t, sim)
	host := strings.TrimPrefix(base, "http://")
	file := "systems:\n  ops_wecom: {kind: wecom_robot, webhook: \"http://" + host + "/cgi-bin/webhook/send?key=${WECOM_KEY}\"}\n"
	cfg, err := config.Parse([]byte(file), "orderhub.yaml", func(k string) (string, bool) { return simKey, k == "WECOM_KEY" })
	if err != nil {
		t.Fatal(err)
	}
	k, ok := connector.Lookup(Kind)
	if !ok || k.Send == nil || k.Send.Limits != Limits {
		t.Fatalf("kind %s registered as %+v", Kind, k)
	}
	s, err := connector.NewSender(connector.Env{System: cfg.Systems["ops_wecom"], HTTP: &http.Client{Timeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(context.Background(), orderMsg); err != nil {
		t.Fatal(err)
	}
	if got := sim.Received(); len(got) != 1 || got[0].MsgType != TypeMarkdown {
		t.Fatalf("received %+v; want one markdown message", got)
	}
}

func TestConfigProblems(t *testing.T) {
	for _, c := range []struct{ name, block, want string }{
		{"no webhook", "msgtype: text", "webhook"},
		{"no key", "webhook: https://qyapi.weixin.qq.com/cgi-bin/webhook/send", "no key= parameter"},
		{"empty key from env", "webhook: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=${UNSET:-}", "no key= parameter"},
		{"wrong path", "webhook: https://qyapi.weixin.qq.com/cgi-bin/message/send?key=k", "want /cgi-bin/webhook/send"},
		{"plain http", "webhook: http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", "only https"},
		{"unknown msgtype", "webhook: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k\n    msgtype: card", "msgtype"},
		{"misspelt key", "webhok: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", "webhok"},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := "systems:\n  ops_wecom:\n    kind: wecom_robot\n    " + c.block + "\n"
			_, err := config.Parse([]byte(file), "orderhub.yaml", func(string) (string, bool) { return "", false })
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v; want one saying %q", err, c.want)
			}
			if err != nil && strings.Contains(err.Error(), "key=k") {
				t.Errorf("the error shows the webhook, which holds the robot's key: %v", err)
			}
		})
	}
}

func TestParseWebhook(t *testing.T) {
	for _, c := range []struct {
		url string
		ok  bool
	}{
		{"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx", true},
		{"  https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx\n", true},
		{"http://127.0.0.1:18080/cgi-bin/webhook/send?key=k", true},
		{"http://localhost:18080/cgi-bin/webhook/send?key=k", true},
		{"http://[::1]:18080/cgi-bin/webhook/send?key=k", true},
		{"http://10.0.0.5/cgi-bin/webhook/send?key=k", false},
		{"ftp://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", false},
		{"https:///cgi-bin/webhook/send?key=k", false},
		{"", false},
	} {
		_, err := ParseWebhook(c.url)
		if (err == nil) != c.ok {
			t.Errorf("%q: %v, want ok %v", c.url, err, c.ok)
		}
	}
}
