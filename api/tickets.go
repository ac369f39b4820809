package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"strconv"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/api/ticketpdf"
)

// The ticket routes of API.md "Tickets and check-in": a confirmed
// booking's ticket codes as JSON, as a PDF, one as a QR image, and the
// public keys that verify the codes offline.

type ticketJSON struct {
	TicketID string `json:"ticket_id"`
	Section  string `json:"section"`
	Row      string `json:"row"`
	Seat     int    `json:"seat"`
	Code     string `json:"code"`
}

type ticketsJSON struct {
	Tickets []ticketJSON `json:"tickets"`
}

// jwkJSON is one Ed25519 public key in JWK form (RFC 8037).
type jwkJSON struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
}

var errNoTickets = boxoffice.Errorf(boxoffice.EUnavailable, "tickets are not available on this node")

// handleTicketKeys is GET /tickets/keys: the JWKS of the keys that verify
// ticket codes, the signing key first. Doors cache it for offline use.
func (s *Server) handleTicketKeys(w http.ResponseWriter, _ *http.Request) error {
	if s.deps.Tickets == nil {
		return errNoTickets
	}
	var keys []jwkJSON
	for _, pub := range s.deps.Tickets.PublicKeys() {
		keys = append(keys, jwkJSON{Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(pub),
			Kid: boxoffice.TicketKeyID(pub), Use: "sig", Alg: "EdDSA"})
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	WriteJSON(w, http.StatusOK, map[string]any{"keys": keys})
	return nil
}

// handleTickets is GET /booking/{bookingId}/tickets.
func (s *Server) handleTickets(w http.ResponseWriter, r *http.Request, u boxoffice.User) error {
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	sold, err := s.soldTickets(ctx, r, u)
	if err != nil {
		return err
	}
	out := ticketsJSON{Tickets: make([]ticketJSON, len(sold.tickets))}
	for i, t := range sold.tickets {
		out.Tickets[i] = ticketJSON{TicketID: t.TicketID, Section: t.Section, Row: t.Row, Seat: t.Seat, Code: t.Code}
	}
	w.Header().Set("Cache-Control", "private, no-store")
	WriteJSON(w, http.StatusOK, out)
	return nil
}

// handleTicketsPDF is GET /booking/{bookingId}/tickets.pdf.
func (s *Server) handleTicketsPDF(w http.ResponseWriter, r *http.Request, u boxoffice.User) error {
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	sold, err := s.soldTickets(ctx, r, u)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := ticketpdf.Render(&b, sold.event, sold.tickets, sold.booking.ConfirmedAt); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Disposition", `inline; filename="tickets-`+sold.booking.ID.String()+`.pdf"`)
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	h.Set("Cache-Control", "private, no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b.Bytes())
	return nil
}

// handleTicketQR is GET /booking/{bookingId}/tickets/{ticketId}/qr.png:
// one ticket's code as a QR image, for "My bookings".
func (s *Server) handleTicketQR(w http.ResponseWriter, r *http.Request, u boxoffice.User) error {
	ticketID, err := pathID(r, "ticketId")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	sold, err := s.soldTickets(ctx, r, u)
	if err != nil {
		return err
	}
	for _, t := range sold.tickets {
		if t.TicketID != ticketID.String() {
			continue
		}
		img, err := ticketpdf.PNG(t.Code, 320)
		if err != nil {
			return err
		}
		h := w.Header()
		h.Set("Content-Type", "image/png")
		h.Set("Cache-Control", "private, no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(img)
		return nil
	}
	return boxoffice.Errorf(boxoffice.ENotFound, "ticket %s is not in booking %s", ticketID, sold.booking.ID)
}

// soldBooking is a confirmed booking with what its tickets show.
type soldBooking struct {
	booking boxoffice.Booking
	event   ticketpdf.Event
	tickets []ticketpdf.Ticket
}

// soldTickets reads the caller's booking named in the path and signs one
// code per seat (ticketpdf.ForBooking).
// Errors: not_found, forbidden (another user's booking), booking_state
// (not confirmed), unavailable (no keys or store).
func (s *Server) soldTickets(ctx context.Context, r *http.Request, u boxoffice.User) (soldBooking, error) {
	id, err := pathID(r, "bookingId")
	if err != nil {
		return soldBooking{}, err
	}
	if s.deps.Tickets == nil {
		return soldBooking{}, errNoTickets
	}
	b, err := s.ownBooking(ctx, id, u)
	if err != nil {
		return soldBooking{}, err
	}
	if b.Status != boxoffice.BookingConfirmed {
		return soldBooking{}, boxoffice.Errorf(boxoffice.EBookingState, "booking %s is %s; tickets exist once it is confirmed", id, b.Status)
	}
	ev, err := s.events.event(ctx, b.EventID)
	if err != nil {
		return soldBooking{}, err
	}
	venue, err := s.deps.Catalog.Venue(ctx, ev.VenueID)
	if err != nil {
		return soldBooking{}, err
	}
	pdfEvent, tickets, err := ticketpdf.ForBooking(s.deps.Tickets, b, ev, venue)
	if err != nil {
		return soldBooking{}, err
	}
	return soldBooking{booking: b, event: pdfEvent, tickets: tickets}, nil
}
