package store

import (
	"database/sql"
	"sync"
	"time"
)

// checkpointer copies SQLite's write-ahead log back into the database file
// from its own connection. Left to SQLite, every thousandth page committed
// makes the committing transaction copy the log itself; with all pushes
// sharing one writer, that stalled every push in flight behind a copy of
// megabytes. Here the writer never checkpoints (wal_autocheckpoint=0) and
// this connection does, passively, beside it.
type checkpointer struct {
	db       *sql.DB
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

const (
	checkpointEvery = 20 * time.Millisecond
	// restartFrames is the log size (in pages) at which the checkpointer
	// briefly holds writers back to finish the copy and let the log start
	// over. Passive copies alone never catch up with a writer that never
	// pauses, and the log would grow without end.
	restartFrames = 16384
)

func startCheckpointer(dsn string) (*checkpointer, error) {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, err
	}
	c := &checkpointer{db: db, stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c, nil
}

func (c *checkpointer) run() {
	defer close(c.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		var busy, logFrames, copied int
		if err := c.db.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logFrames, &copied); err != nil {
			continue // the next tick tries again; the log only grows meanwhile
		}
		if logFrames >= restartFrames {
			_ = c.db.QueryRow(`PRAGMA wal_checkpoint(RESTART)`).Scan(&busy, &logFrames, &copied)
		}
	}
}

func (c *checkpointer) close() error {
	c.stopOnce.Do(func() { close(c.stop) })
	<-c.done
	return c.db.Close()
}
