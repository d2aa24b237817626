package jdy

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"orderhub/internal/config"
	"orderhub/internal/connector"
)

// The issue's system block, pointed at the simulator, builds a writer
// through the registry that writes a bill.
func TestConfigFromTheIssue(t *testing.T) {
	sim := NewSim(SimConfig{ClientID: "246801", ClientSecret: "cs-0123456789", AppKey: "ak-1", AppSecret: "as-0123456789"})
	sim.SeedDemo()
	srv := httptest.NewServer(sim)
	defer srv.Close()
	file := `
systems:
  xingchen:
    kind: jdy
    base_url: ` + srv.URL + `
    client_id: "246801"
    client_secret: ${JDY_CLIENT_SECRET}
    app_key: ${JDY_APP_KEY}
    app_secret: ${JDY_APP_SECRET}
`
	env := map[string]string{"JDY_CLIENT_SECRET": "cs-0123456789", "JDY_APP_KEY": "ak-1", "JDY_APP_SECRET": "as-0123456789"}
	cfg, err := config.Parse([]byte(file), "orderhub.yaml", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	w, err := connector.NewWriter(connector.Env{System: cfg.Systems["xingchen"], HTTP: &http.Client{Timeout: 5 * time.Second}, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	res, err := w.Write(context.Background(), APISalOrderSave, []connector.Bill{goodBill("JY-CFG-1")})
	if err != nil || res[0].Err != nil || sim.Count("JY-CFG-1") != 1 {
		t.Fatalf("write through the configured system: %+v, %v", res, err)
	}
}

func TestConfigProblems(t *testing.T) {
	cases := []struct{ name, block, want string }{
		{"missing app_secret", "client_id: c\n    client_secret: s\n    app_key: k\n", "app_secret"},
		{"bad domain", "client_id: c\n    client_secret: s\n    app_key: k\n    app_secret: a\n    domain: tf.jdy.com\n", "domain"},
		{"misspelt key", "client_id: c\n    client_secret: s\n    app_key: k\n    app_secret: a\n    app_secrte: a\n", "app_secrte"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file := "systems:\n  xingchen:\n    kind: jdy\n    " + tc.block
			_, err := config.Parse([]byte(file), "orderhub.yaml", func(string) (string, bool) { return "", false })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v; want one naming %s", err, tc.want)
			}
		})
	}
}
