package boxoffice

import "github.com/google/uuid"

// SeatDelta is one committed version of an event's seat map as the engine
// hands it on: the seats whose status the version changed (none for a
// version that changed no seat). The api package encodes it as API.md's
// WebSocket delta frame, so the wire format lives in one place.
type SeatDelta struct {
	EventID uuid.UUID
	Version uint64
	Changes []SeatChange
}

// SeatChange is one seat's new status.
type SeatChange struct {
	TicketID uuid.UUID
	Status   SeatStatus
}
