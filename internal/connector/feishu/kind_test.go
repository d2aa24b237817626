package feishu

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
// through the registry that signs and carries the keyword.
func TestConfigFromTheIssue(t *testing.T) {
	sim := NewSim(SimConfig{})
	sim.AddRobot(Robot{Token: simToken, Secret: simSecret, Keywords: []string{"订单"}})
	host := strings.TrimPrefix(serve(t, sim), "http://")
	file := "systems:\n  ops_feishu: {kind: feishu_bot, webhook: \"http://" + host + "/open-apis/bot/v2/hook/${FEISHU_TOKEN}\", secret: \"${FEISHU_SECRET}\", keyword: 订单}\n"
	env := map[string]string{"FEISHU_TOKEN": simToken, "FEISHU_SECRET": simSecret}
	cfg, err := config.Parse([]byte(file), "orderhub.yaml", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	k, ok := connector.Lookup(Kind)
	if !ok || k.Send == nil || k.Send.Limits != (connector.SendLimits{PerMinute: 100, PerSecond: 5, MaxBytes: MaxBody}) {
		t.Fatalf("kind %s registered as %+v", Kind, k)
	}
	s, err := connector.NewSender(connector.Env{System: cfg.Systems["ops_feishu"], HTTP: &http.Client{Timeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(context.Background(), with(orderMsg, func(m *connector.Message) { m.Title = "New order D1" })); err != nil {
		t.Fatal(err)
	}
	if got := sim.Received(); len(got) != 1 || got[0].MsgType != TypeInteractive || !got[0].Signed {
		t.Fatalf("received %+v; want one signed card", got)
	}
}

func TestConfigProblems(t *testing.T) {
	for _, c := range []struct{ name, block, want string }{
		{"no webhook", "keyword: 订单", "webhook"},
		{"no token", "webhook: https://open.feishu.cn/open-apis/bot/v2/hook/", "no token"},
		{"empty token from env", "webhook: https://open.feishu.cn/open-apis/bot/v2/hook/${UNSET:-}", "no token"},
		{"DingTalk URL", "webhook: https://oapi.dingtalk.com/robot/send?access_token=tok", "does not start with /open-apis/bot/v2/hook/"},
		{"plain http", "webhook: http://open.feishu.cn/open-apis/bot/v2/hook/tok", "only https"},
		{"unknown msgtype", "webhook: https://open.feishu.cn/open-apis/bot/v2/hook/tok\n    msgtype: markdown", "msgtype"},
		{"keyword with spaces", "webhook: https://open.feishu.cn/open-apis/bot/v2/hook/tok\n    keyword: \" 订单\"", "keyword"},
		{"misspelt key", "webhook: https://open.feishu.cn/open-apis/bot/v2/hook/tok\n    secrte: x", "secrte"},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := "systems:\n  ops_feishu:\n    kind: feishu_bot\n    " + c.block + "\n"
			_, err := config.Parse([]byte(file), "orderhub.yaml", func(string) (string, bool) { return "", false })
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v; want one saying %q", err, c.want)
			}
			if err != nil && strings.Contains(err.Error(), "hook/tok") {
				t.Errorf("the error shows the webhook, which holds the bot's token: %v", err)
			}
		})
	}
}

func TestParseWebhook(t *testing.T) {
	for _, c := range []struct {
		url string
		ok  bool
	}{
		{"https://open.feishu.cn/open-apis/bot/v2/hook/0f6e1b2c-3d4e", true},
		{"https://open.larksuite.com/open-apis/bot/v2/hook/0f6e1b2c-3d4e", true},
		{"http://127.0.0.1:18081/open-apis/bot/v2/hook/t", true},
		{"http://192.168.1.5/open-apis/bot/v2/hook/t", false},
		{"https://open.feishu.cn/open-apis/bot/v2/hook/t/extra", false},
		{"https://open.feishu.cn/open-apis/bot/hook/t", false},
		{"", false},
	} {
		_, err := ParseWebhook(c.url)
		if (err == nil) != c.ok {
			t.Errorf("%q: %v, want ok %v", c.url, err, c.ok)
		}
	}
}
