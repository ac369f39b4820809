package actors

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/grainpb"
	"github.com/boxoffice/boxoffice/cluster"
)

// Check-in at the door (API.md "Tickets and check-in"). The event's grain
// owns the event, so "exactly once" is its decision: it admits a seat by an
// Admitted journal record and answers only once that record is durable; a
// second scan, on any node, reaches the same grain and gets the first
// admission back (already_admitted). A grain that restarts on another node
// rebuilds the admissions from the journal and snapshot.

var failCheckIn = &grainpb.CheckInReply{Error: failReply.Error}

// CheckIn implements boxoffice.CheckInService. The ticket's booking must
// still be a confirmed sale of the ticket (ticket_revoked otherwise: the
// seat map knows a seat is sold, not to which booking); the grain then
// decides.
func (e *Engine) CheckIn(ctx context.Context, req boxoffice.CheckInRequest) (boxoffice.Admission, error) {
	c := req.Code
	b, err := e.deps.Store.Booking(ctx, c.BookingID)
	switch {
	case errors.Is(err, boxoffice.ErrNotFound):
		return boxoffice.Admission{}, revoked("the ticket's booking does not exist")
	case err != nil:
		return boxoffice.Admission{}, err
	case b.EventID != c.EventID || !slices.Contains(b.TicketIDs, c.TicketID):
		return boxoffice.Admission{}, revoked("the ticket is no longer part of its booking")
	case b.Status != boxoffice.BookingConfirmed:
		return boxoffice.Admission{}, revoked("the ticket's booking is " + string(b.Status))
	}
	msg := &grainpb.CheckIn{Seat: int32(c.Index), BookingId: c.BookingID[:], ScannerId: req.Scanner[:], Gate: req.Gate}
	if !req.ScannedAt.IsZero() {
		msg.ScannedAt = req.ScannedAt.UnixNano()
	}
	r, err := cluster.Call[*grainpb.CheckInReply](ctx, e.grains, c.EventID.String(), msg)
	if err != nil {
		return boxoffice.Admission{}, err
	}
	if r.Error != nil {
		return boxoffice.Admission{}, r.Error.Err()
	}
	a := boxoffice.Admission{TicketID: c.TicketID, EventID: c.EventID, BookingID: c.BookingID, Index: c.Index,
		AdmittedAt: time.Unix(0, r.AdmittedAt).UTC(), Gate: r.Gate}
	if r.ScannedAt != 0 {
		a.ScannedAt = time.Unix(0, r.ScannedAt).UTC()
	}
	if r.Already {
		return boxoffice.Admission{}, boxoffice.AlreadyAdmitted(a)
	}
	return a, nil
}

func revoked(why string) error {
	return boxoffice.Errorf(boxoffice.ETicketRevoked, "the ticket is revoked: %s", why)
}

// checkIn admits a seat, first scan first (arrival order at the grain).
// Both answers, admitted and already_admitted, wait until the admission
// they report is durable, so no caller is told of an admission a failed
// commit could still undo.
func (g *grain) checkIn(ctx actor.Context, msg *grainpb.CheckIn) {
	if g.refuse(ctx) {
		return
	}
	if !g.rules.CancelledAt.IsZero() {
		g.outcome("checkin", boxoffice.ETicketRevoked, 1)
		ctx.Respond(&grainpb.CheckInReply{Error: grainpb.ErrorOf(revoked("the event was cancelled"))})
		return
	}
	var scanned time.Time
	if msg.ScannedAt != 0 {
		scanned = time.Unix(0, msg.ScannedAt)
	}
	r, err := g.m.Admit(id(msg.BookingId), id(msg.ScannerId), int(msg.Seat), g.e.cfg.Now(), scanned, msg.Gate)
	if err != nil {
		g.outcome("checkin", boxoffice.ErrorCode(err), 1)
		if a, ok := g.m.Admission(int(msg.Seat)); ok && boxoffice.ErrorCode(err) == boxoffice.EAlreadyAdmitted {
			reply := &grainpb.CheckInReply{Already: true, AdmittedAt: a.AdmittedAt.UnixNano(), Gate: a.Gate}
			if !a.ScannedAt.IsZero() {
				reply.ScannedAt = a.ScannedAt.UnixNano()
			}
			g.wait(ctx, reply, failCheckIn)
			return
		}
		ctx.Respond(&grainpb.CheckInReply{Error: grainpb.ErrorOf(err)})
		return
	}
	g.outcome("checkin", "ok", 1)
	g.stage(r, nil, nil)
	g.wait(ctx, &grainpb.CheckInReply{AdmittedAt: r.ExpiresAt, Gate: r.Gate, ScannedAt: r.ScannedAt}, failCheckIn)
	g.flush(ctx)
}
