package persistence_test

import (
	"testing"

	"github.com/boxoffice/boxoffice"
	"github.com/google/uuid"
)

func TestReserveConventional(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ctx := ctxT(t)
	event := uuid.New()
	if err := db.SetupBaseline(ctx, event, 100); err != nil {
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
		ok, err := db.ReserveConventional(ctx, uuid.New(), ids)
		if err != nil || ok != tc.want {
			t.Fatalf("reserve %v: %v %v, want %v", tc.seats, ok, err, tc.want)
		}
	}
	var reserved int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM baseline_tickets WHERE status = 'reserved'`).Scan(&reserved); err != nil || reserved != 5 {
		t.Fatalf("%d reserved (%v), want 5", reserved, err)
	}
	if err := db.SetupBaseline(ctx, event, 10); err != nil {
		t.Fatalf("setup again: %v", err)
	}
	var n int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM baseline_tickets WHERE status = 'available'`).Scan(&n); err != nil || n != 10 {
		t.Fatalf("after a second setup %d available (%v), want 10", n, err)
	}
}
