package api

import (
	"net"
	"testing"
	"time"
)

// deadlineConn counts the write deadlines set on a connection.
type deadlineConn struct {
	net.Conn
	set []time.Time
}

func (c *deadlineConn) SetWriteDeadline(t time.Time) error {
	c.set = append(c.set, t)
	return nil
}

func (c *deadlineConn) Write(p []byte) (int, error) { return len(p), nil }

// TestBatchConnArmsDeadlineLazily: a frame every 10 ms, each asking for a
// deadline 10 s on, re-arms the socket's deadline once per slack (2.5 s),
// not per frame; an earlier deadline (a close frame's) is armed at once,
// and no write ever has less than the timeout minus the slack.
func TestBatchConnArmsDeadlineLazily(t *testing.T) {
	dc := &deadlineConn{}
	c := newBatchConn(dc)
	const timeout = 10 * time.Second
	c.slack = timeout / 4
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	for i := range 1000 { // 10 s of frames
		at := now.Add(time.Duration(i) * 10 * time.Millisecond)
		_ = c.SetWriteDeadline(at.Add(timeout))
		if _, err := c.Write([]byte("frame")); err != nil {
			t.Fatal(err)
		}
		if err := c.Flush(); err != nil {
			t.Fatal(err)
		}
		if left := c.armed.Sub(at); left < timeout-c.slack {
			t.Fatalf("frame %d: %s left before the socket's deadline, want at least %s", i, left, timeout-c.slack)
		}
	}
	if n := len(dc.set); n < 1 || n > 5 {
		t.Fatalf("%d write deadlines armed for 1,000 frames over 10 s, want 1..5", n)
	}
	close := now.Add(10*time.Second + time.Second)
	_ = c.SetWriteDeadline(close)
	_, _ = c.Write([]byte("close"))
	_ = c.Flush()
	if got := dc.set[len(dc.set)-1]; !got.Equal(close) {
		t.Fatalf("an earlier deadline was not armed: socket's %s, want %s", got, close)
	}
}
