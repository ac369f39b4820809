package baseline_test

import (
	"context"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice"
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
