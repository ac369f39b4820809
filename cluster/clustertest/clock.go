package clustertest

import (
	"sync"
	"time"
)

// Clock is a clock the test moves. The grains, rooms and nodes under test
// take its Now instead of time.Now, so holds expire and fans are admitted
// when the test says, not when a loaded machine gets round to it.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock standing at start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now is the clock's time; it changes only through Advance.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}
