package api_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/api"
)

// TestDeltaFrameBytes pins API.md's WebSocket delta to the bytes the
// engine used to encode itself (actors/frames.go before issue 15), so that
// moving the encoding to the api package changed nothing on the wire.
func TestDeltaFrameBytes(t *testing.T) {
	ev := uuid.MustParse("6f1c3a52-9a43-4c3e-8d0a-2b7e4f1d9c11")
	space := boxoffice.NewTicketSpace(ev)
	for _, tc := range []struct {
		name string
		d    boxoffice.SeatDelta
		want string
	}{
		{"hold", boxoffice.SeatDelta{EventID: ev, Version: 42, Changes: []boxoffice.SeatChange{
			{TicketID: space.ID(3), Status: boxoffice.SeatReserved}, {TicketID: space.ID(1), Status: boxoffice.SeatReserved}}},
			`{"type":"delta","event_id":"6f1c3a52-9a43-4c3e-8d0a-2b7e4f1d9c11","version":42,"changes":[{"ticket_id":"5368b86c-12ca-8b18-8ce2-7c8c00000003","status":"reserved"},{"ticket_id":"5368b86c-12ca-8b18-8ce2-7c8c00000001","status":"reserved"}]}`},
		{"sale", boxoffice.SeatDelta{EventID: ev, Version: 43, Changes: []boxoffice.SeatChange{
			{TicketID: space.ID(5), Status: boxoffice.SeatBooked}}},
			`{"type":"delta","event_id":"6f1c3a52-9a43-4c3e-8d0a-2b7e4f1d9c11","version":43,"changes":[{"ticket_id":"5368b86c-12ca-8b18-8ce2-7c8c00000005","status":"booked"}]}`},
		{"no seat changed", boxoffice.SeatDelta{EventID: ev, Version: 44},
			`{"type":"delta","event_id":"6f1c3a52-9a43-4c3e-8d0a-2b7e4f1d9c11","version":44,"changes":[]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(api.DeltaFrame(tc.d)); got != tc.want {
				t.Errorf("frame\n %s\nwant\n %s", got, tc.want)
			}
		})
	}
}
