package api_test

import (
	"net/http"
	"slices"
	"testing"
)

// TestConfirmCarriesTheBooking: the booking row the API reads to check its
// owner travels to the engine with the confirm, so that a confirm reads the
// row once (issue 15).
func TestConfirmCarriesTheBooking(t *testing.T) {
	h := newHarness(t)
	event, tickets := h.seedEvent()
	ada, _ := h.userToken("ada")
	b := h.reserve(ada, event, tickets[0])
	for _, method := range []string{"POST", "PUT"} {
		r := h.do(method, "/booking/confirm", confirmBody(b.BookingID, "tok_visa"), auth(ada)...)
		mustStatus(t, r, http.StatusOK)
	}
	h.engine.mu.Lock()
	carried := slices.Clone(h.engine.carried)
	h.engine.mu.Unlock()
	if want := []bool{true, true}; !slices.Equal(carried, want) {
		t.Errorf("confirms carried the caller's booking row: %v, want %v", carried, want)
	}
}
