package actors_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors"
	"github.com/boxoffice/boxoffice/api/devpay"
)

// BenchmarkConfirm measures one confirm (pin, payment row, development
// provider charge, sale) of a fresh one-seat hold, with a client
// Idempotency-Key, by one caller at a time: the latency a buyer waits
// for after "pay", whose database round trips the fenced payment rows add to.
func BenchmarkConfirm(b *testing.B) {
	e := newBenchEnv(b, actors.Config{})
	e.space = boxoffice.NewTicketSpace(e.eventID)
	ctx := context.Background()
	user := uuid.New()
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		hold := e.mustReserve(b, user, i%e.seats)
		b.StartTimer()
		if _, err := e.node.eng.Confirm(ctx, boxoffice.ConfirmRequest{EventID: e.eventID, BookingID: hold.ID,
			UserID: user, IdempotencyKey: uuid.NewString(), Method: "card", Token: devpay.TokenVisa}); err != nil {
			b.Fatal(err)
		}
	}
}
