package api

import (
	"context"
	"net/http"
	"time"

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
	case s.mayRefundAnytime(u, b):
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
	b, err = refunder.Refund(ctx, b, reason)
	if err != nil {
		return err
	}
	s.events.touch(b.EventID)
	WriteJSON(w, http.StatusOK, renderBooking(b))
	return nil
}

// mayRefundAnytime reports whether u may refund b whatever the event's
// refund window: an admin. An organiser of the event's organisation will
// too once that role exists (API.md "Roles").
func (s *Server) mayRefundAnytime(u boxoffice.User, _ boxoffice.Booking) bool {
	return u.IsAdmin()
}
