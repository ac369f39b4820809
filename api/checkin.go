package api

import (
	"context"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/boxoffice/boxoffice"
)

// POST /checkin (API.md "Tickets and check-in"): door staff scan a ticket
// code; the event's actor admits it exactly once.

type checkInRequest struct {
	Code      string `json:"code"`
	Gate      string `json:"gate"`
	ScannedAt string `json:"scanned_at"`
}

type checkInJSON struct {
	TicketID   string `json:"ticket_id"`
	EventID    string `json:"event_id"`
	Section    string `json:"section"`
	Row        string `json:"row"`
	Seat       int    `json:"seat"`
	AdmittedAt string `json:"admitted_at"`
	Gate       string `json:"gate,omitempty"`
	ScannedAt  string `json:"scanned_at,omitempty"`
}

var errNoCheckIn = boxoffice.Errorf(boxoffice.EUnavailable, "check-in is not available on this node")

// handleCheckIn is POST /checkin. The order of refusals: 403 for a caller
// who scans for no event, 400 for a bad body or a forged code, 403 for a
// scanner not assigned to the ticket's event, then the actor's answer.
func (s *Server) handleCheckIn(w http.ResponseWriter, r *http.Request, u boxoffice.User) error {
	if !u.IsAdmin() && !u.IsScanner() {
		return boxoffice.Errorf(boxoffice.EForbidden, "this route needs the scanner or admin role")
	}
	if s.deps.Tickets == nil || s.deps.CheckIn == nil {
		return errNoCheckIn
	}
	var req checkInRequest
	if err := DecodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	in, err := s.checkInInput(req)
	if err != nil {
		return err
	}
	in.Scanner = u.ID
	if !u.CanScan(in.Code.EventID) {
		return boxoffice.Errorf(boxoffice.EForbidden, "this scanner is not assigned to the ticket's event")
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	a, err := s.deps.CheckIn.CheckIn(ctx, in)
	if err != nil {
		return err
	}
	c := in.Code
	out := checkInJSON{TicketID: a.TicketID.String(), EventID: a.EventID.String(), Section: c.Section, Row: c.Row,
		Seat: c.Seat, AdmittedAt: a.AdmittedAt.UTC().Format(time.RFC3339Nano), Gate: a.Gate}
	if !a.ScannedAt.IsZero() {
		out.ScannedAt = a.ScannedAt.UTC().Format(time.RFC3339Nano)
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}

// checkInInput validates the body: a code the deployment signed, a short
// printable gate, an RFC 3339 scanned_at not in the future.
func (s *Server) checkInInput(req checkInRequest) (boxoffice.CheckInRequest, error) {
	var in boxoffice.CheckInRequest
	code := strings.TrimSpace(req.Code)
	if code == "" {
		return in, boxoffice.InvalidField("code", "code is the ticket's QR code text")
	}
	if len(req.Gate) > boxoffice.MaxGateLen || strings.IndexFunc(req.Gate, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return in, boxoffice.InvalidField("gate", "gate is at most %d bytes of printable text", boxoffice.MaxGateLen)
	}
	in.Gate = req.Gate
	if req.ScannedAt != "" {
		t, err := time.Parse(time.RFC3339Nano, req.ScannedAt)
		if err != nil || t.Year() < 2000 || t.After(time.Now().Add(5*time.Minute)) {
			return in, boxoffice.InvalidField("scanned_at", "scanned_at is an RFC 3339 time, not in the future")
		}
		in.ScannedAt = t
	}
	tc, err := s.deps.Tickets.Verify(code)
	if err != nil {
		return in, err
	}
	in.Code = tc
	return in, nil
}
