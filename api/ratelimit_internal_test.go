package api

import (
	"strconv"
	"testing"
	"time"
)

// TestLimiterBoundedMemory: a flood of distinct keys never holds more than
// the bound, and refilled buckets are swept.
func TestLimiterBoundedMemory(t *testing.T) {
	l := NewLimiter(RateConfig{PerSecond: 10, Burst: 5}, 160)
	now := time.Unix(1_000_000, 0)
	for i := 0; i < 100_000; i++ {
		if err := l.allow("10.0."+strconv.Itoa(i), now); err != nil {
			t.Fatalf("first request of a new key limited: %v", err)
		}
	}
	if n := l.size(); n > 160 {
		t.Fatalf("%d buckets kept, bound 160", n)
	}
	l.sweep(now.Add(time.Second)) // 0.5 s refills 5 tokens at 10/s
	if n := l.size(); n != 0 {
		t.Fatalf("%d buckets left after they refilled", n)
	}
}

// TestLimiterSweepsOnceASecond: a full shard is swept for refilled buckets
// at most once a second (the waiting room's join limits, with a million
// keys, must not scan a shard on every new key of a flood); in between, one
// bucket makes room for the next.
func TestLimiterSweepsOnceASecond(t *testing.T) {
	l := NewLimiter(RateConfig{PerSecond: 10, Burst: 1}, 4*limiterShards)
	now := time.Unix(1_000_000, 0)
	key := 0
	add := func(at time.Time) {
		t.Helper()
		key++
		if err := l.allow("k"+strconv.Itoa(key), at); err != nil {
			t.Fatalf("first request of a new key limited: %v", err)
		}
	}
	for range 1000 { // every shard full and swept at now
		add(now)
	}
	full := l.size()
	if full != 4*limiterShards {
		t.Fatalf("%d buckets after the flood, want the bound %d", full, 4*limiterShards)
	}
	add(now.Add(500 * time.Millisecond)) // all refilled, but swept 0.5 s ago
	if n := l.size(); n != full {
		t.Fatalf("%d buckets, want %d: a shard was swept twice within a second", n, full)
	}
	add(now.Add(time.Second))
	if n := l.size(); n != full-3 {
		t.Fatalf("%d buckets, want %d: the shard's refilled buckets swept a second later", n, full-3)
	}
}

func TestLimiterRetryAfter(t *testing.T) {
	l := NewLimiter(RateConfig{PerSecond: 0.25, Burst: 1}, 10)
	now := time.Unix(1_000_000, 0)
	if err := l.allow("k", now); err != nil {
		t.Fatal(err)
	}
	err := l.allow("k", now)
	rl, ok := err.(*rateLimitedError)
	if !ok {
		t.Fatalf("second request: %v, want a rate limit", err)
	}
	if got := rl.retryAfter(); got != "4" {
		t.Errorf("Retry-After %s, want 4 at 0.25/s", got)
	}
	if err := l.allow("k", now.Add(4*time.Second)); err != nil {
		t.Errorf("after Retry-After: %v", err)
	}
	var off *Limiter // a limit that is off allows everything
	if err := off.allow("k", now); err != nil || NewLimiter(RateConfig{}, 10) != nil {
		t.Error("a disabled limiter limited")
	}
}
