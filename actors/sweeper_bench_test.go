package actors_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/cluster/clusterproviders/test"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors"
	"github.com/boxoffice/boxoffice/persistence"
	"github.com/boxoffice/boxoffice/persistence/dbtest"
	"github.com/boxoffice/boxoffice/persistence/pgtest"
)

// BenchmarkHoldsEndAfterNodeDeath measures how late holds end after the
// node that owned their events dies: three members, the victim owns
// BOXOFFICE_SWEEP_EVENTS events (default 300) with one hold each; it dies
// (cluster shutdown without passivation, as a crash leaves PostgreSQL)
// before the holds expire, and the two survivors' sweepers (every second)
// start once every hold is overdue (failure detection took longer than
// the holds had left: the pile-up) and must wake the events so that their
// actors release the holds. drain-s is the time from the sweepers' start
// to the last release; the lateness figures are release minus expiry, as
// `boxoffice check` counts them (they include the pile-up, up to the
// spread of the expiries, which is the time the reserves took). "sequential-all" is the sweeper before the fix (every node
// wakes every event, one at a time); "owned-parallel" the current one.
//
//	go test -run '^$' -bench HoldsEndAfterNodeDeath -benchtime=1x ./actors/
func BenchmarkHoldsEndAfterNodeDeath(b *testing.B) {
	events := 300
	if v := os.Getenv("BOXOFFICE_SWEEP_EVENTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("BOXOFFICE_SWEEP_EVENTS=%q: want a count", v)
		}
		events = n
	}
	for _, c := range []struct {
		name string
		opts func(self *node) actors.SweepOptions
	}{
		{"sequential-all", func(*node) actors.SweepOptions {
			return actors.SweepOptions{Parallel: 1, Owns: func(uuid.UUID) bool { return true }}
		}},
		{"owned-parallel", func(*node) actors.SweepOptions { return actors.DefaultSweepOptions() }},
		// A wake that waits 50 ms more (the owner across a network, a
		// loaded PostgreSQL), to show what the bound buys when wakes wait
		// rather than burn CPU.
		{"sequential-all+50ms", func(n *node) actors.SweepOptions {
			return actors.SweepOptions{Parallel: 1, Owns: func(uuid.UUID) bool { return true }, Touch: slowTouch(n)}
		}},
		{"owned-parallel+50ms", func(n *node) actors.SweepOptions {
			o := actors.DefaultSweepOptions()
			o.Touch = slowTouch(n)
			return o
		}},
	} {
		b.Run(fmt.Sprintf("%s/events=%d", c.name, events), func(b *testing.B) {
			for range b.N {
				late := holdsEndAfterDeath(b, events, c.opts)
				b.ReportMetric(late[len(late)/2].Seconds(), "p50-late-s")
				b.ReportMetric(late[len(late)*99/100].Seconds(), "p99-late-s")
				b.ReportMetric(late[len(late)-1].Seconds(), "max-late-s")
			}
		})
	}
}

// holdsEndAfterDeath runs the scenario once and returns the holds'
// lateness, sorted.
func holdsEndAfterDeath(b *testing.B, events int, opts func(*node) actors.SweepOptions) []time.Duration {
	b.Helper()
	ctx := context.Background()
	db := dbtest.OpenDB(b, pgtest.NewDB(b))
	agent := test.NewInMemAgent()
	ttl := 5*time.Second + time.Duration(events)*30*time.Millisecond // every hold is placed before the victim dies
	nodes := []*node{
		startMemberCfg(b, db, agent, actors.Config{NodeName: "a", HoldTTL: ttl}),
		startMemberCfg(b, db, agent, actors.Config{NodeName: "b", HoldTTL: ttl}),
		startMemberCfg(b, db, agent, actors.Config{NodeName: "victim", HoldTTL: ttl}),
	}
	victim := nodes[2]
	require.Eventually(b, func() bool {
		return victim.cluster.MemberList.Members().Len() == 3
	}, 10*time.Second, 20*time.Millisecond, "three members")
	ids := createOwnedEvents(b, db, victim, events)
	var wg sync.WaitGroup
	errs := make(chan error, len(ids))
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(ids); i += 8 {
				_, err := victim.eng.Reserve(ctx, boxoffice.ReserveRequest{EventID: ids[i], UserID: uuid.New(),
					BookingID: uuid.New(), TicketIDs: []uuid.UUID{boxoffice.NewTicketSpace(ids[i]).ID(1)}})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatalf("reserve: %v", err)
	}
	victim.stop() // holds stay in-progress in PostgreSQL; nobody owns their events
	var expiry time.Time
	if err := db.Pool().QueryRow(ctx, `SELECT max(expires_at) FROM bookings`).Scan(&expiry); err != nil {
		b.Fatal(err)
	}
	if time.Now().After(expiry) {
		b.Fatalf("the holds expired before the victim died; raise the TTL")
	}
	// Failure detection is slower than the holds: every hold is overdue
	// when the survivors' sweepers start (the worst case, a pile-up).
	time.Sleep(time.Until(expiry.Add(100 * time.Millisecond)))
	placed := time.Now()
	sweep, cancel := context.WithCancel(ctx)
	var sweepers sync.WaitGroup
	defer func() { cancel(); sweepers.Wait() }()
	for _, n := range nodes[:2] {
		sweepers.Add(1)
		go func() { // what RunSweeper does, with the case's options
			defer sweepers.Done()
			t := time.NewTicker(time.Second)
			defer t.Stop()
			for {
				select {
				case <-sweep.Done():
					return
				case <-t.C:
				}
				if _, err := n.eng.Sweep(sweep, opts(n)); err != nil && sweep.Err() == nil {
					b.Errorf("sweep: %v", err)
				}
			}
		}()
	}
	b.ResetTimer()
	require.Eventually(b, func() bool {
		var left int
		err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM bookings WHERE status = 'in-progress'`).Scan(&left)
		return err == nil && left == 0
	}, 10*time.Minute, 20*time.Millisecond, "every hold ends")
	b.StopTimer()
	var last time.Time
	if err := db.Pool().QueryRow(ctx, `SELECT max(updated_at) FROM bookings`).Scan(&last); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(last.Sub(placed).Seconds(), "drain-s")
	rows, err := db.Pool().Query(ctx, `SELECT updated_at - expires_at FROM bookings ORDER BY 1`)
	if err != nil {
		b.Fatal(err)
	}
	var late []time.Duration
	for rows.Next() {
		var d time.Duration
		if err := rows.Scan(&d); err != nil {
			b.Fatal(err)
		}
		late = append(late, d)
	}
	if err := rows.Err(); err != nil || len(late) != len(ids) {
		b.Fatalf("%d holds (%v), want %d", len(late), err, len(ids))
	}
	return late
}

// createOwnedEvents creates n four-seat events whose actors the cluster
// places on owner.
func createOwnedEvents(b *testing.B, db *persistence.DB, owner *node, n int) []uuid.UUID {
	b.Helper()
	ctx := context.Background()
	sm := boxoffice.SeatMap{Sections: []boxoffice.Section{{Name: "A", Rows: []boxoffice.Row{{Name: "1", Seats: 4}}}}}
	v, _, err := db.CreateVenue(ctx, boxoffice.Venue{ID: uuid.New(), Name: "Sweep Hall", City: "Madrid",
		Location: boxoffice.Location{Lat: 40.4, Lon: -3.7}, SeatMap: sm})
	if err != nil {
		b.Fatalf("create venue: %v", err)
	}
	p, _, err := db.CreatePerformer(ctx, boxoffice.Performer{ID: uuid.New(), Name: "The Sweepers"})
	if err != nil {
		b.Fatalf("create performer: %v", err)
	}
	var ids []uuid.UUID
	for len(ids) < n {
		id := uuid.New()
		if !owner.eng.Owns(id) {
			continue
		}
		_, _, _, err := db.CreateEvent(ctx, boxoffice.Event{ID: id, Name: "Sweep Night", Type: "concert",
			StartsAt: time.Now().Add(24 * time.Hour), VenueID: v.ID, PerformerID: p.ID, Currency: "EUR",
			Prices: map[string]boxoffice.Money{"A": 1000}})
		if err != nil {
			b.Fatalf("create event: %v", err)
		}
		ids = append(ids, id)
	}
	return slices.Clip(ids)
}

func slowTouch(n *node) func(context.Context, uuid.UUID) error {
	return func(ctx context.Context, id uuid.UUID) error {
		time.Sleep(50 * time.Millisecond)
		return n.eng.Touch(ctx, id)
	}
}
