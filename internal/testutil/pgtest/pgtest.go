// Package pgtest gives each test its own fresh PostgreSQL database on the
// throwaway cluster that scripts/test starts.
//
// scripts/test starts a private PostgreSQL server for the duration of the run
// and exports its admin URL as ORDERHUB_TEST_POSTGRES_URL (and
// ORDERHUB_REQUIRE_POSTGRES=1). A test asks for a database with
//
//	dbURL := pgtest.URL(t)
//
// and gets a URL to a new, empty database that nobody else uses and that is
// dropped when the test ends. Plain `go test` without that variable skips such
// tests instead of failing them.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

const (
	// envURL holds the admin URL of the server tests create their databases on.
	envURL = "ORDERHUB_TEST_POSTGRES_URL"
	// envRequire, set to 1, turns a missing envURL into a test failure
	// instead of a skip, so a broken scripts/test cannot pass by skipping.
	envRequire = "ORDERHUB_REQUIRE_POSTGRES"

	// namePrefix starts the name of every database URL creates.
	namePrefix = "orderhub_test_"

	opTimeout = 30 * time.Second
)

// URL returns a connection URL to a new, empty database created for this test
// and dropped (WITH (FORCE)) when the test ends.
//
// Without ORDERHUB_TEST_POSTGRES_URL it calls t.Skip with a message saying how
// to run it (./scripts/test), unless ORDERHUB_REQUIRE_POSTGRES=1, in which case
// it calls t.Fatal.
//
// The returned URL is the admin URL with its path replaced by the new
// database's name; query parameters such as sslmode are kept. Connections
// still open when the test ends are terminated by the drop, but closing them
// first (register their Close with t.Cleanup after calling URL) is tidier.
func URL(t testing.TB) string {
	t.Helper()

	admin := os.Getenv(envURL)
	if admin == "" {
		msg := "pgtest: " + envURL + " is not set: run the tests with ./scripts/test " +
			"(it starts a throwaway PostgreSQL server), or point " + envURL +
			" at a server where this user may create databases"
		if os.Getenv(envRequire) == "1" {
			t.Fatal(msg + " (" + envRequire + "=1, so this is a failure, not a skip)")
		}
		t.Skip(msg)
	}

	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("pgtest: %s must be a postgres:// URL, got %q", envURL, redact(admin))
	}

	name, err := newName()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}

	if err := createDatabase(admin, name); err != nil {
		t.Fatalf("pgtest: create database %s on %s: %v", name, redact(admin), err)
	}
	t.Cleanup(func() {
		if err := dropDatabase(admin, name); err != nil {
			t.Errorf("pgtest: drop database %s on %s: %v", name, redact(admin), err)
		}
	})

	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}

func newName() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random database name: %w", err)
	}
	return namePrefix + hex.EncodeToString(b), nil
}

func createDatabase(admin, name string) error {
	// template0 makes the database truly empty and, as nobody can connect to
	// it, avoids "source database is being accessed by other users" when
	// many tests create databases at once.
	return adminExec(admin, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" TEMPLATE template0")
}

func dropDatabase(admin, name string) error {
	return adminExec(admin, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
}

// adminExec runs one statement on its own connection to the admin URL.
// CREATE/DROP DATABASE cannot run inside a transaction block, and a fresh
// connection per call keeps URL free of shared state between tests.
func adminExec(admin, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) {
			return fmt.Errorf("%s (SQLSTATE %s)", pgErr.Message, pgErr.Code)
		}
		return err
	}
	return nil
}

// redact hides a password in a URL so it does not end up in test logs.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
