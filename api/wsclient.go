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

// wsClient is one seat-map connection: a WebSocket (JSON or compact
// frames) or a Server-Sent Events stream (conn nil, compact frames as SSE
// events). Its writer goroutine is the only one writing data frames; the
// session goroutine (hub.serve) reads. A client that falls behind is
// kicked: its connection is closed, which never blocks whoever noticed.
type wsClient struct {
	conn       *websocket.Conn // nil for SSE
	out        *batchConn      // under conn: buffers frames until flush
	format     streamFormat
	send       chan *wireFrame // frames for the writer, bounded
	done       chan struct{}   // closed by kick
	writerDone chan struct{}   // closed when writeLoop returns
	limit      int
	metrics    *metrics

	mu        sync.Mutex // guards the fields below
	started   bool       // the snapshot is queued; frames go to send
	next      uint64     // the version the client needs next
	pending   []*wireFrame
	kicked    bool
	closeCode int // close frame the writer sends; 0: just drop the connection
	reason    string
}

// wireFrame is one frame as the hub hands it to its clients, prepared
// once for all of them. It carries the versions from..to: one version on
// the JSON WebSocket, several when compact deltas are coalesced. A frame
// holds each changed seat's status at to, so a client at any version in
// from-1..to-1 that applies it is exactly at to.
type wireFrame struct {
	from, to uint64
	ws       *websocket.PreparedMessage // the WebSocket message
	sse      []byte                     // the SSE event (compact frames only)
}

func newWSClient(conn *websocket.Conn, out *batchConn, format streamFormat, queue int, m *metrics) *wsClient {
	return &wsClient{
		conn: conn, out: out, format: format, send: make(chan *wireFrame, queue), done: make(chan struct{}),
		writerDone: make(chan struct{}), limit: queue, metrics: m,
	}
}

// deliver takes one frame of the topic: buffered until the snapshot is
// queued, forwarded after.
func (c *wsClient) deliver(f *wireFrame) {
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
		c.pending = append(c.pending, f)
		return
	}
	c.forwardLocked(f)
}

// forwardLocked queues f if it brings the client from the version it has
// to a newer one: frames it has already seen (in its snapshot) are
// skipped, and one that starts past the version it needs next is a gap.
func (c *wsClient) forwardLocked(f *wireFrame) {
	switch {
	case f.to < c.next:
		return
	case f.from > c.next:
		c.kickLocked(dropGap, websocket.CloseTryAgainLater)
		return
	}
	select {
	case c.send <- f:
		c.next = f.to + 1
	default:
		c.kickLocked(dropSlow, 0)
	}
}

// start queues the snapshot and then the buffered frames newer than it.
func (c *wsClient) start(snapshot *wireFrame) {
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
	c.started, c.next = true, snapshot.to+1
	c.forwardPendingLocked()
}

// resumeLocked starts a client that already has version (an SSE client
// reconnecting with Last-Event-ID): frames, the topic's retained ones
// newer than version, are queued instead of a snapshot. The topic holds
// its lock, so no frame passes in between.
func (c *wsClient) resumeLocked(version uint64, frames []*wireFrame) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.kicked {
		return
	}
	c.started, c.next = true, version+1
	c.pending = append(append(make([]*wireFrame, 0, len(frames)+len(c.pending)), frames...), c.pending...)
	c.forwardPendingLocked()
}

func (c *wsClient) forwardPendingLocked() {
	for _, p := range c.pending {
		c.forwardLocked(p)
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
	if closeCode == 0 || c.conn == nil {
		c.closeConn() // unblocks the writer and the reader at once
	}
	if reason != "" {
		c.metrics.wsDrops.WithLabelValues(reason).Inc()
	}
}

// closeConn closes the connection under the client.
func (c *wsClient) closeConn() {
	if c.conn != nil {
		_ = c.conn.Close()
		return
	}
	_ = c.out.Conn.Close()
}

// stop ends the session if it is not over yet and waits for the writer.
func (c *wsClient) stop() {
	c.kick("", 0)
	<-c.writerDone
	c.closeConn()
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
			if code != 0 && c.conn != nil {
				_ = c.conn.WriteControl(websocket.CloseMessage,
					websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
				_ = c.out.Flush()
			}
			c.closeConn()
			return
		case f := <-c.send:
			c.setWriteDeadline(time.Now().Add(timeout))
			if err := c.writeQueued(f); err != nil {
				c.kick(dropWrite, 0)
				return
			}
		case <-ticker.C:
			if err := c.ping(timeout); err != nil {
				c.kick(dropWrite, 0)
				return
			}
		}
	}
}

// maxBatch bounds how many queued frames one flush carries, so a client
// far behind still sees progress between system calls.
const maxBatch = 64

// ssePing is an SSE comment: it keeps proxies from timing the stream out
// and finds dead peers (the write fails), as a WebSocket ping does.
var ssePing = []byte(":\n\n")

// ping sends a WebSocket ping, or an SSE comment, and flushes it.
func (c *wsClient) ping(timeout time.Duration) error {
	var err error
	if c.conn != nil {
		err = c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(timeout))
	} else {
		_ = c.out.SetWriteDeadline(time.Now().Add(timeout))
		_, err = c.out.Write(ssePing)
	}
	if err == nil {
		err = c.out.Flush()
	}
	return err
}

// setWriteDeadline bounds the next writes; gorilla applies its own
// deadline to each of its writes, so a WebSocket's goes through it.
func (c *wsClient) setWriteDeadline(t time.Time) {
	if c.conn != nil {
		_ = c.conn.SetWriteDeadline(t)
		return
	}
	_ = c.out.SetWriteDeadline(t)
}

// writeFrame buffers one frame.
func (c *wsClient) writeFrame(f *wireFrame) error {
	if c.conn == nil {
		_, err := c.out.Write(f.sse)
		return err
	}
	return c.conn.WritePreparedMessage(f.ws)
}

// writeQueued writes f and whatever else is queued behind it (up to
// maxBatch frames), then flushes them in one write.
func (c *wsClient) writeQueued(f *wireFrame) error {
	if err := c.writeFrame(f); err != nil {
		return err
	}
	for range maxBatch - 1 {
		select {
		case f := <-c.send:
			if err := c.writeFrame(f); err != nil {
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

// sseReadLoop waits for an SSE client to go away: it sends nothing after
// its request, so any read ending (EOF, reset) means it is gone. Dead peers
// that never close are found by the pings' write timeout.
func (c *wsClient) sseReadLoop() {
	buf := make([]byte, 512)
	for {
		if _, err := c.out.Conn.Read(buf); err != nil {
			c.kick("", 0)
			return
		}
	}
}
