package boxoffice

import (
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Limits that keep one request or one venue from exhausting a node.
const (
	// MaxSeatsPerHold is the most seats one reserve may hold (API.md: 1..10).
	MaxSeatsPerHold = 10
	// MaxVenueSeats bounds a venue's seat map; the largest stadiums hold
	// about 150,000 people.
	MaxVenueSeats = 200_000
	// MaxSeatsPerRow bounds one row of a seat map.
	MaxSeatsPerRow = 1_000
	// MaxStandingPlaces bounds one standing section: a place's number is
	// its ticket code's seat number, which has 16 bits (a bigger floor is
	// several sections).
	MaxStandingPlaces = 65_535
)

// Event types the catalog and search know; API.md lists them as examples,
// so the set is open but each must be a short lower-case word.
const (
	TypeConcert  = "concert"
	TypeSports   = "sports"
	TypeTheater  = "theater"
	TypeComedy   = "comedy"
	TypeFestival = "festival"
)

// Location is a point on Earth in decimal degrees (WGS 84), used for the
// "near me" search.
type Location struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// Validate reports a location outside the valid degree ranges.
func (l Location) Validate() error {
	if l.Lat < -90 || l.Lat > 90 || l.Lon < -180 || l.Lon > 180 {
		return InvalidField("location", "location must have lat in [-90,90] and lon in [-180,180]")
	}
	return nil
}

// SeatMap is a venue's physical layout. The order of sections, rows and
// seats defines each seat's flat index (0..capacity-1), which is what the
// seat engine works with and what ticket IDs are derived from.
type SeatMap struct {
	Sections []Section
}

// Section is a named block of rows, priced as one tier. A standing
// section (general admission, API.md) has no rows: Standing places, each
// with its own flat index and ticket like a seat, that a reserve asks for
// by quantity; the event grain picks which places.
type Section struct {
	Name     string
	Rows     []Row
	Standing int
	// Place is where the venue builder put the block (issue 20, placed
	// blocks); nil leaves the block to the layout's own arrangement.
	Place *Placement
}

// Size is the number of flat indexes the section takes: its seats, or its
// standing places.
func (s Section) Size() int {
	n := s.Standing
	for _, r := range s.Rows {
		n += r.Seats
	}
	return n
}

// Row is a named row of seats numbered 1..Seats.
type Row struct {
	Name  string
	Seats int
	// Accessible seats (h19access): Wheelchair lists the seat numbers that
	// are wheelchair spaces and Companion the companion seats beside them.
	// A best-available request never picks either unless it asks for an
	// accessible place (API.md, issue 19); a buyer picking seats by
	// ticket id may take any seat. Static venue data: the seat engine
	// reads it at activation, nothing of it is journalled.
	Wheelchair []int
	Companion  []int
}

// Seat access kinds (h19access), as the layout and the event's seats name
// them; "" is an ordinary seat.
const (
	AccessWheelchair = "wheelchair"
	AccessCompanion  = "companion"
)

// Access is seat number seat's access kind: AccessWheelchair,
// AccessCompanion or "".
func (r Row) Access(seat int) string {
	for _, w := range r.Wheelchair {
		if w == seat {
			return AccessWheelchair
		}
	}
	for _, c := range r.Companion {
		if c == seat {
			return AccessCompanion
		}
	}
	return ""
}

// validateAccess checks the row's wheelchair and companion seat numbers:
// in 1..Seats, each once, never both.
func (r Row) validateAccess(section string) error {
	seen := map[int]bool{}
	for _, list := range [][]int{r.Wheelchair, r.Companion} {
		for _, n := range list {
			if n < 1 || n > r.Seats || seen[n] {
				return InvalidField("seat_map", "section %q row %q: wheelchair and companion seats must be seat numbers 1..%d, each once", section, r.Name, r.Seats)
			}
			seen[n] = true
		}
	}
	return nil
}

// RowSpan is a seated row's run of flat indexes with its access flags,
// so that the seat engine can pick the best seats (h19access).
type RowSpan struct {
	Section string
	Row     string
	First   int
	Seats   int
	// Wheelchair and Companion are seat numbers (1..Seats), as in Row.
	Wheelchair []int
	Companion  []int
}

// RowSpans lists the seated rows in map order with their index ranges.
func (m SeatMap) RowSpans() []RowSpan {
	var out []RowSpan
	i := 0
	for _, s := range m.Sections {
		i += s.Standing
		for _, r := range s.Rows {
			out = append(out, RowSpan{Section: s.Name, Row: r.Name, First: i, Seats: r.Seats,
				Wheelchair: r.Wheelchair, Companion: r.Companion})
			i += r.Seats
		}
	}
	return out
}

// Capacity is the number of seats and standing places in the map.
func (m SeatMap) Capacity() int {
	n := 0
	for _, s := range m.Sections {
		n += s.Size()
	}
	return n
}

// StandingArea is a standing section's run of flat indexes.
type StandingArea struct {
	Name     string
	First    int
	Capacity int
}

// StandingAreas lists the standing sections in map order with their
// index ranges, so the seat engine can count and pick their places.
func (m SeatMap) StandingAreas() []StandingArea {
	var out []StandingArea
	i := 0
	for _, s := range m.Sections {
		if s.Standing > 0 {
			out = append(out, StandingArea{Name: s.Name, First: i, Capacity: s.Standing})
		}
		i += s.Size()
	}
	return out
}

// Validate checks names are present and unique and sizes are in bounds, so
// that a flat index always maps back to one (section, row, seat).
func (m SeatMap) Validate() error {
	if len(m.Sections) == 0 {
		return InvalidField("seat_map", "seat_map needs at least one section")
	}
	sections := map[string]bool{}
	total := 0
	for _, s := range m.Sections {
		if strings.TrimSpace(s.Name) == "" || len(s.Name) > 64 {
			return InvalidField("seat_map", "every section needs a name of 1..64 characters")
		}
		if sections[s.Name] {
			return InvalidField("seat_map", "section %q appears twice", s.Name)
		}
		sections[s.Name] = true
		if s.Standing != 0 {
			if len(s.Rows) != 0 || s.Standing < 0 || s.Standing > MaxStandingPlaces {
				return InvalidField("seat_map", "standing section %q needs a capacity of 1..%d and no rows", s.Name, MaxStandingPlaces)
			}
			total += s.Standing
			continue
		}
		if len(s.Rows) == 0 {
			return InvalidField("seat_map", "section %q has no rows", s.Name)
		}
		rows := map[string]bool{}
		for _, r := range s.Rows {
			if strings.TrimSpace(r.Name) == "" || len(r.Name) > 16 || rows[r.Name] {
				return InvalidField("seat_map", "section %q: row names must be unique, 1..16 characters", s.Name)
			}
			rows[r.Name] = true
			if r.Seats < 1 || r.Seats > MaxSeatsPerRow {
				return InvalidField("seat_map", "section %q row %q: seats must be 1..%d", s.Name, r.Name, MaxSeatsPerRow)
			}
			total += r.Seats
			if err := r.validateAccess(s.Name); err != nil {
				return err
			}
		}
	}
	if total > MaxVenueSeats {
		return InvalidField("seat_map", "a venue holds at most %d seats and standing places", MaxVenueSeats)
	}
	return m.validatePlacements()
}

// Venue is where events happen; its seat map is fixed once events use it.
type Venue struct {
	ID       uuid.UUID
	Name     string
	City     string
	Address  string
	Location Location
	SeatMap  SeatMap
	// OrgID is the organisation that owns the venue; uuid.Nil for the
	// shared catalog that only admins edit (API.md Roles).
	OrgID uuid.UUID
}

// Validate checks the fields an admin must supply.
func (v Venue) Validate() error {
	if err := requireText("name", v.Name, 200); err != nil {
		return err
	}
	if err := requireText("city", v.City, 100); err != nil {
		return err
	}
	if len(v.Address) > 500 {
		return InvalidField("address", "address is at most 500 characters")
	}
	if err := v.Location.Validate(); err != nil {
		return err
	}
	return v.SeatMap.Validate()
}

// Performer is the artist, team or company an event features.
type Performer struct {
	ID        uuid.UUID
	Name      string
	Biography string
	// OrgID is the owning organisation, uuid.Nil for the shared catalog.
	OrgID uuid.UUID
}

// Validate checks the fields an admin must supply.
func (p Performer) Validate() error {
	if err := requireText("name", p.Name, 200); err != nil {
		return err
	}
	if len(p.Biography) > 10_000 {
		return InvalidField("biography", "biography is at most 10000 characters")
	}
	return nil
}

// WaitingRoom is an event's virtual-queue setting for hot on-sales.
type WaitingRoom struct {
	Enabled       bool
	RatePerSecond int
	// Period counts how often the room was switched on. The store bumps it
	// in the same write that turns the room on (clients never set it), and
	// admission tokens carry it, so a token minted while the room was off,
	// or before it was last switched on, no longer admits (API.md).
	Period int64
}

// Event is one performance at a venue. Its tickets are one per seat of the
// venue's seat map, priced by section.
type Event struct {
	ID          uuid.UUID
	Name        string
	Type        string
	Description string
	StartsAt    time.Time
	VenueID     uuid.UUID
	PerformerID uuid.UUID
	Currency    string
	// Prices maps each section name of the venue to its ticket price.
	Prices      map[string]Money
	WaitingRoom WaitingRoom
	// MaxTicketsPerUser bounds the seats one user may hold and own for
	// the event (0 = no limit); nil takes DefaultMaxTicketsPerUser, so
	// that an event nobody thought about is not hoarded by one account.
	// TicketLimit reads it.
	MaxTicketsPerUser *int
	// SaleStartsAt opens the sale; zero means on sale from creation.
	SaleStartsAt time.Time
	// SaleEndsAt closes the sale; zero follows StartsAt, also when a PATCH
	// moves it. SaleEnd is the effective end.
	SaleEndsAt time.Time
	// RefundUntil is the last moment an owner may ask for a refund; zero
	// means RefundWindow before StartsAt (RefundDeadline).
	RefundUntil time.Time
	// CancelledAt is when the event was cancelled; zero while it is not.
	CancelledAt time.Time
	// CreatedAt is when the event was stored; the sale of an event without
	// SaleStartsAt opens then.
	CreatedAt time.Time
	// Revision counts the changes to the event, so that a stale copy of
	// its rules never overwrites a newer one (see Listing.Revision).
	Revision int64
	// OrgID is the organisation that runs the event: its organisers act on
	// it (API.md Roles); uuid.Nil for an event only admins manage.
	OrgID uuid.UUID
	// Pricing (issue 19, h19price): ticket types, fees and tax, promo
	// codes (pricing.go). Zero for an event sold at one price per section.
	Pricing Pricing
}

// Sale rules of an event (API.md, "Idempotency, limits and the sale window").
const (
	// DefaultMaxTicketsPerUser is an event's per-user limit unless set.
	DefaultMaxTicketsPerUser = 10
	// MaxTicketsPerUserCap is the largest per-user limit an event may set.
	MaxTicketsPerUserCap = 1000
	// RefundWindow is how long before the start refunds close by default.
	RefundWindow = 24 * time.Hour
)

// EventStatus is where an event is in its sale, as API.md names it.
type EventStatus string

// Event statuses.
const (
	StatusScheduled EventStatus = "scheduled"
	StatusOnSale    EventStatus = "on-sale"
	StatusSoldOut   EventStatus = "sold-out"
	StatusSaleEnded EventStatus = "sale-ended"
	StatusCancelled EventStatus = "cancelled"
)

// TicketLimit is the event's max_tickets_per_user (0 = no limit).
func (e Event) TicketLimit() int {
	if e.MaxTicketsPerUser == nil {
		return DefaultMaxTicketsPerUser
	}
	return *e.MaxTicketsPerUser
}

// SaleOpens is when the sale opens: SaleStartsAt, else the creation.
func (e Event) SaleOpens() time.Time {
	if e.SaleStartsAt.IsZero() {
		return e.CreatedAt
	}
	return e.SaleStartsAt
}

// SaleEnd is when the sale closes: SaleEndsAt (StartsAt when unset) or the
// start, whichever is first; a started event is never on sale.
func (e Event) SaleEnd() time.Time {
	if e.SaleEndsAt.IsZero() || e.SaleEndsAt.After(e.StartsAt) {
		return e.StartsAt
	}
	return e.SaleEndsAt
}

// RefundDeadline is RefundUntil, else RefundWindow before the start.
func (e Event) RefundDeadline() time.Time {
	if e.RefundUntil.IsZero() {
		return e.StartsAt.Add(-RefundWindow)
	}
	return e.RefundUntil
}

// StatusAt is the event's status at now; available is its count of
// available seats, or negative when unknown (then never sold-out).
func (e Event) StatusAt(now time.Time, available int) EventStatus {
	switch {
	case !e.CancelledAt.IsZero():
		return StatusCancelled
	case !now.Before(e.SaleEnd()):
		return StatusSaleEnded
	case !e.SaleStartsAt.IsZero() && now.Before(e.SaleStartsAt):
		return StatusScheduled
	case available == 0:
		return StatusSoldOut
	}
	return StatusOnSale
}

// CheckOnSale returns not_on_sale when a reserve at now is outside the
// sale: before it opens, after it ends or the event started, cancelled.
func (e Event) CheckOnSale(now time.Time) error {
	switch st := e.StatusAt(now, -1); st {
	case StatusCancelled:
		return Errorf(ENotOnSale, "the event is cancelled")
	case StatusSaleEnded:
		return Errorf(ENotOnSale, "the sale ended at %s", e.SaleEnd().UTC().Format(time.RFC3339))
	case StatusScheduled:
		return Errorf(ENotOnSale, "the sale opens at %s", e.SaleStartsAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// Validate checks the event's own fields; PricesCover checks it against
// its venue.
func (e Event) Validate() error {
	if err := requireText("name", e.Name, 200); err != nil {
		return err
	}
	if !validType(e.Type) {
		return InvalidField("type", "type must be a lower-case word such as concert, sports, theater, comedy or festival")
	}
	if len(e.Description) > 10_000 {
		return InvalidField("description", "description is at most 10000 characters")
	}
	if e.StartsAt.IsZero() {
		return InvalidField("starts_at", "starts_at is required (RFC 3339)")
	}
	if !ValidCurrency(e.Currency) {
		return InvalidField("currency", "currency must be an ISO 4217 code such as EUR")
	}
	if e.WaitingRoom.RatePerSecond < 0 || e.WaitingRoom.RatePerSecond > 100_000 {
		return InvalidField("waiting_room", "rate_per_second must be 1..100000")
	}
	if n := e.MaxTicketsPerUser; n != nil && (*n < 0 || *n > MaxTicketsPerUserCap) {
		return InvalidField("max_tickets_per_user", "max_tickets_per_user must be 0..%d (0 = no limit)", MaxTicketsPerUserCap)
	}
	if !e.SaleStartsAt.IsZero() && !e.SaleEndsAt.IsZero() && !e.SaleEndsAt.After(e.SaleStartsAt) {
		return InvalidField("sale_ends_at", "sale_ends_at must be after sale_starts_at")
	}
	return nil
}

// PricesCover reports a section of m without a price, or a price for a
// section m does not have.
func (e Event) PricesCover(m SeatMap) error {
	for _, s := range m.Sections {
		if _, ok := e.Prices[s.Name]; !ok {
			return InvalidField("prices", "section %q has no price", s.Name)
		}
	}
	if len(e.Prices) != len(m.Sections) {
		return InvalidField("prices", "prices name a section the venue does not have")
	}
	return nil
}

// Ticket is one seat of one event. Its ID is derived from the event ID and
// the seat's flat index (see TicketSpace).
type Ticket struct {
	ID       uuid.UUID
	EventID  uuid.UUID
	Index    int
	Section  string
	Row      string
	Seat     int
	Price    Money
	Currency string
	// Access is the seat's access kind (h19access): AccessWheelchair,
	// AccessCompanion or "".
	Access string
}

// Tickets lays out one ticket per seat of m in flat-index order, priced by
// section. The event must have passed PricesCover.
func (e Event) Tickets(m SeatMap) []Ticket {
	space := NewTicketSpace(e.ID)
	out := make([]Ticket, 0, m.Capacity())
	for _, s := range m.Sections {
		// A standing place is place 1..Standing of its section, no row.
		for place := 1; place <= s.Standing; place++ {
			i := len(out)
			out = append(out, Ticket{ID: space.ID(i), EventID: e.ID, Index: i, Section: s.Name, Seat: place,
				Price: e.Prices[s.Name], Currency: e.Currency})
		}
		for _, r := range s.Rows {
			for seat := 1; seat <= r.Seats; seat++ {
				i := len(out)
				out = append(out, Ticket{
					ID: space.ID(i), EventID: e.ID, Index: i,
					Section: s.Name, Row: r.Name, Seat: seat,
					Price: e.Prices[s.Name], Currency: e.Currency,
					Access: r.Access(seat),
				})
			}
		}
	}
	return out
}

func requireText(field, v string, max int) error {
	if strings.TrimSpace(v) == "" {
		return InvalidField(field, "%s is required", field)
	}
	if len(v) > max {
		return InvalidField(field, "%s is at most %d characters", field, max)
	}
	return nil
}

func validType(t string) bool {
	if len(t) == 0 || len(t) > 32 {
		return false
	}
	for _, r := range t {
		if (r < 'a' || r > 'z') && r != '-' {
			return false
		}
	}
	return true
}

// String names an event for logs.
func (e Event) String() string { return fmt.Sprintf("%s (%s)", e.Name, e.ID) }
