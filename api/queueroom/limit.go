package queueroom

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/boxoffice/boxoffice"
)

// limiter keeps one token bucket per key (a user or an address).
type limiter struct {
	limit   rate.Limit
	burst   int
	maxKeys int

	mu    sync.Mutex // guards m and swept
	m     map[string]*rate.Limiter
	swept time.Time // last full sweep; at most one a second
}

func newLimiter(perSecond float64, burst, maxKeys int) *limiter {
	return &limiter{limit: rate.Limit(perSecond), burst: burst, maxKeys: maxKeys, m: map[string]*rate.Limiter{}}
}

// allow takes a token from key's bucket, or says how long until one is
// there.
func (l *limiter) allow(key string, now time.Time) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.m[key]
	if b == nil {
		if len(l.m) >= l.maxKeys {
			l.evict(now)
		}
		b = rate.NewLimiter(l.limit, l.burst)
		l.m[key] = b
	}
	if b.AllowN(now, 1) {
		return 0, true
	}
	return time.Duration((1 - b.TokensAt(now)) / float64(l.limit) * float64(time.Second)), false
}

// evict makes room in a full limiter: it forgets the buckets that have
// refilled (a fresh bucket behaves the same), at most once a second so a
// flood of new keys does not make every request scan them all, and
// otherwise any one bucket.
func (l *limiter) evict(now time.Time) {
	if now.Sub(l.swept) >= time.Second {
		l.swept = now
		n := len(l.m)
		for k, b := range l.m {
			if b.TokensAt(now) >= float64(l.burst) {
				delete(l.m, k)
			}
		}
		if len(l.m) < n {
			return
		}
	}
	for k := range l.m {
		delete(l.m, k)
		return
	}
}

// rateLimited is the 429 of a join over a limit; the Retry-After header
// is set from wait before the error is written.
func rateLimited(w http.ResponseWriter, wait time.Duration) error {
	s := max(int64(math.Ceil(wait.Seconds())), 1)
	w.Header().Set("Retry-After", strconv.FormatInt(s, 10))
	return boxoffice.Errorf(boxoffice.ERateLimited, "too many joins; retry in %d s", s)
}
