package actors

import (
	"testing"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice/actors/seatmap"
)

// PassivateAll asks every grain active on this node to passivate, as the
// memory budget does, and returns how many agreed.
func PassivateAll(e *Engine) int {
	c := e.grains.Cluster()
	if c == nil {
		return 0
	}
	n := 0
	e.active.Range(func(_, v any) bool {
		res, err := c.ActorSystem.Root.RequestFuture(v.(*resident).pid, passivateAsk{}, e.cfg.RequestTimeout).Result()
		if r, ok := res.(passivateReply); err == nil && ok && r.ok {
			n++
		}
		return true
	})
	return n
}

// SetActivatedHook makes every grain of this process call f with its event
// and seat map once activated, until the test ends.
func SetActivatedHook(t testing.TB, f func(eventID uuid.UUID, m *seatmap.Map)) {
	t.Helper()
	activatedHook.Store(&f)
	t.Cleanup(func() { activatedHook.Store(nil) })
}
