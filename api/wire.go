package api

import (
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// The JSON shapes of API.md. Domain types carry no json tags of their own
// (except Location), so the wire format is defined here and only here, and
// openapi.yaml describes exactly these structs.

type eventJSON struct {
	EventID     uuid.UUID         `json:"event_id"`
	Name        string            `json:"name"`
	Type        string            `json:"type"`
	Description string            `json:"description"`
	StartsAt    string            `json:"starts_at"`
	VenueID     uuid.UUID         `json:"venue_id"`
	PerformerID uuid.UUID         `json:"performer_id"`
	Currency    string            `json:"currency"`
	Prices      map[string]string `json:"prices"`
	WaitingRoom waitingRoomJSON   `json:"waiting_room"`
	// The sale rules (API.md "Idempotency, limits and the sale window").
	MaxTicketsPerUser int    `json:"max_tickets_per_user"`
	SaleStartsAt      string `json:"sale_starts_at"`
	SaleEndsAt        string `json:"sale_ends_at"`
	RefundUntil       string `json:"refund_until"`
	// Pricing (h19price): ticket types and fees; promo codes in admin
	// replies only.
	TicketTypes []ticketTypeJSON `json:"ticket_types,omitempty"`
	Fees        []feeJSON        `json:"fees,omitempty"`
	PromoCodes  []promoJSON      `json:"promo_codes,omitempty"`
	// Status stays the last field: the event view splices the current one
	// in at each render (see newEventView).
	Status string `json:"status"`
}

type waitingRoomJSON struct {
	Enabled       bool `json:"enabled"`
	RatePerSecond int  `json:"rate_per_second"`
}

// renderEvent shapes e with its status at now, not knowing the seats (a
// view that knows them may say sold-out instead).
func renderEvent(e boxoffice.Event, now time.Time) eventJSON {
	prices := make(map[string]string, len(e.Prices))
	for s, p := range e.Prices {
		prices[s] = p.String()
	}
	return eventJSON{
		EventID: e.ID, Name: e.Name, Type: e.Type, Description: e.Description,
		StartsAt: timeText(e.StartsAt), VenueID: e.VenueID, PerformerID: e.PerformerID,
		Currency: e.Currency, Prices: prices,
		WaitingRoom:       waitingRoomJSON{Enabled: e.WaitingRoom.Enabled, RatePerSecond: e.WaitingRoom.RatePerSecond},
		MaxTicketsPerUser: e.TicketLimit(), SaleStartsAt: timeText(e.SaleOpens()), SaleEndsAt: timeText(e.SaleEnd()),
		RefundUntil: timeText(e.RefundDeadline()), Status: string(e.StatusAt(now, -1)),
		TicketTypes: renderTypes(e.Pricing), Fees: renderFees(e.Pricing),
	}
}

type venueJSON struct {
	VenueID  uuid.UUID          `json:"venue_id"`
	Name     string             `json:"name"`
	City     string             `json:"city"`
	Address  string             `json:"address"`
	Location boxoffice.Location `json:"location"`
	Capacity int                `json:"capacity"`
	// SeatMap is shown when a venue is created; the event view lists the
	// seats as tickets instead.
	SeatMap *seatMapJSON `json:"seat_map,omitempty"`
}

type seatMapJSON struct {
	Sections []sectionJSON `json:"sections"`
}

type sectionJSON struct {
	Name string    `json:"name"`
	Rows []rowJSON `json:"rows"`
	// Standing is a standing section's capacity, in place of rows.
	Standing int `json:"standing,omitempty"`
	// Place is the block's position and angle from the venue builder
	// (issue 20, placed blocks); absent: the layout arranges the block.
	Place *placeJSON `json:"place,omitempty"`
}

// placeJSON is openapi.yaml's SectionPlace (boxoffice.Placement).
type placeJSON struct {
	X          float64 `json:"x"`
	Y          float64 `json:"y"`
	Angle      float64 `json:"angle"`
	Radius     float64 `json:"radius,omitempty"`
	RowSpacing float64 `json:"row_spacing,omitempty"`
}

func renderPlace(p *boxoffice.Placement) *placeJSON {
	if p == nil {
		return nil
	}
	return &placeJSON{X: p.X, Y: p.Y, Angle: p.Angle, Radius: p.Radius, RowSpacing: p.RowSpacing}
}

func (p *placeJSON) domain() *boxoffice.Placement {
	if p == nil {
		return nil
	}
	return &boxoffice.Placement{X: p.X, Y: p.Y, Angle: p.Angle, Radius: p.Radius, RowSpacing: p.RowSpacing}
}

type rowJSON struct {
	Name  string `json:"name"`
	Seats int    `json:"seats"`
	// Wheelchair and Companion are accessible seat numbers (h19access);
	// omitted when empty, so older maps and their hashes are unchanged.
	Wheelchair []int `json:"wheelchair,omitempty"`
	Companion  []int `json:"companion,omitempty"`
}

func renderVenue(v boxoffice.Venue, withMap bool) venueJSON {
	out := venueJSON{
		VenueID: v.ID, Name: v.Name, City: v.City, Address: v.Address,
		Location: v.Location, Capacity: v.SeatMap.Capacity(),
	}
	if withMap {
		m := seatMapJSON{Sections: make([]sectionJSON, 0, len(v.SeatMap.Sections))}
		for _, s := range v.SeatMap.Sections {
			sec := sectionJSON{Name: s.Name, Rows: make([]rowJSON, 0, len(s.Rows)), Standing: s.Standing, Place: renderPlace(s.Place)}
			for _, r := range s.Rows {
				sec.Rows = append(sec.Rows, rowJSON{Name: r.Name, Seats: r.Seats, Wheelchair: r.Wheelchair, Companion: r.Companion})
			}
			m.Sections = append(m.Sections, sec)
		}
		out.SeatMap = &m
	}
	return out
}

func (m seatMapJSON) domain() boxoffice.SeatMap {
	out := boxoffice.SeatMap{Sections: make([]boxoffice.Section, 0, len(m.Sections))}
	for _, s := range m.Sections {
		sec := boxoffice.Section{Name: s.Name, Rows: make([]boxoffice.Row, 0, len(s.Rows)), Standing: s.Standing, Place: s.Place.domain()}
		for _, r := range s.Rows {
			sec.Rows = append(sec.Rows, boxoffice.Row{Name: r.Name, Seats: r.Seats, Wheelchair: r.Wheelchair, Companion: r.Companion})
		}
		out.Sections = append(out.Sections, sec)
	}
	return out
}

type performerJSON struct {
	PerformerID uuid.UUID `json:"performer_id"`
	Name        string    `json:"name"`
	Biography   string    `json:"biography"`
}

func renderPerformer(p boxoffice.Performer) performerJSON {
	return performerJSON{PerformerID: p.ID, Name: p.Name, Biography: p.Biography}
}

// bookingJSON is API.md's Booking. expires_at is always there (every
// booking began as a hold); confirmed_at only once confirmed.
type bookingJSON struct {
	BookingID   uuid.UUID   `json:"booking_id"`
	Status      string      `json:"status"`
	EventID     uuid.UUID   `json:"event_id"`
	TicketIDs   []uuid.UUID `json:"ticket_ids"`
	TotalPrice  string      `json:"total_price"`
	Currency    string      `json:"currency"`
	CreatedAt   string      `json:"created_at,omitempty"`
	ExpiresAt   string      `json:"expires_at"`
	ConfirmedAt string      `json:"confirmed_at,omitempty"`
	// Pricing (h19price): the lines total_price adds up, each ticket's
	// type (events with types) and the promo code used.
	PriceLines  []priceLineJSON `json:"price_lines"`
	TicketTypes []string        `json:"ticket_types,omitempty"`
	PromoCode   string          `json:"promo_code,omitempty"`
}

func renderBooking(b boxoffice.Booking) bookingJSON {
	ids := b.TicketIDs
	if ids == nil {
		ids = []uuid.UUID{}
	}
	out := bookingJSON{
		BookingID: b.ID, Status: string(b.Status), EventID: b.EventID, TicketIDs: ids,
		TotalPrice: b.Total.String(), Currency: b.Currency,
		CreatedAt: timeText(b.CreatedAt), ExpiresAt: timeText(b.ExpiresAt),
		PriceLines: renderPriceLines(b), TicketTypes: b.TicketTypes, PromoCode: b.PromoCode,
	}
	if b.Status == boxoffice.BookingConfirmed {
		out.ConfirmedAt = timeText(b.ConfirmedAt)
	}
	return out
}

type bookingsJSON struct {
	Bookings   []bookingJSON `json:"bookings"`
	NextCursor string        `json:"next_cursor,omitempty"`
}

type statsJSON struct {
	EventID             uuid.UUID  `json:"event_id"`
	NodeID              string     `json:"node_id"`
	Version             uint64     `json:"version"`
	Counts              countsJSON `json:"counts"`
	Holds               int        `json:"holds"`
	JournalLag          int        `json:"journal_lag"`
	LastSnapshotVersion uint64     `json:"last_snapshot_version"`
	// Admitted counts the tickets checked in (of counts.booked sold).
	Admitted int `json:"admitted"`
	// Refunds is the progress of the event's refunds (a cancellation's
	// job, and single refunds).
	Refunds *refundsJSON `json:"refunds,omitempty"`
}

type countsJSON struct {
	Available int `json:"available"`
	Reserved  int `json:"reserved"`
	Booked    int `json:"booked"`
}

func renderStats(st boxoffice.EventStats) statsJSON {
	return statsJSON{
		EventID: st.EventID, NodeID: st.NodeID, Version: st.Version,
		Counts: countsJSON{Available: st.Counts.Available, Reserved: st.Counts.Reserved, Booked: st.Counts.Booked},
		Holds:  st.Holds, JournalLag: st.JournalLag, LastSnapshotVersion: st.LastSnapshotVersion,
		Admitted: st.Admitted,
	}
}

type clusterJSON struct {
	Nodes      []nodeJSON      `json:"nodes"`
	Placements []placementJSON `json:"placements"`
}

type nodeJSON struct {
	ID        string `json:"id"`
	Address   string `json:"address"`
	Status    string `json:"status"`
	StartedAt string `json:"started_at"`
	Actors    int    `json:"actors"`
	// The spread (issue 22): reserves decided and their recent rate.
	Reserves          uint64  `json:"reserves"`
	ReservesPerSecond float64 `json:"reserves_per_second"`
}

// drainJSON answers POST /admin/api/nodes/{nodeId}/drain.
type drainJSON struct {
	NodeID string `json:"node_id"`
	Status string `json:"status"`
}

type placementJSON struct {
	EventID uuid.UUID `json:"event_id"`
	NodeID  string    `json:"node_id"`
}

// timeText is API.md's time: RFC 3339 in UTC; empty for the zero time.
func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
