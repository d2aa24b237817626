package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// orderhub version names the commit it was built from: go build in a git
// checkout records it, go run only with -buildvcs=true, a modified checkout
// says so, and a build that recorded none says how to get it.
func TestVersionNamesTheCommit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds orderhub three times")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	run := func(dir string, env []string, name string, args ...string) (string, string) {
		t.Helper()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
		}
		return stdout.String(), stderr.String()
	}

	// A fresh git checkout of the module as it is now. The tree the test runs
	// in may be a git worktree, whose .git file the go command does not read.
	dir := t.TempDir()
	ls := exec.CommandContext(ctx, "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	ls.Dir = root
	b, err := ls.Output()
	if err != nil {
		t.Skipf("the module is not a git checkout git can read (%v): nothing to build a checkout from", err)
	}
	list := string(b)
	for _, f := range strings.Split(strings.TrimRight(list, "\x00"), "\x00") {
		b, err := os.ReadFile(filepath.Join(root, f))
		if os.IsNotExist(err) {
			continue // deleted in the working tree
		} else if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitEnv := []string{"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@127.0.0.1", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@127.0.0.1"}
	run(dir, nil, "git", "init", "-q")
	run(dir, nil, "git", "add", "-A")
	run(dir, gitEnv, "git", "commit", "-q", "-m", "version test")
	rev, _ := run(dir, nil, "git", "rev-parse", "HEAD")
	rev = strings.TrimSpace(rev)

	// The go command's default; a go env file may have turned it off, and the
	// environment wins over that file.
	goEnv := []string{"GOFLAGS=-buildvcs=auto"}
	exe := filepath.Join(t.TempDir(), "orderhub")

	run(dir, goEnv, "go", "build", "-o", exe, "./cmd/orderhub")
	if out, _ := run(dir, nil, exe, "version"); !strings.Contains(out, "(commit "+rev+", ") {
		t.Errorf("go build: version printed %q, want the commit %s and its time", out, rev)
	}

	if out, _ := run(dir, goEnv, "go", "run", "-buildvcs=true", "./cmd/orderhub", "version"); !strings.Contains(out, "(commit "+rev+", ") {
		t.Errorf("go run -buildvcs=true: version printed %q, want the commit %s", out, rev)
	}

	out, errOut := run(dir, goEnv, "go", "run", "./cmd/orderhub", "version")
	if !strings.Contains(out, "(commit unknown)") || !strings.Contains(errOut, "go run -buildvcs=true ./cmd/orderhub version") {
		t.Errorf("go run: version printed %q and %q, want 'commit unknown' and how to record it", out, errOut)
	}

	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("changed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run(dir, goEnv, "go", "build", "-o", exe, "./cmd/orderhub")
	if out, _ := run(dir, nil, exe, "version"); !strings.Contains(out, "(commit "+rev+", ") || !strings.Contains(out, "with uncommitted changes") {
		t.Errorf("go build of a modified checkout: version printed %q, want the commit %s with uncommitted changes", out, rev)
	}
}
