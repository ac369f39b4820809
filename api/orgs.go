package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// Organisations and the audit log (API.md Roles). Every /admin/api route is
// registered with one of three wrappers, each 401 without a token:
//   - admin: the admin role only (node-wide things: cluster, metrics, log
//     level); an organiser gets 403.
//   - manage: an admin or an organiser; the handler scopes what it reads
//     or writes to the caller's organisation (lists, creations).
//   - eventScoped: manage, and the {eventId} of the path must be an event
//     the caller runs (User.Runs), else 403 forbidden.
// Each records the actions it lets through in the audit log.

// errNotYours is the 403 of an organiser reaching for another
// organisation's resource (or a node-wide one).
func errNotYours(what string) error {
	return boxoffice.Errorf(boxoffice.EForbidden, "%s belongs to another organisation", what)
}

// manage lets an admin or an organiser through, audited.
func (s *Server) manage(f userHandler) handlerFunc {
	return s.authed(func(w http.ResponseWriter, r *http.Request, u boxoffice.User) error {
		if !u.MayManage() {
			return boxoffice.Errorf(boxoffice.EForbidden, "this route needs the admin or organiser role (with an org_id)")
		}
		return s.audited(f)(w, r, u)
	})
}

// eventScoped is manage for routes under /admin/api/events/{eventId}: the
// event must exist (404) and be the caller's organisation's (403).
func (s *Server) eventScoped(f userHandler) handlerFunc {
	return s.manage(func(w http.ResponseWriter, r *http.Request, u boxoffice.User) error {
		id, err := pathID(r, "eventId")
		if err != nil {
			return err
		}
		if !u.IsAdmin() {
			ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
			e, err := s.events.event(ctx, id)
			cancel()
			if err != nil {
				return err
			}
			if !u.Runs(e.OrgID) {
				return errNotYours("event " + id.String())
			}
		}
		return f(w, r, u)
	})
}

// auditKey carries a request's auditNote.
type auditKey struct{}

// auditNote is what a handler says about the action it took, for the
// audit entry its wrapper writes once the handler succeeded.
type auditNote struct {
	targetType, targetID string
	org                  uuid.UUID
	before, after        any
}

// noteAudit tells the audit log what the request changed: the target, its
// organisation, and its state before and after (nil where there is none).
// Outside an audited request it does nothing.
func noteAudit(ctx context.Context, targetType, targetID string, org uuid.UUID, before, after any) {
	if n, ok := ctx.Value(auditKey{}).(*auditNote); ok {
		*n = auditNote{targetType: targetType, targetID: targetID, org: org, before: before, after: after}
	}
}

// audited writes an audit entry for every request that is not a read and
// that f completed without error. The entry is written after the action:
// a store that fails then is logged loudly (the action stands; the lost
// entry is the log line).
func (s *Server) audited(f userHandler) userHandler {
	return func(w http.ResponseWriter, r *http.Request, u boxoffice.User) error {
		if r.Method == http.MethodGet || r.Method == http.MethodHead || s.deps.Audit == nil {
			return f(w, r, u)
		}
		note := &auditNote{}
		r = r.WithContext(context.WithValue(r.Context(), auditKey{}, note))
		if err := f(w, r, u); err != nil {
			return err
		}
		s.writeAudit(r, u, note)
		return nil
	}
}

// writeAudit appends one entry; its action is the route's pattern.
func (s *Server) writeAudit(r *http.Request, u boxoffice.User, n *auditNote) {
	if s.deps.Audit == nil {
		return
	}
	_, pattern := s.mux.Handler(r)
	org := n.org
	if org == uuid.Nil && !u.IsAdmin() {
		org = u.OrgID
	}
	e := boxoffice.AuditEntry{ActorID: u.ID, ActorRoles: u.Roles, OrgID: org, Action: pattern,
		TargetType: n.targetType, TargetID: n.targetID, RequestID: RequestID(r.Context())}
	var err error
	if n.before != nil {
		e.Before, err = json.Marshal(n.before)
	}
	if err == nil && n.after != nil {
		e.After, err = json.Marshal(n.after)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), s.cfg.RequestTimeout)
	defer cancel()
	if err == nil {
		err = s.deps.Audit.AppendAudit(ctx, e)
	}
	if err != nil {
		s.metrics.auditFailures.Inc()
		s.log.Error("an admin action was not written to the audit log", "action", pattern, "actor", u.ID,
			"target", n.targetType+" "+n.targetID, "err", err)
	}
}

// orgFor is the organisation a creation belongs to: an organiser's own
// (naming another is 403), an admin's choice of org_id (empty: the shared
// catalog).
func orgFor(u boxoffice.User, requested string) (uuid.UUID, error) {
	org, err := optionalIDField("org_id", requested)
	if err != nil {
		return uuid.Nil, err
	}
	if u.IsAdmin() {
		return org, nil
	}
	if org != uuid.Nil && org != u.OrgID {
		return uuid.Nil, errNotYours("org_id " + org.String())
	}
	return u.OrgID, nil
}

// optionalIDField is optionalID naming its field.
func optionalIDField(field, s string) (uuid.UUID, error) {
	if s == "" {
		return uuid.Nil, nil
	}
	return parseID(field, s)
}

// orgText is an organisation id as the admin lists show it: absent for
// the shared catalog.
func orgText(id uuid.UUID) string {
	if id == uuid.Nil {
		return ""
	}
	return id.String()
}

// Catalog lists page by id; their cursor is the list cursor (paging.go)
// with the last id and a fixed time.
var idCursorTime = time.UnixMicro(1).UTC()

func idCursor(id uuid.UUID) string { return pageKey{at: idCursorTime, id: id}.cursor() }

// parseIDPage reads ?limit= and ?cursor= of a list paged by id.
func parseIDPage(q url.Values) (int, uuid.UUID, error) {
	limit, after, err := parsePage(q)
	if err != nil {
		return 0, uuid.Nil, err
	}
	if q.Get("cursor") != "" && !after.at.Equal(idCursorTime) {
		return 0, uuid.Nil, errBadCursor
	}
	return limit, after.id, nil
}

func (s *Server) lister() (boxoffice.CatalogLister, error) {
	l, ok := s.deps.Catalog.(boxoffice.CatalogLister)
	if !ok {
		return nil, boxoffice.Errorf(boxoffice.EUnavailable, "catalog lists are not available on this node")
	}
	return l, nil
}

// The admin lists show each item as the public API does, beside the
// organisation that owns it (absent: the shared catalog).
type adminVenueJSON struct {
	Venue venueJSON `json:"venue"`
	OrgID string    `json:"org_id,omitempty"`
}

type adminPerformerJSON struct {
	Performer performerJSON `json:"performer"`
	OrgID     string        `json:"org_id,omitempty"`
}

type adminEventJSON struct {
	Event eventJSON `json:"event"`
	OrgID string    `json:"org_id,omitempty"`
}

// listPage runs one paged list: fetch asks for limit+1 items after the
// cursor's id; the extra one only says there is a next page.
func listPage[T any, J any](r *http.Request, s *Server, key string,
	fetch func(ctx context.Context, l boxoffice.CatalogLister, after uuid.UUID, limit int) ([]T, error),
	id func(T) uuid.UUID, render func(T) J) (map[string]any, error) {
	l, err := s.lister()
	if err != nil {
		return nil, err
	}
	limit, after, err := parseIDPage(r.URL.Query())
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	items, err := fetch(ctx, l, after, limit+1)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	list := make([]J, 0, min(len(items), limit))
	for i, it := range items {
		if i == limit {
			out["next_cursor"] = idCursor(id(items[limit-1]))
			break
		}
		list = append(list, render(it))
	}
	out[key] = list
	return out, nil
}

// handleListVenues is GET /admin/api/venues: an organiser sees its own
// organisation's venues and the shared ones it may build events on.
func (s *Server) handleListVenues(w http.ResponseWriter, r *http.Request, u boxoffice.User) error {
	out, err := listPage(r, s, "venues",
		func(ctx context.Context, l boxoffice.CatalogLister, after uuid.UUID, limit int) ([]boxoffice.Venue, error) {
			return l.ListVenues(ctx, boxoffice.ScopeOf(u), after, limit)
		},
		func(v boxoffice.Venue) uuid.UUID { return v.ID },
		func(v boxoffice.Venue) adminVenueJSON {
			return adminVenueJSON{Venue: renderVenue(v, true), OrgID: orgText(v.OrgID)}
		})
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}

// handleListPerformers is GET /admin/api/performers, scoped as venues.
func (s *Server) handleListPerformers(w http.ResponseWriter, r *http.Request, u boxoffice.User) error {
	out, err := listPage(r, s, "performers",
		func(ctx context.Context, l boxoffice.CatalogLister, after uuid.UUID, limit int) ([]boxoffice.Performer, error) {
			return l.ListPerformers(ctx, boxoffice.ScopeOf(u), after, limit)
		},
		func(p boxoffice.Performer) uuid.UUID { return p.ID },
		func(p boxoffice.Performer) adminPerformerJSON {
			return adminPerformerJSON{Performer: renderPerformer(p), OrgID: orgText(p.OrgID)}
		})
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}

// handleListEvents is GET /admin/api/events: an organiser sees its own
// organisation's events only.
func (s *Server) handleListEvents(w http.ResponseWriter, r *http.Request, u boxoffice.User) error {
	now := time.Now()
	out, err := listPage(r, s, "events",
		func(ctx context.Context, l boxoffice.CatalogLister, after uuid.UUID, limit int) ([]boxoffice.Event, error) {
			return l.ListEvents(ctx, boxoffice.ScopeOf(u), after, limit)
		},
		func(e boxoffice.Event) uuid.UUID { return e.ID },
		func(e boxoffice.Event) adminEventJSON {
			// The promo codes too (h19ui): the dashboard's edit form shows them.
			view := renderEvent(e, now)
			view.PromoCodes = renderPromos(e.Pricing)
			return adminEventJSON{Event: view, OrgID: orgText(e.OrgID)}
		})
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, out)
	return nil
}

type venuePatchRequest struct {
	Name     *string          `json:"name"`
	City     *string          `json:"city"`
	Address  *string          `json:"address"`
	Location *locationRequest `json:"location"`
}

// handlePatchVenue is PATCH /admin/api/venues/{venueId}: name, city,
// address and location (the seat map is fixed once events use it).
func (s *Server) handlePatchVenue(w http.ResponseWriter, r *http.Request, u boxoffice.User) error {
	id, err := pathID(r, "venueId")
	if err != nil {
		return err
	}
	var req venuePatchRequest
	if err := DecodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	l, err := s.lister()
	if err != nil {
		return err
	}
	p := boxoffice.VenuePatch{Name: req.Name, City: req.City, Address: req.Address}
	if req.Location != nil {
		if req.Location.Lat == nil || req.Location.Lon == nil {
			return boxoffice.InvalidField("location", "location needs lat and lon")
		}
		p.Location = &boxoffice.Location{Lat: *req.Location.Lat, Lon: *req.Location.Lon}
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	cur, err := s.deps.Catalog.Venue(ctx, id)
	if err != nil {
		return err
	}
	if !u.Runs(cur.OrgID) {
		return errNotYours("venue " + id.String())
	}
	before, after, err := l.UpdateVenue(ctx, id, p)
	if err != nil {
		return err
	}
	noteAudit(r.Context(), "venue", id.String(), after.OrgID, renderVenue(before, false), renderVenue(after, false))
	WriteJSON(w, http.StatusOK, adminVenueJSON{Venue: renderVenue(after, true), OrgID: orgText(after.OrgID)})
	return nil
}

type performerPatchRequest struct {
	Name      *string `json:"name"`
	Biography *string `json:"biography"`
}

// handlePatchPerformer is PATCH /admin/api/performers/{performerId}.
func (s *Server) handlePatchPerformer(w http.ResponseWriter, r *http.Request, u boxoffice.User) error {
	id, err := pathID(r, "performerId")
	if err != nil {
		return err
	}
	var req performerPatchRequest
	if err := DecodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	l, err := s.lister()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	cur, err := s.deps.Catalog.Performer(ctx, id)
	if err != nil {
		return err
	}
	if !u.Runs(cur.OrgID) {
		return errNotYours("performer " + id.String())
	}
	before, after, err := l.UpdatePerformer(ctx, id, boxoffice.PerformerPatch{Name: req.Name, Biography: req.Biography})
	if err != nil {
		return err
	}
	noteAudit(r.Context(), "performer", id.String(), after.OrgID, renderPerformer(before), renderPerformer(after))
	WriteJSON(w, http.StatusOK, adminPerformerJSON{Performer: renderPerformer(after), OrgID: orgText(after.OrgID)})
	return nil
}

type auditJSON struct {
	ID         int64           `json:"id"`
	At         string          `json:"at"`
	ActorID    uuid.UUID       `json:"actor_id"`
	ActorRoles []string        `json:"actor_roles"`
	OrgID      string          `json:"org_id,omitempty"`
	Action     string          `json:"action"`
	TargetType string          `json:"target_type"`
	TargetID   string          `json:"target_id"`
	Before     json.RawMessage `json:"before"`
	After      json.RawMessage `json:"after"`
	RequestID  string          `json:"request_id"`
}

// The audit list's cursor is the list cursor with the last entry's id as
// its time (ids are positive and far below the cursor's time bound).
var auditCursorID = uuid.MustParse("00000000-0000-0000-0000-00000000a0d1")

// handleAudit is GET /admin/api/audit: newest first, paged; an admin reads
// every entry, an organiser its own organisation's.
func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request, u boxoffice.User) error {
	if s.deps.Audit == nil {
		return boxoffice.Errorf(boxoffice.EUnavailable, "the audit log is not available on this node")
	}
	q := r.URL.Query()
	limit, after, err := parsePage(q)
	if err != nil {
		return err
	}
	var before int64
	if q.Get("cursor") != "" {
		if after.id != auditCursorID {
			return errBadCursor
		}
		before = after.at.UnixMicro()
	}
	org := uuid.Nil
	if !u.IsAdmin() {
		org = u.OrgID
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	es, err := s.deps.Audit.Audit(ctx, org, before, limit+1)
	if err != nil {
		return err
	}
	out := map[string]any{}
	list := make([]auditJSON, 0, min(len(es), limit))
	for i, e := range es {
		if i == limit {
			out["next_cursor"] = pageKey{at: time.UnixMicro(es[limit-1].ID).UTC(), id: auditCursorID}.cursor()
			break
		}
		roles := e.ActorRoles
		if roles == nil {
			roles = []string{}
		}
		a := auditJSON{ID: e.ID, At: e.At.UTC().Format(time.RFC3339Nano), ActorID: e.ActorID, ActorRoles: roles,
			OrgID: orgText(e.OrgID), Action: e.Action, TargetType: e.TargetType, TargetID: e.TargetID,
			Before: e.Before, After: e.After, RequestID: e.RequestID}
		if a.Before == nil {
			a.Before = json.RawMessage("null")
		}
		if a.After == nil {
			a.After = json.RawMessage("null")
		}
		list = append(list, a)
	}
	out["entries"] = list
	WriteJSON(w, http.StatusOK, out)
	return nil
}

type scannerRequest struct {
	Email string `json:"email"`
	Name  string `json:"name"`
	// Hours is how long the door token lasts (1..168, default 24).
	Hours *int `json:"hours"`
}

type scannerJSON struct {
	UserID    uuid.UUID `json:"user_id"`
	EventID   uuid.UUID `json:"event_id"`
	Token     string    `json:"token"`
	ExpiresAt string    `json:"expires_at"`
}

// handleAssignScanner is POST /admin/api/events/{eventId}/scanners: it
// assigns a person to the event's door by issuing them a scanner token for
// this event (roles ["scanner"], event_ids [eventId]); the door page and
// POST /checkin take it. Nodes that verify tokens with a JWKS only cannot
// sign one (503).
func (s *Server) handleAssignScanner(w http.ResponseWriter, r *http.Request, u boxoffice.User) error {
	id, err := pathID(r, "eventId")
	if err != nil {
		return err
	}
	var req scannerRequest
	if err := DecodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	hours := 24
	if req.Hours != nil {
		if *req.Hours < 1 || *req.Hours > 168 {
			return boxoffice.InvalidField("hours", "hours must be 1..168")
		}
		hours = *req.Hours
	}
	who, err := tokenRequest{Email: req.Email, Name: req.Name}.user()
	if err != nil {
		return err
	}
	if len(s.cfg.JWTSecret) == 0 {
		return boxoffice.Errorf(boxoffice.EUnavailable, "this node verifies tokens with a JWKS and cannot sign scanner tokens")
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	e, err := s.events.event(ctx, id)
	if err != nil {
		return err
	}
	who.Roles, who.EventIDs = []string{boxoffice.RoleScanner}, []uuid.UUID{id}
	ttl := time.Duration(hours) * time.Hour
	tok, err := MintTokenFor(s.cfg.JWTSecret, who, ttl, s.cfg.JWTIssuer, s.cfg.JWTAudience)
	if err != nil {
		return err
	}
	noteAudit(r.Context(), "event", id.String(), e.OrgID, nil,
		map[string]any{"scanner": who.ID, "email": who.Email, "hours": hours})
	WriteJSON(w, http.StatusCreated, scannerJSON{UserID: who.ID, EventID: id, Token: tok,
		ExpiresAt: time.Now().Add(ttl).UTC().Format(time.RFC3339)})
	return nil
}

// mayBuildOn checks an organiser's new event: its venue and performer must
// be its organisation's or the shared catalog's (unknown ones are 404, as
// the store would say).
func (s *Server) mayBuildOn(ctx context.Context, u boxoffice.User, e boxoffice.Event) error {
	if u.IsAdmin() {
		return nil
	}
	v, err := s.deps.Catalog.Venue(ctx, e.VenueID)
	if err != nil {
		return err
	}
	if !u.MayUse(v.OrgID) {
		return errNotYours("venue " + v.ID.String())
	}
	p, err := s.deps.Catalog.Performer(ctx, e.PerformerID)
	if err != nil {
		return err
	}
	if !u.MayUse(p.OrgID) {
		return errNotYours("performer " + p.ID.String())
	}
	return nil
}
