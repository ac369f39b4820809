package api

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// batchConnBuffer is how much a seat-map connection gathers before a write
// system call is forced: a few dozen deltas.
const batchConnBuffer = 4 << 10

// batchConn buffers what gorilla/websocket writes on a hijacked connection
// until the client's writer flushes, so that the frames queued together
// leave in one write system call. On loopback a write costs more than the
// frame itself; with 10,000 watchers and a busy on-sale, a client's queue
// holds several deltas by the time its writer runs, and the cost per delta
// falls as the load rises. An idle client still gets every frame at once:
// the writer flushes whenever its queue is empty.
//
// Write deadlines are armed lazily: gorilla sets one before every frame,
// and re-arming the socket's timer is a tenth of a busy node's fan-out
// CPU. The socket's deadline is moved only when the one asked for is
// earlier, or later by more than slack, so a write gets at least the
// timeout minus slack.
type batchConn struct {
	net.Conn
	mu    sync.Mutex // gorilla serialises its writes; Flush comes from the writer too
	w     *bufio.Writer
	want  time.Time     // the write deadline asked for last
	armed time.Time     // the socket's write deadline
	slack time.Duration // how much earlier than asked the socket's may be
}

func newBatchConn(nc net.Conn) *batchConn {
	c := &batchConn{Conn: nc}
	c.w = bufio.NewWriterSize(armedWriter{c}, batchConnBuffer)
	return c
}

func (c *batchConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.w.Write(p)
}

// Flush sends what is buffered, under the write deadline set last.
func (c *batchConn) Flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.w.Flush()
}

// SetWriteDeadline records t for the next write to the socket.
func (c *batchConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.want = t
	return nil
}

// armedWriter is under the buffer: it arms the deadline asked for, if
// need be, before each write to the socket. The batchConn's mu is held.
type armedWriter struct{ c *batchConn }

func (a armedWriter) Write(p []byte) (int, error) {
	c := a.c
	if !c.want.Equal(c.armed) && (c.want.IsZero() || c.armed.IsZero() || c.want.Before(c.armed) || c.want.Sub(c.armed) > c.slack) {
		if err := c.Conn.SetWriteDeadline(c.want); err != nil {
			return 0, err
		}
		c.armed = c.want
	}
	return c.Conn.Write(p)
}

// batchHijacker hands the upgrader a batchConn instead of the raw
// connection.
type batchHijacker struct {
	http.ResponseWriter
	conn *batchConn
}

func (h *batchHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if nc == nil {
		return nil, nil, errors.New("websocket: hijack returned no connection")
	}
	h.conn = newBatchConn(nc)
	return h.conn, brw, nil
}
