package store

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"orderhub/internal/testutil/pgtest"
)

// TestMessagesMoveToTheirOwnTable opens, with this code, a database that
// migration 0006 has not seen yet, holding a delivery whose message is in
// its row: the message is read back from its new table, and the delivery
// still counts as queued once (its dedupe key holds).
func TestMessagesMoveToTheirOwnTable(t *testing.T) {
	for _, tc := range []struct {
		dialect Dialect
		driver  string
		url     func(t *testing.T) (raw, store string)
	}{
		{SQLite, "sqlite", func(t *testing.T) (string, string) {
			path := filepath.Join(t.TempDir(), "o.db")
			return "file:" + path, "sqlite://" + path
		}},
		{Postgres, "pgx", func(t *testing.T) (string, string) {
			u := pgtest.URL(t)
			return u, u
		}},
	} {
		t.Run(string(tc.dialect), func(t *testing.T) {
			ctx := context.Background()
			rawURL, storeURL := tc.url(t)
			raw, err := sql.Open(tc.driver, rawURL)
			if err != nil {
				t.Fatal(err)
			}
			applyMigrationsBefore(t, raw, tc.dialect, 6)
			const msg = `{"title":"新订单 D1","markdown":"### 新订单 D1"}`
			var id int64
			if err := raw.QueryRowContext(ctx, `INSERT INTO deliveries (system, rule, dedupe_key, kind, state, message, due_at, created_at, updated_at)
				VALUES ('ops_ding', 'new_order', 'new_order:1:created', 'message', 'queued', '`+msg+`', 1, 1, 1) RETURNING id`).Scan(&id); err != nil {
				t.Fatal(err)
			}
			if err := raw.Close(); err != nil {
				t.Fatal(err)
			}

			s, err := Open(ctx, storeURL, Options{})
			if err != nil {
				t.Fatalf("Open after the earlier migrations: %v", err)
			}
			defer s.Close()
			d, _, err := s.GetDelivery(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if string(d.Message) != msg || d.State != DeliveryQueued {
				t.Errorf("delivery %d after the migration: state %s, message %s; want queued, %s", id, d.State, d.Message, msg)
			}
			tx, err := s.write.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			again := []NewDelivery{
				{System: "ops_ding", Rule: "new_order", Key: "new_order:1:created", Kind: KindMessage, State: DeliveryQueued, Message: []byte(`{"title":"again"}`)},
				{System: "ops_ding", Rule: "new_order", Key: "new_order:2:created", Kind: KindMessage, State: DeliveryQueued, Message: []byte(`{"title":"D2"}`)},
			}
			n, err := s.QueueDeliveries(ctx, tx, again, time.Now())
			if err != nil || n != 1 {
				t.Fatalf("QueueDeliveries of one recorded and one new message = %d, %v; want 1", n, err)
			}
			q, err := s.Queued(ctx, tx, "ops_ding", time.Now(), 10)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range q {
				got = append(got, d.Key+" "+string(d.Message))
			}
			want := []string{"new_order:1:created " + msg, `new_order:2:created {"title":"D2"}`}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("queue after the migration:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// applyMigrationsBefore applies the embedded migrations numbered below
// upTo to db, as an earlier build would have, with their records.
func applyMigrationsBefore(t *testing.T, db *sql.DB, d Dialect, upTo int) {
	t.Helper()
	if _, err := db.Exec(`CREATE TABLE orderhub_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	dir := "migrations/" + string(d)
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		num, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0])
		if err != nil || num >= upTo {
			continue
		}
		body, err := migrationFS.ReadFile(dir + "/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		for _, stmt := range splitStatements(string(body)) {
			if _, err := db.Exec(stmt); err != nil {
				t.Fatalf("%s: %v\n%s", e.Name(), err, stmt)
			}
		}
		if _, err := db.Exec(`INSERT INTO orderhub_migrations (version, name, applied_at) VALUES (` + strconv.Itoa(num) + `, '` + e.Name() + `', 1)`); err != nil {
			t.Fatal(err)
		}
	}
}
