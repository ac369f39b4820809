package api

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"sync"
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
type batchConn struct {
	net.Conn
	mu sync.Mutex // gorilla serialises its writes; Flush comes from the writer too
	w  *bufio.Writer
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
	h.conn = &batchConn{Conn: nc, w: bufio.NewWriterSize(nc, batchConnBuffer)}
	return h.conn, brw, nil
}
