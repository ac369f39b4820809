package persistence_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// TestClaimReserve: concurrent claims of one key all return the first
// claim; a claim out of its window is replaced; users never share keys.
func TestClaimReserve(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	alice, bob, ev := uuid.New(), uuid.New(), uuid.New()
	claim := func(user uuid.UUID, fp string, at time.Time) boxoffice.ReserveClaim {
		t.Helper()
		c, err := db.ClaimReserve(ctx, boxoffice.ReserveClaim{UserID: user, Key: "k", Fingerprint: []byte(fp),
			EventID: ev, BookingID: uuid.New(), CreatedAt: at}, at.Add(-boxoffice.IdempotencyWindow))
		if err != nil {
			t.Fatalf("claim: %v", err)
		}
		return c
	}

	got := make([]boxoffice.ReserveClaim, 16)
	var wg sync.WaitGroup
	for i := range got {
		wg.Add(1)
		go func() { defer wg.Done(); got[i] = claim(alice, "body-1", now) }()
	}
	wg.Wait()
	for _, c := range got {
		if c.BookingID != got[0].BookingID || !bytes.Equal(c.Fingerprint, []byte("body-1")) {
			t.Fatalf("concurrent claims returned %+v and %+v; want one claim", got[0], c)
		}
	}
	if c := claim(alice, "body-2", now.Add(time.Hour)); c.BookingID != got[0].BookingID || string(c.Fingerprint) != "body-1" {
		t.Errorf("a claim within the window was changed: %+v", c)
	}
	if c := claim(bob, "body-2", now); c.UserID != bob || c.BookingID == got[0].BookingID {
		t.Errorf("bob's key is alice's: %+v", c)
	}
	later := now.Add(boxoffice.IdempotencyWindow)
	if c := claim(alice, "body-2", later); c.BookingID == got[0].BookingID || string(c.Fingerprint) != "body-2" || !c.CreatedAt.Equal(later) {
		t.Errorf("a claim out of its window was kept: %+v", c)
	}
	if _, err := db.ReserveClaim(ctx, uuid.New(), "k"); boxoffice.ErrorCode(err) != boxoffice.ENotFound {
		t.Errorf("an unknown key: %v; want not_found", err)
	}
}
