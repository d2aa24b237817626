package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "orderhub.yaml")
	data := "systems:\n  shop:\n    kind: testshop\n    app_sign: ${ORDERHUB_TEST_SIGN}\n"
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}

	t.Setenv("ORDERHUB_TEST_SIGN", "from-the-environment")
	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.File != path {
		t.Errorf("File = %q, want %q", cfg.File, path)
	}
	if got := cfg.Systems["shop"].Settings.(*testShopSettings).AppSign.Reveal(); got != "from-the-environment" {
		t.Errorf("app_sign = %q, want the environment's value", got)
	}

	os.Unsetenv("ORDERHUB_TEST_SIGN")
	_, err = Load(path)
	if want := path + ":4:15: systems.shop.app_sign: environment variable ORDERHUB_TEST_SIGN is not set"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Load without the variable: %v, want %q…", err, want)
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := Load(path)
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 1 {
		t.Fatalf("Load of a missing file: %v, want one Errors entry", err)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("errors.Is(err, fs.ErrNotExist) = false for %v", err)
	}
	if want := path + ": cannot read the config file: no such file or directory"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %q, want prefix %q", err, want)
	}
}

func TestAliases(t *testing.T) {
	data := "listen: &addr 127.0.0.1:7000\nsystems:\n  a: &sys {kind: testshop, app_sign: \"12345678\"}\n  b: *sys\nsources:\n  s: {system: b, mode: push}\nx: *addr\n"
	_, err := Parse([]byte(data), "a.yaml", nil)
	// The alias itself is fine; x is the only problem.
	if err == nil || err.Error() != `a.yaml:7:1: x: unknown key "x" (valid keys: api, branding, console, flows, ingest, listen, log, people, quiet_hours, rules, sources, store, systems, templates, timezone)` {
		t.Errorf("err = %v", err)
	}
	cfg, err := Parse([]byte(strings.TrimSuffix(data, "x: *addr\n")), "a.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:7000" || cfg.Systems["b"].Kind != "testshop" || cfg.Systems["b"].Name != "b" {
		t.Errorf("aliases not followed: listen %q, system b %+v", cfg.Listen, cfg.Systems["b"])
	}
	if cfg.Systems["a"].Settings == cfg.Systems["b"].Settings {
		t.Error("two systems share one settings value")
	}
}

func TestReplaceWord(t *testing.T) {
	tests := []struct{ s, old, want string }{
		{`app_sign "short" is shorter`, "short", `app_sign "X" is shorter`},
		{"key=abc-def;", "abc-def", "key=X;"},
		{"$ecret! and $ecret!x", "$ecret!", "X and Xx"},
	}
	for _, tt := range tests {
		if got := replaceWord(tt.s, tt.old, "X"); got != tt.want {
			t.Errorf("replaceWord(%q, %q) = %q, want %q", tt.s, tt.old, got, tt.want)
		}
	}
}
