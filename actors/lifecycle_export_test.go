package actors

import (
	"testing"

	"github.com/boxoffice/boxoffice/cluster"
)

// SetReceiveHook makes every grain of this process call f with each
// message before handling it, until the test ends.
func SetReceiveHook(t testing.TB, f func(msg any)) {
	t.Helper()
	receiveHook.Store(&f)
	t.Cleanup(func() { receiveHook.Store(nil) })
}

// EscapePanics lets grain panics reach Proto.Actor's supervisor (which
// restarts the grain in place) until the test ends.
func EscapePanics(t testing.TB) {
	t.Helper()
	escapePanics.Store(true)
	t.Cleanup(func() { escapePanics.Store(false) })
}

// CallerOf is the Caller the engine calls grains through (nil when detached).
func CallerOf(e *Engine) *cluster.Caller { return e.grains.Caller() }
