package k3cloud

import (
	"context"
	"strings"
	"testing"

	"orderhub/internal/config"
	"orderhub/internal/connector"
)

// The issue's configuration decodes into Settings, and a writer built
// from it through the registry writes to the simulator.
func TestIssueConfigBuildsAWriter(t *testing.T) {
	s := newSite(t, SimConfig{})
	yaml := "systems:\n  xingkong:\n    kind: k3cloud\n    base_url: " + s.srv.URL + "/k3cloud\n" +
		"    acct_id: 63f2a1b0c9d8e7\n    username: apiuser\n    password: ${K3_PASSWORD}\n    lcid: 2052\n"
	cfg, err := config.Parse([]byte(yaml), "orderhub.yaml", func(k string) (string, bool) {
		if k == "K3_PASSWORD" {
			return "k3-sim-password", true
		}
		return "", false
	})
	if err != nil {
		t.Fatal(err)
	}
	sys := cfg.Systems["xingkong"]
	w, err := connector.NewWriter(connector.Env{System: sys, HTTP: s.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	res, err := w.Write(context.Background(), FormReturnStock, []connector.Bill{returnBill(t, "RK-CFG-1", "SKU-RED-M")})
	if err != nil || res[0].Err != nil || s.sim.Count(FormReturnStock, "RK-CFG-1") != 1 {
		t.Fatalf("%v %+v", err, res)
	}
	k, ok := connector.Lookup(Kind)
	if !ok || k.Write == nil || len(k.Write.APIs) != 2 {
		t.Fatalf("registration: %+v", k)
	}
	if a, _ := k.Write.API(FormReturnStock); a.Batch != 50 || a.MaxBatch != 200 || !a.CanUpdate {
		t.Fatalf("SAL_RETURNSTOCK: %+v", a)
	}
}

func TestSettingsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    Settings
		key  string // "" when valid
		mode string
	}{
		{"password", Settings{AcctID: "a", Username: "u", Password: "p"}, "", AuthPassword},
		{"app secret", Settings{AcctID: "a", Username: "u", AppID: testAppID, AppSecret: "s"}, "", AuthAppSecret},
		{"signed", Settings{AcctID: "a", Username: "u", AppID: testAppID, AppSecret: "s", Auth: AuthSigned}, "", AuthSigned},
		{"no credentials", Settings{AcctID: "a", Username: "u"}, "password", ""},
		{"app id without secret", Settings{AcctID: "a", Username: "u", AppID: testAppID}, "app_id", AuthAppSecret},
		{"password mode without password", Settings{AcctID: "a", Username: "u", AppID: testAppID, AppSecret: "s", Auth: AuthPassword}, "password", AuthPassword},
		{"signed with a short app id", Settings{AcctID: "a", Username: "u", AppID: "1_abc", AppSecret: "s", Auth: AuthSigned}, "app_id", AuthSigned},
		{"unknown lcid", Settings{AcctID: "a", Username: "u", Password: "p", LCID: 1041}, "lcid", AuthPassword},
	} {
		t.Run(tc.name, func(t *testing.T) {
			probs := tc.s.Validate()
			if tc.key == "" && len(probs) > 0 || tc.key != "" && (len(probs) == 0 || probs[0].Key != tc.key || probs[0].Hint == "") {
				t.Fatalf("problems %+v, want key %q", probs, tc.key)
			}
			if m := tc.s.mode(); m != tc.mode {
				t.Fatalf("mode %q, want %q", m, tc.mode)
			}
		})
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{BaseURL: "mycorp.ik3cloud.com/k3cloud", AcctID: "a", Username: "u", Password: "p"},
		{BaseURL: "https://x/k3cloud", Username: "u", Password: "p"},
		{BaseURL: "https://x/k3cloud", AcctID: "a", Username: "u"},
		{BaseURL: "https://x/k3cloud", AcctID: "a", Username: "u", Auth: AuthSigned, AppID: "bad", AppSecret: "s"},
		{BaseURL: "https://x/k3cloud", AcctID: "a", Username: "u", Auth: "oauth", Password: "p"},
	} {
		if _, err := New(cfg); err == nil || !strings.HasPrefix(err.Error(), "k3cloud: ") {
			t.Errorf("New(%+v) = %v, want a k3cloud error", cfg, err)
		}
	}
}
