package boxoffice

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// QueueState is where a place is in its event's waiting room.
type QueueState string

// States of a place. API.md names waiting, admitted and open (the room is
// off: reserve needs no token, and none is given); expired extends it for a
// place whose admission ran out or was given before the room was last
// switched on: its owner joins again to queue at the back.
const (
	QueueWaiting  QueueState = "waiting"
	QueueAdmitted QueueState = "admitted"
	QueueOpen     QueueState = "open"
	QueueExpired  QueueState = "expired"
)

// QueueStatus is one place as its owner sees it: the body of the waiting
// room's routes and of every push on its WebSocket. It is declared here so
// that the room (actors/queue) and its HTTP face (api/queueroom) share it
// without importing each other.
type QueueStatus struct {
	// QueueID names the place; it changes only when the owner re-joins
	// after the admission ran out.
	QueueID uuid.UUID
	// Position is 1 for the next person to be admitted; 0 once admitted.
	Position int64
	State    QueueState
	// AdmissionToken is set while admitted: the X-Admission-Token that
	// POST /booking/reserve wants. It is bound to the owner, the event and
	// the room's current on-period.
	AdmissionToken string
	// ExpiresAt is when the admission and its token end; zero while
	// waiting.
	ExpiresAt time.Time
	// EstimatedWait is Position divided by the admission rate; zero when
	// admitted or when the room is paused (rate 0).
	EstimatedWait time.Duration
}

// QueueSubscription delivers a place's status to its owner whenever it
// changes for them, keeping only the latest, so a slow reader skips stale
// positions instead of slowing the node.
type QueueSubscription interface {
	// Updates returns the channel of statuses. Its first value is the
	// status at subscription; it is closed by Close and when the room
	// closes.
	Updates() <-chan QueueStatus
	// Close ends the subscription; it is idempotent.
	Close()
}

// Admissions is the waiting room as the HTTP routes use it, so that api
// needs no import of the actors that run it; actors/queue's *Room
// implements it and cmd wires one to the other. Errors are *Error codes:
// not_found for an unknown event or place, unavailable when the room
// cannot be reached, queue_required from VerifyAdmission.
type Admissions interface {
	// Join gives userID a place in eventID's room, or the place it has.
	Join(ctx context.Context, eventID, userID uuid.UUID) (QueueStatus, error)
	// Status is the place queueID names, as its owner sees it.
	Status(ctx context.Context, eventID, queueID uuid.UUID) (QueueStatus, error)
	// Subscribe watches the place queueID names.
	Subscribe(ctx context.Context, eventID, queueID uuid.UUID) (QueueSubscription, error)
	// VerifyAdmission checks an admission token: issued to userID for
	// eventID in the room's on-period period, and unexpired at now.
	VerifyAdmission(token string, eventID, userID uuid.UUID, period int64, now time.Time) error
}
