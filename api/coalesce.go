package api

import (
	"encoding/json"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/boxoffice/boxoffice"
)

// streamFormat is what a seat-map client is sent.
type streamFormat int

const (
	formatJSON    streamFormat = iota // API.md's frames, one delta per version
	formatCompact                     // WebSocket ?format=compact: packed snapshot, coalesced [index, status] deltas
	formatSSE                         // GET /events/{eventId}/seats/sse: the compact frames as SSE events
)

// resumeFrames bounds how many compact frames a topic keeps for SSE
// clients that reconnect with Last-Event-ID: at one frame per tick (25 ms)
// a busy sale's last ~25 s; older resumes get a fresh snapshot.
const resumeFrames = 1024

// coalescer is a topic's compact side: the changes since the last compact
// frame, sent to every compact and SSE client of the event on the node as
// one prepared frame (at once when no frame went out in the last tick,
// else at the end of the tick, so at most one frame a tick), and the newest
// frames kept for resumes. Frames follow each other without gaps
// (each from is the previous to + 1) unless the bus skipped a version.
// The topic's mu guards it.
type coalescer struct {
	tick    time.Duration
	clients map[*wsClient]struct{}
	batch   map[uint32]uint8 // seat index -> its newest code since from
	from    uint64           // first version of the batch; 0: none pending
	to      uint64           // last version of the batch
	next    uint64           // the from of the next frame, when none is pending (0: unknown)
	ring    []*wireFrame     // the newest frames, oldest first, contiguous
	timer   *time.Timer
	// quiet: a frame went out less than a tick ago, so changes wait for
	// the timer. The first change after a quiet tick goes out at once,
	// so coalescing delays a change by at most the tick, and not at all
	// when changes come less often than one per tick.
	quiet   bool
	snapVer uint64
	snap    *wireFrame // the last compact snapshot, reused at the same version
}

func (k *coalescer) init(tick time.Duration) {
	k.tick, k.clients, k.batch = tick, make(map[*wsClient]struct{}), make(map[uint32]uint8)
}

// stopLocked stops the tick for good (the topic is done).
func (k *coalescer) stopLocked() {
	if k.timer != nil {
		k.timer.Stop()
	}
	k.clients = map[*wsClient]struct{}{}
}

// resumeLocked starts c at version lastSeen with the retained frames newer
// than it, if the topic can bring it from there without a gap: the oldest
// retained frame (or the pending batch) starts at or before lastSeen+1,
// and lastSeen is not newer than the bus has brought (last).
func (k *coalescer) resumeLocked(c *wsClient, lastSeen, last uint64) bool {
	oldest := k.next
	switch {
	case len(k.ring) > 0:
		oldest = k.ring[0].from
	case k.from != 0:
		oldest = k.from
	}
	if last == 0 || lastSeen > last || oldest == 0 || lastSeen+1 < oldest {
		return false
	}
	i, _ := slices.BinarySearchFunc(k.ring, lastSeen+1, func(f *wireFrame, v uint64) int {
		switch {
		case f.to < v:
			return -1
		case f.to > v:
			return 1
		}
		return 0
	})
	c.resumeLocked(lastSeen, k.ring[i:])
	return true
}

// busDelta is the part of a bus frame (API.md's delta) a compact frame
// needs.
type busDelta struct {
	Changes []struct {
		TicketID uuid.UUID `json:"ticket_id"`
		Status   string    `json:"status"`
	} `json:"changes"`
}

// addCompactLocked adds version v's changes (frame, the JSON delta) to the
// batch, starting the tick when it is the first. After a gap on the bus
// the pending batch goes out at once and the retained frames are
// forgotten, so that no frame spans the gap.
func (t *topic) addCompactLocked(frame []byte, v uint64, gap bool) {
	k := &t.compact
	if gap {
		t.flushCompactLocked()
		k.ring, k.next = nil, v
	}
	var d busDelta
	if err := json.Unmarshal(frame, &d); err != nil {
		t.hub.log.LogAttrs(t.hub.ctx, slog.LevelError, "seat feed frame unreadable; compact clients resync",
			slog.String("event", t.id.String()), slog.Any("err", err))
		t.flushCompactLocked()
		k.ring, k.next = nil, v+1 // the next frame starts past v: a gap for everyone
		return
	}
	if k.from == 0 {
		k.from = v
	}
	k.to = v
	for _, ch := range d.Changes {
		i, ok := t.space.Index(ch.TicketID)
		st, known := statusOfName(ch.Status)
		if !ok || !known || i < 0 || i > 1<<31 {
			continue
		}
		k.batch[uint32(i)] = uint8(seatCode(st))
	}
	if k.quiet {
		return // the running tick sends the batch
	}
	// Leading edge: out at once, and the next changes wait one tick.
	t.flushCompactLocked()
	k.quiet = true
	if k.timer == nil {
		k.timer = time.AfterFunc(k.tick, t.flushCompact)
	} else {
		k.timer.Reset(k.tick)
	}
}

// flushCompact is the tick: it sends the batch gathered during it and
// waits another tick, or ends the quiet when nothing came.
func (t *topic) flushCompact() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return
	}
	k := &t.compact
	if k.from == 0 {
		k.quiet = false
		return
	}
	t.flushCompactLocked()
	k.timer.Reset(k.tick)
}

// flushCompactLocked renders the pending batch as one frame, prepared once
// (WebSocket framing and compression, SSE event), keeps it for resumes and
// hands it to every compact and SSE client.
func (t *topic) flushCompactLocked() {
	k := &t.compact
	if k.from == 0 {
		return
	}
	changes := make([]seatCodeChange, 0, len(k.batch))
	for i, code := range k.batch {
		changes = append(changes, seatCodeChange{index: i, code: code})
	}
	slices.SortFunc(changes, func(a, b seatCodeChange) int { return int(a.index) - int(b.index) })
	clear(k.batch)
	f, err := newCompactFrame(compactDeltaFrame(t.id, k.from, k.to, changes), k.from, k.to)
	k.from, k.next = 0, k.to+1
	if err != nil {
		t.hub.log.LogAttrs(t.hub.ctx, slog.LevelError, "compact seat frame cannot be prepared", slog.Any("err", err))
		k.ring = nil
		return
	}
	if len(k.ring) >= resumeFrames {
		k.ring = append(k.ring[:0:0], k.ring[len(k.ring)-resumeFrames/2:]...)
	}
	k.ring = append(k.ring, f)
	for c := range k.clients {
		c.deliver(f)
	}
}

// newCompactFrame prepares a compact frame for both kinds of client.
func newCompactFrame(body []byte, from, to uint64) (*wireFrame, error) {
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, body)
	if err != nil {
		return nil, err
	}
	sse := make([]byte, 0, len(body)+32)
	sse = append(sse, "id: "...)
	sse = strconv.AppendUint(sse, to, 10)
	sse = append(sse, "\ndata: "...)
	sse = append(sse, body...)
	sse = append(sse, "\n\n"...)
	return &wireFrame{from: from, to: to, ws: pm, sse: sse}, nil
}

// compactSnapshot renders view's compact snapshot, reusing the last one
// at the same version.
func (t *topic) compactSnapshot(view boxoffice.SeatsView) (*wireFrame, error) {
	k := &t.compact
	t.mu.Lock()
	if k.snap != nil && k.snapVer == view.Version {
		f := k.snap
		t.mu.Unlock()
		return f, nil
	}
	t.mu.Unlock()
	f, err := newCompactFrame(compactSnapshotFrame(t.id, view), view.Version, view.Version)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	if view.Version >= k.snapVer {
		k.snapVer, k.snap = view.Version, f
	}
	t.mu.Unlock()
	return f, nil
}
