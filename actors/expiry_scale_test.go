package actors_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors"
)

// stampedPublisher sits in front of a node's recorder and notes the
// engine clock's reading at each frame, so lateness is measured on the
// movable clock, not on wall time.
type stampedPublisher struct {
	inner actors.Publisher
	clock *clock
	mu    sync.Mutex
	at    map[uint64]time.Time // delta version -> clock reading
}

func stamped(p *stampedPublisher) func(*actors.Deps) {
	return func(d *actors.Deps) { p.inner, d.Publisher = d.Publisher, p }
}

func (p *stampedPublisher) PublishSeats(d boxoffice.SeatDelta) error {
	p.mu.Lock()
	p.at[d.Version] = p.clock.Now()
	p.mu.Unlock()
	return p.inner.PublishSeats(d)
}

// venueOf is a venue of exactly seats seats (a multiple of 250).
func venueOf(seats int) boxoffice.SeatMap {
	var rows []boxoffice.Row
	for i := 1; i <= seats/250; i++ {
		rows = append(rows, boxoffice.Row{Name: fmt.Sprint(i), Seats: 250})
	}
	return boxoffice.SeatMap{Sections: []boxoffice.Section{{Name: "A", Rows: rows}}}
}

// TestMassHoldExpiry: 50,000 seats held in 5,000 holds of ten (one user
// each, inside max_tickets_per_user) that all expire at the same moment of
// the movable clock. A nanosecond before it, after several ticks, every hold
// stands; at it, every seat becomes available, each expiry is published to
// the watchers' feed with its own version in order, and each was published
// while the engine's clock still read the expiry moment (none late).
func TestMassHoldExpiry(t *testing.T) {
	const seats, per = 50_000, boxoffice.MaxSeatsPerHold
	const holds = seats / per
	c := newClock()
	pub := &stampedPublisher{clock: c, at: map[uint64]time.Time{}}
	cfg := actors.Config{HoldTTL: time.Hour, TickInterval: 50 * time.Millisecond, Now: c.Now}
	e := newEnv(t, venueOf(seats), cfg)
	e.node.stop()
	e.node = startNode(t, e.db, cfg, stamped(pub))
	expiry := c.Now().Add(time.Hour)

	work := make(chan int)
	errs := make(chan error, holds)
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for h := range work {
				idx := make([]int, per)
				for k := range idx {
					idx[k] = h*per + k
				}
				b, err := e.reserve(t, uuid.New(), idx...)
				if err == nil && !b.ExpiresAt.Equal(expiry) {
					err = fmt.Errorf("hold %d expires at %s, want %s", h, b.ExpiresAt, expiry)
				}
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	for h := range holds {
		work <- h
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("reserve: %v", err)
	}
	if s := e.stats(t); s.Holds != holds || s.Counts.Reserved != seats {
		t.Fatalf("stats = %+v, want %d holds on %d seats", s, holds, seats)
	}

	ticks := countTicks(t)
	c.add(time.Hour - time.Nanosecond)
	ticks.waitMore(t, 3)
	if s := e.stats(t); s.Holds != holds {
		t.Fatalf("a nanosecond before the expiry %d holds stand, want %d", s.Holds, holds)
	}
	c.add(time.Nanosecond)
	require.Eventually(t, func() bool { return len(e.node.pub.all()) >= 2*holds }, 2*time.Minute, 20*time.Millisecond, "every expiry published")

	v := e.statuses(t)
	if v.Version != 2*holds {
		t.Errorf("version = %d, want %d (one record per hold, one per expiry)", v.Version, 2*holds)
	}
	for i, st := range v.Statuses {
		if st != boxoffice.SeatAvailable {
			t.Fatalf("seat %d = %s after the expiry, want available", i, st)
		}
	}
	frames := e.node.pub.all()
	if len(frames) != 2*holds {
		t.Fatalf("%d frames published, want %d", len(frames), 2*holds)
	}
	told := map[uuid.UUID]bool{}
	pub.mu.Lock()
	defer pub.mu.Unlock()
	for i, d := range frames {
		if d.Version != uint64(i+1) {
			t.Fatalf("frame %d has version %d: out of order or a gap", i, d.Version)
		}
		if i < holds {
			continue
		}
		if at := pub.at[d.Version]; !at.Equal(expiry) {
			t.Errorf("expiry of version %d published at %s on the engine's clock, want %s (late)", d.Version, at, expiry)
		}
		for _, ch := range d.Changes {
			if ch.Status != boxoffice.SeatAvailable {
				t.Fatalf("expiry frame %d tells %s = %s, want available", d.Version, ch.TicketID, ch.Status)
			}
			told[ch.TicketID] = true
		}
	}
	if len(told) != seats {
		t.Errorf("watchers were told of %d freed seats, want %d", len(told), seats)
	}
	var expired int
	if err := e.db.Pool().QueryRow(context.Background(),
		`SELECT count(*) FROM bookings WHERE event_id = $1 AND status = 'expired'`, e.eventID).Scan(&expired); err != nil || expired != holds {
		t.Errorf("expired bookings in PostgreSQL = %d, %v; want %d", expired, err, holds)
	}
}
