package api

import (
	"bytes"
	"strconv"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// renderSnapshot encodes API.md's first WebSocket frame. Ticket IDs are
// derived from the event ID and the flat seat index (boxoffice.TicketSpace),
// so no catalog lookup is needed.
func renderSnapshot(eventID uuid.UUID, v boxoffice.SeatsView) []byte {
	space := boxoffice.NewTicketSpace(eventID)
	return seatFrame("snapshot", "tickets", eventID, v.Version, len(v.Statuses), func(i int) (uuid.UUID, boxoffice.SeatStatus) {
		return space.ID(i), v.Statuses[i]
	})
}

// DeltaFrame encodes d as API.md's WebSocket delta. cmd has the engine's
// deltas encoded by it once, on the node that commits them, so that every
// node's hub forwards the same bytes to every client without re-encoding.
func DeltaFrame(d boxoffice.SeatDelta) []byte {
	return seatFrame("delta", "changes", d.EventID, d.Version, len(d.Changes), func(i int) (uuid.UUID, boxoffice.SeatStatus) {
		return d.Changes[i].TicketID, d.Changes[i].Status
	})
}

// seatFrame encodes a seat frame: {"type":typ,"event_id":..,"version":..,
// list:[{"ticket_id":..,"status":..}, ...]} with seat(i) the i-th of n
// entries, appended by hand because a 50,000-seat snapshot is hot.
func seatFrame(typ, list string, eventID uuid.UUID, version uint64, n int, seat func(i int) (uuid.UUID, boxoffice.SeatStatus)) []byte {
	buf := make([]byte, 0, 96+n*72)
	buf = append(buf, `{"type":"`...)
	buf = append(buf, typ...)
	buf = append(buf, `","event_id":"`...)
	buf = append(buf, eventID.String()...)
	buf = append(buf, `","version":`...)
	buf = strconv.AppendUint(buf, version, 10)
	buf = append(buf, `,"`...)
	buf = append(buf, list...)
	buf = append(buf, `":[`...)
	for i := range n {
		if i > 0 {
			buf = append(buf, ',')
		}
		id, st := seat(i)
		buf = append(buf, `{"ticket_id":"`...)
		buf = append(buf, id.String()...)
		buf = append(buf, `","status":"`...)
		buf = append(buf, st.String()...)
		buf = append(buf, `"}`...)
	}
	return append(buf, "]}"...)
}

var versionKey = []byte(`"version":`)

// frameVersion reads the version of a delta frame without decoding it; the
// frame is forwarded as is. The first "version" key is the frame's own: it
// precedes the changes, and event IDs are UUIDs.
func frameVersion(frame []byte) (uint64, bool) {
	i := bytes.Index(frame, versionKey)
	if i < 0 {
		return 0, false
	}
	rest := bytes.TrimLeft(frame[i+len(versionKey):], " \t\r\n")
	n := 0
	for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
		n++
	}
	v, err := strconv.ParseUint(string(rest[:n]), 10, 64)
	if err != nil || v == 0 {
		return 0, false
	}
	return v, true
}
