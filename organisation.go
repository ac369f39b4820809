package boxoffice

import (
	"context"
	"encoding/json"
	"net/netip"
	"slices"
	"time"

	"github.com/google/uuid"
)

// RoleOrganiser runs the events of one organisation (the token's org_id):
// create, edit, cancel, refund, reports and webhooks, and nothing of
// another organisation's (API.md Roles).
const RoleOrganiser = "organiser"

// RoleAdmin acts on everything.
const RoleAdmin = "admin"

// IsOrganiser reports whether u is an organiser of some organisation; a
// token with the role but no org_id is an organiser of nothing.
func (u User) IsOrganiser() bool {
	return u.OrgID != uuid.Nil && slices.Contains(u.Roles, RoleOrganiser)
}

// MayManage reports whether u may use the admin API at all: an admin, or
// an organiser within its organisation.
func (u User) MayManage() bool { return u.IsAdmin() || u.IsOrganiser() }

// Runs reports whether u may act on a resource owned by org: an admin on
// anything, an organiser on its own organisation's (never on the shared
// catalog, uuid.Nil, which only admins edit).
func (u User) Runs(org uuid.UUID) bool {
	if u.IsAdmin() {
		return true
	}
	return org != uuid.Nil && u.IsOrganiser() && org == u.OrgID
}

// MayUse reports whether u may build an event on a venue or performer
// owned by org: what it runs, plus the shared catalog.
func (u User) MayUse(org uuid.UUID) bool {
	return u.Runs(org) || (org == uuid.Nil && u.IsOrganiser())
}

// Organisation owns venues, performers, events and webhooks.
type Organisation struct {
	ID   uuid.UUID
	Name string
}

// AuditEntry is one admin or organiser action (API.md Roles): who did it,
// what, when, and the thing it changed before and after as JSON (null
// where there was no such state: a creation has no before).
type AuditEntry struct {
	// ID orders the log; it is assigned by the store.
	ID int64
	// At is when the action was recorded (the store's clock).
	At time.Time
	// ActorID is the user; ActorRoles its roles then; OrgID the
	// organisation the action belongs to (the target's), uuid.Nil for the
	// shared catalog and node-wide settings.
	ActorID    uuid.UUID
	ActorRoles []string
	OrgID      uuid.UUID
	// Action is the route, such as "PATCH /admin/api/events/{eventId}".
	Action string
	// TargetType and TargetID name what the action changed ("event", id).
	TargetType string
	TargetID   string
	Before     json.RawMessage
	After      json.RawMessage
	// RequestID ties the entry to the request's log lines.
	RequestID string
}

// AuditLog is the append-only audit log; the store refuses to change or
// delete an entry once written.
type AuditLog interface {
	// AppendAudit writes e (its ID and At set by the store).
	AppendAudit(ctx context.Context, e AuditEntry) error
	// Audit lists up to limit entries, newest first, with IDs below
	// beforeID (0: from the newest); org uuid.Nil lists every
	// organisation's, else only org's.
	Audit(ctx context.Context, org uuid.UUID, beforeID int64, limit int) ([]AuditEntry, error)
}

// CatalogScope selects what a catalog list shows: All for an admin, else
// the organisation Org's own rows (plus the shared catalog for venues and
// performers, which an organiser may build events on).
type CatalogScope struct {
	All bool
	Org uuid.UUID
}

// ScopeOf is the catalog a user may list.
func ScopeOf(u User) CatalogScope {
	if u.IsAdmin() {
		return CatalogScope{All: true}
	}
	return CatalogScope{Org: u.OrgID}
}

// WebhookAddrs decides which addresses a webhook may be sent to: public
// addresses always, loopback, private, link-local and the other special
// ranges only inside Allow (so an organiser cannot make the node call
// into its own network).
type WebhookAddrs struct {
	Allow []netip.Prefix
}

// special are the ranges that are not the public internet.
var special = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
}

// Permits reports whether a webhook may be delivered to a.
func (p WebhookAddrs) Permits(a netip.Addr) bool {
	a = a.Unmap()
	for _, pr := range p.Allow {
		if pr.Contains(a) {
			return true
		}
	}
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsMulticast() || a.IsUnspecified() || a.IsInterfaceLocalMulticast() {
		return false
	}
	for _, pr := range special {
		if pr.Contains(a) {
			return false
		}
	}
	return true
}

// VenuePatch edits a venue; nil fields stay. The seat map is not editable:
// events' tickets were laid out from it.
type VenuePatch struct {
	Name, City, Address *string
	Location            *Location
}

// PerformerPatch edits a performer; nil fields stay.
type PerformerPatch struct {
	Name, Biography *string
}

// CatalogLister lists and edits the catalog for the dashboard (the
// persistence store implements it). Lists are ordered by ID and page after
// the given ID (uuid.Nil: from the start).
type CatalogLister interface {
	ListVenues(ctx context.Context, scope CatalogScope, after uuid.UUID, limit int) ([]Venue, error)
	ListPerformers(ctx context.Context, scope CatalogScope, after uuid.UUID, limit int) ([]Performer, error)
	ListEvents(ctx context.Context, scope CatalogScope, after uuid.UUID, limit int) ([]Event, error)
	// UpdateVenue and UpdatePerformer apply a patch and return the row
	// before and after it; not_found for an unknown ID.
	UpdateVenue(ctx context.Context, id uuid.UUID, p VenuePatch) (before, after Venue, err error)
	UpdatePerformer(ctx context.Context, id uuid.UUID, p PerformerPatch) (before, after Performer, err error)
}
