package seatmap

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// TestUndoneSaleDropsAdmission: when a sold seat goes back on sale (the
// refund's record kind does this through setStatus), its admission goes
// with it, so the count stays "admitted of sold" and a resold seat is
// admitted afresh.
func TestUndoneSaleDropsAdmission(t *testing.T) {
	ev, buyer, b1, b2 := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	m := New(ev, 4)
	now := time.Date(2026, 12, 7, 20, 0, 0, 0, time.UTC)
	if _, err := m.Hold(buyer, b1, []uuid.UUID{m.TicketID(1)}, now, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Sell(b1); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Admit(b1, buyer, 1, now, time.Time{}, "A"); err != nil {
		t.Fatal(err)
	}
	// What a refund does to the seat and its buyer's counts.
	m.setStatus(1, boxoffice.SeatAvailable)
	m.owners.add(m.owners.sold, buyer, -1)
	m.owners.add(m.owners.total, buyer, -1)
	if err := m.Check(); err != nil || m.Admitted() != 0 {
		t.Fatalf("after the sale was undone: %d admitted, %v", m.Admitted(), err)
	}
	if _, ok := m.Admission(1); ok {
		t.Fatal("the undone sale's admission is still there")
	}
	if _, err := m.Hold(buyer, b2, []uuid.UUID{m.TicketID(1)}, now, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Sell(b2); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Admit(b2, buyer, 1, now, time.Time{}, "B"); err != nil {
		t.Fatalf("the resold seat: %v", err)
	}
}
