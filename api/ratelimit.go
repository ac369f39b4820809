package api

import (
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/boxoffice/boxoffice"
)

// rateLimitedError is a 429 that knows when the caller may retry, for the
// Retry-After header.
type rateLimitedError struct {
	wait time.Duration
	err  *boxoffice.Error
}

// Error implements error.
func (e *rateLimitedError) Error() string { return e.err.Error() }

// Unwrap exposes the *boxoffice.Error so that the code table applies.
func (e *rateLimitedError) Unwrap() error { return e.err }

// retryAfter is the wait in whole seconds, rounded up and at least 1, as
// the Retry-After header wants it.
func (e *rateLimitedError) retryAfter() string {
	s := int64(math.Ceil(e.wait.Seconds()))
	return strconv.FormatInt(max(s, 1), 10)
}

const limiterShards = 16

// Limiter keeps one token bucket per key, in shards so that concurrent
// requests of different keys rarely share a lock. A nil *Limiter allows
// everything. It is exported so that plugs with limits of their own (the
// waiting room's joins) use the API's buckets rather than a copy.
type Limiter struct {
	limit    rate.Limit
	burst    int
	perShard int
	shards   [limiterShards]limiterShard
}

type limiterShard struct {
	mu    sync.Mutex // guards m and swept
	m     map[string]*rate.Limiter
	swept time.Time // the last sweep by evict
}

// NewLimiter returns the limiter of c, keeping at most about maxKeys
// buckets; nil (allow everything) when c is off.
func NewLimiter(c RateConfig, maxKeys int) *Limiter {
	if c.PerSecond <= 0 {
		return nil
	}
	l := &Limiter{limit: rate.Limit(c.PerSecond), burst: c.Burst, perShard: max(1, maxKeys/limiterShards)}
	for i := range l.shards {
		l.shards[i].m = make(map[string]*rate.Limiter)
	}
	return l
}

// allow takes a token from key's bucket, or returns a rate_limited error
// saying how long until one is there.
func (l *Limiter) allow(key string, now time.Time) error {
	wait, ok := l.Take(key, now)
	if ok {
		return nil
	}
	return &rateLimitedError{wait: wait, err: boxoffice.Errorf(boxoffice.ERateLimited,
		"too many requests; retry in %s", wait.Round(time.Millisecond))}
}

// Take takes a token from key's bucket, or says how long until one is
// there.
func (l *Limiter) Take(key string, now time.Time) (wait time.Duration, ok bool) {
	if l == nil {
		return 0, true
	}
	sh := &l.shards[shardOf(key)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b := sh.m[key]
	if b == nil {
		if len(sh.m) >= l.perShard {
			l.evict(sh, now)
		}
		b = rate.NewLimiter(l.limit, l.burst)
		sh.m[key] = b
	}
	if b.AllowN(now, 1) {
		return 0, true
	}
	return time.Duration((1 - b.TokensAt(now)) / float64(l.limit) * float64(time.Second)), false
}

// evict makes room in a full shard: first the buckets that have refilled
// (a fresh bucket behaves the same), then, if none has, any one bucket.
// It sweeps a shard at most once a second, so that a flood of new keys
// does not make every request scan a full shard.
func (l *Limiter) evict(sh *limiterShard, now time.Time) {
	if now.Sub(sh.swept) >= time.Second {
		sh.swept = now
		if l.sweepShard(sh, now) > 0 {
			return
		}
	}
	for k := range sh.m {
		delete(sh.m, k)
		return
	}
}

// sweep drops every refilled bucket; the server calls it periodically so
// that memory follows the active keys, not every key ever seen.
func (l *Limiter) sweep(now time.Time) {
	if l == nil {
		return
	}
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		l.sweepShard(sh, now)
		sh.mu.Unlock()
	}
}

func (l *Limiter) sweepShard(sh *limiterShard, now time.Time) int {
	n := 0
	for k, b := range sh.m {
		if b.TokensAt(now) >= float64(l.burst) {
			delete(sh.m, k)
			n++
		}
	}
	return n
}

// size is the number of buckets kept, for tests.
func (l *Limiter) size() int {
	if l == nil {
		return 0
	}
	n := 0
	for i := range l.shards {
		l.shards[i].mu.Lock()
		n += len(l.shards[i].m)
		l.shards[i].mu.Unlock()
	}
	return n
}

// shardOf is FNV-1a over the key.
func shardOf(key string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(key); i++ {
		h ^= uint32(key[i])
		h *= 16777619
	}
	return h % limiterShards
}

// String describes the limit for logs.
func (c RateConfig) String() string {
	if c.PerSecond <= 0 {
		return "off"
	}
	return fmt.Sprintf("%g/s burst %d", c.PerSecond, c.Burst)
}
