package actors_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice/actors"
)

// clock is a movable clock for actors.Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

// newClock starts at a whole second, so that times the engine derives from
// it survive PostgreSQL's microsecond precision unchanged.
func newClock() *clock { return &clock{t: time.Now().UTC().Truncate(time.Second)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// gate is a Journal in front of the real one that holds commits back
// while it is shut, so a test can act while a change is staged in the
// grain but not yet durable.
type gate struct {
	inner boxoffice.Journal
	mu    sync.Mutex
	shut  bool
	held  []func()
}

// gated wraps a node's journal in g.
func gated(g *gate) func(*actors.Deps) {
	return func(d *actors.Deps) { g.inner, d.Journal = d.Journal, g }
}

func (g *gate) Submit(c boxoffice.Commit, done func(error)) {
	g.mu.Lock()
	if g.shut {
		g.held = append(g.held, func() { g.inner.Submit(c, done) })
		g.mu.Unlock()
		return
	}
	g.mu.Unlock()
	g.inner.Submit(c, done)
}

func (g *gate) close() { g.mu.Lock(); g.shut = true; g.mu.Unlock() }

// open lets every held commit through, in order, and later ones at once.
func (g *gate) open() {
	g.mu.Lock()
	held := g.held
	g.shut, g.held = false, nil
	g.mu.Unlock()
	for _, f := range held {
		f()
	}
}

func (g *gate) pending() int { g.mu.Lock(); defer g.mu.Unlock(); return len(g.held) }

// outcomes counts the engine's decided commands (actors.Metrics), so a
// test can wait until the grain has decided one.
type outcomes struct {
	mu sync.Mutex
	n  map[string]int
}

func counting(o *outcomes) func(*actors.Deps) {
	return func(d *actors.Deps) { d.Metrics = o }
}

func (o *outcomes) Outcome(op, result string, _ int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.n == nil {
		o.n = map[string]int{}
	}
	o.n[op+" "+result]++
}

func (o *outcomes) count(what string) int { o.mu.Lock(); defer o.mu.Unlock(); return o.n[what] }

// waitOutcome waits until the grain has decided what (e.g. "confirm
// not_found") at least n times.
func waitOutcome(t testing.TB, o *outcomes, what string, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return o.count(what) >= n }, 10*time.Second, 20*time.Millisecond, what)
}

// msgCounter counts the grain messages of one type the receive hook sees.
type msgCounter struct {
	mu    sync.Mutex
	count int
}

func (m *msgCounter) n() int { m.mu.Lock(); defer m.mu.Unlock(); return m.count }

// waitMore waits until k more messages have arrived than when it was called.
func (m *msgCounter) waitMore(t testing.TB, k int) {
	t.Helper()
	from := m.n()
	require.Eventually(t, func() bool { return m.n() >= from+k }, 20*time.Second, 20*time.Millisecond, "grain messages")
}

// countMessages counts, until the test ends, the messages every grain of
// this process receives whose type is typ (as %T prints it).
func countMessages(t testing.TB, typ string) *msgCounter {
	t.Helper()
	m := &msgCounter{}
	actors.SetReceiveHook(t, func(msg any) {
		if fmt.Sprintf("%T", msg) == typ {
			m.mu.Lock()
			m.count++
			m.mu.Unlock()
		}
	})
	return m
}

// countTicks counts the grains' expiry ticks.
func countTicks(t testing.TB) *msgCounter { return countMessages(t, "actors.tick") }

// countReserves counts the reserve commands the grains receive.
func countReserves(t testing.TB) *msgCounter { return countMessages(t, "*grainpb.Reserve") }
