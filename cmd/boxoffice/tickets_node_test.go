package main

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"testing"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/api/ticketpdf/pdfscan"
)

// TestTicketsOnRealNode: on a real node (PostgreSQL, the event grain, the
// dev payment provider), a confirmed booking's ticket codes verify offline
// against GET /tickets/keys (a key the node generated and stored), and its
// PDF has one page per ticket whose QR code reads back as that code.
func TestTicketsOnRealNode(t *testing.T) {
	n := startSeededNode(t)
	alice := n.token(t, "alice@example.com")
	ev := stadiumEventID()
	var seats struct {
		Tickets []struct {
			TicketID string `json:"ticket_id"`
		} `json:"tickets"`
	}
	if code := n.call(t, http.MethodGet, "/events/"+ev, "", nil, &seats); code != http.StatusOK {
		t.Fatalf("GET event: %d", code)
	}
	ids := []string{seats.Tickets[500].TicketID, seats.Tickets[501].TicketID, seats.Tickets[502].TicketID}
	var held struct {
		BookingID string `json:"booking_id"`
	}
	if code := n.call(t, http.MethodPost, "/booking/reserve", alice, map[string]any{"event_id": ev, "ticket_ids": ids}, &held); code != http.StatusCreated {
		t.Fatalf("reserve: %d", code)
	}
	path := "/booking/" + held.BookingID + "/tickets"
	if code := n.call(t, http.MethodGet, path, alice, nil, nil); code != http.StatusConflict {
		t.Fatalf("tickets of a held booking: %d, want 409", code)
	}
	if status, code := n.confirmWithKey(t, alice, "tickets-1", held.BookingID); status != http.StatusOK {
		t.Fatalf("confirm: %d %s", status, code)
	}
	var got struct {
		Tickets []struct {
			TicketID string `json:"ticket_id"`
			Code     string `json:"code"`
		} `json:"tickets"`
	}
	if code := n.call(t, http.MethodGet, path, alice, nil, &got); code != http.StatusOK || len(got.Tickets) != 3 {
		t.Fatalf("GET tickets: %d, %d tickets", code, len(got.Tickets))
	}
	var jwks struct {
		Keys []struct{ X, Kid string } `json:"keys"`
	}
	if code := n.call(t, http.MethodGet, "/tickets/keys", "", nil, &jwks); code != http.StatusOK || len(jwks.Keys) != 1 {
		t.Fatalf("GET /tickets/keys: %d, %+v", code, jwks)
	}
	x, _ := base64.RawURLEncoding.DecodeString(jwks.Keys[0].X)
	kid, _ := hex.DecodeString(jwks.Keys[0].Kid)
	lookup := func(k [4]byte) ed25519.PublicKey {
		if string(k[:]) == string(kid) {
			return x
		}
		return nil
	}
	for i, tk := range got.Tickets {
		c, err := boxoffice.VerifyTicketCode(tk.Code, lookup)
		if err != nil || c.TicketID.String() != ids[i] || c.BookingID.String() != held.BookingID || c.EventID.String() != ev {
			t.Errorf("ticket %d: %+v, %v", i, c, err)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, n.URL+path+".pdf", nil)
	req.Header.Set("Authorization", "Bearer "+alice)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	pdf, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("PDF: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if p := pdfscan.PageCount(pdf); p != 3 {
		t.Fatalf("%d pages, want 3", p)
	}
	pages, err := pdfscan.Pages(pdf)
	if err != nil || len(pages) != 3 {
		t.Fatalf("pages: %d, %v", len(pages), err)
	}
	for i, p := range pages {
		if p.QR != got.Tickets[i].Code {
			t.Errorf("page %d QR %q, want %q", i+1, p.QR, got.Tickets[i].Code)
		}
	}
}
