package api

import (
	"testing"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// TestSnapshotFrameBytes pins API.md's first WebSocket frame, which shares
// its encoder with the delta (seatFrame).
func TestSnapshotFrameBytes(t *testing.T) {
	ev := uuid.MustParse("6f1c3a52-9a43-4c3e-8d0a-2b7e4f1d9c11")
	for _, tc := range []struct {
		name string
		v    boxoffice.SeatsView
		want string
	}{
		{"three seats", boxoffice.SeatsView{Version: 7, Statuses: []boxoffice.SeatStatus{boxoffice.SeatAvailable, boxoffice.SeatReserved, boxoffice.SeatBooked}},
			`{"type":"snapshot","event_id":"6f1c3a52-9a43-4c3e-8d0a-2b7e4f1d9c11","version":7,"tickets":[` +
				`{"ticket_id":"5368b86c-12ca-8b18-8ce2-7c8c00000000","status":"available"},` +
				`{"ticket_id":"5368b86c-12ca-8b18-8ce2-7c8c00000001","status":"reserved"},` +
				`{"ticket_id":"5368b86c-12ca-8b18-8ce2-7c8c00000002","status":"booked"}]}`},
		{"no seats", boxoffice.SeatsView{},
			`{"type":"snapshot","event_id":"6f1c3a52-9a43-4c3e-8d0a-2b7e4f1d9c11","version":0,"tickets":[]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(renderSnapshot(ev, tc.v)); got != tc.want {
				t.Errorf("frame\n %s\nwant\n %s", got, tc.want)
			}
		})
	}
}
