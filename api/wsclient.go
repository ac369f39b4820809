package api

import (
	"errors"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// wsReadLimit bounds what a client may send; the protocol is server to
// client only, so anything beyond control frames is ignored.
const wsReadLimit = 4 << 10

// wsClient is one WebSocket connection of the seat map. Its writer
// goroutine is the only one writing data frames; the session goroutine
// (hub.serve) reads. A client that falls behind is kicked: its connection
// is closed, which never blocks whoever noticed.
type wsClient struct {
	conn       *websocket.Conn
	out        *batchConn                      // under conn: buffers frames until flush
	send       chan *websocket.PreparedMessage // frames for the writer, bounded
	done       chan struct{}                   // closed by kick
	writerDone chan struct{}                   // closed when writeLoop returns
	limit      int
	metrics    *metrics

	mu        sync.Mutex // guards the fields below
	started   bool       // the snapshot is queued; frames go to send
	next      uint64     // the version the client needs next
	pending   []pendingFrame
	kicked    bool
	closeCode int // close frame the writer sends; 0: just drop the connection
	reason    string
}

type pendingFrame struct {
	frame   *websocket.PreparedMessage
	version uint64
}

func newWSClient(conn *websocket.Conn, out *batchConn, queue int, m *metrics) *wsClient {
	return &wsClient{
		conn: conn, out: out, send: make(chan *websocket.PreparedMessage, queue), done: make(chan struct{}),
		writerDone: make(chan struct{}), limit: queue, metrics: m,
	}
}

// deliver takes one bus frame: buffered until the snapshot is queued,
// forwarded after.
func (c *wsClient) deliver(frame *websocket.PreparedMessage, v uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.kicked {
		return
	}
	if !c.started {
		if len(c.pending) >= c.limit {
			c.kickLocked(dropSlow, 0)
			return
		}
		c.pending = append(c.pending, pendingFrame{frame, v})
		return
	}
	c.forwardLocked(frame, v)
}

// forwardLocked queues frame if it is the version the client needs next:
// older ones are already in its snapshot, a newer one means a gap.
func (c *wsClient) forwardLocked(frame *websocket.PreparedMessage, v uint64) {
	switch {
	case v < c.next:
		return
	case v > c.next:
		c.kickLocked(dropGap, websocket.CloseTryAgainLater)
		return
	}
	select {
	case c.send <- frame:
		c.next = v + 1
	default:
		c.kickLocked(dropSlow, 0)
	}
}

// start queues the snapshot at version and then the buffered frames newer
// than it.
func (c *wsClient) start(snapshot *websocket.PreparedMessage, version uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.kicked {
		return
	}
	select {
	case c.send <- snapshot:
	default:
		c.kickLocked(dropSlow, 0)
		return
	}
	c.started, c.next = true, version+1
	for _, p := range c.pending {
		c.forwardLocked(p.frame, p.version)
		if c.kicked {
			break
		}
	}
	c.pending = nil
}

// kick ends the session: with a close frame (sent by the writer) when
// closeCode is set, else by dropping the connection at once. reason ""
// means the client went away by itself.
func (c *wsClient) kick(reason string, closeCode int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.kickLocked(reason, closeCode)
}

func (c *wsClient) kickLocked(reason string, closeCode int) {
	if c.kicked {
		return
	}
	c.kicked, c.reason, c.closeCode = true, reason, closeCode
	c.pending = nil
	close(c.done)
	if closeCode == 0 {
		_ = c.conn.Close() // unblocks the writer and the reader at once
	}
	if reason != "" {
		c.metrics.wsDrops.WithLabelValues(reason).Inc()
	}
}

// stop ends the session if it is not over yet and waits for the writer.
func (c *wsClient) stop() {
	c.kick("", 0)
	<-c.writerDone
	_ = c.conn.Close()
}

// writeLoop writes queued frames and pings until the client is kicked.
func (c *wsClient) writeLoop(ping, timeout time.Duration) {
	defer close(c.writerDone)
	ticker := time.NewTicker(ping)
	defer ticker.Stop()
	for {
		select {
		case <-c.done:
			c.mu.Lock()
			code, reason := c.closeCode, c.reason
			c.mu.Unlock()
			if code != 0 {
				_ = c.conn.WriteControl(websocket.CloseMessage,
					websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
				_ = c.out.Flush()
			}
			_ = c.conn.Close()
			return
		case f := <-c.send:
			_ = c.conn.SetWriteDeadline(time.Now().Add(timeout))
			if err := c.writeQueued(f); err != nil {
				c.kick(dropWrite, 0)
				return
			}
		case <-ticker.C:
			err := c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(timeout))
			if err == nil {
				err = c.out.Flush()
			}
			if err != nil {
				c.kick(dropWrite, 0)
				return
			}
		}
	}
}

// maxBatch bounds how many queued frames one flush carries, so a client
// far behind still sees progress between system calls.
const maxBatch = 64

// writeQueued writes f and whatever else is queued behind it (up to
// maxBatch frames), then flushes them in one write.
func (c *wsClient) writeQueued(f *websocket.PreparedMessage) error {
	if err := c.conn.WritePreparedMessage(f); err != nil {
		return err
	}
	for range maxBatch - 1 {
		select {
		case f := <-c.send:
			if err := c.conn.WritePreparedMessage(f); err != nil {
				return err
			}
		default:
			return c.out.Flush()
		}
	}
	return c.out.Flush()
}

// readLoop reads until the connection fails, so that pongs and the
// client's close are processed; a client silent for two ping intervals is
// gone.
func (c *wsClient) readLoop(ping time.Duration) {
	c.conn.SetReadLimit(wsReadLimit)
	extend := func() { _ = c.conn.SetReadDeadline(time.Now().Add(2 * ping)) }
	extend()
	c.conn.SetPongHandler(func(string) error { extend(); return nil })
	// Like gorilla's default, but the pong must not wait in the batch
	// buffer for the next delta.
	c.conn.SetPingHandler(func(data string) error {
		err := c.conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
		if err == nil {
			err = c.out.Flush()
		}
		var ne net.Error
		if errors.Is(err, websocket.ErrCloseSent) || (errors.As(err, &ne) && ne.Timeout()) {
			return nil
		}
		return err
	})
	for {
		if _, _, err := c.conn.ReadMessage(); err != nil {
			_ = c.out.Flush() // the echo of a client's close frame, if any
			c.kick("", 0)
			return
		}
		extend()
	}
}
