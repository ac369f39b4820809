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
	buf := make([]byte, 0, 96+len(v.Statuses)*64)
	buf = append(buf, `{"type":"snapshot","event_id":"`...)
	buf = append(buf, eventID.String()...)
	buf = append(buf, `","version":`...)
	buf = strconv.AppendUint(buf, v.Version, 10)
	buf = append(buf, `,"tickets":[`...)
	for i, st := range v.Statuses {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"ticket_id":"`...)
		buf = append(buf, space.ID(i).String()...)
		buf = append(buf, `","status":"`...)
		buf = append(buf, st.String()...)
		buf = append(buf, `"}`...)
	}
	return append(buf, "]}"...)
}

// DeltaFrame encodes d as API.md's WebSocket delta. cmd has the engine's
// deltas encoded by it once, on the node that commits them, so that every
// node's hub forwards the same bytes to every client without re-encoding.
func DeltaFrame(d boxoffice.SeatDelta) []byte {
	buf := make([]byte, 0, 96+len(d.Changes)*72)
	buf = append(buf, `{"type":"delta","event_id":"`...)
	buf = append(buf, d.EventID.String()...)
	buf = append(buf, `","version":`...)
	buf = strconv.AppendUint(buf, d.Version, 10)
	buf = append(buf, `,"changes":[`...)
	for i, c := range d.Changes {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"ticket_id":"`...)
		buf = append(buf, c.TicketID.String()...)
		buf = append(buf, `","status":"`...)
		buf = append(buf, c.Status.String()...)
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
