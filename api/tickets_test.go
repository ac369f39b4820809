package api_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"image/png"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/api"
	"github.com/boxoffice/boxoffice/api/ticketpdf/pdfscan"
)

type ticketReply struct {
	TicketID uuid.UUID `json:"ticket_id"`
	Section  string    `json:"section"`
	Row      string    `json:"row"`
	Seat     int       `json:"seat"`
	Code     string    `json:"code"`
}

func withTickets(t testing.TB, seeds ...[]byte) option {
	t.Helper()
	k, err := boxoffice.TicketKeysFromSeeds(seeds...)
	if err != nil {
		t.Fatal(err)
	}
	return func(_ *api.Config, d *api.Deps) { d.Tickets = k }
}

func ticketSeed(b byte) []byte { return bytes.Repeat([]byte{b}, ed25519.SeedSize) }

// jwksLookup fetches GET /tickets/keys and returns the offline verifier's
// key lookup, as a door would build it.
func (h *harness) jwksLookup() func([4]byte) ed25519.PublicKey {
	h.t.Helper()
	r := h.do("GET", "/tickets/keys", nil)
	mustStatus(h.t, r, http.StatusOK)
	var set struct {
		Keys []struct{ Kty, Crv, X, Kid, Alg string } `json:"keys"`
	}
	r.decode(h.t, &set)
	keys := map[[4]byte]ed25519.PublicKey{}
	for _, k := range set.Keys {
		x, err := base64.RawURLEncoding.DecodeString(k.X)
		kid, err2 := hex.DecodeString(k.Kid)
		if err != nil || err2 != nil || len(kid) != 4 || k.Kty != "OKP" || k.Crv != "Ed25519" || k.Alg != "EdDSA" {
			h.t.Fatalf("bad JWK %+v", k)
		}
		keys[[4]byte(kid)] = x
	}
	return func(kid [4]byte) ed25519.PublicKey { return keys[kid] }
}

func TestBookingTickets(t *testing.T) {
	h := newHarness(t, withTickets(t, ticketSeed(7), ticketSeed(6)))
	event, tickets := h.seedEvent()
	ada, _ := h.userToken("ada")
	bob, _ := h.userToken("bob")
	b := h.reserve(ada, event, tickets[6], tickets[12])
	path := "/booking/" + b.BookingID.String() + "/tickets"

	t.Run("a held booking has no tickets", func(t *testing.T) {
		for _, p := range []string{path, path + ".pdf", path + "/" + tickets[6].String() + "/qr.png"} {
			wantError(t, h.do("GET", p, nil, auth(ada)...), http.StatusConflict, boxoffice.EBookingState)
		}
	})
	mustStatus(t, h.do("POST", "/booking/confirm", confirmBody(b.BookingID, "tok_visa"), auth(ada)...), http.StatusOK)

	r := h.do("GET", path, nil, auth(ada)...)
	mustStatus(t, r, http.StatusOK)
	var got struct {
		Tickets []ticketReply `json:"tickets"`
	}
	r.decode(t, &got)
	want := []ticketReply{{TicketID: tickets[6], Section: "A", Row: "2", Seat: 2}, {TicketID: tickets[12], Section: "B", Row: "1", Seat: 3}}
	if len(got.Tickets) != len(want) {
		t.Fatalf("tickets = %+v", got.Tickets)
	}
	lookup := h.jwksLookup()
	for i, tk := range got.Tickets {
		w := want[i]
		if tk.TicketID != w.TicketID || tk.Section != w.Section || tk.Row != w.Row || tk.Seat != w.Seat {
			t.Errorf("ticket %d = %+v, want %+v", i, tk, w)
		}
		c, err := boxoffice.VerifyTicketCode(tk.Code, lookup)
		if err != nil {
			t.Fatalf("code %d does not verify offline: %v", i, err)
		}
		if c.TicketID != w.TicketID || c.EventID != event || c.BookingID != b.BookingID || c.Section != w.Section ||
			c.Row != w.Row || c.Seat != w.Seat {
			t.Errorf("code %d says %+v", i, c)
		}
	}
	if again := h.do("GET", path, nil, auth(ada)...); !bytes.Equal(again.body, r.body) {
		t.Errorf("a second GET gave other codes:\n%s\n%s", again.body, r.body)
	}

	t.Run("PDF: one page per ticket, each QR is the code", func(t *testing.T) {
		r := h.do("GET", path+".pdf", nil, auth(ada)...)
		mustStatus(t, r, http.StatusOK)
		if ct := r.header.Get("Content-Type"); ct != "application/pdf" {
			t.Fatalf("Content-Type %q", ct)
		}
		if n := pdfscan.PageCount(r.body); n != 2 {
			t.Fatalf("%d pages, want 2", n)
		}
		pages, err := pdfscan.Pages(r.body)
		if err != nil || len(pages) != 2 {
			t.Fatalf("pages %d, %v", len(pages), err)
		}
		for i, p := range pages {
			if p.QR != got.Tickets[i].Code {
				t.Errorf("page %d QR %q, want %q", i+1, p.QR, got.Tickets[i].Code)
			}
			for _, s := range []string{"Alive 2026", "Olympia", "28 Bd des Capucines, Paris", "Monday 1 September 2036, 20:00 UTC"} {
				if !bytes.Contains([]byte(p.Text), []byte(s)) {
					t.Errorf("page %d lacks %q:\n%s", i+1, s, p.Text)
				}
			}
		}
	})
	t.Run("QR image of one ticket", func(t *testing.T) {
		r := h.do("GET", path+"/"+tickets[12].String()+"/qr.png", nil, auth(ada)...)
		mustStatus(t, r, http.StatusOK)
		img, err := png.Decode(bytes.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		if s, err := pdfscan.Decode(img); err != nil || s != got.Tickets[1].Code {
			t.Errorf("QR = %q, %v", s, err)
		}
		r = h.do("GET", path+"/"+tickets[13].String()+"/qr.png", nil, auth(ada)...)
		wantError(t, r, http.StatusNotFound, boxoffice.ENotFound)
	})
	t.Run("another user's booking is forbidden, as everywhere", func(t *testing.T) {
		for _, p := range []string{path, path + ".pdf", path + "/" + tickets[6].String() + "/qr.png"} {
			wantError(t, h.do("GET", p, nil, auth(bob)...), http.StatusForbidden, boxoffice.EForbidden)
		}
	})
	t.Run("unknown, malformed, unauthenticated", func(t *testing.T) {
		wantError(t, h.do("GET", "/booking/"+uuid.NewString()+"/tickets", nil, auth(ada)...), http.StatusNotFound, boxoffice.ENotFound)
		wantError(t, h.do("GET", "/booking/nope/tickets.pdf", nil, auth(ada)...), http.StatusBadRequest, boxoffice.EInvalid)
		wantError(t, h.do("GET", path, nil), http.StatusUnauthorized, boxoffice.EUnauthenticated)
		wantError(t, h.do("POST", path, nil, auth(ada)...), http.StatusMethodNotAllowed, boxoffice.EMethodNotAllow)
	})
	t.Run("tampered codes and foreign keys fail offline", func(t *testing.T) {
		code := got.Tickets[0].Code
		raw, _ := base64.RawURLEncoding.DecodeString(code)
		for i := range raw {
			b := bytes.Clone(raw)
			b[i] ^= 0x01
			if _, err := boxoffice.VerifyTicketCode(base64.RawURLEncoding.EncodeToString(b), lookup); !errors.Is(err, boxoffice.ErrInvalidTicket) {
				t.Fatalf("byte %d flipped: %v", i, err)
			}
		}
		forger, _ := boxoffice.TicketKeysFromSeeds(ticketSeed(9))
		forged, _ := forger.Sign(boxoffice.TicketCode{EventID: event, Index: 6, BookingID: b.BookingID, Section: "A", Row: "2", Seat: 2})
		if _, err := boxoffice.VerifyTicketCode(forged, lookup); !errors.Is(err, boxoffice.ErrInvalidTicket) {
			t.Fatalf("a code of an unknown key: %v", err)
		}
	})
}

func TestTicketKeysJWKS(t *testing.T) {
	old, _ := boxoffice.TicketKeysFromSeeds(ticketSeed(6))
	oldCode, err := old.Sign(boxoffice.TicketCode{EventID: uuid.New(), BookingID: uuid.New(), Section: "A", Row: "1", Seat: 1})
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, withTickets(t, ticketSeed(7), ticketSeed(6)))
	r := h.do("GET", "/tickets/keys", nil)
	mustStatus(t, r, http.StatusOK)
	if cc := r.header.Get("Cache-Control"); cc != "public, max-age=300" {
		t.Errorf("Cache-Control %q", cc)
	}
	if _, err := boxoffice.VerifyTicketCode(oldCode, h.jwksLookup()); err != nil {
		t.Errorf("a code of the rotated-out key: %v", err)
	}

	none := newHarness(t)
	wantError(t, none.do("GET", "/tickets/keys", nil), http.StatusServiceUnavailable, boxoffice.EUnavailable)
}
