package api_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/api"
)

// timedServer serves h's API on a real listener with the server timeouts
// of Server.ConfigureHTTP, as the node does.
func timedServer(t *testing.T, h *harness) *httptest.Server {
	t.Helper()
	ts := httptest.NewUnstartedServer(h.srv.Handler())
	h.srv.ConfigureHTTP(ts.Config)
	ts.Start()
	t.Cleanup(ts.Close)
	return ts
}

// shortTimeouts makes the server timeouts short enough for a test, and
// long enough that a busy machine's scheduling pauses cannot trip them
// where the test does not mean to; the tests wait for their effect, never
// for a duration.
func shortTimeouts(c *apiConfig, _ *apiDeps) {
	c.ReadHeaderTimeout, c.ReadTimeout, c.IdleTimeout = time.Second, time.Second, time.Second
	c.RequestTimeout, c.WriteTimeout = 2*time.Second, 3*time.Second
}

// waitClosed reads conn until the server closes it. It fails the test if
// the connection is still open when the safety deadline passes, which
// only a server without the timeout lets happen.
func waitClosed(t *testing.T, conn net.Conn, what string) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	_, err := io.Copy(io.Discard, conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("%s: the server kept the connection open", what)
	}
}

// slowBody opens a request whose body trickles in one byte at a time,
// until the server stops taking them.
func slowBody(t *testing.T, addr, path, token string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	head := "POST " + path + " HTTP/1.1\r\nHost: boxoffice\r\nContent-Type: application/json\r\n" +
		"Authorization: Bearer " + token + "\r\nContent-Length: 4096\r\n\r\n"
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	go func() {
		tick := time.NewTicker(100 * time.Millisecond) // a trickle, not a synchronisation
		defer tick.Stop()
		for range tick.C {
			if _, err := conn.Write([]byte(" ")); err != nil {
				return
			}
		}
	}()
	return conn
}

// TestSlowBodyIsCutOff: a request whose body trickles in is cut off by
// the read timeout instead of holding a handler forever (issue 13).
func TestSlowBodyIsCutOff(t *testing.T) {
	h := newHarness(t, shortTimeouts)
	ts := timedServer(t, h)
	ada, _ := h.userToken("ada")
	waitClosed(t, slowBody(t, ts.Listener.Addr().String(), "/booking/reserve", ada), "slow body")
}

// TestIdleKeepAliveCloses: a keep-alive connection that sends nothing
// after its request is closed by the server (issue 13).
func TestIdleKeepAliveCloses(t *testing.T) {
	h := newHarness(t, shortTimeouts)
	ts := timedServer(t, h)
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: boxoffice\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Close {
		t.Fatalf("healthz: %d, close %v; want 200 kept alive", res.StatusCode, res.Close)
	}
	waitClosed(t, conn, "idle keep-alive")
}

// TestWebSocketOutlivesReadTimeout: WebSocket routes (the seat map, and
// the waiting room, a plug whose socket sets no deadlines of its own) are
// exempt from the server's read and write timeouts. A slow-body request
// opened after the sockets is the clock: once the server has cut it off,
// the sockets' connections are older than the read timeout, and must
// still work.
func TestWebSocketOutlivesReadTimeout(t *testing.T) {
	h := newHarness(t, shortTimeouts, func(_ *apiConfig, d *apiDeps) { d.Queue = holdQueue{} })
	ts := timedServer(t, h)
	event, tickets := h.seedEvent()
	seats, resp, err := websocket.DefaultDialer.Dial(wsURL(ts.URL, "/events/"+event.String()+"/seats/ws"), nil)
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	defer seats.Close()
	readSeatFrame(t, seats)
	queue, resp, err := websocket.DefaultDialer.Dial(wsURL(ts.URL, "/events/"+event.String()+"/queue/"+uuid.NewString()+"/ws"), nil)
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	defer queue.Close()
	ada, _ := h.userToken("ada")
	waitClosed(t, slowBody(t, ts.Listener.Addr().String(), "/booking/reserve", ada), "slow body")
	h.reserve(ada, event, tickets[0])
	if f := readSeatFrame(t, seats); f.Type != "delta" {
		t.Fatalf("frame %q, want a delta", f.Type)
	}
	if err := queue.WriteMessage(websocket.TextMessage, []byte("still there?")); err != nil {
		t.Fatal(err)
	}
	_ = queue.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, msg, err := queue.ReadMessage(); err != nil || string(msg) != "still there?" {
		t.Fatalf("waiting-room socket after the read timeout: %q, %v", msg, err)
	}
}

// TestWebSocketOutlivesWriteTimeout: a hijacked connection keeps the
// server's write deadline, so a WebSocket that writes without a deadline
// of its own would die WriteTimeout after it opened; the WebSocket routes
// lift it. The clock is a slow-body request opened after the socket and
// cut off by a read timeout longer than the write timeout.
func TestWebSocketOutlivesWriteTimeout(t *testing.T) {
	h := newHarness(t, func(c *apiConfig, d *apiDeps) {
		c.RequestTimeout, c.WriteTimeout = 500*time.Millisecond, time.Second
		c.ReadHeaderTimeout, c.ReadTimeout = 2*time.Second, 2*time.Second
		d.Queue = holdQueue{}
	})
	ts := timedServer(t, h)
	queue, resp, err := websocket.DefaultDialer.Dial(wsURL(ts.URL, "/events/"+uuid.NewString()+"/queue/"+uuid.NewString()+"/ws"), nil)
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	defer queue.Close()
	ada, _ := h.userToken("ada")
	waitClosed(t, slowBody(t, ts.Listener.Addr().String(), "/booking/reserve", ada), "slow body")
	if err := queue.WriteMessage(websocket.TextMessage, []byte("echo")); err != nil {
		t.Fatal(err)
	}
	_ = queue.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, msg, err := queue.ReadMessage(); err != nil || string(msg) != "echo" {
		t.Fatalf("socket after the write timeout: %q, %v", msg, err)
	}
}

func wsURL(base, path string) string { return "ws" + strings.TrimPrefix(base, "http") + path }

// holdQueue is a waiting-room plug whose socket stays open until the
// client leaves, like the real one, and echoes what it gets.
type holdQueue struct{ memQueue }

func (holdQueue) Routes(mux *http.ServeMux, auth func(http.Handler) http.Handler) {
	up := websocket.Upgrader{}
	mux.HandleFunc("GET /events/{eventId}/queue/{queueId}/ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			typ, msg, err := c.ReadMessage()
			if err != nil || c.WriteMessage(typ, msg) != nil {
				return
			}
		}
	})
}

// TestWebSocketCaps: past the per-address or the per-node cap, a seat-map
// or waiting-room WebSocket is refused with 429 rate_limited and a
// Retry-After before the upgrade; a closed socket frees its slot (issue 13).
func TestWebSocketCaps(t *testing.T) {
	for _, tc := range []struct {
		name           string
		perIP, perNode int
	}{
		{"per address", 2, 0},
		{"per node", 0, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, func(c *apiConfig, d *apiDeps) {
				c.WSMaxPerIP, c.WSMax = tc.perIP, tc.perNode
				d.Queue = holdQueue{}
			})
			event, _ := h.seedEvent()
			seats := wsURL(h.ts.URL, "/events/"+event.String()+"/seats/ws")
			queue := wsURL(h.ts.URL, "/events/"+event.String()+"/queue/"+uuid.NewString()+"/ws")
			dial := func(url string) (*websocket.Conn, *http.Response, error) {
				c, resp, err := websocket.DefaultDialer.Dial(url, nil)
				if c != nil {
					t.Cleanup(func() { c.Close() })
				}
				return c, resp, err
			}
			first, _, err := dial(seats)
			if err != nil {
				t.Fatal(err)
			}
			readSeatFrame(t, first)
			if _, _, err := dial(queue); err != nil {
				t.Fatal(err)
			}
			for _, url := range []string{seats, queue} {
				_, resp, err := dial(url)
				if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
					t.Fatalf("a socket past the cap: %v %v, want 429", err, resp)
				}
				body, _ := io.ReadAll(resp.Body)
				rep := reply{status: resp.StatusCode, header: resp.Header, body: body}
				if rep.errorCode() != boxoffice.ERateLimited || resp.Header.Get("Retry-After") == "" {
					t.Errorf("refusal: %s %q, Retry-After %q", body, rep.errorCode(), resp.Header.Get("Retry-After"))
				}
			}
			first.Close()
			require.Eventually(t, func() bool {
				c, _, err := dial(seats)
				if err == nil {
					c.Close()
				}
				return err == nil
			}, 10*time.Second, 5*time.Millisecond, "the closed socket's slot is free")
		})
	}
}

// TestConfigValidateTimeouts: a write timeout that leaves no room to
// answer a timed-out request is refused.
func TestConfigValidateTimeouts(t *testing.T) {
	c := api.DefaultConfig()
	c.JWTSecret = testSecret
	c.WriteTimeout = c.RequestTimeout
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "WriteTimeout") {
		t.Errorf("Validate = %v, want a WriteTimeout error", err)
	}
	c = api.DefaultConfig()
	c.JWTSecret = testSecret
	c.WSMaxPerIP = -1
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "WSMaxPerIP") {
		t.Errorf("Validate = %v, want a WSMaxPerIP error", err)
	}
}
