package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"orderhub/internal/order"
	"orderhub/internal/store"
)

// The writer never checkpoints; the store's own checkpointer must copy the
// log into the database file beside it, or the file would never grow and the
// log never stop growing.
func TestSQLiteCheckpointsInBackground(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	s, err := store.Open(context.Background(), "sqlite://"+path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	size := func(p string) int64 {
		fi, err := os.Stat(p)
		if err != nil {
			return 0
		}
		return fi.Size()
	}
	before := size(path)
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	raw := make([]byte, 4096)
	for b := 0; b < 20; b++ {
		var batch []store.Incoming
		for i := 0; i < 50; i++ {
			no := fmt.Sprintf("C%02d%03d", b, i)
			batch = append(batch, store.Incoming{
				Order: order.Order{Source: "shop", OrderNo: no, Status: order.StatusPaid, CreatedAt: at},
				Raw:   append([]byte(no), raw...), ReceivedAt: at,
			})
		}
		if _, err := s.Apply(context.Background(), batch, nil); err != nil {
			t.Fatal(err)
		}
	}
	// 1000 orders of 4 KiB: some 4 MiB that must reach the database file.
	deadline := time.Now().Add(5 * time.Second)
	for size(path)-before < 4<<20 {
		if time.Now().After(deadline) {
			t.Fatalf("database file grew by %d bytes in 5s (log: %d bytes); the log is not being checkpointed", size(path)-before, size(path+"-wal"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Under a writer that never pauses, the log must still start over once it is
// long: the writer catches up after a commit and its next transaction
// rewinds the log. Without that the log file grows with everything written.
func TestSQLiteLogStartsOverUnderConstantWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.db")
	const restartFrames = 256 // 1 MiB of 4 KiB pages
	s, err := store.Open(context.Background(), "sqlite://"+path, store.WithCheckpoints(store.Options{}, restartFrames, 20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	raw := make([]byte, 4096)
	const batches, per = 200, 20 // some 16 MiB of payload, written back to back
	for b := 0; b < batches; b++ {
		var batch []store.Incoming
		for i := 0; i < per; i++ {
			no := fmt.Sprintf("R%03d%02d", b, i)
			batch = append(batch, store.Incoming{
				Order: order.Order{Source: "shop", OrderNo: no, Status: order.StatusPaid, CreatedAt: at},
				Raw:   append([]byte(no), raw...), ReceivedAt: at,
			})
		}
		if _, err := s.Apply(context.Background(), batch, nil); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	// A log that never started over holds every page written (over 16 MiB).
	// One that does stays near the threshold: one checkpoint interval of
	// writes past it, plus the batch that found it.
	if limit := int64(8 << 20); fi.Size() > limit {
		t.Errorf("log file is %d bytes after %d batches of %d orders; want it to start over below %d", fi.Size(), batches, per, limit)
	}
	n, err := s.Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n.Orders != batches*per {
		t.Errorf("%d orders stored, want %d", n.Orders, batches*per)
	}
}
