package boxoffice

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// QueueRoom is the durable state of one event's waiting room: everything
// needed to rebuild positions after the room's grain moves to another node.
type QueueRoom struct {
	// Epoch is the activation's fencing token; writes that name an older
	// epoch fail with ErrFenced.
	Epoch int64
	// NextSeq is the next place to hand out; places 1..NextSeq-1 exist.
	NextSeq int64
	// AdmittedUpto is the admitted watermark: every place at or below it
	// is admitted.
	AdmittedUpto int64
	// AdmittedAt is when AdmittedUpto last rose.
	AdmittedAt time.Time
	// Period is the waiting room's on-period (WaitingRoom.Period) the room
	// applies, and PeriodBase the watermark when that period began: places
	// at or below it were admitted in an earlier period (or while the room
	// was off) and do not admit in this one. Writes raise Period and set
	// PeriodBase with it; they never go back.
	Period     int64
	PeriodBase int64
}

// QueueEntry is one user's place in an event's waiting room.
type QueueEntry struct {
	UserID uuid.UUID
	Seq    int64
}

// QueueStore is what a waiting room keeps in storage, so that its places
// survive the room's grain moving to another node. Writes carry the
// activation's epoch and fail with ErrFenced once another activation owns
// the room.
type QueueStore interface {
	// OpenQueue takes ownership of the room for a new activation and
	// returns its state with the new epoch.
	OpenQueue(ctx context.Context, eventID uuid.UUID) (QueueRoom, error)
	// QueueEntries calls fn for every place of the room in ascending order.
	QueueEntries(ctx context.Context, eventID uuid.UUID, fn func(QueueEntry) error) error
	// AppendQueue stores new places together with the room's state.
	AppendQueue(ctx context.Context, eventID uuid.UUID, room QueueRoom, entries []QueueEntry) error
	// AdmitQueue stores a raised watermark.
	AdmitQueue(ctx context.Context, eventID uuid.UUID, room QueueRoom) error
}
