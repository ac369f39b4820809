package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice/persistence"
)

// kindChangedAck: an acknowledged hold whose journal record holds other
// tickets than the reply named (I2 for what the buyer was told). A
// standing place is picked by the event, not named by the buyer, so an
// event that picked again on recovery, or journalled other places than it
// answered, would hand the buyer a place they were never told about and
// leave the one they were told about to someone else (h19chaos).
const kindChangedAck = "changed_ack"

// heldAt is the journal's SeatsHeld record of an acknowledged hold: its
// event and seat-map indexes.
type heldAt struct {
	event uuid.UUID
	seats []int32
}

// ackedTickets: every acknowledged hold's journal record holds exactly
// the tickets its reply named, seats and standing places alike, in the
// event the reply named. Holds recorded without tickets (an older
// history) are not judged; a hold without a record is lost_ack (journal).
func (a *audit) ackedTickets(ctx context.Context, db persistence.Querier, held map[uuid.UUID]heldAt) error {
	var events []uuid.UUID
	for id, h := range held {
		if len(a.holds[id].TicketIDs) > 0 && !slices.Contains(events, h.event) {
			events = append(events, h.event)
		}
	}
	if len(events) == 0 {
		return nil
	}
	tickets, err := persistence.NewAudit(db).TicketsAt(ctx, events)
	if err != nil {
		return err
	}
	for id, h := range held {
		s := a.holds[id]
		if len(s.TicketIDs) == 0 {
			continue
		}
		got := make([]string, len(h.seats))
		for i, seat := range h.seats {
			if t, ok := tickets[h.event][seat]; ok {
				got[i] = t.String()
			} else {
				got[i] = fmt.Sprintf("index %d (no such ticket)", seat)
			}
		}
		want := make([]string, len(s.TicketIDs))
		for i, t := range s.TicketIDs {
			if u, err := uuid.Parse(t); err == nil {
				t = u.String()
			}
			want[i] = t
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) || s.EventID != h.event.String() {
			a.add(kindChangedAck, "hold %s was acknowledged at %s with event %s tickets %v, but the journal holds event %s tickets %v for it",
				id, s.At.Format(time.RFC3339Nano), s.EventID, want, h.event, got)
		}
	}
	return nil
}
