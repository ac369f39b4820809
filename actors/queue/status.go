package queue

import (
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice/actors/queuepb"
)

// State is where a place is in its room.
type State string

// States of a place. API.md names waiting, admitted and open (the room is
// off: reserve needs no token, and none is given); expired extends it for a
// place whose admission ran out (AdmissionTTL) or was given before the room
// was last switched on: its owner joins again to queue at the back.
const (
	StateWaiting  State = "waiting"
	StateAdmitted State = "admitted"
	StateOpen     State = "open"
	StateExpired  State = "expired"
)

// Status is one place as its owner sees it; it is the body of the queue
// routes and of every WebSocket push.
type Status struct {
	// QueueID names the place; it changes only when the owner re-joins
	// after the admission ran out.
	QueueID uuid.UUID
	// Position is 1 for the next person to be admitted; 0 once admitted.
	Position int64
	State    State
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

// place is what a room knows of one place, independent of who asks: the
// grain's answer, or a node's watcher after a watermark update.
type place struct {
	seq        int64
	user       uuid.UUID
	upto       int64     // the watermark
	admittedAt time.Time // when the watermark passed seq; zero while waiting
	rate       int
	enabled    bool
	period     int64 // the room's on-period
	base       int64 // places at or below it were admitted before period began
}

func placeFromPB(p *queuepb.Place) place {
	u, _ := uuid.FromBytes(p.UserId)
	pl := place{seq: p.Seq, user: u, upto: p.AdmittedUpto, rate: int(p.Rate), enabled: p.Enabled,
		period: p.Period, base: p.PeriodBase}
	if p.AdmittedAt != 0 {
		pl.admittedAt = time.Unix(0, p.AdmittedAt)
	}
	return pl
}

// status renders a place for its owner at now; id is its queue ID. A room
// that is off gives no token (reserve ignores them then), and a place
// admitted before the room's current on-period began is expired, so that
// nothing from an earlier period admits in this one.
func (r *Room) status(eventID, id uuid.UUID, p place, now time.Time) Status {
	if !p.enabled {
		return Status{QueueID: id, State: StateOpen}
	}
	if p.seq <= p.base {
		return Status{QueueID: id, State: StateExpired}
	}
	s := Status{QueueID: id, Position: p.seq - p.upto}
	if s.Position > 0 {
		s.State = StateWaiting
		if p.enabled && p.rate > 0 {
			s.EstimatedWait = time.Duration(float64(s.Position) / float64(p.rate) * float64(time.Second))
		}
		return s
	}
	s.Position = 0
	at := p.admittedAt
	if at.IsZero() {
		at = now // a watcher saw the watermark pass without a time
	}
	s.ExpiresAt = at.Add(r.cfg.AdmissionTTL)
	if !now.Before(s.ExpiresAt) {
		s.State = StateExpired
		return s
	}
	s.State = StateAdmitted
	s.AdmissionToken = SignToken(r.cfg.Key, eventID, p.user, p.period, s.ExpiresAt)
	return s
}
