package baseline_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/persistence"
	"github.com/boxoffice/boxoffice/persistence/baseline"
	"github.com/boxoffice/boxoffice/persistence/pgtest"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestReserveConventional(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, pgtest.NewDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	db := baseline.New(pool)
	event := uuid.New()
	if err := db.Setup(ctx, event, 100); err != nil {
		t.Fatal(err)
	}
	s := boxoffice.NewTicketSpace(event)
	cases := []struct {
		seats []int
		want  bool
	}{
		{[]int{1, 2}, true},
		{[]int{2, 3}, false}, // 2 is taken: all or nothing
		{[]int{3}, true},     // so 3 was left available
		{[]int{99, 4}, true},
	}
	for _, tc := range cases {
		ids := make([]uuid.UUID, len(tc.seats))
		for i, n := range tc.seats {
			ids[i] = s.ID(n)
		}
		ok, err := db.Reserve(ctx, uuid.New(), ids)
		if err != nil || ok != tc.want {
			t.Fatalf("reserve %v: %v %v, want %v", tc.seats, ok, err, tc.want)
		}
	}
	var reserved int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM baseline_tickets WHERE status = 'reserved'`).Scan(&reserved); err != nil || reserved != 5 {
		t.Fatalf("%d reserved (%v), want 5", reserved, err)
	}
	if err := db.Setup(ctx, event, 10); err != nil {
		t.Fatalf("setup again: %v", err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM baseline_tickets WHERE status = 'available'`).Scan(&n); err != nil || n != 10 {
		t.Fatalf("after a second setup %d available (%v), want 10", n, err)
	}
}

func TestHoldStrong(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pdb, err := persistence.Open(ctx, persistence.Config{URL: pgtest.NewDB(t), MaxConns: 20})
	if err != nil {
		t.Fatal(err)
	}
	defer pdb.Close()
	if err := pdb.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	pool := pdb.Pool()
	db := baseline.New(pool)
	event := uuid.New()
	if err := db.Setup(ctx, event, 100); err != nil {
		t.Fatal(err)
	}
	s := boxoffice.NewTicketSpace(event)
	cases := []struct {
		seats []int
		want  bool
	}{
		{[]int{1}, true},
		{[]int{1}, false},
		{[]int{2, 3}, true},
		{[]int{3, 4}, false}, // 3 is taken: all or nothing
		{[]int{4}, true},     // so 4 was left available
		{[]int{99, 5, 6, 7}, true},
	}
	for _, tc := range cases {
		ok, err := db.Hold(ctx, event, uuid.New(), uuid.New(), ids(s, tc.seats...), 1000)
		if err != nil || ok != tc.want {
			t.Fatalf("hold %v: %v %v, want %v", tc.seats, ok, err, tc.want)
		}
	}
	checkAllOrNothing(ctx, t, pool, 8, 4)

	// Overlapping multi-seat holds race for the same seats: every booking
	// row must own all of its seats and every reserved seat a booking.
	ev2 := uuid.New()
	if err := db.Setup(ctx, ev2, 40); err != nil {
		t.Fatal(err)
	}
	s2 := boxoffice.NewTicketSpace(ev2)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				a := (w + i) % 40
				if _, err := db.Hold(ctx, ev2, uuid.New(), uuid.New(), ids(s2, a, (a+1)%40, (a+7)%40), 1000); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	checkAllOrNothing(ctx, t, pool, -1, -1)
}

func ids(s boxoffice.TicketSpace, seats ...int) []uuid.UUID {
	out := make([]uuid.UUID, len(seats))
	for i, n := range seats {
		out[i] = s.ID(n)
	}
	return out
}

// checkAllOrNothing checks that every booking owns all of its seats and
// every reserved seat belongs to a booking; wantSeats and wantBookings are
// checked unless negative.
func checkAllOrNothing(ctx context.Context, t *testing.T, pool *pgxpool.Pool, wantSeats, wantBookings int) {
	t.Helper()
	var partial, orphans, seats, bookings int
	err := pool.QueryRow(ctx, `
		SELECT
			(SELECT count(*) FROM bookings b, unnest(b.ticket_ids) AS tid
				WHERE NOT EXISTS (SELECT 1 FROM baseline_tickets t WHERE t.ticket_id = tid AND t.booking_id = b.id AND t.status = 'reserved')),
			(SELECT count(*) FROM baseline_tickets t WHERE status = 'reserved'
				AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.id = t.booking_id AND t.ticket_id = ANY(b.ticket_ids))),
			(SELECT count(*) FROM baseline_tickets WHERE status = 'reserved'),
			(SELECT count(*) FROM bookings)`).Scan(&partial, &orphans, &seats, &bookings)
	if err != nil {
		t.Fatal(err)
	}
	if partial != 0 || orphans != 0 {
		t.Fatalf("%d booked seats not held by their booking, %d held seats without a booking", partial, orphans)
	}
	if wantSeats >= 0 && (seats != wantSeats || bookings != wantBookings) {
		t.Fatalf("%d seats held by %d bookings, want %d by %d", seats, bookings, wantSeats, wantBookings)
	}
}
