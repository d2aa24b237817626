package webhookout

import (
	"context"
	"strings"
	"testing"

	"orderhub/internal/config"
	"orderhub/internal/connector"
)

// The issue's system block builds a sender through the registry that
// reaches the simulator: with the receiver's real address and a base_url
// pointing at the simulator, and with the address itself on loopback.
func TestConfigFromTheIssue(t *testing.T) {
	r := newRig(t, SimConfig{})
	env := map[string]string{"HOOK_SECRET": testSecret, "SIM": r.srv.URL}
	for name, block := range map[string]string{
		"base_url": `{kind: webhook_out, url: "https://erp.example.com/hooks/orders", secret: "${HOOK_SECRET}", base_url: "${SIM}"}`,
		"loopback url with timeout": `
    kind: webhook_out
    url: ${SIM}/hooks/orders
    secret: ${HOOK_SECRET}
    timeout: 15s`,
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := config.Parse([]byte("systems:\n  erp_hook: "+block+"\n"), "orderhub.yaml", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
			if err != nil {
				t.Fatal(err)
			}
			s, err := connector.NewSender(connector.Env{System: cfg.Systems["erp_hook"], HTTP: r.srv.Client(), Now: r.clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			before := r.sim.Len()
			if res, err := s.Send(context.Background(), connector.Message{Title: "新订单 D1", Key: name}); err != nil || res.Code != "200" {
				t.Fatalf("send: %+v, %v", res, err)
			}
			if r.sim.Len() != before+1 {
				t.Fatal("the simulator took nothing")
			}
			if got := r.sim.Received()[before]; got.Header.Get("User-Agent") != "orderhub" {
				t.Fatalf("headers %v", got.Header)
			}
		})
	}
}

func TestConfigProblems(t *testing.T) {
	const secretB64 = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	const good = "url: https://erp.example.com/hooks\n    secret: whsec_" + secretB64 + "\n"
	cases := []struct{ name, block, want string }{
		{"missing url", "secret: whsec_" + secretB64 + "\n", "url"},
		{"missing secret", "url: https://erp.example.com/hooks\n", "secret"},
		{"secret without whsec_", "url: https://erp.example.com/hooks\n    secret: " + secretB64 + "\n", "whsec_"},
		{"secret not base64", "url: https://erp.example.com/hooks\n    secret: whsec_" + secretB64 + "!!\n", "base64"},
		{"secret too short", "url: https://erp.example.com/hooks\n    secret: whsec_" + secretB64[:16] + "\n", "at least 24"},
		{"url not http", "url: ftp://erp.example.com/hooks\n    secret: whsec_" + secretB64 + "\n", "http(s)"},
		{"url relative", "url: /hooks/orders\n    secret: whsec_" + secretB64 + "\n", "absolute"},
		{"url with a password", "url: https://erp:pw@erp.example.com/hooks\n    secret: whsec_" + secretB64 + "\n", "password"},
		{"misspelt key", good + "    secrte: x\n", "secrte"},
		{"timeout not a duration", good + "    timeout: soon\n", "timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file := "systems:\n  erp_hook:\n    kind: webhook_out\n    " + tc.block
			_, err := config.Parse([]byte(file), "orderhub.yaml", func(string) (string, bool) { return "", false })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v; want one naming %s", err, tc.want)
			}
			if strings.Contains(err.Error(), secretB64[:16]) || strings.Contains(err.Error(), ":pw@") {
				t.Fatalf("the error quotes a credential: %v", err)
			}
		})
	}
	if _, err := config.Parse([]byte("systems:\n  erp_hook:\n    kind: webhook_out\n    "+good), "orderhub.yaml", func(string) (string, bool) { return "", false }); err != nil {
		t.Fatalf("a good block: %v", err)
	}
}
