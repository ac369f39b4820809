package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice/api/devpay"
)

// TestRefundOnRealNode: on a real node (PostgreSQL, the event grain, the
// dev payment provider) POST /booking/{id}/refund is the owner's until the
// event's refund_until and an admin's always; another user is refused; the
// money goes back once however often it is asked; the seats are on sale at
// once (a WebSocket delta) and can be sold again; the tickets are revoked;
// a booking that is not confirmed is 409 booking_state.
func TestRefundOnRealNode(t *testing.T) {
	n := startSeededNode(t)
	alice, bob := n.token(t, "alice@example.com"), n.token(t, "bob@example.com")
	admin := n.token(t, "admin@example.com", "admin")
	ev := stadiumEventID()
	var seats eventView
	if code := n.call(t, http.MethodGet, "/events/"+ev, "", nil, &seats); code != http.StatusOK {
		t.Fatalf("GET event: %d", code)
	}
	w := watch(t, n, ev)
	ids := []string{seats.Tickets[700].TicketID, seats.Tickets[701].TicketID}
	buy := func(token string, ids []string) string {
		t.Helper()
		var held struct {
			BookingID string `json:"booking_id"`
		}
		if code := n.call(t, http.MethodPost, "/booking/reserve", token, map[string]any{"event_id": ev, "ticket_ids": ids}, &held); code != http.StatusCreated {
			t.Fatalf("reserve %v: %d", ids, code)
		}
		if status, code := n.confirmWithKey(t, token, "", held.BookingID); status != http.StatusOK {
			t.Fatalf("confirm: %d %s", status, code)
		}
		return held.BookingID
	}
	refund := func(token, booking string, want int, wantCode string) {
		t.Helper()
		var out struct {
			Status string `json:"status"`
			Error  struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		code := n.call(t, http.MethodPost, "/booking/"+booking+"/refund", token, nil, &out)
		if code != want || (want == http.StatusOK && out.Status != "refunded") || (wantCode != "" && out.Error.Code != wantCode) {
			t.Fatalf("refund %s: %d %+v, want %d %s", booking, code, out, want, wantCode)
		}
	}
	refunds := func(booking string) int {
		return n.pay.(*devpay.Provider).Refunds(uuid.MustParse(booking))
	}

	a := buy(alice, ids)
	refund(bob, a, http.StatusForbidden, "forbidden")
	refund("", a, http.StatusUnauthorized, "unauthenticated")
	refund(alice, uuid.NewString(), http.StatusNotFound, "not_found")
	refund(alice, "not-a-uuid", http.StatusBadRequest, "invalid_argument")
	refund(alice, a, http.StatusOK, "")
	refund(alice, a, http.StatusOK, "") // the same 200 again
	if got := refunds(a); got != 1 {
		t.Fatalf("the provider refunded %d times, want 1", got)
	}
	if code := n.call(t, http.MethodGet, "/booking/"+a+"/tickets", alice, nil, nil); code != http.StatusConflict {
		t.Fatalf("tickets of a refunded booking: %d, want 409", code)
	}
	require.Eventually(t, func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.statuses[ids[0]] == "available" && w.statuses[ids[1]] == "available"
	}, 30*time.Second, 10*time.Millisecond, "the refunded seats are available on the WebSocket")
	require.NoError(t, w.err)

	// Sold again, to bob; an admin refunds it at any time.
	b := buy(bob, ids)
	refund(admin, b, http.StatusOK, "")
	if got := refunds(b); got != 1 {
		t.Fatalf("bob's booking refunded %d times, want 1", got)
	}

	// After refund_until the owner is refused; an admin is not.
	c := buy(alice, ids[:1])
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	if code := n.call(t, http.MethodPatch, "/admin/api/events/"+ev, admin, map[string]any{"refund_until": past}, nil); code != http.StatusOK {
		t.Fatalf("PATCH refund_until: %d", code)
	}
	refund(alice, c, http.StatusConflict, "booking_state")
	refund(admin, c, http.StatusOK, "")

	// A hold is not refundable.
	var held struct {
		BookingID string `json:"booking_id"`
	}
	if code := n.call(t, http.MethodPost, "/booking/reserve", alice, map[string]any{"event_id": ev, "ticket_ids": ids[1:]}, &held); code != http.StatusCreated {
		t.Fatalf("reserve: %d", code)
	}
	refund(admin, held.BookingID, http.StatusConflict, "booking_state")

	// boxoffice check replays the journal (sold, refunded, sold again,
	// refunded, sold, refunded) and finds nothing; a refunded booking's
	// sale planted back into sold_seats is found.
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"check", "-database-url", n.DB}, func(string) string { return "" }, &out, &errOut); err != nil ||
		!strings.Contains(out.String(), " 0 violation(s)") {
		t.Fatalf("check after refunds and resales: %v\n%s%s", err, out.String(), errOut.String())
	}
	if _, err := n.db.Pool().Exec(context.Background(), `INSERT INTO sold_seats (event_id, ticket_id, booking_id) VALUES ($1, $2, $3)`,
		uuid.MustParse(ev), uuid.MustParse(ids[0]), uuid.MustParse(a)); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"check", "-database-url", n.DB}, func(string) string { return "" }, &out, &errOut); err == nil ||
		!strings.Contains(out.String(), "VIOLATION "+kindBadRefund) {
		t.Fatalf("check with a refunded booking's seat in sold_seats: %v\n%s", err, out.String())
	}
}
