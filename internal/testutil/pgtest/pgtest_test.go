package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestURL(t *testing.T) {
	var dbURL string
	t.Run("create", func(t *testing.T) {
		dbURL = URL(t)

		u, err := url.Parse(dbURL)
		if err != nil {
			t.Fatalf("URL returned an unparsable URL %q: %v", dbURL, err)
		}
		name := strings.TrimPrefix(u.Path, "/")
		if !strings.HasPrefix(name, namePrefix) {
			t.Fatalf("database name %q does not start with %q", name, namePrefix)
		}

		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			t.Fatalf("connect to %s: %v", redact(dbURL), err)
		}
		// Left open on purpose: the drop WITH (FORCE) must cope with it.
		t.Cleanup(func() { _ = conn.Close(context.Background()) })

		var one int
		if err := conn.QueryRow(ctx, "select 1").Scan(&one); err != nil || one != 1 {
			t.Fatalf("select 1: got %d, %v", one, err)
		}
		var current string
		if err := conn.QueryRow(ctx, "select current_database()").Scan(&current); err != nil {
			t.Fatalf("current_database(): %v", err)
		}
		if current != name {
			t.Fatalf("connected to database %q, want %q", current, name)
		}
		var tables int
		if err := conn.QueryRow(ctx,
			"select count(*) from pg_tables where schemaname not in ('pg_catalog', 'information_schema')",
		).Scan(&tables); err != nil || tables != 0 {
			t.Fatalf("new database is not empty: %d tables, %v", tables, err)
		}
	})
	if t.Failed() {
		return
	}
	if dbURL == "" {
		t.Skip("no PostgreSQL server (see the subtest)")
	}

	// The subtest has ended, so its cleanup must have dropped the database.
	u, _ := url.Parse(dbURL)
	name := strings.TrimPrefix(u.Path, "/")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, adminURLFromEnv(t))
	if err != nil {
		t.Fatalf("connect to admin URL: %v", err)
	}
	defer admin.Close(context.Background())
	var exists bool
	if err := admin.QueryRow(ctx, "select exists(select 1 from pg_database where datname = $1)", name).Scan(&exists); err != nil {
		t.Fatalf("look for database %s: %v", name, err)
	}
	if exists {
		t.Fatalf("database %s still exists after the test ended", name)
	}
}

func TestURLsAreDistinct(t *testing.T) {
	a, b := URL(t), URL(t)
	if a == b {
		t.Fatalf("two calls returned the same database: %s", a)
	}
}

func TestURLWithoutServer(t *testing.T) {
	t.Setenv(envURL, "")

	t.Setenv(envRequire, "")
	if got := callURL(t); got.skipped == "" || got.fatal != "" {
		t.Errorf("without %s: want a skip, got %+v", envRequire, got)
	} else if !strings.Contains(got.skipped, "./scripts/test") {
		t.Errorf("skip message does not say how to run the tests: %q", got.skipped)
	}

	t.Setenv(envRequire, "1")
	if got := callURL(t); got.fatal == "" || got.skipped != "" {
		t.Errorf("with %s=1: want a fatal error, got %+v", envRequire, got)
	}
}

// fakeTB records how URL gave up, without ending the real test: like the real
// Skip and Fatal, its methods end the calling goroutine.
type fakeTB struct {
	testing.TB
	skipped, fatal string
}

func (f *fakeTB) Helper()          {}
func (f *fakeTB) Cleanup(func())   {}
func (f *fakeTB) Skip(args ...any) { f.skipped = fmt.Sprint(args...); runtime.Goexit() }
func (f *fakeTB) Skipf(format string, a ...any) {
	f.skipped = fmt.Sprintf(format, a...)
	runtime.Goexit()
}
func (f *fakeTB) Fatal(args ...any) { f.fatal = fmt.Sprint(args...); runtime.Goexit() }
func (f *fakeTB) Fatalf(format string, a ...any) {
	f.fatal = fmt.Sprintf(format, a...)
	runtime.Goexit()
}
func (f *fakeTB) Errorf(format string, a ...any) { f.fatal = fmt.Sprintf(format, a...) }

func callURL(t *testing.T) *fakeTB {
	f := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		URL(f)
	}()
	<-done
	return f
}

func adminURLFromEnv(t *testing.T) string {
	t.Helper()
	u := os.Getenv(envURL)
	if u == "" {
		t.Fatalf("%s is not set", envURL)
	}
	return u
}
