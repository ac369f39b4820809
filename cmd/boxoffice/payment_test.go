package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// confirmWithKey POSTs /booking/confirm with an Idempotency-Key and returns
// the status and the error code of the reply, if any.
func (n *testNode) confirmWithKey(t testing.TB, token, key, bookingID string) (int, string) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"booking_id": bookingID,
		"payment": map[string]string{"method": "card", "token": "tok_visa"}})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, n.URL+"/booking/confirm", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Idempotency-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("confirm: %v", err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(data, &e)
	return resp.StatusCode, e.Error.Code
}

// TestConfirmKeyReuseOverHTTP: against a real node, a buyer who paid one
// booking with key K cannot confirm a second (bigger) booking with K (409
// idempotency_conflict), another user's K is their own, and the payments
// table shows one charge of its own amount per confirmed booking (issue 13).
func TestConfirmKeyReuseOverHTTP(t *testing.T) {
	n := startSeededNode(t)
	alice, bob := n.token(t, "alice@example.com"), n.token(t, "bob@example.com")
	ev := stadiumEventID()
	var seats struct {
		Tickets []struct {
			TicketID string `json:"ticket_id"`
		} `json:"tickets"`
	}
	if code := n.call(t, http.MethodGet, "/events/"+ev, "", nil, &seats); code != http.StatusOK {
		t.Fatalf("GET event: %d", code)
	}
	next := 300
	reserve := func(token string, count int) string {
		t.Helper()
		var ids []string
		for range count {
			ids = append(ids, seats.Tickets[next].TicketID)
			next++
		}
		var held struct {
			BookingID string `json:"booking_id"`
		}
		if code := n.call(t, http.MethodPost, "/booking/reserve", token,
			map[string]any{"event_id": ev, "ticket_ids": ids}, &held); code != http.StatusCreated {
			t.Fatalf("reserve: %d", code)
		}
		return held.BookingID
	}
	small, big, bobs := reserve(alice, 1), reserve(alice, 4), reserve(bob, 1)
	steps := []struct {
		name, token, key, booking string
		status                    int
		code                      string
	}{
		{"alice pays the small booking with K", alice, "K", small, http.StatusOK, ""},
		{"alice replays it", alice, "K", small, http.StatusOK, ""},
		{"alice reuses K for the big booking", alice, "K", big, http.StatusConflict, "idempotency_conflict"},
		{"bob's K is his own", bob, "K", bobs, http.StatusOK, ""},
		{"alice pays the big booking with a new key", alice, "K2", big, http.StatusOK, ""},
	}
	for _, s := range steps {
		if status, code := n.confirmWithKey(t, s.token, s.key, s.booking); status != s.status || code != s.code {
			t.Errorf("%s: %d %q, want %d %q", s.name, status, code, s.status, s.code)
		}
	}
	var confirmed, charges, mismatched int
	err := n.db.Pool().QueryRow(context.Background(), `
		SELECT count(*), count(DISTINCT p.charge_id),
			count(*) FILTER (WHERE p.status <> 'succeeded' OR p.amount_minor <> b.total_minor OR p.charge_id = '')
		FROM bookings b JOIN payments p ON p.booking_id = b.id
		WHERE b.status = 'confirmed'`).Scan(&confirmed, &charges, &mismatched)
	if err != nil {
		t.Fatal(err)
	}
	if confirmed != 3 || charges != 3 || mismatched != 0 {
		t.Errorf("%d confirmed bookings with %d distinct charges, %d not their own; want 3, 3, 0", confirmed, charges, mismatched)
	}
}
