package api_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/api"
)

// bookingReply is API.md's Booking as the server encodes it; the replies
// are checked against openapi.yaml on their own (the harness client).
type bookingReply = api.BookingJSON

func (h *harness) reserve(token string, event uuid.UUID, tickets ...uuid.UUID) bookingReply {
	h.t.Helper()
	r := h.do("POST", "/booking/reserve", map[string]any{"event_id": event, "ticket_ids": tickets}, auth(token)...)
	mustStatus(h.t, r, http.StatusCreated)
	var b bookingReply
	r.decode(h.t, &b)
	return b
}

func confirmBody(id uuid.UUID, token string) map[string]any {
	return map[string]any{"booking_id": id, "payment": map[string]any{"method": "card", "token": token}}
}

func TestReserve(t *testing.T) {
	h := newHarness(t)
	event, tickets := h.seedEvent()
	ada, _ := h.userToken("ada")
	bob, _ := h.userToken("bob")

	b := h.reserve(ada, event, tickets[0], tickets[1])
	if b.Status != "in-progress" || b.TotalPrice != "299.00" || b.Currency != "EUR" || b.EventID != event ||
		!slices.Equal(b.TicketIDs, tickets[:2]) || b.BookingID == uuid.Nil {
		t.Errorf("reserve = %+v", b)
	}
	t.Run("ticket_id alone is one seat", func(t *testing.T) {
		r := h.do("POST", "/booking/reserve", map[string]any{"event_id": event, "ticket_id": tickets[15]}, auth(bob)...)
		mustStatus(t, r, http.StatusCreated)
		var b bookingReply
		r.decode(t, &b)
		if !slices.Equal(b.TicketIDs, tickets[15:16]) || b.TotalPrice != "49.00" {
			t.Errorf("reserve = %+v", b)
		}
	})
	t.Run("a held seat is seat_unavailable with its ID, and nothing is held", func(t *testing.T) {
		r := h.do("POST", "/booking/reserve", map[string]any{"event_id": event, "ticket_ids": []uuid.UUID{tickets[2], tickets[1]}}, auth(bob)...)
		wantError(t, r, http.StatusConflict, boxoffice.ESeatUnavailable)
		var body struct {
			Error struct {
				Details struct {
					TicketIDs []uuid.UUID `json:"ticket_ids"`
				} `json:"details"`
			} `json:"error"`
		}
		r.decode(t, &body)
		if !slices.Equal(body.Error.Details.TicketIDs, tickets[1:2]) {
			t.Errorf("details.ticket_ids = %v, want [%s]", body.Error.Details.TicketIDs, tickets[1])
		}
		h.reserve(bob, event, tickets[2]) // still free
	})
	t.Run("unknown event and foreign ticket are not_found", func(t *testing.T) {
		r := h.do("POST", "/booking/reserve", map[string]any{"event_id": uuid.New(), "ticket_ids": tickets[3:4]}, auth(bob)...)
		wantError(t, r, http.StatusNotFound, boxoffice.ENotFound)
		r = h.do("POST", "/booking/reserve", map[string]any{"event_id": event, "ticket_ids": []uuid.UUID{uuid.New()}}, auth(bob)...)
		wantError(t, r, http.StatusNotFound, boxoffice.ENotFound)
	})
	t.Run("no token is unauthenticated", func(t *testing.T) {
		r := h.do("POST", "/booking/reserve", map[string]any{"event_id": event, "ticket_ids": tickets[3:4]})
		wantError(t, r, http.StatusUnauthorized, boxoffice.EUnauthenticated)
	})
}

func TestConfirm(t *testing.T) {
	h := newHarness(t)
	event, tickets := h.seedEvent()
	ada, _ := h.userToken("ada")
	bob, _ := h.userToken("bob")
	b := h.reserve(ada, event, tickets[0])

	r := h.do("POST", "/booking/confirm", confirmBody(b.BookingID, "tok_chargeDeclined"), auth(ada)...)
	wantError(t, r, http.StatusPaymentRequired, boxoffice.EPaymentFailed)
	r = h.do("POST", "/booking/confirm", confirmBody(b.BookingID, "tok_unknown"), auth(ada)...)
	wantError(t, r, http.StatusPaymentRequired, boxoffice.EPaymentFailed)

	r = h.do("POST", "/booking/confirm", confirmBody(b.BookingID, "tok_visa"), auth(bob)...)
	wantError(t, r, http.StatusForbidden, boxoffice.EForbidden)

	first := h.do("POST", "/booking/confirm", confirmBody(b.BookingID, "tok_visa"), append(auth(ada), "Idempotency-Key", "k-1")...)
	mustStatus(t, first, http.StatusOK)
	var c bookingReply
	first.decode(t, &c)
	if c.Status != "confirmed" || c.ConfirmedAt == "" || c.BookingID != b.BookingID {
		t.Errorf("confirm = %+v", c)
	}
	again := h.do("PUT", "/booking/confirm", confirmBody(b.BookingID, "tok_visa"), append(auth(ada), "Idempotency-Key", "k-1")...)
	mustStatus(t, again, http.StatusOK)
	if string(again.body) != string(first.body) {
		t.Errorf("repeated confirm body\n%s\nwant\n%s", again.body, first.body)
	}
	if got := h.engine.keys[len(h.engine.keys)-1]; got != "k-1" {
		t.Errorf("engine got Idempotency-Key %q, want k-1", got)
	}

	r = h.do("POST", "/booking/confirm", confirmBody(uuid.New(), "tok_visa"), auth(ada)...)
	wantError(t, r, http.StatusNotFound, boxoffice.ENotFound)
	r = h.do("DELETE", "/booking/"+b.BookingID.String(), nil, auth(ada)...)
	wantError(t, r, http.StatusConflict, boxoffice.EBookingState)

	t.Run("after the hold ran out", func(t *testing.T) {
		late := h.reserve(ada, event, tickets[4])
		h.engine.advance(11 * time.Minute)
		r := h.do("POST", "/booking/confirm", confirmBody(late.BookingID, "tok_visa"), auth(ada)...)
		wantError(t, r, http.StatusConflict, boxoffice.EHoldExpired)
		r = h.do("DELETE", "/booking/"+late.BookingID.String(), nil, auth(ada)...)
		wantError(t, r, http.StatusConflict, boxoffice.EHoldExpired)
		r = h.do("GET", "/booking/"+late.BookingID.String(), nil, auth(ada)...)
		mustStatus(t, r, http.StatusOK)
		var got bookingReply
		r.decode(t, &got)
		if got.Status != "expired" {
			t.Errorf("status %q, want expired", got.Status)
		}
	})
}

func TestReleaseAndRead(t *testing.T) {
	h := newHarness(t)
	event, tickets := h.seedEvent()
	ada, _ := h.userToken("ada")
	bob, _ := h.userToken("bob")
	first := h.reserve(ada, event, tickets[0])
	h.engine.advance(time.Second)
	second := h.reserve(ada, event, tickets[1], tickets[2])

	r := h.do("DELETE", "/booking/"+second.BookingID.String(), nil, auth(bob)...)
	wantError(t, r, http.StatusForbidden, boxoffice.EForbidden)
	r = h.do("DELETE", "/booking/"+second.BookingID.String(), nil, auth(ada)...)
	mustStatus(t, r, http.StatusOK)
	var c bookingReply
	r.decode(t, &c)
	if c.Status != "cancelled" {
		t.Errorf("release status %q", c.Status)
	}
	h.reserve(bob, event, tickets[1], tickets[2]) // available again at once

	r = h.do("GET", "/booking/"+first.BookingID.String(), nil, auth(ada)...)
	mustStatus(t, r, http.StatusOK)
	r = h.do("GET", "/booking/"+first.BookingID.String(), nil, auth(bob)...)
	wantError(t, r, http.StatusForbidden, boxoffice.EForbidden)
	r = h.do("GET", "/booking/"+uuid.NewString(), nil, auth(ada)...)
	wantError(t, r, http.StatusNotFound, boxoffice.ENotFound)
	r = h.do("DELETE", "/booking/"+uuid.NewString(), nil, auth(ada)...)
	wantError(t, r, http.StatusNotFound, boxoffice.ENotFound)

	r = h.do("GET", "/user/bookings", nil, auth(ada)...)
	mustStatus(t, r, http.StatusOK)
	var list struct {
		Bookings []bookingReply `json:"bookings"`
	}
	r.decode(t, &list)
	if len(list.Bookings) != 2 || list.Bookings[0].BookingID != second.BookingID || list.Bookings[1].BookingID != first.BookingID {
		t.Errorf("user bookings (newest first) = %+v", list.Bookings)
	}
	r = h.do("GET", "/user/bookings?limit=1", nil, auth(ada)...)
	mustStatus(t, r, http.StatusOK)
	r.decode(t, &list)
	if len(list.Bookings) != 1 {
		t.Errorf("limit=1 gave %d bookings", len(list.Bookings))
	}
	r = h.do("GET", "/user/bookings?limit=0", nil, auth(ada)...)
	wantError(t, r, http.StatusBadRequest, boxoffice.EInvalid)
	if r.errorField() != "limit" {
		t.Errorf("field %q, want limit", r.errorField())
	}

	h.bookings.down = true
	r = h.do("GET", "/user/bookings", nil, auth(ada)...)
	wantError(t, r, http.StatusServiceUnavailable, boxoffice.EUnavailable)
}

func TestWaitingRoom(t *testing.T) {
	h := newHarness(t)
	event, tickets := h.seedEvent()
	r := h.do("PATCH", "/admin/api/events/"+event.String(),
		map[string]any{"waiting_room": map[string]any{"enabled": true, "rate_per_second": 50}}, auth(h.adminToken())...)
	mustStatus(t, r, http.StatusOK)
	ada, adaID := h.userToken("ada")

	r = h.do("POST", "/booking/reserve", map[string]any{"event_id": event, "ticket_ids": tickets[:1]}, auth(ada)...)
	wantError(t, r, http.StatusForbidden, boxoffice.EQueueRequired)

	r = h.do("POST", "/events/"+event.String()+"/queue", nil)
	wantError(t, r, http.StatusUnauthorized, boxoffice.EUnauthenticated)
	r = h.do("POST", "/events/"+event.String()+"/queue", nil, auth(ada)...)
	mustStatus(t, r, http.StatusOK)
	var q struct {
		QueueID string `json:"queue_id"`
		Token   string `json:"admission_token"`
	}
	r.decode(t, &q)
	if q.Token != "ok-"+adaID.String() {
		t.Fatalf("queue reply %s", r.body)
	}
	mustStatus(t, h.do("GET", "/events/"+event.String()+"/queue/"+q.QueueID, nil), http.StatusOK)

	r = h.do("POST", "/booking/reserve", map[string]any{"event_id": event, "ticket_ids": tickets[:1]},
		append(auth(ada), "X-Admission-Token", q.Token)...)
	mustStatus(t, r, http.StatusCreated)
}

func TestNoBookingsStore(t *testing.T) {
	h := newHarness(t, func(_ *apiConfig, d *apiDeps) { d.Bookings = nil })
	ada, _ := h.userToken("ada")
	r := h.do("GET", "/booking/"+uuid.NewString(), nil, auth(ada)...)
	wantError(t, r, http.StatusServiceUnavailable, boxoffice.EUnavailable)
}
