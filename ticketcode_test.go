package boxoffice_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// seed returns a fixed Ed25519 seed filled with b, so codes are reproducible.
func seed(b byte) []byte { return bytes.Repeat([]byte{b}, ed25519.SeedSize) }

func mustKeys(t testing.TB, seeds ...[]byte) *boxoffice.TicketKeys {
	t.Helper()
	k, err := boxoffice.TicketKeysFromSeeds(seeds...)
	if err != nil {
		t.Fatalf("TicketKeysFromSeeds: %v", err)
	}
	return k
}

func sampleTicket() boxoffice.TicketCode {
	ev := uuid.MustParse("0b9f6a0e-3c1d-4c55-9d6e-6a1f0c2b7e11")
	return boxoffice.TicketCode{EventID: ev, Index: 41, BookingID: uuid.MustParse("5d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"),
		Section: "Stalls", Row: "K", Seat: 12, IssuedAt: time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)}
}

func mustSign(t testing.TB, k *boxoffice.TicketKeys, c boxoffice.TicketCode) string {
	t.Helper()
	code, err := k.Sign(c)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return code
}

func TestTicketCodeRoundTrip(t *testing.T) {
	k := mustKeys(t, seed(1))
	in := sampleTicket()
	code := mustSign(t, k, in)
	if len(code) != 160 { // 113 bytes + "Stalls" + "K" = 120 bytes
		t.Errorf("code length %d, want 160", len(code))
	}
	got, err := k.Verify(code)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	want := in
	want.KeyID = k.ActiveKeyID()
	want.TicketID = boxoffice.NewTicketSpace(in.EventID).ID(in.Index)
	if got != want {
		t.Errorf("Verify = %+v\nwant %+v", got, want)
	}
	if again := mustSign(t, k, in); again != code {
		t.Errorf("signing the same ticket twice gave two codes")
	}
}

func TestTicketCodeRejects(t *testing.T) {
	k := mustKeys(t, seed(1))
	code := mustSign(t, k, sampleTicket())
	raw, _ := base64.RawURLEncoding.DecodeString(code)
	t.Run("every byte flipped", func(t *testing.T) {
		for i := range raw {
			for _, mask := range []byte{0x01, 0x80, 0xff} {
				b := bytes.Clone(raw)
				b[i] ^= mask
				wantInvalid(t, k, base64.RawURLEncoding.EncodeToString(b))
			}
		}
	})
	t.Run("every truncation", func(t *testing.T) {
		for n := 0; n < len(code); n++ {
			wantInvalid(t, k, code[:n])
		}
	})
	t.Run("appended bytes", func(t *testing.T) {
		wantInvalid(t, k, base64.RawURLEncoding.EncodeToString(append(bytes.Clone(raw), 0)))
	})
	t.Run("unknown key", func(t *testing.T) {
		other := mustSign(t, mustKeys(t, seed(2)), sampleTicket())
		wantInvalid(t, k, other)
	})
	t.Run("not base64url", func(t *testing.T) {
		for _, s := range []string{"", "!!!!", code + "=", code[:40] + "+" + code[41:]} {
			wantInvalid(t, k, s)
		}
	})
	t.Run("too long", func(t *testing.T) {
		wantInvalid(t, k, code+string(bytes.Repeat([]byte("A"), boxoffice.MaxTicketCodeLen)))
	})
}

func wantInvalid(t *testing.T, k *boxoffice.TicketKeys, code string) {
	t.Helper()
	_, err := k.Verify(code)
	if !errors.Is(err, boxoffice.ErrInvalidTicket) || boxoffice.ErrorCode(err) != boxoffice.EInvalidTicket {
		t.Fatalf("Verify(%q) = %v, want invalid_ticket", code, err)
	}
}

func TestTicketKeysRotation(t *testing.T) {
	old := mustKeys(t, seed(1))
	oldCode := mustSign(t, old, sampleTicket())
	rotated := mustKeys(t, seed(2), seed(1))
	if _, err := rotated.Verify(oldCode); err != nil {
		t.Errorf("a code of the old key after rotation: %v", err)
	}
	newCode := mustSign(t, rotated, sampleTicket())
	c, err := rotated.Verify(newCode)
	if err != nil || c.KeyID != rotated.ActiveKeyID() || c.KeyID == old.ActiveKeyID() {
		t.Errorf("new code: %+v, %v", c, err)
	}
	if got := len(rotated.PublicKeys()); got != 2 {
		t.Errorf("%d public keys, want 2", got)
	}
	if _, err := boxoffice.TicketKeysFromSeeds(seed(1), seed(1)); err == nil {
		t.Errorf("two equal keys were accepted")
	}
	if _, err := boxoffice.TicketKeysFromSeeds(seed(1)[:31]); err == nil {
		t.Errorf("a short seed was accepted")
	}
}

func TestTicketCodeSignLimits(t *testing.T) {
	k := mustKeys(t, seed(1))
	for _, c := range []boxoffice.TicketCode{
		{Section: string(bytes.Repeat([]byte("s"), 256))},
		{Seat: 70000},
		{Index: -1},
	} {
		if _, err := k.Sign(c); err == nil {
			t.Errorf("Sign(%+v) accepted", c)
		}
	}
	long := sampleTicket()
	long.Section, long.Row = string(bytes.Repeat([]byte("s"), 255)), string(bytes.Repeat([]byte("r"), 255))
	code := mustSign(t, k, long)
	if len(code) > boxoffice.MaxTicketCodeLen {
		t.Errorf("longest code %d > MaxTicketCodeLen %d", len(code), boxoffice.MaxTicketCodeLen)
	}
	if _, err := k.Verify(code); err != nil {
		t.Errorf("longest code: %v", err)
	}
}

func TestSeatAt(t *testing.T) {
	m := boxoffice.SeatMap{Sections: []boxoffice.Section{
		{Name: "A", Rows: []boxoffice.Row{{Name: "1", Seats: 2}, {Name: "2", Seats: 1}}},
		{Name: "B", Rows: []boxoffice.Row{{Name: "1", Seats: 3}}},
	}}
	ev := boxoffice.Event{ID: uuid.New()}
	for _, tk := range ev.Tickets(m) {
		s, r, n, ok := m.SeatAt(tk.Index)
		if !ok || s != tk.Section || r != tk.Row || n != tk.Seat {
			t.Errorf("SeatAt(%d) = %s/%s/%d %v, want %s/%s/%d", tk.Index, s, r, n, ok, tk.Section, tk.Row, tk.Seat)
		}
	}
	for _, i := range []int{-1, 6, 100} {
		if _, _, _, ok := m.SeatAt(i); ok {
			t.Errorf("SeatAt(%d) ok", i)
		}
	}
}

func BenchmarkTicketCodeSign(b *testing.B) {
	k := mustKeys(b, seed(1))
	c := sampleTicket()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Sign(c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTicketCodeVerify(b *testing.B) {
	k := mustKeys(b, seed(1))
	code := mustSign(b, k, sampleTicket())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Verify(code); err != nil {
			b.Fatal(err)
		}
	}
}
