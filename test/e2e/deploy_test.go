package e2e

import (
	"bytes"
	"context"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// orderhub health, which the container's HEALTHCHECK runs, exits 0 while
// serve answers /healthz green and 1 with the reason once it has stopped.
func TestHealthCommand(t *testing.T) {
	dir := t.TempDir()
	s := startServe(t, dir)
	s.waitHealthy(s.base, 10*time.Millisecond, 20*time.Second)

	code, stdout, stderr := runCLI(t, dir, "health", "--url", s.base+"/healthz")
	if code != 0 || !strings.Contains(stdout, `"status":"ok"`) {
		t.Errorf("health of a running serve: exit %d, stdout %q, stderr %q; want 0 and its answer", code, stdout, stderr)
	}
	if code := s.stop(syscall.SIGTERM, 30*time.Second); code != 0 {
		t.Fatalf("serve exited %d after SIGTERM", code)
	}
	code, stdout, stderr = runCLI(t, dir, "health", "--url", s.base+"/healthz", "--timeout", "2s")
	if code != 1 || !strings.Contains(stderr, "not reachable") {
		t.Errorf("health of a stopped serve: exit %d, stdout %q, stderr %q; want 1, not reachable", code, stdout, stderr)
	}
}

// dockerfileBuild is the Dockerfile's go build command as its RUN line has
// it, continuation lines joined and RUN's own --mount options left out.
func dockerfileBuild(t *testing.T, root string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.ReplaceAll(string(b), "\\\n", " ")
	for _, line := range strings.Split(joined, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || fields[0] != "RUN" || !strings.Contains(line, " go build ") {
			continue
		}
		fields = fields[1:]
		for len(fields) > 0 && strings.HasPrefix(fields[0], "--") {
			fields = fields[1:]
		}
		return strings.Join(fields, " ")
	}
	t.Fatal("the Dockerfile has no RUN line with go build")
	return ""
}

// The Dockerfile's build command, run here as its build stage runs it,
// gives a static binary (the runtime image has no C library) that names the
// commit passed as a build argument; and the configuration the image ships
// passes check.
func TestDockerfileBuildsAStaticBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds orderhub without cgo")
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	build := dockerfileBuild(t, root)
	if !strings.Contains(build, "-o /out/orderhub ") {
		t.Fatalf("the Dockerfile's build %q does not write /out/orderhub, which its runtime stage copies", build)
	}
	out := t.TempDir()
	const commit = "0123456789abcdef0123456789abcdef01234567"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", strings.ReplaceAll(build, "/out/", out+"/"))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "VERSION=v0.0.0-docker", "COMMIT="+commit)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the Dockerfile's build %q: %v\n%s", build, err, b)
	}
	exe := filepath.Join(out, "orderhub")

	f, err := elf.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s asks for a dynamic loader: not static", exe)
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("%s needs shared libraries %v: not static", exe, libs)
	}

	var stdout, stderr bytes.Buffer
	v := exec.CommandContext(ctx, exe, "version")
	v.Stdout, v.Stderr = &stdout, &stderr
	if err := v.Run(); err != nil || !strings.HasPrefix(stdout.String(), "orderhub v0.0.0-docker (commit "+commit+") ") || stderr.Len() > 0 {
		t.Errorf("version of the image's binary: %v, stdout %q, stderr %q; want the release and commit passed in", err, stdout.String(), stderr.String())
	}

	// deploy/orderhub.yaml is the image's configuration (and the systemd
	// unit's): with its secret set it is valid, without it check says so.
	chk := exec.CommandContext(ctx, exe, "check", "--config", filepath.Join(root, "deploy", "orderhub.yaml"))
	chk.Env = append(os.Environ(), "MALL_APP_SIGN=a-long-enough-app-sign")
	if b, err := chk.CombinedOutput(); err != nil || !strings.Contains(string(b), ": ok (1 systems, 1 sources, 0 flows, store sqlite:///var/lib/orderhub/orderhub.db)") {
		t.Errorf("check deploy/orderhub.yaml: %v\n%s", err, b)
	}
	chk = exec.CommandContext(ctx, exe, "check", "--config", filepath.Join(root, "deploy", "orderhub.yaml"))
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "MALL_APP_SIGN=") {
			chk.Env = append(chk.Env, kv)
		}
	}
	if b, err := chk.CombinedOutput(); err == nil || !strings.Contains(string(b), "MALL_APP_SIGN") {
		t.Errorf("check deploy/orderhub.yaml without MALL_APP_SIGN: %v\n%s; want it refused, naming the variable", err, b)
	}
}

// deploy/orderhub.service passes systemd's own check, with its commands
// pointing at a real binary.
func TestSystemdUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "deploy", "orderhub.service"))
	if err != nil {
		t.Fatal(err)
	}
	unit := string(b)
	for _, want := range []string{"ExecStart=/usr/local/bin/orderhub serve", "ExecReload=/bin/kill -HUP $MAINPID", "StateDirectory=orderhub", "Restart=on-failure", "User=orderhub"} {
		if !strings.Contains(unit, want) {
			t.Errorf("deploy/orderhub.service has no %q", want)
		}
	}
	path := filepath.Join(t.TempDir(), "orderhub.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(unit, "/usr/local/bin/orderhub", bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// verify exits 0 on an unknown key, with a warning: any output fails.
	out, err := exec.CommandContext(ctx, analyze, "verify", path).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify deploy/orderhub.service: %v\n%s", err, out)
	}
}
