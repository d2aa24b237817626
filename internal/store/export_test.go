package store

import "time"

// WithCheckpoints sets the log length at which the writer helps SQLite's log
// start over and the spacing of background checkpoints, so that a test
// reaches them with little data and time.
func WithCheckpoints(o Options, restartFrames int, every time.Duration) Options {
	o.restartFrames, o.checkpointEvery = restartFrames, every
	return o
}
