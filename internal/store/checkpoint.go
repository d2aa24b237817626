package store

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"time"
)

// checkpointer copies SQLite's write-ahead log back into the database file
// from its own connection. Left to SQLite, every thousandth page committed
// makes the committing transaction copy the log itself; with all pushes
// sharing one writer, that stalled every push in flight behind a copy of
// megabytes. Here the writer never checkpoints on its own
// (wal_autocheckpoint=0) and this connection does, passively, beside it.
//
// Copying alone does not let the log start over: SQLite rewinds it only when
// a write transaction begins with every frame already copied, and beside a
// writer that never pauses the copy is always a commit behind. Once the log
// passes restartFrames, the writer itself, right after a commit, copies the
// few frames the background has not yet (catchUp), so its next transaction
// finds the log fully copied and rewinds it. The blocking alternative, a
// RESTART checkpoint from this connection, held every writer back while it
// waited for readers: 30–480 ms stalls of all pushes under load.
type checkpointer struct {
	db            *sql.DB
	restartFrames int
	every         time.Duration // checkpointEvery, shorter in tests
	// rewind asks the writer to catch up after its next commit.
	rewind   atomic.Bool
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

const (
	// checkpointEvery spaces the background copies. Each copy ends with an
	// fsync of the database file, which queues on the disk with the log
	// fsync every commit waits for; and a page changed by many commits in
	// between (the last page of every table, the upper levels of every
	// index) is copied once per pass, not once per commit.
	checkpointEvery = 250 * time.Millisecond
	// rewindEvery is the spacing while the log is past restartFrames, so
	// that the writer's own catch-up finds little left to copy.
	rewindEvery = 10 * time.Millisecond
	// defaultRestartFrames is the log size (in pages, 64 MiB of 4 KiB
	// pages) from which the writer helps the log start over.
	defaultRestartFrames = 16384
)

func startCheckpointer(dsn string, restartFrames int, every time.Duration) (*checkpointer, error) {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, err
	}
	c := &checkpointer{db: db, restartFrames: restartFrames, every: every, stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c, nil
}

func (c *checkpointer) run() {
	defer close(c.done)
	t := time.NewTimer(c.every)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		var busy, logFrames, copied int
		if err := c.db.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logFrames, &copied); err != nil {
			t.Reset(c.every) // the next pass tries again; the log only grows meanwhile
			continue
		}
		long := logFrames >= c.restartFrames
		c.rewind.Store(long)
		if long {
			t.Reset(rewindEvery)
		} else {
			t.Reset(c.every)
		}
	}
}

// catchUp runs on the writer's connection between transactions when the log
// is long: a passive copy of what is left, so that the next write
// transaction rewinds the log. It never waits for readers; if one still
// reads old frames the copy stops short and the next commit tries again.
func (c *checkpointer) catchUp(ctx context.Context, write *sql.DB) {
	if !c.rewind.Load() {
		return
	}
	var busy, logFrames, copied int
	if err := write.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logFrames, &copied); err != nil {
		return // another checkpoint was running; the next commit tries again
	}
	if busy == 0 && copied == logFrames {
		c.rewind.Store(false) // the background sets it again if the log did not rewind
	}
}

func (c *checkpointer) close() error {
	c.stopOnce.Do(func() { close(c.stop) })
	<-c.done
	return c.db.Close()
}
