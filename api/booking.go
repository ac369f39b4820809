package api

import (
	"bytes"
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

type reserveRequest struct {
	EventID   string   `json:"event_id"`
	TicketIDs []string `json:"ticket_ids"`
	TicketID  string   `json:"ticket_id"`
	// Standing asks for places of standing sections by quantity (API.md
	// "General admission and ticket types").
	Standing []standingWantJSON `json:"standing"`
	// Pricing (h19price): the ticket type of each of ticket_ids (or of
	// ticket_id), and a promo code of the event.
	TicketTypes []string `json:"ticket_types"`
	PromoCode   string   `json:"promo_code"`
	// BestAvailable asks the event's grain to pick the seats (h19access).
	BestAvailable *bestAvailableJSON `json:"best_available"`
}

// bestAvailableJSON is the reserve body's best_available (openapi.yaml
// BestAvailable).
type bestAvailableJSON struct {
	Section    string `json:"section"`
	Quantity   int    `json:"quantity"`
	Accessible bool   `json:"accessible"`
}

// best validates best_available: alone (no ticket_ids, ticket_id or
// standing), a quantity of 1..10 and a section name of at most 64
// bytes. The grain checks the section is a seated one of the event.
func (req reserveRequest) best() (*boxoffice.BestAvailable, error) {
	b := req.BestAvailable
	if b == nil {
		return nil, nil
	}
	if req.TicketIDs != nil || req.TicketID != "" || len(req.Standing) > 0 {
		return nil, boxoffice.InvalidField("best_available", "give best_available instead of ticket_ids, ticket_id and standing, not beside them")
	}
	if b.Quantity < 1 || b.Quantity > boxoffice.MaxSeatsPerHold {
		return nil, boxoffice.InvalidField("best_available.quantity", "quantity must be 1..%d", boxoffice.MaxSeatsPerHold)
	}
	if len(b.Section) > 64 {
		return nil, boxoffice.InvalidField("best_available.section", "section is at most 64 bytes")
	}
	return &boxoffice.BestAvailable{Section: b.Section, Quantity: b.Quantity, Accessible: b.Accessible}, nil
}

type standingWantJSON struct {
	Section  string `json:"section"`
	Quantity int    `json:"quantity"`
	// TicketType is the places' ticket type (h19price).
	TicketType string `json:"ticket_type"`
}

// wants validates the standing part of the body: named sections, once
// each, quantities 1..10, and seats and places together 1..10 (seats is
// how many ticket_ids there are). The grain checks the sections are
// standing ones of the event.
func (req reserveRequest) wants(seats int) ([]boxoffice.StandingWant, error) {
	if len(req.Standing) == 0 {
		return nil, nil
	}
	out := make([]boxoffice.StandingWant, 0, len(req.Standing))
	total := seats
	for k, w := range req.Standing {
		if w.Section == "" || len(w.Section) > 64 {
			return nil, boxoffice.InvalidField("standing", "every standing entry needs a section")
		}
		for _, o := range req.Standing[:k] {
			if o.Section == w.Section {
				return nil, boxoffice.InvalidField("standing", "section %q appears twice", w.Section)
			}
		}
		if w.Quantity < 1 || w.Quantity > boxoffice.MaxSeatsPerHold {
			return nil, boxoffice.InvalidField("standing", "quantity must be 1..%d", boxoffice.MaxSeatsPerHold)
		}
		total += w.Quantity
		if len(w.TicketType) > 64 {
			return nil, boxoffice.InvalidField("standing", "ticket_type is at most 64 bytes")
		}
		out = append(out, boxoffice.StandingWant{Section: w.Section, Quantity: w.Quantity, TicketType: w.TicketType})
	}
	if total > boxoffice.MaxSeatsPerHold {
		return nil, boxoffice.InvalidField("standing", "seats and standing places together are 1..%d a booking", boxoffice.MaxSeatsPerHold)
	}
	return out, nil
}

// parse validates the body: a UUID event, 1..10 distinct UUID seats given
// as ticket_ids or (one seat) ticket_id; with standing places, no seats is
// fine (wants checks the total).
func (req reserveRequest) parse() (eventID uuid.UUID, tickets []uuid.UUID, err error) {
	if eventID, err = parseID("event_id", req.EventID); err != nil {
		return uuid.Nil, nil, err
	}
	raw := req.TicketIDs
	switch {
	case req.TicketID != "" && raw != nil:
		return uuid.Nil, nil, boxoffice.InvalidField("ticket_id", "give ticket_ids or ticket_id, not both")
	case req.TicketID != "":
		raw = []string{req.TicketID}
		if _, err := parseID("ticket_id", req.TicketID); err != nil {
			return uuid.Nil, nil, err
		}
	case len(raw) == 0 && len(req.Standing) == 0 && req.BestAvailable == nil:
		return uuid.Nil, nil, boxoffice.InvalidField("ticket_ids", "ticket_ids needs 1..%d seats", boxoffice.MaxSeatsPerHold)
	case len(raw) > boxoffice.MaxSeatsPerHold:
		return uuid.Nil, nil, boxoffice.InvalidField("ticket_ids", "at most %d seats per booking", boxoffice.MaxSeatsPerHold)
	}
	tickets = make([]uuid.UUID, 0, len(raw))
	seen := make(map[uuid.UUID]bool, len(raw))
	for _, s := range raw {
		id, err := parseID("ticket_ids", s)
		if err != nil {
			return uuid.Nil, nil, err
		}
		if seen[id] {
			return uuid.Nil, nil, boxoffice.InvalidField("ticket_ids", "ticket %s appears twice", id)
		}
		seen[id] = true
		tickets = append(tickets, id)
	}
	return eventID, tickets, nil
}

// handleReserve is POST /booking/reserve. With an Idempotency-Key the
// engine answers a repeated request (same user, key and body as parsed
// JSON) with its first reply (actors/idempotency.go).
func (s *Server) handleReserve(w http.ResponseWriter, r *http.Request, u boxoffice.User) error {
	key, err := idempotencyKey(r)
	if err != nil {
		return err
	}
	var body *bytes.Buffer
	if key != "" {
		body = teeBody(r)
	}
	var req reserveRequest
	if err := DecodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	eventID, tickets, err := req.parse()
	if err != nil {
		return err
	}
	best, err := req.best()
	if err != nil {
		return err
	}
	standing, err := req.wants(len(tickets))
	if err != nil {
		return err
	}
	if err := req.checkPricing(len(tickets)); err != nil {
		return err
	}
	var fp []byte
	if key != "" {
		if fp, err = fingerprint(body.Bytes()); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	ev, err := s.events.event(ctx, eventID)
	if err != nil {
		return err
	}
	hold := boxoffice.ReserveRequest{EventID: eventID, UserID: u.ID, BookingID: boxoffice.NewBookingID(eventID), TicketIDs: tickets,
		Standing: standing, IdempotencyKey: key, Fingerprint: fp, TicketTypes: req.TicketTypes, PromoCode: req.PromoCode,
		BestAvailable: best}
	if done, err := s.replayReserve(ctx, w, hold); err != nil || done {
		return err
	}
	if ev.WaitingRoom.Enabled && s.deps.Queue != nil {
		if err := s.deps.Queue.CheckAdmission(r, u.ID, ev); err != nil {
			// API.md: not_on_sale comes before queue_required. The grain
			// decides not_on_sale for admitted callers; the refused ones
			// never reach it, so they are told from the event here.
			if saleErr := ev.CheckOnSale(time.Now()); saleErr != nil {
				return saleErr
			}
			return err
		}
	}
	b, err := s.deps.Engine.Reserve(ctx, hold)
	if err != nil {
		return err
	}
	s.events.touch(eventID)
	WriteJSON(w, http.StatusCreated, renderBooking(b))
	return nil
}

type confirmRequest struct {
	BookingID string          `json:"booking_id"`
	Payment   *paymentRequest `json:"payment"`
}

type paymentRequest struct {
	Method string `json:"method"`
	Token  string `json:"token"`
}

// maxIdempotencyKey bounds the Idempotency-Key header.
const maxIdempotencyKey = 255

// handleConfirm is POST and PUT /booking/confirm.
func (s *Server) handleConfirm(w http.ResponseWriter, r *http.Request, u boxoffice.User) error {
	var req confirmRequest
	if err := DecodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	id, err := parseID("booking_id", req.BookingID)
	if err != nil {
		return err
	}
	switch {
	case req.Payment == nil:
		return boxoffice.InvalidField("payment", "payment is required")
	case req.Payment.Method != "card":
		return boxoffice.InvalidField("payment.method", "payment.method must be \"card\"")
	case req.Payment.Token == "" || len(req.Payment.Token) > 512:
		return boxoffice.InvalidField("payment.token", "payment.token must be 1..512 characters")
	}
	key := r.Header.Get("Idempotency-Key")
	if len(key) > maxIdempotencyKey {
		return boxoffice.InvalidField("Idempotency-Key", "Idempotency-Key is at most %d characters", maxIdempotencyKey)
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	own, err := s.ownBooking(ctx, id, u)
	if err != nil {
		return err
	}
	// The row read here travels with the request: the engine decides from
	// it, so a confirm reads its booking once.
	b, err := s.deps.Engine.Confirm(ctx, boxoffice.ConfirmRequest{
		EventID: own.EventID, BookingID: id, UserID: u.ID, IdempotencyKey: key,
		Method: req.Payment.Method, Token: req.Payment.Token, Booking: &own,
	})
	if err != nil {
		return err
	}
	s.events.touch(b.EventID)
	if b.Status == boxoffice.BookingPaymentPending && b.NextAction != nil {
		WriteJSON(w, http.StatusAccepted, renderPaymentPending(b))
		return nil
	}
	WriteJSON(w, http.StatusOK, renderBooking(b))
	return nil
}

// handleRelease is DELETE /booking/{bookingId}.
func (s *Server) handleRelease(w http.ResponseWriter, r *http.Request, u boxoffice.User) error {
	return s.ownBookingRoute(w, r, u, func(ctx context.Context, b boxoffice.Booking) (boxoffice.Booking, error) {
		b, err := s.deps.Engine.Release(ctx, b.EventID, b.ID, u.ID)
		if err == nil {
			s.events.touch(b.EventID)
		}
		return b, err
	})
}

// handleBooking is GET /booking/{bookingId}.
func (s *Server) handleBooking(w http.ResponseWriter, r *http.Request, u boxoffice.User) error {
	return s.ownBookingRoute(w, r, u, nil)
}

// ownBookingRoute finds the caller's booking of the path's bookingId
// within the request timeout, lets then (if set) act on it, and answers
// with the booking that results.
func (s *Server) ownBookingRoute(w http.ResponseWriter, r *http.Request, u boxoffice.User,
	then func(ctx context.Context, b boxoffice.Booking) (boxoffice.Booking, error)) error {
	id, err := pathID(r, "bookingId")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	b, err := s.ownBooking(ctx, id, u)
	if err != nil {
		return err
	}
	if then != nil {
		if b, err = then(ctx, b); err != nil {
			return err
		}
	}
	WriteJSON(w, http.StatusOK, renderBooking(b))
	return nil
}

// handleUserBookings is GET /user/bookings[?limit=N&cursor=C], newest
// first, one page at a time (paging.go).
func (s *Server) handleUserBookings(w http.ResponseWriter, r *http.Request, u boxoffice.User) error {
	out, err := s.userBookingsPage(r, u.ID, r.URL.Query())
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}

var errNoBookings = boxoffice.Errorf(boxoffice.EUnavailable, "bookings are not available on this node")

// ownBooking returns the caller's booking: not_found when there is none,
// forbidden when it belongs to someone else.
func (s *Server) ownBooking(ctx context.Context, id uuid.UUID, u boxoffice.User) (boxoffice.Booking, error) {
	if s.deps.Bookings == nil {
		return boxoffice.Booking{}, errNoBookings
	}
	b, err := s.deps.Bookings.Booking(ctx, id)
	if err != nil {
		return boxoffice.Booking{}, err
	}
	if b.UserID != u.ID {
		return boxoffice.Booking{}, boxoffice.Errorf(boxoffice.EForbidden, "booking %s belongs to another user", id)
	}
	return b, nil
}

// checkPricing validates the shape of the pricing fields: one ticket type
// per ticket, short names. Whether the types and code exist is the
// grain's (h19price).
func (req reserveRequest) checkPricing(seats int) error {
	if req.TicketTypes != nil && len(req.TicketTypes) != seats {
		return boxoffice.InvalidField("ticket_types", "ticket_types needs one type per ticket id (%d), not %d", seats, len(req.TicketTypes))
	}
	for _, t := range req.TicketTypes {
		if len(t) > 64 {
			return boxoffice.InvalidField("ticket_types", "a ticket type is at most 64 bytes")
		}
	}
	if len(req.PromoCode) > 32 {
		return boxoffice.InvalidField("promo_code", "unknown promo code")
	}
	return nil
}
