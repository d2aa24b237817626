package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// runCLI runs the binary to completion (bounded) and returns its exit code,
// stdout and stderr.
func runCLI(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	p := start(t, dir, args...)
	code := p.wait(30 * time.Second)
	return code, p.stdout.String(), p.stderr.String()
}

// TestCheckAndSchema covers the commands an operator runs before serving:
// check on a good and a bad file, schema, version and --help.
func TestCheckAndSchema(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	writeFile(t, good, fmt.Sprintf(`store: sqlite://%s/data/orderhub.db
listen: 127.0.0.1:8080
timezone: Asia/Shanghai
ingest:
  sqlite_synchronous: FULL
systems:
  shop:
    kind: mall
    app_key: e2e-mall
    app_sign: ${E2E_UNSET_APP_SIGN:-0123456789abcdef}
sources:
  shop_orders:
    system: shop
    mode: push
`, dir))
	code, stdout, stderr := runCLI(t, dir, "check", "--config", good)
	if code != 0 || !strings.Contains(stdout, "ok") {
		t.Errorf("check good.yaml: exit %d, stdout %q, stderr %q; want 0 and ok", code, stdout, stderr)
	}
	if strings.Contains(stdout+stderr, "0123456789abcdef") {
		t.Errorf("check printed the app_sign secret: %q", stdout+stderr)
	}

	bad := filepath.Join(dir, "bad.yaml")
	writeFile(t, bad, `store: sqlite://data/orderhub.db
listn: 127.0.0.1:8080
systems:
  shop:
    kind: mall
    app_key: e2e-mall
sources:
  shop_orders:
    system: shop
    mode: push
`)
	code, stdout, stderr = runCLI(t, dir, "check", "--config", bad)
	all := stdout + stderr
	if code != 1 {
		t.Errorf("check bad.yaml: exit %d, want 1; output:\n%s", code, all)
	}
	// Each problem is reported as file:line:col with the offending key.
	listn := regexp.MustCompile(`bad\.yaml:2:\d+:[^\n]*listn[^\n]*`).FindString(all)
	if listn == "" {
		t.Errorf("check bad.yaml does not report the unknown key listn at bad.yaml:2:col; output:\n%s", all)
	} else if !strings.Contains(listn, "did you mean") || !strings.Contains(listn, "listen") {
		t.Errorf("the listn problem %q has no `did you mean \"listen\"` hint", listn)
	}
	if !regexp.MustCompile(`bad\.yaml:\d+:\d+:[^\n]*app_sign`).MatchString(all) {
		t.Errorf("check bad.yaml does not report the missing app_sign with file:line:col; output:\n%s", all)
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); err == nil {
		t.Errorf("check created the store's folder; it should only read the config")
	}

	// A file that configures nothing is not ok, empty or only comments.
	for name, text := range map[string]string{"empty.yaml": "", "comments.yaml": "# to do\n", "defaults.yaml": "listen: 127.0.0.1:8080\n"} {
		path := filepath.Join(dir, name)
		writeFile(t, path, text)
		code, stdout, stderr = runCLI(t, dir, "check", "--config", path)
		if code != 1 || !strings.Contains(stderr, path+": nothing is configured: the file has no systems and no sources (add a system") || strings.Contains(stdout, "ok") {
			t.Errorf("check %s: exit %d, stdout %q, stderr %q; want 1 and nothing is configured", name, code, stdout, stderr)
		}
	}

	// An unquoted ${VAR} in { } is pointed at with its fix, and the other
	// problems of the file are still listed.
	flow := filepath.Join(dir, "flow.yaml")
	writeFile(t, flow, "systems:\n  shop: {kind: mall, app_sign: ${E2E_SIGN}, colour: red}\nsources:\n  shop_orders: {system: shop, mode: push}\n")
	code, _, stderr = runCLI(t, dir, "check", "--config", flow)
	if code != 1 || !strings.Contains(stderr, flow+`:2:32: ${E2E_SIGN} inside { } must be quoted`) || !strings.Contains(stderr, `(quote it: "${E2E_SIGN}")`) ||
		!strings.Contains(stderr, `unknown key "colour"`) {
		t.Errorf("check flow.yaml: exit %d, stderr:\n%s", code, stderr)
	}

	code, stdout, stderr = runCLI(t, dir, "schema")
	var schema map[string]any
	if code != 0 {
		t.Errorf("schema: exit %d, stderr %q", code, stderr)
	} else if err := json.Unmarshal([]byte(stdout), &schema); err != nil {
		t.Errorf("schema printed invalid JSON: %v\n%s", err, tail(stdout, 500))
	} else if _, ok := schema["$schema"]; !ok {
		t.Errorf("schema has no $schema key; keys: %v", keys(schema))
	} else if props, _ := schema["properties"].(map[string]any); props == nil || props["listen"] == nil || props["systems"] == nil {
		t.Errorf("schema has no properties listen and systems: %v", keys(props))
	}

	code, stdout, stderr = runCLI(t, dir, "version")
	if code != 0 || !strings.HasPrefix(stdout, "orderhub ") {
		t.Errorf("version: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	for _, c := range []struct {
		args  []string
		flags []string
	}{
		{[]string{"--help"}, []string{"serve", "check", "demo", "schema", "version", "--help"}},
		{[]string{"demo", "--help"}, []string{"--dir", "--listen", "--every"}},
		{[]string{"serve", "--help"}, []string{"--config"}},
		{[]string{"check", "--help"}, []string{"--config"}},
	} {
		code, stdout, stderr := runCLI(t, dir, c.args...)
		if code != 0 {
			t.Errorf("orderhub %s: exit %d, stderr %q", strings.Join(c.args, " "), code, stderr)
			continue
		}
		for _, f := range c.flags {
			if !strings.Contains(stdout, f) {
				t.Errorf("orderhub %s does not mention %s:\n%s", strings.Join(c.args, " "), f, stdout)
			}
		}
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
