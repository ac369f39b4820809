package api

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/boxoffice/boxoffice"
)

// Catalog is the catalog store as the API needs it; persistence.DB offers
// these methods (cmd adapts EventPatch). Errors are *boxoffice.Error codes:
// not_found for an unknown ID, invalid_argument for a bad body (or an ID
// reused with another body), unavailable when the store cannot be reached.
type Catalog interface {
	// CreateVenue stores v under its ID (a new one when uuid.Nil); created
	// is false when the same ID with the same body already exists.
	CreateVenue(ctx context.Context, v boxoffice.Venue) (boxoffice.Venue, bool, error)
	// CreatePerformer is CreateVenue for performers.
	CreatePerformer(ctx context.Context, p boxoffice.Performer) (boxoffice.Performer, bool, error)
	// CreateEvent stores e and one ticket per seat of its venue and returns
	// the number of tickets.
	CreateEvent(ctx context.Context, e boxoffice.Event) (boxoffice.Event, int, bool, error)
	// UpdateEvent applies patch and returns the updated event.
	UpdateEvent(ctx context.Context, id uuid.UUID, patch EventPatch) (boxoffice.Event, error)
	// Event returns one event; the API caches it for Config.CatalogTTL.
	Event(ctx context.Context, id uuid.UUID) (boxoffice.Event, error)
	// Venue returns one venue with its seat map.
	Venue(ctx context.Context, id uuid.UUID) (boxoffice.Venue, error)
	// Performer returns one performer.
	Performer(ctx context.Context, id uuid.UUID) (boxoffice.Performer, error)
	// Tickets returns an event's tickets in flat-index order.
	Tickets(ctx context.Context, eventID uuid.UUID) ([]boxoffice.Ticket, error)
}

// Rules delivers an event's changed sale rules to the seat engine, which
// decides every reserve by them (actors.Engine implements it). A failed
// delivery is not fatal: the engine also reads the rules when the event's
// actor activates and re-reads them periodically.
type Rules interface {
	UpdateRules(ctx context.Context, e boxoffice.Event) error
}

// EventPatch is a partial update of an event (PATCH /admin/api/events/{id});
// nil fields stay as they are. It has the shape of persistence.EventPatch so
// that cmd converts one to the other with a plain conversion.
type EventPatch struct {
	// Name replaces the event's name (1..200 characters).
	Name *string
	// Description replaces the description (at most 10,000 characters).
	Description *string
	// StartsAt moves the event (UTC).
	StartsAt *time.Time
	// WaitingRoom turns the virtual queue on or off and sets its rate.
	WaitingRoom *boxoffice.WaitingRoom
	// MaxTicketsPerUser sets the per-user limit (0..1000, 0 = no limit).
	MaxTicketsPerUser *int
	// SaleStartsAt, SaleEndsAt and RefundUntil set the sale window and the
	// refund deadline explicitly.
	SaleStartsAt *time.Time
	SaleEndsAt   *time.Time
	RefundUntil  *time.Time
	// Pricing replaces the event's ticket types, fees and promo codes
	// (h19price).
	Pricing *boxoffice.Pricing
}

// Bookings reads bookings as the seat engine committed them.
type Bookings interface {
	// Booking returns one booking or not_found.
	Booking(ctx context.Context, id uuid.UUID) (boxoffice.Booking, error)
	// UserBookings returns up to limit of a user's bookings, newest first.
	UserBookings(ctx context.Context, userID uuid.UUID, limit int) ([]boxoffice.Booking, error)
	// UserBookingsPage returns up to limit of a user's bookings, newest
	// first by (CreatedAt, ID), after the one at (afterCreated, afterID)
	// (a zero afterCreated: from the newest); GET /user/bookings pages by it.
	UserBookingsPage(ctx context.Context, userID uuid.UUID, afterCreated time.Time, afterID uuid.UUID, limit int) ([]boxoffice.Booking, error)
}

// Users records the users development tokens are minted for, so that
// bookings can name their owner.
type Users interface {
	// UpsertUser creates or updates u by ID.
	UpsertUser(ctx context.Context, u boxoffice.User) error
}

// SeatFeed delivers an event's seat deltas from the bus. Each frame is
// already API.md's delta JSON, published once per version in version order;
// the hub forwards the bytes untouched.
type SeatFeed interface {
	// SubscribeSeats calls fn with every delta of eventID published after
	// the subscription is in place, one call at a time, in order. fn does
	// not block; the hub keeps frame after fn returns, so the feed must not
	// reuse its memory. unsubscribe stops the calls and is called once.
	SubscribeSeats(eventID uuid.UUID, fn func(frame []byte)) (unsubscribe func(), err error)
}

// TracedSeatFeed is a SeatFeed that also hands fn the trace context each
// delta was published with, so the hub's fan-out joins the trace of the
// request that made the delta. The hub uses it when the feed has it.
type TracedSeatFeed interface {
	SubscribeSeatsTraced(eventID uuid.UUID, fn func(ctx context.Context, frame []byte)) (unsubscribe func(), err error)
}

// Searcher answers GET /search. It returns the whole 200 body as JSON
// (API.md's {"total","page","page_size","results"}), or an *boxoffice.Error:
// invalid_argument with details.field for a bad query parameter.
type Searcher interface {
	// Search answers the query parameters of one GET /search.
	Search(ctx context.Context, query url.Values) ([]byte, error)
}

// Queue is the waiting-room plug. Routes registers the queue's routes
// (POST /events/{eventId}/queue and its GET and WebSocket companions) on the
// API's mux; auth wraps a handler so that it requires a valid token and
// finds the caller with UserFromContext. CheckAdmission is called by
// POST /booking/reserve for events whose waiting room is on, and returns
// nil or an *boxoffice.Error (queue_required).
type Queue interface {
	// Routes registers the waiting room's routes on mux.
	Routes(mux *http.ServeMux, auth func(http.Handler) http.Handler)
	// CheckAdmission admits user to reserve seats of event, reading the
	// X-Admission-Token header of r.
	CheckAdmission(r *http.Request, user uuid.UUID, event boxoffice.Event) error
}

// NodeInfo is one cluster member as GET /admin/api/cluster shows it.
type NodeInfo struct {
	// ID is the node's stable name.
	ID string
	// Address is where the node gossips (host:port).
	Address string
	// Status is the membership state, such as alive, suspect or dead.
	Status string
	// StartedAt is when the node joined.
	StartedAt time.Time
	// Actors is the number of active event actors on the node.
	Actors int
	// Reserves is how many reserves the node's event actors decided since
	// it started, and ReservesPerSecond their rate over the last seconds:
	// with Actors, the spread of the load over the nodes.
	Reserves          uint64
	ReservesPerSecond float64
}

// Placement says which node hosts an active event actor.
type Placement struct {
	// EventID names the event actor.
	EventID uuid.UUID
	// NodeID is the NodeInfo.ID of its host.
	NodeID string
}

// ClusterView is the membership and placement view of the admin dashboard.
type ClusterView interface {
	// Nodes lists the cluster's members.
	Nodes(ctx context.Context) ([]NodeInfo, error)
	// Placements lists where each active event actor lives.
	Placements(ctx context.Context) ([]Placement, error)
}

// NodeDrainer is a ClusterView that can drain a member (POST
// /admin/api/nodes/{nodeId}/drain): the node fails /readyz, hands its
// events to the other nodes, tells stream clients to reconnect elsewhere,
// leaves the cluster and exits. Views that cannot make the route 404.
type NodeDrainer interface {
	// DrainNode starts the drain of the node named id and returns once it
	// has begun. Errors: ENotFound when no live member has that name,
	// EUnavailable when the node does not answer.
	DrainNode(ctx context.Context, id string) error
}

// Deps are the platform parts the API talks to. Engine and Catalog are
// required; the rest may be nil with the effect each field describes.
type Deps struct {
	// Engine decides every reserve, confirm and release.
	Engine boxoffice.SeatEngine
	// Catalog stores and reads events, venues, performers and tickets.
	Catalog Catalog
	// Bookings reads bookings for confirm, release and the GET routes;
	// nil makes those routes 503 unavailable.
	Bookings Bookings
	// Users is told about every development-token user; nil skips that.
	Users Users
	// Seats feeds the seat-map WebSocket; nil makes it 503 unavailable.
	Seats SeatFeed
	// Search answers GET /search; nil makes it 503 unavailable.
	Search Searcher
	// Queue is the waiting room; nil means no waiting room (its routes are
	// 404 and reserve admits everyone).
	Queue Queue
	// Cluster is the admin cluster view; nil shows this node alone.
	Cluster ClusterView
	// Ready reports whether the node can serve (store reachable, cluster
	// joined) for GET /readyz; nil means always ready.
	Ready func(ctx context.Context) error
	// Metrics is the registry GET /metrics exposes; other packages register
	// their collectors (holds, sales, journal batches) on the same one. Nil
	// makes New create one with the Go and process collectors.
	Metrics *prometheus.Registry
	// Web serves the seat-map, admin and door pages at GET /, GET
	// /admin/, GET /door/ and GET /static/...; nil makes GET / a small JSON index of the API.
	Web http.Handler
	// Rules is told of every PATCHed event; nil leaves the seat engine to
	// its own re-reads.
	Rules Rules
	// PaymentWebhook serves POST /payments/stripe/webhook (the provider's
	// signed events; no token); nil leaves the route out (404).
	PaymentWebhook http.Handler
	// Tickets signs the ticket codes of confirmed bookings and publishes
	// its public keys at GET /tickets/keys; nil makes the ticket routes
	// 503 unavailable.
	Tickets *boxoffice.TicketKeys
	// CheckIn admits scanned tickets (POST /checkin); nil makes the route
	// 503 unavailable.
	CheckIn boxoffice.CheckInService
	// Webhooks keeps organisers' webhooks (POST and GET
	// /admin/api/webhooks); nil makes those routes 503 unavailable.
	Webhooks boxoffice.WebhookStore
	// Audit is the audit log of admin and organiser actions (GET
	// /admin/api/audit); nil writes none and makes the route 503.
	Audit boxoffice.AuditLog
	// Reports reads events' sales figures and exports (GET
	// /admin/api/events/{eventId}/report; reports); nil makes the route
	// 503 unavailable.
	Reports boxoffice.ReportStore
}
