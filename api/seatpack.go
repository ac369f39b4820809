package api

import (
	"encoding/base64"
	"encoding/json"
	"strconv"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// SeatEncoding names the packing of availability and of compact snapshots
// (openapi.yaml, SeatEncoding): two bits a seat, four seats a byte, seat i
// in bits 2*(i%4)..2*(i%4)+1 of byte i/4 (the lowest bits first), its value
// a SeatCode. A 50,000-seat stadium is 12,500 bytes before base64.
const SeatEncoding = "2bit-lsb"

// Seat codes of the packing and of compact deltas' [index, status] pairs.
// They equal boxoffice.SeatStatus's values; 3 is never sent (clients treat
// it as not available).
const (
	SeatCodeAvailable = 0
	SeatCodeReserved  = 1
	SeatCodeBooked    = 2
)

// PackSeats packs statuses in SeatEncoding.
func PackSeats(statuses []boxoffice.SeatStatus) []byte {
	out := make([]byte, (len(statuses)+3)/4)
	for i, st := range statuses {
		out[i>>2] |= byte(seatCode(st)) << ((i & 3) * 2)
	}
	return out
}

// UnpackSeats reads n statuses packed in SeatEncoding; a code of 3 reads
// as booked (not available). It returns false when data is too short.
func UnpackSeats(data []byte, n int) ([]boxoffice.SeatStatus, bool) {
	if n < 0 || len(data) < (n+3)/4 {
		return nil, false
	}
	out := make([]boxoffice.SeatStatus, n)
	for i := range out {
		out[i] = SeatStatusOfCode(int(data[i>>2]>>((i&3)*2)) & 3)
	}
	return out, true
}

func seatCode(st boxoffice.SeatStatus) int {
	switch st {
	case boxoffice.SeatAvailable:
		return SeatCodeAvailable
	case boxoffice.SeatReserved:
		return SeatCodeReserved
	}
	return SeatCodeBooked
}

// SeatStatusOfCode reads a SeatCode (3 and anything else: booked, not
// available).
func SeatStatusOfCode(c int) boxoffice.SeatStatus {
	switch c {
	case SeatCodeAvailable:
		return boxoffice.SeatAvailable
	case SeatCodeReserved:
		return boxoffice.SeatReserved
	}
	return boxoffice.SeatBooked
}

// statusOfName reads API.md's status names; false for anything else.
func statusOfName(s string) (boxoffice.SeatStatus, bool) {
	switch s {
	case "available":
		return boxoffice.SeatAvailable, true
	case "reserved":
		return boxoffice.SeatReserved, true
	case "booked":
		return boxoffice.SeatBooked, true
	}
	return 0, false
}

// compactSnapshotFrame encodes the compact stream's first frame:
// {"type":"snapshot","event_id","version","encoding","seats","data"}.
func compactSnapshotFrame(eventID uuid.UUID, v boxoffice.SeatsView) []byte {
	packed := PackSeats(v.Statuses)
	buf := make([]byte, 0, 160+base64.StdEncoding.EncodedLen(len(packed)))
	buf = append(buf, `{"type":"snapshot","event_id":"`...)
	buf = append(buf, eventID.String()...)
	buf = append(buf, `","version":`...)
	buf = strconv.AppendUint(buf, v.Version, 10)
	buf = append(buf, `,"encoding":"`+SeatEncoding+`","seats":`...)
	buf = strconv.AppendInt(buf, int64(len(v.Statuses)), 10)
	buf = append(buf, `,"data":"`...)
	buf = base64.StdEncoding.AppendEncode(buf, packed)
	return append(buf, `"}`...)
}

// seatCodeChange is one seat of a compact delta: its layout index and code.
type seatCodeChange struct {
	index uint32
	code  uint8
}

// compactDeltaFrame encodes a compact delta covering versions from..to:
// {"type":"delta","event_id","from_version","version","changes":[[i,s],..]},
// with each seat's status at to. changes must be sorted by index, one
// entry a seat.
func compactDeltaFrame(eventID uuid.UUID, from, to uint64, changes []seatCodeChange) []byte {
	buf := make([]byte, 0, 128+len(changes)*10)
	buf = append(buf, `{"type":"delta","event_id":"`...)
	buf = append(buf, eventID.String()...)
	buf = append(buf, `","from_version":`...)
	buf = strconv.AppendUint(buf, from, 10)
	buf = append(buf, `,"version":`...)
	buf = strconv.AppendUint(buf, to, 10)
	buf = append(buf, `,"changes":[`...)
	for i, c := range changes {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, '[')
		buf = strconv.AppendUint(buf, uint64(c.index), 10)
		buf = append(buf, ',')
		buf = strconv.AppendUint(buf, uint64(c.code), 10)
		buf = append(buf, ']')
	}
	return append(buf, "]}"...)
}

// availabilityBody encodes GET /events/{eventId}/availability's reply.
func availabilityBody(v boxoffice.SeatsView, layoutURL string, areas []boxoffice.StandingArea) []byte {
	packed := PackSeats(v.Statuses)
	buf := make([]byte, 0, 128+len(layoutURL)+base64.StdEncoding.EncodedLen(len(packed)))
	buf = append(buf, `{"version":`...)
	buf = strconv.AppendUint(buf, v.Version, 10)
	buf = append(buf, `,"encoding":"`+SeatEncoding+`","seats":`...)
	buf = strconv.AppendInt(buf, int64(len(v.Statuses)), 10)
	buf = append(buf, `,"layout":`...)
	buf = strconv.AppendQuote(buf, layoutURL)
	buf = append(buf, `,"data":"`...)
	buf = base64.StdEncoding.AppendEncode(buf, packed)
	buf = append(buf, '"')
	buf = appendStanding(buf, areas, v.Statuses)
	return append(buf, '}')
}

// standingJSON is a standing section's places left at a version (API.md
// "General admission"): places first..first+capacity-1 in seat order.
type standingJSON struct {
	Section  string `json:"section"`
	First    int    `json:"first"`
	Capacity int    `json:"capacity"`
	Left     int    `json:"left"`
}

// appendStanding appends `,"standing":[...]` with each standing area's
// places left in statuses; nothing when the venue has none, so seated
// events' bodies are unchanged.
func appendStanding(buf []byte, areas []boxoffice.StandingArea, statuses []boxoffice.SeatStatus) []byte {
	if len(areas) == 0 {
		return buf
	}
	out := make([]standingJSON, 0, len(areas))
	for _, a := range areas {
		left := 0
		if a.First+a.Capacity <= len(statuses) {
			for _, st := range statuses[a.First : a.First+a.Capacity] {
				if st == boxoffice.SeatAvailable {
					left++
				}
			}
		}
		out = append(out, standingJSON{Section: a.Name, First: a.First, Capacity: a.Capacity, Left: left})
	}
	b, _ := json.Marshal(out) // plain strings and ints: cannot fail
	buf = append(buf, `,"standing":`...)
	return append(buf, b...)
}
