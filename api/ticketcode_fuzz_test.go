package api_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// FuzzTicketCode feeds the ticket-code decoder arbitrary text: it must
// never panic, every refusal is invalid_ticket, and whatever it accepts
// re-signs to the very same text (an altered code never verifies). The
// seeds are below and in testdata/fuzz/FuzzTicketCode (a code with a CR
// inside, which base64 decoding skips, found by this fuzzer).
func FuzzTicketCode(f *testing.F) {
	k, err := boxoffice.TicketKeysFromSeeds(bytes.Repeat([]byte{1}, ed25519.SeedSize))
	if err != nil {
		f.Fatal(err)
	}
	code, err := k.Sign(boxoffice.TicketCode{EventID: uuid.MustParse("0b9f6a0e-3c1d-4c55-9d6e-6a1f0c2b7e11"), Index: 41,
		BookingID: uuid.MustParse("5d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"), Section: "Stalls", Row: "K", Seat: 12,
		IssuedAt: time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(code)
	f.Add(code[:len(code)-1])
	f.Add(code[:50] + "\n" + code[50:])
	f.Add("")
	f.Add("AQ")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := k.Verify(s)
		if err != nil {
			if !errors.Is(err, boxoffice.ErrInvalidTicket) {
				t.Fatalf("Verify error %v is not invalid_ticket", err)
			}
			return
		}
		if again, err := k.Sign(c); err != nil || again != s {
			t.Fatalf("accepted %q, which re-signs to %q (%v)", s, again, err)
		}
	})
}
