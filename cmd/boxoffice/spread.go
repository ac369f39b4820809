package main

import (
	"context"
	"sync"
	"time"
)

// reserveRate is a node's reserves per second over the last few seconds,
// for the admin dashboard's spread (GET /admin/api/cluster): it samples the
// engine's count of decided reserves every second.
type reserveRate struct {
	mu      sync.Mutex
	samples []rateSample // oldest first, at most rateWindow+1
}

type rateSample struct {
	at    time.Time
	count uint64
}

// rateWindow is how many one-second samples the rate spans.
const rateWindow = 5

// run samples count every second until ctx ends.
func (r *reserveRate) run(ctx context.Context, count func() uint64) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	r.sample(time.Now(), count())
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			r.sample(now, count())
		}
	}
}

func (r *reserveRate) sample(at time.Time, count uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.samples = append(r.samples, rateSample{at, count})
	if len(r.samples) > rateWindow+1 {
		r.samples = r.samples[1:]
	}
}

// perSecond is the rate between the oldest and the newest sample (0 before
// two samples).
func (r *reserveRate) perSecond() float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.samples) < 2 {
		return 0
	}
	a, b := r.samples[0], r.samples[len(r.samples)-1]
	secs := b.at.Sub(a.at).Seconds()
	if secs <= 0 || b.count < a.count {
		return 0
	}
	return float64(b.count-a.count) / secs
}
