// Package fakeclock is a clock tests move by hand, shared by a simulator
// and the clients under test so that both see the same time: windows,
// signatures' ages and rate limits can then be crossed without sleeping.
package fakeclock

import (
	"sync"
	"time"
)

// Clock is a time that moves only when Add is called. It is safe for
// concurrent use: a simulator reads it from its handler goroutines.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// New returns a clock standing at t.
func New(t time.Time) *Clock { return &Clock{now: t} }

// Now is the clock's time; pass the method value where a func() time.Time
// is wanted.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
