package boxoffice_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// TestBookingIDCarriesEvent: a booking ID is an RFC 9562 version 8 UUID
// whose fingerprint names its event, with random bits enough that two IDs
// of one event never meet; IDs that carry no fingerprint (random v4, the
// ticket IDs) are told apart.
func TestBookingIDCarriesEvent(t *testing.T) {
	ev, other := uuid.New(), uuid.New()
	seen := map[uuid.UUID]bool{}
	for range 1000 {
		id := boxoffice.NewBookingID(ev)
		if id.Version() != 8 || id.Variant() != uuid.RFC4122 {
			t.Fatalf("%s: version %d, variant %v; want 8, RFC 4122", id, id.Version(), id.Variant())
		}
		if fp, ok := boxoffice.EventFingerprintOf(id); !ok || fp != boxoffice.BookingFingerprint(ev) {
			t.Fatalf("%s carries %x, %v; want the event's %x", id, fp, ok, boxoffice.BookingFingerprint(ev))
		}
		if seen[id] {
			t.Fatalf("%s made twice", id)
		}
		seen[id] = true
		if _, err := uuid.Parse(id.String()); err != nil {
			t.Fatal(err)
		}
	}
	if boxoffice.BookingFingerprint(ev) == boxoffice.BookingFingerprint(other) {
		t.Errorf("two events share a fingerprint")
	}
	if fp := boxoffice.BookingFingerprint(ev); fp < 0 || fp >= 1<<48 {
		t.Errorf("fingerprint %x is not 48 bits", fp)
	}
	for _, id := range []uuid.UUID{uuid.New(), boxoffice.NewTicketSpace(ev).ID(7), uuid.Nil} {
		if _, ok := boxoffice.EventFingerprintOf(id); ok && id.Version() != 8 {
			t.Errorf("%s (version %d) read as carrying a fingerprint", id, id.Version())
		}
	}
	if _, ok := boxoffice.EventFingerprintOf(uuid.New()); ok {
		t.Errorf("a random v4 ID read as carrying a fingerprint")
	}
}
