package actors

import (
	"strconv"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice/actors/seatmap"
)

// deltaFrame encodes a record as API.md's WebSocket delta, once, so every
// node's hub forwards the same bytes to every client without re-encoding.
func deltaFrame(m *seatmap.Map, eventID uuid.UUID, r seatmap.Record) []byte {
	changes := r.Changes()
	buf := make([]byte, 0, 96+len(changes)*72)
	buf = append(buf, `{"type":"delta","event_id":"`...)
	buf = append(buf, eventID.String()...)
	buf = append(buf, `","version":`...)
	buf = strconv.AppendUint(buf, r.Version, 10)
	buf = append(buf, `,"changes":[`...)
	for i, c := range changes {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, `{"ticket_id":"`...)
		buf = append(buf, m.TicketID(int(c.Index)).String()...)
		buf = append(buf, `","status":"`...)
		buf = append(buf, c.Status.String()...)
		buf = append(buf, `"}`...)
	}
	return append(buf, "]}"...)
}
