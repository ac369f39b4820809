package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// reserveRaw posts body to /booking/reserve exactly as given, with an
// Idempotency-Key when key is set, and returns the status and raw reply.
func reserveRaw(t testing.TB, baseURL, token, key, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, baseURL+"/booking/reserve", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("POST /booking/reserve: %v", err)
		return 0, nil
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Errorf("POST /booking/reserve: read reply: %v", err)
	}
	return resp.StatusCode, data
}

// replyField returns one top-level field of a JSON reply ("" if absent);
// "error.code" reads the error code.
func replyField(t testing.TB, data []byte, field string) string {
	t.Helper()
	var v struct {
		BookingID string `json:"booking_id"`
		Status    string `json:"status"`
		Error     struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("reply is not JSON (%v): %s", err, data)
	}
	switch field {
	case "booking_id":
		return v.BookingID
	case "status":
		return v.Status
	case "error.code":
		return v.Error.Code
	}
	t.Fatalf("replyField: unknown field %q", field)
	return ""
}

// seatStatus returns the status of one ticket in the event view.
func seatStatus(t testing.TB, n *testNode, eventID, ticketID string) string {
	t.Helper()
	var ev struct {
		Tickets []struct {
			TicketID string `json:"ticket_id"`
			Status   string `json:"status"`
		} `json:"tickets"`
	}
	n.call(t, http.MethodGet, "/events/"+eventID, "", nil, &ev)
	for _, tk := range ev.Tickets {
		if tk.TicketID == ticketID {
			return tk.Status
		}
	}
	return ""
}

// TestReserveIdempotencyOverHTTP is Idempotency-Key on POST /booking/reserve
// against a real node: a retry (body re-spaced and keys reordered) gets the
// very same 201, also after the hold was released and after a restart; the
// key with another body is 409 idempotency_conflict; another user's same
// key is independent; concurrent duplicates make one hold.
func TestReserveIdempotencyOverHTTP(t *testing.T) {
	n := startTestNode(t)
	ev := createCheckEvent(t, n)
	tickets := ticketsOf(t, n, ev)
	alice, bob := n.token(t, "alice@example.com"), n.token(t, "bob@example.com")

	body := fmt.Sprintf(`{"event_id":%q,"ticket_ids":[%q,%q]}`, ev, tickets[0], tickets[1])
	code, first := reserveRaw(t, n.URL, alice, "order-1", body)
	if code != http.StatusCreated {
		t.Fatalf("first reserve: %d %s", code, first)
	}
	respaced := fmt.Sprintf("{\n  \"ticket_ids\": [ %q, %q ],\n  \"event_id\": %q\n}", tickets[0], tickets[1], ev)
	code, again := reserveRaw(t, n.URL, alice, "order-1", respaced)
	if code != http.StatusCreated || !bytes.Equal(again, first) {
		t.Fatalf("retry: %d %s; want 201 %s", code, again, first)
	}

	other := fmt.Sprintf(`{"event_id":%q,"ticket_ids":[%q]}`, ev, tickets[2])
	if code, rep := reserveRaw(t, n.URL, alice, "order-1", other); code != http.StatusConflict ||
		replyField(t, rep, "error.code") != "idempotency_conflict" {
		t.Errorf("same key, other body: %d %s; want 409 idempotency_conflict", code, rep)
	}
	if s := seatStatus(t, n, ev, tickets[2]); s != "available" {
		t.Errorf("the conflicting request held seat 2 (%s)", s)
	}
	code, bobs := reserveRaw(t, n.URL, bob, "order-1", other)
	if code != http.StatusCreated || replyField(t, bobs, "booking_id") == replyField(t, first, "booking_id") {
		t.Errorf("another user, same key: %d %s; want a 201 of their own", code, bobs)
	}

	booking := replyField(t, first, "booking_id")
	if code := n.call(t, http.MethodDelete, "/booking/"+booking, alice, nil, nil); code != http.StatusOK {
		t.Fatalf("DELETE the hold: %d", code)
	}
	if code, rep := reserveRaw(t, n.URL, alice, "order-1", body); code != http.StatusCreated || !bytes.Equal(rep, first) {
		t.Errorf("retry after DELETE: %d %s; want the first 201 %s", code, rep, first)
	}
	if s := seatStatus(t, n, ev, tickets[0]); s != "available" {
		t.Errorf("seat 0 is %s after a retry of a released hold; want available (no second hold)", s)
	}

	var wg sync.WaitGroup
	ids := make([]string, 8)
	dup := fmt.Sprintf(`{"event_id":%q,"ticket_id":%q}`, ev, tickets[5])
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := inGoroutine(t)
			code, rep := reserveRaw(t, n.URL, alice, "order-2", dup)
			if code != http.StatusCreated {
				t.Errorf("concurrent duplicate: %d %s", code, rep)
				return
			}
			ids[i] = replyField(t, rep, "booking_id")
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("concurrent duplicates got bookings %v; want one", ids)
		}
	}

	n.Close()
	n = startTestNodeOn(t, n.DB)
	alice = n.token(t, "alice@example.com") // the same user; dev secrets are per start
	if code, rep := reserveRaw(t, n.URL, alice, "order-1", body); code != http.StatusCreated || !bytes.Equal(rep, first) {
		t.Errorf("retry after a restart: %d %s; want the first 201 %s", code, rep, first)
	}
	var mine struct {
		Bookings []struct {
			BookingID string `json:"booking_id"`
		} `json:"bookings"`
	}
	// My bookings lags the holds by the bookings projection's bound
	// (BOXOFFICE_BOOKINGS_WINDOW plus one write): wait for both.
	require.Eventually(t, func() bool {
		n.call(t, http.MethodGet, "/user/bookings", alice, nil, &mine)
		return len(mine.Bookings) >= 2
	}, 10*time.Second, 10*time.Millisecond, "My bookings lists alice's two holds")
	if len(mine.Bookings) != 2 {
		t.Errorf("alice has %d bookings, want 2 (one per key)", len(mine.Bookings))
	}

	// The waiting room goes on after the hold was made: a repeat, which
	// holds nothing new, still gets the first 201 without a token.
	admin := n.token(t, "admin@example.com", "admin")
	if code := n.call(t, http.MethodPatch, "/admin/api/events/"+ev, admin,
		map[string]any{"waiting_room": map[string]any{"enabled": true, "rate_per_second": 1}}, nil); code != http.StatusOK {
		t.Fatalf("PATCH waiting room: %d", code)
	}
	fresh := fmt.Sprintf(`{"event_id":%q,"ticket_ids":[%q]}`, ev, tickets[9])
	require.Eventually(t, func() bool {
		code, rep := reserveRaw(t, n.URL, alice, "", fresh)
		return code == http.StatusForbidden && replyField(t, rep, "error.code") == "queue_required"
	}, 5*time.Second, 25*time.Millisecond, "a new hold needs an admission token")
	if code, rep := reserveRaw(t, n.URL, alice, "order-1", body); code != http.StatusCreated || !bytes.Equal(rep, first) {
		t.Errorf("repeat once the waiting room is on: %d %s; want the first 201 %s", code, rep, first)
	}
}

// TestReserveIdempotencyAcrossNodes sends the same keyed reserve to two
// nodes of a cluster at once, many times: one hold, one booking ID.
func TestReserveIdempotencyAcrossNodes(t *testing.T) {
	tc := startCluster(t, 2)
	a, b := tc.nodes[0], tc.nodes[1]
	ev := createCheckEvent(t, a)
	tickets := ticketsOf(t, a, ev)
	tok := a.token(t, "buyer@example.com")
	for round := range 8 { // within max_tickets_per_user for one buyer
		body := fmt.Sprintf(`{"event_id":%q,"ticket_ids":[%q]}`, ev, tickets[round])
		key := fmt.Sprint("cross-", round)
		var wg sync.WaitGroup
		ids := make([]string, 6)
		for i := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				t := inGoroutine(t)
				url := a.URL
				if i%2 == 1 {
					url = b.URL
				}
				code, rep := reserveRaw(t, url, tok, key, body)
				if code != http.StatusCreated {
					t.Errorf("round %d: %d %s", round, code, rep)
					return
				}
				ids[i] = replyField(t, rep, "booking_id")
			}()
		}
		wg.Wait()
		for _, id := range ids {
			if id != ids[0] {
				t.Fatalf("round %d: bookings %v; want one", round, ids)
			}
		}
	}
	var mine struct {
		Bookings []struct{} `json:"bookings"`
	}
	// My bookings lags the holds by the bookings projection's bound.
	require.Eventually(t, func() bool {
		b.call(t, http.MethodGet, "/user/bookings", tok, nil, &mine)
		return len(mine.Bookings) >= 8
	}, 10*time.Second, 10*time.Millisecond, "My bookings lists the eight holds")
	if len(mine.Bookings) != 8 {
		t.Errorf("bookings = %d, want 8 (one per key)", len(mine.Bookings))
	}
}
