package store_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"orderhub/internal/store"
	"orderhub/internal/store/storetest"
)

// openSQLite opens (creating if need be) the SQLite store at path and closes
// it when the test ends.
func openSQLite(t *testing.T, path string, opts store.Options) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), "sqlite://"+path, opts)
	if err != nil {
		t.Fatalf("Open(sqlite://%s): %v", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestSQLiteConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *store.Store {
		s := openSQLite(t, filepath.Join(t.TempDir(), "o.db"), store.Options{})
		if s.Dialect() != store.SQLite {
			t.Fatalf("Dialect() = %q, want %q", s.Dialect(), store.SQLite)
		}
		return s
	})
}

func TestSQLiteReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "o.db") // the folder is created
	storetest.Reopen(t, func(t *testing.T) *store.Store {
		return openSQLite(t, path, store.Options{Synchronous: "normal"})
	})
}

func TestSQLiteOptions(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, sync := range []string{"", "FULL", "full", "NORMAL"} {
		s := openSQLite(t, filepath.Join(dir, "ok-"+sync+".db"), store.Options{Synchronous: sync})
		if err := s.Ping(ctx); err != nil {
			t.Errorf("Synchronous %q: Ping: %v", sync, err)
		}
		if want := "sqlite://" + filepath.Join(dir, "ok-"+sync+".db"); s.Location() != want {
			t.Errorf("Location() = %q, want %q", s.Location(), want)
		}
		if s.PgxPool() != nil {
			t.Error("PgxPool() is not nil on SQLite")
		}
	}
	for _, tt := range []struct{ url, errPart string }{
		{"sqlite://" + filepath.Join(dir, "bad.db"), "synchronous"},
		{"sqlite://", "needs a file path"},
	} {
		s, err := store.Open(ctx, tt.url, store.Options{Synchronous: "OFF"})
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", tt.url)
		} else if !strings.Contains(err.Error(), tt.errPart) {
			t.Errorf("Open(%q): %v, want an error about %s", tt.url, err, tt.errPart)
		}
	}
}
