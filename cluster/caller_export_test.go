package cluster

import "testing"

// LeaveAfterReply makes every Caller learn that the member it called left
// right after the call's reply arrived, until the test ends.
func LeaveAfterReply(t testing.TB) {
	t.Helper()
	f := func(k *Caller, addr string) { k.departed(addr) }
	afterResult.Store(&f)
	t.Cleanup(func() { afterResult.Store(nil) })
}
