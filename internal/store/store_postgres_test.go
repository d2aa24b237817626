package store_test

import (
	"context"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"orderhub/internal/store"
	"orderhub/internal/store/storetest"
	"orderhub/internal/testutil/pgtest"
)

// openPostgres opens the store at dbURL and closes it when the test ends.
func openPostgres(t *testing.T, dbURL string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), dbURL, store.Options{})
	if err != nil {
		t.Fatalf("Open(%s): %v", store.Redact(dbURL), err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestPostgresConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *store.Store {
		s := openPostgres(t, pgtest.URL(t))
		if s.Dialect() != store.Postgres || s.PgxPool() == nil {
			t.Fatalf("Dialect() = %q, PgxPool() = %v; want postgres and a pool", s.Dialect(), s.PgxPool())
		}
		return s
	})
}

func TestPostgresReopen(t *testing.T) {
	dbURL := pgtest.URL(t)
	storetest.Reopen(t, func(t *testing.T) *store.Store { return openPostgres(t, dbURL) })
}

// Several nodes starting at once on a new database: one migrates, the others
// wait and find the schema in place.
func TestPostgresConcurrentOpen(t *testing.T) {
	for round := range 5 {
		dbURL := pgtest.URL(t)
		const nodes = 6
		var wg sync.WaitGroup
		errs := make([]error, nodes)
		stores := make([]*store.Store, nodes)
		for i := range nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				stores[i], errs[i] = store.Open(context.Background(), dbURL, store.Options{})
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("round %d: node %d: Open: %v", round, i, err)
			}
		}
		for _, s := range stores {
			if s != nil {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			}
		}
		if t.Failed() {
			t.FailNow()
		}
		s := openPostgres(t, dbURL)
		var n int
		files, err := os.ReadDir("migrations/postgres")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.DB().QueryRow(`SELECT COUNT(*) FROM orderhub_migrations`).Scan(&n); err != nil || n != len(files) {
			t.Fatalf("orderhub_migrations: %d rows, %v; want one per migration, %d", n, err, len(files))
		}
	}
}

func TestPostgresLocationHidesPassword(t *testing.T) {
	u, err := url.Parse(pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	// The test server trusts every connection, so any password will do.
	u.User = url.UserPassword(u.User.Username(), "s3cret-pw")
	s := openPostgres(t, u.String())
	if strings.Contains(s.Location(), "s3cret-pw") || !strings.Contains(s.Location(), u.Host) {
		t.Fatalf("Location() = %q, want the server without the password", s.Location())
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://app:s3cret@db.example:5432/orderhub?sslmode=disable", "postgres://app:xxxxx@db.example:5432/orderhub?sslmode=disable"},
		{"postgresql://app:p%40ss%2Fword@db/orderhub", "postgresql://app:xxxxx@db/orderhub"},
		{"postgres://app@db/orderhub", "postgres://app@db/orderhub"},
		{"postgres://db/orderhub", "postgres://db/orderhub"},
		{"sqlite://data/orderhub.db", "sqlite://data/orderhub.db"},
		{"postgres://app:s3cret@db:bad port/x", "(unparsable URL)"},
	}
	for _, tt := range tests {
		if got := store.Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestOpenErrorsHidePassword(t *testing.T) {
	ctx := context.Background()
	for _, raw := range []string{
		"mysql://app:s3cret@db/orderhub",                                               // unknown scheme
		"postgres://app:s3cret@127.0.0.1:1/orderhub?sslmode=disable&connect_timeout=2", // nothing listens
	} {
		s, err := store.Open(ctx, raw, store.Options{})
		if err == nil {
			s.Close()
			t.Errorf("Open(%s) succeeded", store.Redact(raw))
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open's error shows the password: %v", err)
		}
	}
}
