package actors

import (
	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/seatmap"
)

// seatDelta is the seat changes of a record, as the Publisher takes them.
func seatDelta(m *seatmap.Map, eventID uuid.UUID, r seatmap.Record) boxoffice.SeatDelta {
	changes := r.Changes()
	d := boxoffice.SeatDelta{EventID: eventID, Version: r.Version, Changes: make([]boxoffice.SeatChange, len(changes))}
	for i, c := range changes {
		d.Changes[i] = boxoffice.SeatChange{TicketID: m.TicketID(int(c.Index)), Status: c.Status}
	}
	return d
}
