package actors_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors"
	"github.com/boxoffice/boxoffice/api/devpay"
)

// A sale puts booking.confirmed into the outbox with its commit, and the
// sale of the last seat adds event.sold_out (once the confirm has answered,
// both are durable: they commit with the sale).
func TestSaleWritesNotices(t *testing.T) {
	e := newEnv(t, boxoffice.SeatMap{Sections: []boxoffice.Section{{Name: "A", Rows: []boxoffice.Row{{Name: "1", Seats: 3}}}}}, actors.Config{})
	alice, bob := uuid.New(), uuid.New()
	notices := func() []boxoffice.Notice {
		t.Helper()
		rows, err := e.db.PendingOutbox(context.Background(), 100)
		if err != nil {
			t.Fatal(err)
		}
		var out []boxoffice.Notice
		for _, r := range rows {
			if !boxoffice.IsNoticeType(r.Topic) {
				continue
			}
			var n boxoffice.Notice
			if err := json.Unmarshal(r.Payload, &n); err != nil {
				t.Fatal(err)
			}
			out = append(out, n)
		}
		return out
	}
	first := e.mustReserve(t, alice, 0, 1)
	if _, err := e.confirm(t, first, alice, devpay.TokenVisa); err != nil {
		t.Fatal(err)
	}
	got := notices()
	if len(got) != 1 || got[0].Type != boxoffice.NoticeBookingConfirmed || got[0].BookingID != first.ID ||
		got[0].UserID != alice || len(got[0].TicketIDs) != 2 || got[0].Total != first.Total {
		t.Fatalf("after the first sale: %+v, want one booking.confirmed of %s", got, first.ID)
	}
	last := e.mustReserve(t, bob, 2)
	if _, err := e.confirm(t, last, bob, devpay.TokenVisa); err != nil {
		t.Fatal(err)
	}
	got = notices()
	if len(got) != 3 || got[1].Type != boxoffice.NoticeBookingConfirmed || got[1].BookingID != last.ID ||
		got[2].Type != boxoffice.NoticeEventSoldOut || got[2].EventID != e.eventID {
		t.Fatalf("after the last sale: %+v, want booking.confirmed then event.sold_out", got)
	}
	stored, err := e.db.Booking(context.Background(), first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.node.eng.Refund(context.Background(), stored, boxoffice.RefundByAdmin); err != nil {
		t.Fatal(err)
	}
	got = notices()
	if len(got) != 4 || got[3].Type != boxoffice.NoticeBookingRefunded || got[3].BookingID != first.ID || got[3].UserID != alice {
		t.Fatalf("after the refund: %+v, want a booking.refunded of %s last", got, first.ID)
	}
	for range 2 { // a repeated cancel tells nobody again
		if _, err := e.db.CancelEvent(context.Background(), e.eventID); err != nil {
			t.Fatal(err)
		}
	}
	got = notices()
	if len(got) != 5 || got[4].Type != boxoffice.NoticeEventCancelled || got[4].EventID != e.eventID {
		t.Fatalf("after cancelling twice: %+v, want one event.cancelled last", got)
	}
}
