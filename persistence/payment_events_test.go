package persistence_test

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// TestPaymentEventsRecordedOnce: a provider event id is recorded once
// however often (and however concurrently) it is delivered.
func TestPaymentEventsRecordedOnce(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	ctx := ctxT(t)
	ev := boxoffice.PaymentEvent{ID: "evt_" + uuid.NewString(), Kind: boxoffice.PaymentEventSucceeded, BookingID: uuid.New()}
	if seen, err := db.PaymentEventApplied(ctx, ev.ID); err != nil || seen {
		t.Fatalf("applied before any delivery = %v, %v", seen, err)
	}
	var firsts atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first, err := db.RecordPaymentEvent(ctx, ev)
			if err != nil {
				t.Error(err)
			}
			if first {
				firsts.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := firsts.Load(); n != 1 {
		t.Errorf("%d deliveries recorded as first, want 1", n)
	}
	if seen, err := db.PaymentEventApplied(ctx, ev.ID); err != nil || !seen {
		t.Errorf("applied after delivery = %v, %v", seen, err)
	}
	if _, err := db.RecordPaymentEvent(ctx, boxoffice.PaymentEvent{}); boxoffice.ErrorCode(err) != boxoffice.EInvalid {
		t.Errorf("an event without id: %v, want invalid_argument", err)
	}
}
