package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"orderhub/internal/auth"
	"orderhub/internal/store"
)

func runCLIIn(stdin string, args []string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	root := newRoot(&out, &errb)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	err := root.Execute()
	var ee exitError
	switch {
	case errors.As(err, &ee):
		code = ee.code
	case err != nil:
		code = 1
		errb.WriteString(err.Error())
	}
	return code, out.String(), errb.String()
}

// The users commands, one after another on one store: each step's output,
// and what the store holds after it.
func TestUsersCommands(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "orderhub.yaml")
	dbURL := "sqlite://" + filepath.Join(dir, "hub.db")
	if err := os.WriteFile(cfg, []byte("store: "+dbURL+"\nlisten: 127.0.0.1:0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	openStore := func(t *testing.T) *store.Store {
		st, err := store.Open(ctx, dbURL, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	for _, tc := range []struct {
		name   string
		stdin  string
		args   []string
		code   int
		out    string // in stdout, or in stderr when code != 0
		before func(t *testing.T, st *store.Store)
		after  func(t *testing.T, st *store.Store)
	}{
		{name: "add an operator", stdin: "correct horse battery\n", args: []string{"users", "add", "王芳", "--role", "operator"}, out: "added 王芳 (operator)",
			after: func(t *testing.T, st *store.Store) {
				u, err := st.GetUser(ctx, "王芳")
				if err != nil || u.Role != "operator" || !strings.HasPrefix(u.PasswordHash, "$argon2id$") || strings.Contains(u.PasswordHash, "correct horse") {
					t.Fatalf("user %+v, %v", u, err)
				}
				if ok, _, err := auth.CheckPassword(u.PasswordHash, "correct horse battery", auth.DefaultParams); !ok || err != nil {
					t.Fatalf("the stored hash does not check: %v %v", ok, err)
				}
			}},
		{name: "add the same name again", stdin: "another password\n", args: []string{"users", "add", "王芳", "--role", "admin"}, code: 1, out: "exists",
			after: func(t *testing.T, st *store.Store) {
				if u, _ := st.GetUser(ctx, "王芳"); u.Role != "operator" {
					t.Fatalf("a refused add changed the user: %+v", u)
				}
			}},
		{name: "a short password", stdin: "short\n", args: []string{"users", "add", "li", "--role", "viewer"}, code: 1, out: "at least 10",
			after: func(t *testing.T, st *store.Store) {
				if _, err := st.GetUser(ctx, "li"); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("a refused add left a user: %v", err)
				}
			}},
		{name: "no password on stdin", stdin: "", args: []string{"users", "add", "li", "--role", "viewer"}, code: 1, out: "no password"},
		{name: "an unknown role", stdin: "long enough password\n", args: []string{"users", "add", "li", "--role", "root"}, code: 1, out: `unknown role "root"`},
		{name: "a name with a space", stdin: "long enough password\n", args: []string{"users", "add", "li si", "--role", "viewer"}, code: 1, out: "space"},
		{name: "add an admin", stdin: "admin password 1\r\n", args: []string{"users", "add", "admin", "--role", "admin"}, out: "added admin (admin)"},
		{name: "list", args: []string{"users", "list"}, out: "admin  admin     active  zh-CN"},
		{name: "passwd ends sessions", stdin: "a new password 2\n", args: []string{"users", "passwd", "王芳"}, out: "1 session(s) ended",
			before: func(t *testing.T, st *store.Store) {
				u, _ := st.GetUser(ctx, "王芳")
				if err := st.CreateSession(ctx, "h1", u.ID, u.PasswordHash, time.Now(), time.Now().Add(time.Hour)); err != nil {
					t.Fatal(err)
				}
			},
			after: func(t *testing.T, st *store.Store) {
				u, _ := st.GetUser(ctx, "王芳")
				if ok, _, _ := auth.CheckPassword(u.PasswordHash, "a new password 2", auth.DefaultParams); !ok {
					t.Fatal("the new password does not check")
				}
			}},
		{name: "passwd of nobody", stdin: "a new password 2\n", args: []string{"users", "passwd", "nobody"}, code: 1, out: "not found"},
		{name: "disable", args: []string{"users", "disable", "王芳"}, out: "disabled 王芳",
			after: func(t *testing.T, st *store.Store) {
				if u, _ := st.GetUser(ctx, "王芳"); !u.Disabled {
					t.Fatal("not disabled")
				}
			}},
		{name: "list shows it", args: []string{"users", "list"}, out: "disabled"},
		{name: "enable", args: []string{"users", "enable", "王芳"}, out: "enabled 王芳"},
		{name: "remove", args: []string{"users", "remove", "王芳"}, out: "removed 王芳",
			after: func(t *testing.T, st *store.Store) {
				if _, err := st.GetUser(ctx, "王芳"); !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("still there: %v", err)
				}
			}},
		{name: "remove again", args: []string{"users", "remove", "王芳"}, code: 1, out: "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.before != nil {
				tc.before(t, openStore(t))
			}
			code, out, errOut := runCLIIn(tc.stdin, append(tc.args, "-c", cfg))
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, tc.code, out, errOut)
			}
			where := out
			if code != 0 {
				where = errOut
			}
			if !strings.Contains(where, tc.out) {
				t.Fatalf("output lacks %q: stdout %q stderr %q", tc.out, out, errOut)
			}
			if tc.after != nil {
				tc.after(t, openStore(t))
			}
		})
	}
}
