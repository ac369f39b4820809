package api

import (
	"compress/flate"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"go.opentelemetry.io/otel/trace"

	"github.com/boxoffice/boxoffice"
)

// Reasons the hub disconnects a client, as the disconnect metric labels
// them.
const (
	dropSlow        = "slow"        // its send queue filled up
	dropGap         = "gap"         // the bus skipped a version; the client must resync
	dropUnavailable = "unavailable" // no snapshot or subscription could be had
	dropShutdown    = "shutdown"    // Close
	// dropDraining is Server.Drain's: the close frame (1012, service
	// restart) carries it as its reason, and the seat page reconnects at
	// once, to whichever node the load balancer picks.
	dropDraining = "draining"
	dropWrite    = "write" // a write failed or timed out
)

// hub fans seat deltas out to WebSocket clients: one SubscribeSeats per
// event per node, shared by every local client of that event (refcounted,
// unsubscribed when the last one leaves). The feed's callback never
// blocks: each client has a bounded queue, and a client whose queue is full
// is disconnected rather than waited for.
//
// Lock order: hub.mu, then topic.mu, then wsClient.mu.
type hub struct {
	ctx          context.Context // canceled by Server.Close
	engine       boxoffice.SeatEngine
	feed         SeatFeed
	metrics      *metrics
	log          *slog.Logger
	upgrader     websocket.Upgrader
	sendQueue    int
	ping         time.Duration
	writeTimeout time.Duration
	snapTimeout  time.Duration
	tracer       trace.Tracer  // nil: no fan-out spans
	tick         time.Duration // compact and SSE deltas are coalesced per tick

	mu     sync.Mutex // guards closed, topics, clients and topic.refs
	closed bool
	// draining: Server.Drain closed the hub (refusals say 1012 too).
	draining bool
	topics   map[uuid.UUID]*topic
	clients  map[*wsClient]struct{}
	wg       sync.WaitGroup // one per connection being served
}

func newHub(ctx context.Context, cfg Config, engine boxoffice.SeatEngine, feed SeatFeed, m *metrics, log *slog.Logger) *hub {
	h := &hub{
		ctx: ctx, engine: engine, feed: feed, metrics: m, log: log,
		sendQueue: cfg.WSSendQueue, ping: cfg.WSPingInterval, writeTimeout: cfg.WSWriteTimeout,
		snapTimeout: cfg.RequestTimeout, tick: cfg.SeatFrameTick,
		topics: make(map[uuid.UUID]*topic), clients: make(map[*wsClient]struct{}),
	}
	h.upgrader = websocket.Upgrader{
		ReadBufferSize:  1024,
		WriteBufferSize: 16 << 10,
		// Pooled: a watcher between two deltas holds no write buffer, which
		// matters with 10,000 of them.
		WriteBufferPool: new(sync.Pool),
		// permessage-deflate when the client offers it (browsers do): the
		// stadium's snapshot shrinks several times, and prepared frames
		// are compressed once for all clients.
		EnableCompression: true,
		// The seat map is public and read-only; any page may show it.
		CheckOrigin: func(*http.Request) bool { return true },
		Error: func(w http.ResponseWriter, _ *http.Request, status int, reason error) {
			if status == http.StatusBadRequest {
				WriteError(w, boxoffice.InvalidField("Upgrade", "this route needs a WebSocket upgrade: %v", reason))
				return
			}
			WriteError(w, fmt.Errorf("websocket upgrade: status %d: %w", status, reason))
		},
	}
	return h
}

// topic is one event's subscription and its local clients.
type topic struct {
	id    uuid.UUID
	hub   *hub
	space boxoffice.TicketSpace // ticket ID -> layout index, for compact frames
	ready chan struct{}         // closed once the subscription attempt is over
	unsub func()                // set before ready is closed
	err   error                 // set before ready is closed
	refs  int                   // guarded by hub.mu

	mu       sync.Mutex // guards the fields below
	clients  map[*wsClient]struct{}
	last     uint64 // newest version seen on the bus
	done     bool   // unsubscribed: ignore late frames
	snapVer  uint64
	snapBody *wireFrame           // the last snapshot rendered, reused by clients at the same version
	view     *boxoffice.SeatsView // the last seat view fetched for a client (read-only)
	fetching chan struct{}        // closed when the fetch under way ends; nil: none
	compact  coalescer            // compact and SSE clients and their frames
}

// serve runs one client's session; it returns when the client is gone.
// An SSE client with resume set (it sent Last-Event-ID: lastSeen) gets the
// retained frames since then instead of a snapshot when the node still
// has them all.
func (h *hub) serve(w http.ResponseWriter, r *http.Request, eventID uuid.UUID, format streamFormat, lastSeen uint64, resume bool) {
	c := h.open(w, r, format)
	if c == nil {
		return
	}
	defer h.remove(c)
	go c.writeLoop(h.ping, h.writeTimeout)
	defer c.stop()

	ctx, cancel := context.WithTimeout(h.ctx, h.snapTimeout)
	defer cancel()
	t, resumed, joined, err := h.join(ctx, eventID, c, lastSeen, resume)
	if err != nil {
		h.unavailable(c, eventID, "subscribe", err)
		return
	}
	defer h.leave(t, c)
	if !resumed {
		view, err := t.seats(ctx, joined)
		if err != nil {
			h.unavailable(c, eventID, "snapshot", err)
			return
		}
		cancel()
		snap, err := t.snapshot(eventID, view, format)
		if err != nil {
			h.unavailable(c, eventID, "snapshot", err)
			return
		}
		c.start(snap)
	}
	if format == formatSSE {
		c.sseReadLoop()
		return
	}
	c.readLoop(h.ping)
}

// open upgrades the request to a WebSocket, or answers it with the head of
// an SSE stream, and registers the client; nil when that failed (the
// request is answered) or the hub is closed.
func (h *hub) open(w http.ResponseWriter, r *http.Request, format streamFormat) *wsClient {
	bw := &batchHijacker{ResponseWriter: w}
	var conn *websocket.Conn
	if format == formatSSE {
		if err := startSSE(bw); err != nil {
			return nil
		}
	} else {
		var err error
		if conn, err = h.upgrader.Upgrade(bw, r, nil); err != nil {
			return nil // the upgrader has answered
		}
		if err := bw.conn.Flush(); err != nil { // the handshake
			_ = conn.Close()
			return nil
		}
		if format == formatCompact {
			// Compact frames are compressed once per frame for all
			// clients, so the better level costs little: a sold-out
			// stadium's snapshot deflates to 2.8 KB, not 3.6 KB.
			_ = conn.SetCompressionLevel(flate.DefaultCompression)
		}
	}
	bw.conn.slack = h.writeTimeout / 4
	c := newWSClient(conn, bw.conn, format, h.sendQueue, h.metrics)
	if !h.add(c) {
		if conn != nil {
			code, text := websocket.CloseGoingAway, "server shutting down"
			if h.isDraining() {
				code, text = websocket.CloseServiceRestart, dropDraining
			}
			_ = conn.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(code, text), time.Now().Add(time.Second))
			_ = bw.conn.Flush()
		}
		c.closeConn()
		return nil
	}
	return c
}

func (h *hub) unavailable(c *wsClient, eventID uuid.UUID, step string, err error) {
	h.log.LogAttrs(h.ctx, slog.LevelWarn, "seat map unavailable",
		slog.String("event", eventID.String()), slog.String("step", step), slog.Any("err", err))
	c.kick(dropUnavailable, websocket.CloseTryAgainLater)
}

// isDraining reports whether Server.Drain closed the hub.
func (h *hub) isDraining() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.draining
}

// add registers a client unless the hub is closed.
func (h *hub) add(c *wsClient) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.clients[c] = struct{}{}
	h.wg.Add(1)
	h.metrics.wsClients.Inc()
	return true
}

func (h *hub) remove(c *wsClient) {
	h.mu.Lock()
	delete(h.clients, c)
	h.mu.Unlock()
	h.metrics.wsClients.Dec()
	h.wg.Done()
}

// join adds c to the event's topic, subscribing first if c is its first
// client. From then on c receives (buffers) every frame of the event, the
// ones newer than joined (the newest version the topic had seen) at
// least. With resume, c is started at once from lastSeen when the topic
// retains every frame since (resumed).
func (h *hub) join(ctx context.Context, id uuid.UUID, c *wsClient, lastSeen uint64, resume bool) (t *topic, resumed bool, joined uint64, err error) {
	h.mu.Lock()
	t = h.topics[id]
	creator := t == nil
	if creator {
		t = &topic{id: id, hub: h, space: boxoffice.NewTicketSpace(id), ready: make(chan struct{}),
			clients: make(map[*wsClient]struct{})}
		t.compact.init(h.tick)
		h.topics[id] = t
	}
	t.refs++
	h.mu.Unlock()
	if creator {
		if tf, ok := h.feed.(TracedSeatFeed); ok && h.tracer != nil {
			t.unsub, t.err = tf.SubscribeSeatsTraced(id, t.onTracedFrame)
		} else {
			t.unsub, t.err = h.feed.SubscribeSeats(id, t.onFrame)
		}
		close(t.ready)
	} else {
		select {
		case <-t.ready:
		case <-ctx.Done():
			h.leave(t, nil)
			return nil, false, 0, ctx.Err()
		}
	}
	if t.err != nil {
		h.leave(t, nil)
		return nil, false, 0, t.err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if c.format == formatJSON {
		t.clients[c] = struct{}{}
		return t, false, t.last, nil
	}
	t.compact.clients[c] = struct{}{}
	return t, resume && t.compact.resumeLocked(c, lastSeen, t.last), t.last, nil
}

// seats is the engine's seat view for a client that joined the topic when
// it had seen version joined: the last view fetched for any client when it
// is at least that new (every later frame reaches the client), else a
// fresh one, fetched once for all the clients waiting at the time. In a
// connect storm 10,000 watchers then cost the engine a few views of the
// stadium instead of 10,000.
func (t *topic) seats(ctx context.Context, joined uint64) (boxoffice.SeatsView, error) {
	for {
		t.mu.Lock()
		if t.view != nil && t.view.Version >= joined {
			v := *t.view
			t.mu.Unlock()
			return v, nil
		}
		if wait := t.fetching; wait != nil {
			t.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return boxoffice.SeatsView{}, ctx.Err()
			}
		}
		wait := make(chan struct{})
		t.fetching = wait
		t.mu.Unlock()
		view, err := t.hub.engine.Seats(ctx, t.id)
		t.mu.Lock()
		t.fetching = nil
		close(wait)
		if err == nil && (t.view == nil || view.Version >= t.view.Version) {
			t.view = &view
		}
		t.mu.Unlock()
		// The view was fetched after this client joined, so it is at
		// least as new as joined.
		return view, err
	}
}

// leave removes c (nil: only the reference) and unsubscribes after the
// last client.
func (h *hub) leave(t *topic, c *wsClient) {
	if c != nil {
		t.mu.Lock()
		delete(t.clients, c)
		delete(t.compact.clients, c)
		t.mu.Unlock()
	}
	h.mu.Lock()
	t.refs--
	last := t.refs == 0
	if last && h.topics[t.id] == t {
		delete(h.topics, t.id)
	}
	h.mu.Unlock()
	if !last {
		return
	}
	t.mu.Lock()
	t.done = true
	t.compact.stopLocked()
	t.mu.Unlock()
	if t.unsub != nil {
		t.unsub()
	}
}

// close disconnects every client and waits for their sessions to end.
func (h *hub) close() { h.closeWith(dropShutdown, websocket.CloseGoingAway) }

// closeWith is close with the given drop reason and close code.
func (h *hub) closeWith(reason string, code int) {
	h.mu.Lock()
	h.closed = true
	if reason == dropDraining {
		h.draining = true
	}
	clients := make([]*wsClient, 0, len(h.clients))
	for c := range h.clients {
		clients = append(clients, c)
	}
	h.mu.Unlock()
	for _, c := range clients {
		c.kick(reason, code)
	}
	h.wg.Wait()
}

// onFrame is the feed's callback: it hands the frame to every client of
// the topic without blocking.
func (t *topic) onFrame(frame []byte) {
	v, ok := frameVersion(frame)
	if !ok {
		t.hub.log.LogAttrs(t.hub.ctx, slog.LevelError, "seat feed frame without a version",
			slog.String("event", t.id.String()), slog.Int("bytes", len(frame)))
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return
	}
	prev := t.last
	gap := prev != 0 && v > prev+1
	if gap {
		// The clients see the gap themselves and are closed to resync.
		t.hub.metrics.busGaps.Inc()
	}
	t.last = max(t.last, v)
	if prev == 0 || v > prev {
		t.addCompactLocked(frame, v, gap)
	}
	if len(t.clients) == 0 {
		return
	}
	// Prepared once for every client: the framing, and the compressed
	// form for clients that negotiated permessage-deflate, are computed
	// once per frame rather than once per client.
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, frame)
	if err != nil {
		t.hub.log.LogAttrs(t.hub.ctx, slog.LevelError, "seat frame cannot be prepared", slog.Any("err", err))
		return
	}
	f := &wireFrame{from: v, to: v, ws: pm}
	for c := range t.clients {
		c.deliver(f)
	}
}

// snapshot renders view's snapshot frame, reusing the last one when
// another client asked at the same version (prepared once, so its
// compressed form is also shared: 10,000 watchers connecting to the
// 50,000-seat stadium compress its 3.5 MB snapshot once per version).
func (t *topic) snapshot(eventID uuid.UUID, view boxoffice.SeatsView, format streamFormat) (*wireFrame, error) {
	if format != formatJSON {
		return t.compactSnapshot(view)
	}
	t.mu.Lock()
	if t.snapBody != nil && t.snapVer == view.Version {
		b := t.snapBody
		t.mu.Unlock()
		return b, nil
	}
	t.mu.Unlock()
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, renderSnapshot(eventID, view))
	if err != nil {
		return nil, err
	}
	b := &wireFrame{to: view.Version, ws: pm}
	t.mu.Lock()
	if view.Version >= t.snapVer {
		t.snapVer, t.snapBody = view.Version, b
	}
	t.mu.Unlock()
	return b, nil
}
