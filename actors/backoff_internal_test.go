package actors

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestActivationBackoff: each failed activation doubles the pause before
// the next, from 50ms up to 30s; a success forgets the failures.
func TestActivationBackoff(t *testing.T) {
	e := &Engine{}
	ev := uuid.New()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	if d := e.holdOff(ev, now); d != 0 {
		t.Fatalf("before any failure: hold off %v", d)
	}
	ms := time.Millisecond
	want := []time.Duration{50 * ms, 100 * ms, 200 * ms, 400 * ms, 800 * ms, 1600 * ms, 3200 * ms, 6400 * ms,
		12800 * ms, 25600 * ms, 30 * time.Second, 30 * time.Second, 30 * time.Second}
	for i, w := range want {
		e.activated(ev, now, true)
		if d := e.holdOff(ev, now); d != w {
			t.Fatalf("after failure %d: hold off %v, want %v", i+1, d, w)
		}
		if d := e.holdOff(ev, now.Add(w)); d != 0 {
			t.Fatalf("after failure %d, once the pause is over: hold off %v", i+1, d)
		}
		if d := e.holdOff(uuid.New(), now); d != 0 {
			t.Fatalf("another event is held off %v", d)
		}
	}
	e.activated(ev, now, false)
	if d := e.holdOff(ev, now); d != 0 {
		t.Fatalf("after a success: hold off %v", d)
	}
	e.activated(ev, now, true)
	if d := e.holdOff(ev, now); d != want[0] {
		t.Fatalf("first failure after a success: hold off %v, want %v", d, want[0])
	}
}

// TestActivationBackoffIsBounded: failures of events not tried again are
// swept once many are kept.
func TestActivationBackoffIsBounded(t *testing.T) {
	e := &Engine{}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for range 3 * maxFailedEvents {
		e.activated(uuid.New(), now, true)
		now = now.Add(time.Second)
	}
	if n := len(e.failed); n > maxFailedEvents {
		t.Fatalf("%d events' failures kept, want at most %d", n, maxFailedEvents)
	}
}
