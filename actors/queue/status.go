package queue

import (
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/queuepb"
)

// State is where a place is in its room: boxoffice.QueueState, which the
// root declares so that the HTTP routes need not import this package.
type State = boxoffice.QueueState

// States of a place (see boxoffice.QueueState).
const (
	StateWaiting  = boxoffice.QueueWaiting
	StateAdmitted = boxoffice.QueueAdmitted
	StateOpen     = boxoffice.QueueOpen
	StateExpired  = boxoffice.QueueExpired
)

// Status is one place as its owner sees it (boxoffice.QueueStatus).
type Status = boxoffice.QueueStatus

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
