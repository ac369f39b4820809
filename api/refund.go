package api

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// handleRefund is POST /booking/{bookingId}/refund: the owner until the
// event's refund_until, an admin at any time (API.md "Payments, refunds,
// cancellation"). The organiser role does not exist yet; mayRefundAnytime
// is where it joins. A repeated refund answers the same 200.
func (s *Server) handleRefund(w http.ResponseWriter, r *http.Request, u boxoffice.User) error {
	refunder, ok := s.deps.Engine.(boxoffice.BookingRefunder)
	if !ok {
		return boxoffice.Errorf(boxoffice.EUnavailable, "refunds are not available on this node")
	}
	if s.deps.Bookings == nil {
		return errNoBookings
	}
	id, err := pathID(r, "bookingId")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	b, err := s.deps.Bookings.Booking(ctx, id)
	if err != nil {
		return err
	}
	reason := boxoffice.RefundByOwner
	switch {
	case s.mayRefundAnytime(ctx, u, b):
		reason = boxoffice.RefundByAdmin
	case b.UserID != u.ID:
		return boxoffice.Errorf(boxoffice.EForbidden, "booking %s belongs to another user", id)
	}
	if reason == boxoffice.RefundByOwner && b.Status == boxoffice.BookingConfirmed {
		ev, err := s.events.event(ctx, b.EventID)
		if err != nil {
			return err
		}
		if deadline := ev.RefundDeadline(); !time.Now().Before(deadline) {
			return boxoffice.Errorf(boxoffice.EBookingState, "refunds of this event closed at %s", deadline.UTC().Format(time.RFC3339))
		}
	}
	before := renderBooking(b)
	b, err = refunder.Refund(ctx, b, reason)
	if err != nil {
		return err
	}
	if reason == boxoffice.RefundByAdmin {
		s.writeAudit(r, u, &auditNote{targetType: "booking", targetID: b.ID.String(), org: s.eventOrg(ctx, b.EventID),
			before: before, after: renderBooking(b)})
	}
	s.events.touch(b.EventID)
	WriteJSON(w, http.StatusOK, renderBooking(b))
	return nil
}

// mayRefundAnytime reports whether u may refund b whatever the event's
// refund window: an admin, or an organiser of the event's organisation
// (API.md "Roles").
func (s *Server) mayRefundAnytime(ctx context.Context, u boxoffice.User, b boxoffice.Booking) bool {
	if u.IsAdmin() {
		return true
	}
	if !u.IsOrganiser() {
		return false
	}
	return u.Runs(s.eventOrg(ctx, b.EventID))
}

// eventOrg is the organisation of an event, uuid.Nil when unknown.
func (s *Server) eventOrg(ctx context.Context, id uuid.UUID) uuid.UUID {
	e, err := s.events.event(ctx, id)
	if err != nil {
		return uuid.Nil
	}
	return e.OrgID
}

// handleCancelEvent is POST /admin/api/events/{eventId}/cancel: the event
// is cancelled and every confirmed booking owed a refund in one
// transaction (a durable job), reserves are refused at once (the grain
// gets the cancelled rules), and the grain starts the refunds now. A
// repeated cancel answers the same 200. The refunds' progress is in GET
// /admin/api/events/{eventId}.
func (s *Server) handleCancelEvent(w http.ResponseWriter, r *http.Request, _ boxoffice.User) error {
	canceller, ok := s.deps.Catalog.(boxoffice.EventCanceller)
	if !ok {
		return boxoffice.Errorf(boxoffice.EUnavailable, "events cannot be cancelled on this node")
	}
	id, err := pathID(r, "eventId")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	before, err := s.deps.Catalog.Event(ctx, id)
	if err != nil {
		return err
	}
	e, err := canceller.CancelEvent(ctx, id)
	if err != nil {
		return err
	}
	noteAudit(r.Context(), "event", id.String(), e.OrgID, renderEvent(before, time.Now()), renderEvent(e, time.Now()))
	s.events.forget(id)
	if s.deps.Rules != nil {
		if err := s.deps.Rules.UpdateRules(ctx, e); err != nil {
			s.log.Warn("event cancelled but its seat engine did not take it yet; it re-reads its rules", "event", id, "err", err)
		}
	}
	if rr, ok := s.deps.Engine.(boxoffice.RefundResumer); ok {
		if err := rr.ResumeRefunds(ctx, id); err != nil {
			s.log.Warn("event cancelled; its refunds start at the next sweep", "event", id, "err", err)
		}
	}
	WriteJSON(w, http.StatusOK, renderEvent(e, time.Now()))
	return nil
}

// refundsJSON is the "refunds" progress of GET /admin/api/events/{eventId}.
type refundsJSON struct {
	Done  int `json:"done"`
	Total int `json:"total"`
}

// refundProgress reads the event's refund progress; nil when the catalog
// cannot tell.
func (s *Server) refundProgress(ctx context.Context, id uuid.UUID) (*refundsJSON, error) {
	canceller, ok := s.deps.Catalog.(boxoffice.EventCanceller)
	if !ok {
		return nil, nil
	}
	p, err := canceller.RefundProgress(ctx, id)
	if err != nil {
		return nil, err
	}
	return &refundsJSON{Done: p.Done, Total: p.Total}, nil
}
