package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/queue"
	"github.com/boxoffice/boxoffice/api"
	"github.com/boxoffice/boxoffice/cluster"
	"github.com/boxoffice/boxoffice/cluster/bus"
	"github.com/boxoffice/boxoffice/persistence"
	"github.com/boxoffice/boxoffice/search"
)

// catalog adapts persistence.DB to api.Catalog (their EventPatch types
// have the same shape, so one converts to the other).
type catalog struct {
	*persistence.DB
	// room, if set, hears of a changed waiting-room setting at once, so
	// that a room switched on stops admitting everyone (and starts its new
	// on-period) now rather than at its next re-read of the events table.
	room *queue.Room
	log  *slog.Logger
}

func (c catalog) UpdateEvent(ctx context.Context, id uuid.UUID, p api.EventPatch) (boxoffice.Event, error) {
	e, err := c.DB.UpdateEvent(ctx, id, persistence.EventPatch(p))
	if err == nil && p.WaitingRoom != nil && c.room != nil {
		// The write is done; a room that cannot be told now re-reads
		// the setting within its RefreshInterval.
		if rerr := c.room.SetRate(ctx, id, e.WaitingRoom.RatePerSecond, e.WaitingRoom.Enabled); rerr != nil && c.log != nil {
			c.log.Warn("waiting room not told of its new setting", "event", id, "err", rerr)
		}
	}
	return e, err
}

// seatDeltas puts the engine's seat deltas on the bus as the API's
// WebSocket delta frame (api.DeltaFrame), encoded once on the committing
// node; every node's hub forwards those bytes untouched.
type seatDeltas struct{ bus *bus.Bus }

func (p seatDeltas) PublishSeats(d boxoffice.SeatDelta) error {
	return p.bus.PublishSeats(d.EventID, api.DeltaFrame(d))
}

// PublishSeatsContext implements actors.TracedPublisher: the delta carries
// the publish's trace to every node's WebSocket fan-out.
func (p seatDeltas) PublishSeatsContext(ctx context.Context, d boxoffice.SeatDelta) error {
	return p.bus.PublishSeatsContext(ctx, d.EventID, api.DeltaFrame(d))
}

// searcher answers GET /search from the node's index.
type searcher struct{ ix *search.Index }

func (s searcher) Search(ctx context.Context, v url.Values) ([]byte, error) {
	q, err := search.ParseQuery(v)
	if err != nil {
		return nil, err
	}
	res, err := s.ix.Search(ctx, q)
	if err != nil {
		return nil, err
	}
	return search.RenderJSON(res), nil
}

// outboxSource feeds the catalog relay from PostgreSQL's outbox.
type outboxSource struct{ db *persistence.DB }

func (o outboxSource) TryRelayLock(ctx context.Context) (func(), bool, error) {
	return o.db.TryRelayLock(ctx)
}

func (o outboxSource) PendingOutbox(ctx context.Context, limit int) ([]bus.OutboxRow, error) {
	rows, err := o.db.PendingOutbox(ctx, limit)
	out := make([]bus.OutboxRow, len(rows))
	for i, r := range rows {
		out[i] = bus.OutboxRow{ID: r.ID, Topic: r.Topic, Payload: r.Payload}
	}
	return out, err
}

func (o outboxSource) MarkOutboxSent(ctx context.Context, ids []int64) error {
	return o.db.MarkOutboxSent(ctx, ids)
}

// noPayments is the provider of production mode until a real one is
// configured: it declines, so nothing is sold without being paid for.
type noPayments struct{}

func (noPayments) Charge(context.Context, boxoffice.PaymentRequest) (boxoffice.PaymentResult, error) {
	return boxoffice.PaymentResult{}, boxoffice.Errorf(boxoffice.EPaymentFailed,
		"no payment provider is configured on this deployment")
}

// Void takes nothing back: this provider never charges.
func (noPayments) Void(context.Context, boxoffice.VoidRequest) error { return nil }

// placementsSubject is where every node answers which events it hosts.
const placementsSubject = "boxoffice.admin.placements"

type placementReply struct {
	Node   string      `json:"node"`
	Events []uuid.UUID `json:"events"`
	// Reserves is how many reserves the node's event actors decided since
	// it started; PerSecond their rate over the last seconds.
	Reserves  uint64  `json:"reserves"`
	PerSecond float64 `json:"reserves_per_second"`
}

// serveAdminPlacements answers placement requests with this node's active
// event actors, so any node can show the whole cluster's placement, and
// drain requests naming this node (drainSubject).
func serveAdminPlacements(n *node) error {
	_, err := n.bus.Conn().Subscribe(placementsSubject, func(m *nats.Msg) {
		b, _ := json.Marshal(placementReply{Node: n.name, Events: n.engine.Active(),
			Reserves: n.engine.Reserves(), PerSecond: n.rate.perSecond()})
		_ = m.Respond(b)
	})
	if err != nil {
		return err
	}
	_, err = n.bus.Conn().Subscribe(drainSubject, func(m *nats.Msg) {
		if string(m.Data) != n.name {
			return
		}
		go n.Drain()
		_ = m.Respond([]byte("draining"))
	})
	return err
}

// drainSubject is where a node asks another to drain (POST
// /admin/api/nodes/{nodeId}/drain on any node); the payload is the node's
// name, and only that node answers.
const drainSubject = "boxoffice.admin.drain"

// DrainNode implements api.NodeDrainer: this node drains in the
// background; another live member is asked over the bus.
func (c clusterView) DrainNode(ctx context.Context, id string) error {
	known := false
	for _, m := range c.n.cluster.Members() {
		if m.Name == id && m.Status == cluster.StatusAlive {
			known = true
		}
	}
	if !known {
		return boxoffice.Errorf(boxoffice.ENotFound, "no live node is named %q", id)
	}
	if id == c.n.name {
		go c.n.Drain()
		return nil
	}
	if _, err := c.n.bus.Conn().RequestWithContext(ctx, drainSubject, []byte(id)); err != nil {
		return fmt.Errorf("ask %s to drain: %w", id, &boxoffice.Error{Code: boxoffice.EUnavailable, Message: "the node did not answer; retry"})
	}
	return nil
}

// clusterView is the admin dashboard's view of membership and placement.
type clusterView struct{ n *node }

func (c clusterView) Nodes(ctx context.Context) ([]api.NodeInfo, error) {
	replies := map[string]placementReply{}
	for _, p := range c.gather(ctx) {
		replies[p.Node] = p
	}
	var out []api.NodeInfo
	for _, m := range c.n.cluster.Members() {
		p := replies[m.Name]
		status := string(m.Status)
		if m.Draining && m.Status == cluster.StatusAlive {
			status = "draining"
		}
		out = append(out, api.NodeInfo{ID: m.Name, Address: m.HTTPAddr, Status: status,
			StartedAt: m.StartedAt, Actors: len(p.Events), Reserves: p.Reserves, ReservesPerSecond: p.PerSecond})
	}
	return out, nil
}

func (c clusterView) Placements(ctx context.Context) ([]api.Placement, error) {
	var out []api.Placement
	for _, p := range c.gather(ctx) {
		for _, e := range p.Events {
			out = append(out, api.Placement{EventID: e, NodeID: p.Node})
		}
	}
	return out, nil
}

// gather asks every node for its active events and collects the answers
// that arrive within a short window.
func (c clusterView) gather(ctx context.Context) []placementReply {
	nc := c.n.bus.Conn()
	inbox := nats.NewInbox()
	ch := make(chan *nats.Msg, 64)
	sub, err := nc.ChanSubscribe(inbox, ch)
	if err != nil {
		return nil
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := nc.PublishRequest(placementsSubject, inbox, nil); err != nil {
		return nil
	}
	want := len(c.n.cluster.Members())
	var out []placementReply
	timeout := time.After(300 * time.Millisecond)
	for len(out) < want {
		select {
		case m := <-ch:
			var p placementReply
			if json.Unmarshal(m.Data, &p) == nil {
				out = append(out, p)
			}
		case <-timeout:
			return out
		case <-ctx.Done():
			return out
		}
	}
	return out
}
