package persistence

import (
	"crypto/sha256"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/boxoffice/boxoffice"
)

// seatMapJSON is the stored form of a seat map. It has its own json tags so
// that renaming a Go field never changes what is in the database.
type seatMapJSON struct {
	Sections []sectionJSON `json:"sections"`
}

type sectionJSON struct {
	Name string    `json:"name"`
	Rows []rowJSON `json:"rows"`
	// Standing is a standing section's capacity (omitted for seated ones,
	// so older maps and their hashes are unchanged).
	Standing int `json:"standing,omitempty"`
	// Place is the block's placement from the venue builder (issue 20),
	// omitted when absent so older maps and their hashes are unchanged.
	Place *placeJSON `json:"place,omitempty"`
}

type placeJSON struct {
	X          float64 `json:"x"`
	Y          float64 `json:"y"`
	Angle      float64 `json:"angle"`
	Radius     float64 `json:"radius,omitempty"`
	RowSpacing float64 `json:"row_spacing,omitempty"`
}

type rowJSON struct {
	Name  string `json:"name"`
	Seats int    `json:"seats"`
	// Wheelchair and Companion are accessible seat numbers (h19access);
	// omitted when empty, so older maps and their hashes are unchanged.
	Wheelchair []int `json:"wheelchair,omitempty"`
	Companion  []int `json:"companion,omitempty"`
}

func encodeSeatMap(m boxoffice.SeatMap) seatMapJSON {
	out := seatMapJSON{Sections: make([]sectionJSON, 0, len(m.Sections))}
	for _, s := range m.Sections {
		rows := make([]rowJSON, 0, len(s.Rows))
		for _, r := range s.Rows {
			rows = append(rows, rowJSON{Name: r.Name, Seats: r.Seats, Wheelchair: r.Wheelchair, Companion: r.Companion})
		}
		sec := sectionJSON{Name: s.Name, Rows: rows, Standing: s.Standing}
		if p := s.Place; p != nil {
			sec.Place = &placeJSON{X: p.X, Y: p.Y, Angle: p.Angle, Radius: p.Radius, RowSpacing: p.RowSpacing}
		}
		out.Sections = append(out.Sections, sec)
	}
	return out
}

func (j seatMapJSON) decode() boxoffice.SeatMap {
	m := boxoffice.SeatMap{Sections: make([]boxoffice.Section, 0, len(j.Sections))}
	for _, s := range j.Sections {
		rows := make([]boxoffice.Row, 0, len(s.Rows))
		for _, r := range s.Rows {
			rows = append(rows, boxoffice.Row{Name: r.Name, Seats: r.Seats, Wheelchair: r.Wheelchair, Companion: r.Companion})
		}
		sec := boxoffice.Section{Name: s.Name, Rows: rows, Standing: s.Standing}
		if p := s.Place; p != nil {
			sec.Place = &boxoffice.Placement{X: p.X, Y: p.Y, Angle: p.Angle, Radius: p.Radius, RowSpacing: p.RowSpacing}
		}
		m.Sections = append(m.Sections, sec)
	}
	return m
}

// dbTime rounds t the way timestamptz stores it (microseconds, UTC), so a
// value returned on creation equals the one read back later.
func dbTime(t time.Time) time.Time {
	return t.UTC().Round(time.Microsecond)
}

// fromNullTime maps SQL NULL to the zero time.
func fromNullTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// bodyHash fingerprints a creation request (without its ID) so that a
// retry with the same ID is told apart from a different body reusing it.
// encoding/json sorts map keys, so the encoding is deterministic.
func bodyHash(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("persistence: body hash of an unencodable value: " + err.Error())
	}
	h := sha256.Sum256(b)
	return h[:]
}

func venueHash(v boxoffice.Venue) []byte {
	return bodyHash(struct {
		Name, City, Address string
		Location            boxoffice.Location
		SeatMap             seatMapJSON
	}{v.Name, v.City, v.Address, v.Location, encodeSeatMap(v.SeatMap)})
}

func performerHash(p boxoffice.Performer) []byte {
	return bodyHash(struct{ Name, Biography string }{p.Name, p.Biography})
}

func eventHash(e boxoffice.Event) []byte {
	// The sale rules join the hash only when the body sets one, so events
	// created before they existed keep the hash their retries compute.
	type rules struct {
		MaxTicketsPerUser                     *int
		SaleStartsAt, SaleEndsAt, RefundUntil time.Time
	}
	// An explicit default limit is the same body as none (the event
	// CreateEvent returns carries it, and callers retry with that).
	var r *rules
	if e.TicketLimit() != boxoffice.DefaultMaxTicketsPerUser || !e.SaleStartsAt.IsZero() || !e.SaleEndsAt.IsZero() || !e.RefundUntil.IsZero() {
		limit := e.TicketLimit()
		r = &rules{&limit, e.SaleStartsAt, e.SaleEndsAt, e.RefundUntil}
	}
	var pricing *boxoffice.Pricing
	if e.Pricing.Typed() {
		pricing = &e.Pricing
	}
	return bodyHash(struct {
		Name, Type, Description string
		StartsAt                time.Time
		VenueID, PerformerID    string
		Currency                string
		Prices                  map[string]boxoffice.Money
		WaitingRoom             roomSetting
		Rules                   *rules             `json:",omitempty"`
		Pricing                 *boxoffice.Pricing `json:",omitempty"` // h19price
	}{e.Name, e.Type, e.Description, dbTime(e.StartsAt), e.VenueID.String(), e.PerformerID.String(),
		e.Currency, e.Prices, roomSetting{e.WaitingRoom.Enabled, e.WaitingRoom.RatePerSecond}, r, pricing})
}

// roomSetting is the part of boxoffice.WaitingRoom a client sends; the
// store's Period stays out of the creation hash (which it had before it
// existed, so stored hashes still match).
type roomSetting struct {
	Enabled       bool
	RatePerSecond int
}

// dbTimeOrZero is dbTime that keeps the zero time (an unset default).
func dbTimeOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return dbTime(t)
}

// minPrice is the cheapest section's price, what search shows as "from".
func minPrice(prices map[string]boxoffice.Money) boxoffice.Money {
	first := true
	var m boxoffice.Money
	for _, p := range prices {
		if first || p < m {
			m, first = p, false
		}
	}
	return m
}

// pgUUID and pgTime give pgx values it encodes directly. A google/uuid.UUID
// is a driver.Valuer whose string form pgx parses back, element by element
// of an array, and a *time.Time goes through reflection: together they were
// 40% of the journal writer's CPU, on the path every commit waits on.
func pgUUID(id uuid.UUID) pgtype.UUID { return pgtype.UUID{Bytes: id, Valid: true} }

// pgTime maps the zero time to SQL NULL.
func pgTime(t time.Time) pgtype.Timestamptz {
	return pgtype.Timestamptz{Time: t, Valid: !t.IsZero()}
}
