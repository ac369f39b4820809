package api

import (
	"context"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/boxoffice/boxoffice"
)

// maxPrices bounds an event's price list; a venue with more sections than
// this is not a venue.
const maxPrices = 1000

type locationRequest struct {
	Lat *float64 `json:"lat"`
	Lon *float64 `json:"lon"`
}

type venueRequest struct {
	ID       string           `json:"id"`
	Name     string           `json:"name"`
	City     string           `json:"city"`
	Address  string           `json:"address"`
	Location *locationRequest `json:"location"`
	SeatMap  *seatMapJSON     `json:"seat_map"`
	// OrgID is the owning organisation: an admin's choice (none: the
	// shared catalog), an organiser's own.
	OrgID string `json:"org_id"`
}

func (req venueRequest) venue() (boxoffice.Venue, error) {
	id, err := optionalID(req.ID)
	if err != nil {
		return boxoffice.Venue{}, err
	}
	if req.Location == nil || req.Location.Lat == nil || req.Location.Lon == nil {
		return boxoffice.Venue{}, boxoffice.InvalidField("location", "location needs lat and lon")
	}
	if req.SeatMap == nil {
		return boxoffice.Venue{}, boxoffice.InvalidField("seat_map", "seat_map is required")
	}
	v := boxoffice.Venue{
		ID: id, Name: req.Name, City: req.City, Address: req.Address,
		Location: boxoffice.Location{Lat: *req.Location.Lat, Lon: *req.Location.Lon},
		SeatMap:  req.SeatMap.domain(),
	}
	return v, v.Validate()
}

// handleCreateVenue is POST /admin/api/venues.
func (s *Server) handleCreateVenue(w http.ResponseWriter, r *http.Request, u boxoffice.User) error {
	var req venueRequest
	if err := DecodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	v, err := req.venue()
	if err != nil {
		return err
	}
	if v.OrgID, err = orgFor(u, req.OrgID); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	// created is not shown: a retry with the same id and body gets the same
	// 201 as the first attempt (API.md).
	v, _, err = s.deps.Catalog.CreateVenue(ctx, v)
	if err != nil {
		return err
	}
	noteAudit(r.Context(), "venue", v.ID.String(), v.OrgID, nil, renderVenue(v, false))
	WriteJSON(w, http.StatusCreated, renderVenue(v, true))
	return nil
}

type performerRequest struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Biography string `json:"biography"`
	OrgID     string `json:"org_id"`
}

// handleCreatePerformer is POST /admin/api/performers.
func (s *Server) handleCreatePerformer(w http.ResponseWriter, r *http.Request, u boxoffice.User) error {
	var req performerRequest
	if err := DecodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	id, err := optionalID(req.ID)
	if err != nil {
		return err
	}
	p := boxoffice.Performer{ID: id, Name: req.Name, Biography: req.Biography}
	if err := p.Validate(); err != nil {
		return err
	}
	if p.OrgID, err = orgFor(u, req.OrgID); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	if p, _, err = s.deps.Catalog.CreatePerformer(ctx, p); err != nil {
		return err
	}
	noteAudit(r.Context(), "performer", p.ID.String(), p.OrgID, nil, renderPerformer(p))
	WriteJSON(w, http.StatusCreated, renderPerformer(p))
	return nil
}

type eventRequest struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Type        string            `json:"type"`
	Description string            `json:"description"`
	StartsAt    string            `json:"starts_at"`
	VenueID     string            `json:"venue_id"`
	PerformerID string            `json:"performer_id"`
	Currency    string            `json:"currency"`
	Prices      map[string]string `json:"prices"`
	WaitingRoom *waitingRoomJSON  `json:"waiting_room"`
	OrgID       string            `json:"org_id"`
	saleRulesJSON
	pricingJSON // h19price
}

// saleRulesJSON is the part of an event's create and PATCH bodies that sets
// its sale rules; absent fields keep their defaults (create) or values
// (PATCH).
type saleRulesJSON struct {
	MaxTicketsPerUser *int    `json:"max_tickets_per_user"`
	SaleStartsAt      *string `json:"sale_starts_at"`
	SaleEndsAt        *string `json:"sale_ends_at"`
	RefundUntil       *string `json:"refund_until"`
}

// parse checks the rules into a patch (the form both routes apply).
func (r saleRulesJSON) parse(p *EventPatch) error {
	if n := r.MaxTicketsPerUser; n != nil {
		if *n < 0 || *n > boxoffice.MaxTicketsPerUserCap {
			return boxoffice.InvalidField("max_tickets_per_user", "max_tickets_per_user must be 0..%d (0 = no limit)", boxoffice.MaxTicketsPerUserCap)
		}
		p.MaxTicketsPerUser = n
	}
	for _, f := range []struct {
		name string
		in   *string
		out  **time.Time
	}{{"sale_starts_at", r.SaleStartsAt, &p.SaleStartsAt}, {"sale_ends_at", r.SaleEndsAt, &p.SaleEndsAt}, {"refund_until", r.RefundUntil, &p.RefundUntil}} {
		if f.in == nil {
			continue
		}
		t, err := parseTime(f.name, *f.in)
		if err != nil {
			return err
		}
		*f.out = &t
	}
	return nil
}

func (req eventRequest) event() (boxoffice.Event, error) {
	var e boxoffice.Event
	var err error
	if e.ID, err = optionalID(req.ID); err != nil {
		return e, err
	}
	if e.VenueID, err = parseID("venue_id", req.VenueID); err != nil {
		return e, err
	}
	if e.PerformerID, err = parseID("performer_id", req.PerformerID); err != nil {
		return e, err
	}
	if e.StartsAt, err = parseTime("starts_at", req.StartsAt); err != nil {
		return e, err
	}
	if len(req.Prices) == 0 || len(req.Prices) > maxPrices {
		return e, boxoffice.InvalidField("prices", "prices needs one price per section of the venue")
	}
	e.Prices = make(map[string]boxoffice.Money, len(req.Prices))
	for section, p := range req.Prices {
		m, err := boxoffice.ParseMoney(p)
		if err != nil {
			return e, boxoffice.InvalidField("prices", "prices must be decimals such as \"149.50\"")
		}
		e.Prices[section] = m
	}
	if req.WaitingRoom != nil {
		if e.WaitingRoom, err = req.WaitingRoom.domain(); err != nil {
			return e, err
		}
	}
	var rules EventPatch
	if err := req.saleRulesJSON.parse(&rules); err != nil {
		return e, err
	}
	e.MaxTicketsPerUser = rules.MaxTicketsPerUser
	for _, f := range []struct {
		to   *time.Time
		from *time.Time
	}{{&e.SaleStartsAt, rules.SaleStartsAt}, {&e.SaleEndsAt, rules.SaleEndsAt}, {&e.RefundUntil, rules.RefundUntil}} {
		if f.from != nil {
			*f.to = *f.from
		}
	}
	e.Name, e.Type, e.Description, e.Currency = req.Name, req.Type, req.Description, req.Currency
	if err := req.pricingJSON.apply(&e.Pricing); err != nil {
		return e, err
	}
	return e, e.Validate()
}

func (w waitingRoomJSON) domain() (boxoffice.WaitingRoom, error) {
	if w.Enabled && (w.RatePerSecond < 1 || w.RatePerSecond > 100_000) {
		return boxoffice.WaitingRoom{}, boxoffice.InvalidField("waiting_room", "rate_per_second must be 1..100000 when the waiting room is on")
	}
	if w.RatePerSecond < 0 || w.RatePerSecond > 100_000 {
		return boxoffice.WaitingRoom{}, boxoffice.InvalidField("waiting_room", "rate_per_second must be 0..100000")
	}
	return boxoffice.WaitingRoom{Enabled: w.Enabled, RatePerSecond: w.RatePerSecond}, nil
}

// parseTime reads an RFC 3339 time and keeps it in UTC.
func parseTime(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, boxoffice.InvalidField(field, "%s must be an RFC 3339 time such as 2026-07-01T20:00:00Z", field)
	}
	return t.UTC(), nil
}

type createEventResponse struct {
	Event   eventJSON `json:"event"`
	Tickets int       `json:"tickets"`
}

// handleCreateEvent is POST /admin/api/events.
func (s *Server) handleCreateEvent(w http.ResponseWriter, r *http.Request, u boxoffice.User) error {
	var req eventRequest
	if err := DecodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	e, err := req.event()
	if err != nil {
		return err
	}
	if e.OrgID, err = orgFor(u, req.OrgID); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	if err := s.mayBuildOn(ctx, u, e); err != nil {
		return err
	}
	e, n, _, err := s.deps.Catalog.CreateEvent(ctx, e)
	if err != nil {
		return err
	}
	noteAudit(r.Context(), "event", e.ID.String(), e.OrgID, nil, renderEvent(e, time.Now()))
	view := renderEvent(e, time.Now())
	view.PromoCodes = renderPromos(e.Pricing)
	WriteJSON(w, http.StatusCreated, createEventResponse{Event: view, Tickets: n})
	return nil
}

type patchRequest struct {
	Name        *string          `json:"name"`
	Description *string          `json:"description"`
	StartsAt    *string          `json:"starts_at"`
	WaitingRoom *waitingRoomJSON `json:"waiting_room"`
	saleRulesJSON
	pricingJSON // h19price
}

func (req patchRequest) patch() (EventPatch, error) {
	var p EventPatch
	if err := req.saleRulesJSON.parse(&p); err != nil {
		return p, err
	}
	if req.Name != nil {
		if n := *req.Name; strings.TrimSpace(n) == "" || len(n) > 200 {
			return p, boxoffice.InvalidField("name", "name must be 1..200 characters")
		}
		p.Name = req.Name
	}
	if req.Description != nil {
		if len(*req.Description) > 10_000 {
			return p, boxoffice.InvalidField("description", "description is at most 10000 characters")
		}
		p.Description = req.Description
	}
	if req.StartsAt != nil {
		t, err := parseTime("starts_at", *req.StartsAt)
		if err != nil {
			return p, err
		}
		p.StartsAt = &t
	}
	if req.WaitingRoom != nil {
		wr, err := req.WaitingRoom.domain()
		if err != nil {
			return p, err
		}
		p.WaitingRoom = &wr
	}
	return p, nil
}

// touchesRules reports whether the patch changes what the seat engine
// decides reserves by (a rename need not wake the event's actor).
func (p EventPatch) touchesRules() bool {
	return p.StartsAt != nil || p.MaxTicketsPerUser != nil || p.SaleStartsAt != nil || p.SaleEndsAt != nil ||
		p.Pricing != nil
}

// handlePatchEvent is PATCH /admin/api/events/{eventId}.
func (s *Server) handlePatchEvent(w http.ResponseWriter, r *http.Request, _ boxoffice.User) error {
	id, err := pathID(r, "eventId")
	if err != nil {
		return err
	}
	var req patchRequest
	if err := DecodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	p, err := req.patch()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	before, err := s.deps.Catalog.Event(ctx, id)
	if err != nil {
		return err
	}
	if req.pricingJSON.given() {
		pricing := before.Pricing
		if err := req.pricingJSON.apply(&pricing); err != nil {
			return err
		}
		p.Pricing = &pricing
	}
	e, err := s.deps.Catalog.UpdateEvent(ctx, id, p)
	if err != nil {
		return err
	}
	noteAudit(r.Context(), "event", id.String(), e.OrgID, renderEvent(before, time.Now()), renderEvent(e, time.Now()))
	s.events.forget(id)
	if s.deps.Rules != nil && p.touchesRules() {
		// The event's grain decides reserves by these rules: tell it now,
		// so the next reserve follows them (it also reads them whenever it
		// activates).
		if err := s.deps.Rules.UpdateRules(ctx, e); err != nil {
			s.log.Warn("event changed but its seat engine did not take the new rules yet",
				"event", id, "err", err)
		}
	}
	view := renderEvent(e, time.Now())
	view.PromoCodes = renderPromos(e.Pricing)
	WriteJSON(w, http.StatusOK, view)
	return nil
}

// handleEventStats is GET /admin/api/events/{eventId}.
func (s *Server) handleEventStats(w http.ResponseWriter, r *http.Request, _ boxoffice.User) error {
	id, err := pathID(r, "eventId")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	if _, err := s.events.event(ctx, id); err != nil {
		return err
	}
	st, err := s.deps.Engine.Stats(ctx, id)
	if err != nil {
		return err
	}
	out := renderStats(st)
	if out.Refunds, err = s.refundProgress(ctx, id); err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}

// handleDrainNode is POST /admin/api/nodes/{nodeId}/drain: 202 once the
// named node has begun to drain (it leaves and exits by itself).
func (s *Server) handleDrainNode(w http.ResponseWriter, r *http.Request, _ boxoffice.User) error {
	id := r.PathValue("nodeId")
	if len(id) > 200 {
		return boxoffice.InvalidField("nodeId", "nodeId is longer than 200 bytes")
	}
	d, ok := s.deps.Cluster.(NodeDrainer)
	if !ok {
		return boxoffice.Errorf(boxoffice.ENotFound, "node %q cannot be drained from here", id)
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	if err := d.DrainNode(ctx, id); err != nil {
		return err
	}
	WriteJSON(w, http.StatusAccepted, drainJSON{NodeID: id, Status: "draining"})
	return nil
}

// handleCluster is GET /admin/api/cluster.
func (s *Server) handleCluster(w http.ResponseWriter, r *http.Request, _ boxoffice.User) error {
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	nodes := []NodeInfo{{ID: s.cfg.NodeName, Status: "alive", StartedAt: s.started}}
	var places []Placement
	if c := s.deps.Cluster; c != nil {
		var err error
		if nodes, err = c.Nodes(ctx); err != nil {
			return err
		}
		if places, err = c.Placements(ctx); err != nil {
			return err
		}
	}
	out := clusterJSON{Nodes: make([]nodeJSON, 0, len(nodes)), Placements: make([]placementJSON, 0, len(places))}
	for _, n := range nodes {
		out.Nodes = append(out.Nodes, nodeJSON{ID: n.ID, Address: n.Address, Status: n.Status,
			StartedAt: timeText(n.StartedAt), Actors: n.Actors, Reserves: n.Reserves,
			ReservesPerSecond: math.Round(n.ReservesPerSecond*10) / 10})
	}
	for _, p := range places {
		out.Placements = append(out.Placements, placementJSON(p))
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}
