package search

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// Response is the body of GET /search exactly as API.md spells it.
type Response struct {
	Total    uint64         `json:"total"`
	Page     int            `json:"page"`
	PageSize int            `json:"page_size"`
	Results  []PartialEvent `json:"results"`
}

// PartialEvent is one search hit as API.md spells it: enough to list an
// event without a second request.
type PartialEvent struct {
	EventID        uuid.UUID     `json:"event_id"`
	Name           string        `json:"name"`
	Type           string        `json:"type"`
	StartsAt       time.Time     `json:"starts_at"`
	Venue          PartialVenue  `json:"venue"`
	Performer      PartialPerson `json:"performer"`
	MinPrice       string        `json:"min_price"`
	Currency       string        `json:"currency"`
	AvailableSeats int           `json:"available_seats"`
	Status         string        `json:"status"`
	SaleStartsAt   *time.Time    `json:"sale_starts_at,omitempty"`
	SaleEndsAt     time.Time     `json:"sale_ends_at"`
}

// PartialVenue is the venue of a PartialEvent.
type PartialVenue struct {
	VenueID  uuid.UUID          `json:"venue_id"`
	Name     string             `json:"name"`
	City     string             `json:"city"`
	Location boxoffice.Location `json:"location"`
}

// PartialPerson is the performer of a PartialEvent.
type PartialPerson struct {
	PerformerID uuid.UUID `json:"performer_id"`
	Name        string    `json:"name"`
}

// NewResponse shapes a Result for the wire.
func NewResponse(r Result) Response {
	now := r.At
	if now.IsZero() {
		now = time.Now()
	}
	out := Response{Total: r.Total, Page: r.Page, PageSize: r.PageSize, Results: make([]PartialEvent, len(r.Hits))}
	for i, l := range r.Hits {
		avail := l.Capacity
		if i < len(r.Available) {
			avail = r.Available[i]
		}
		out.Results[i] = PartialEvent{
			EventID:  l.EventID,
			Name:     l.Name,
			Type:     l.Type,
			StartsAt: l.StartsAt.UTC(),
			Venue: PartialVenue{
				VenueID:  l.VenueID,
				Name:     l.VenueName,
				City:     l.City,
				Location: boxoffice.Location{Lat: finiteOr0(l.Location.Lat), Lon: finiteOr0(l.Location.Lon)},
			},
			Performer:      PartialPerson{PerformerID: l.PerformerID, Name: l.PerformerName},
			MinPrice:       l.MinPrice.String(),
			Currency:       l.Currency,
			AvailableSeats: avail,
			Status:         string(l.StatusAt(now, avail)),
		}
		starts, ends := l.SaleWindow()
		if !starts.IsZero() {
			s := starts.UTC()
			out.Results[i].SaleStartsAt = &s
		}
		out.Results[i].SaleEndsAt = ends.UTC()
	}
	return out
}

// RenderJSON is the 200 body of GET /search for r, so that the API handler
// only writes it out.
func RenderJSON(r Result) []byte {
	b, err := json.Marshal(NewResponse(r))
	if err != nil {
		// Unreachable: every value is a string, an integer, a UUID, a
		// time in range (Apply checks) or a finite float (NewResponse).
		// Still answer with a valid, empty page rather than a broken body.
		return fmt.Appendf(nil, `{"total":0,"page":%d,"page_size":%d,"results":[]}`, r.Page, r.PageSize)
	}
	return b
}

func finiteOr0(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}
