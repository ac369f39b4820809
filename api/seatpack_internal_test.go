package api

import (
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// randomStatuses is n seats in random statuses, each status with its own
// random share, so that runs of one status and mixes both occur.
func randomStatuses(rng *rand.Rand, n int) []boxoffice.SeatStatus {
	st := make([]boxoffice.SeatStatus, n)
	shares := [2]float64{rng.Float64(), rng.Float64()}
	for i := range st {
		switch x := rng.Float64(); {
		case x < shares[0]*shares[1]:
			st[i] = boxoffice.SeatBooked
		case x < shares[0]:
			st[i] = boxoffice.SeatReserved
		}
	}
	return st
}

// TestCompactSnapshotMatchesJSON is a property test: for random seat
// states, the compact snapshot frame decodes to exactly the statuses the
// JSON snapshot frame lists, seat by seat (ticket ID i is layout index i).
func TestCompactSnapshotMatchesJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 1))
	event := uuid.MustParse("8e6c2f0e-1d5b-4c36-9b1e-2f1f0e6d9a41")
	space := boxoffice.NewTicketSpace(event)
	for round := range 300 {
		n := rng.IntN(70)
		if round%50 == 0 {
			n = 50_000 + rng.IntN(4)
		}
		view := boxoffice.SeatsView{EventID: event, Version: rng.Uint64N(1 << 40), Statuses: randomStatuses(rng, n)}
		var js struct {
			Version uint64 `json:"version"`
			Tickets []struct {
				TicketID uuid.UUID `json:"ticket_id"`
				Status   string    `json:"status"`
			} `json:"tickets"`
		}
		if err := json.Unmarshal(renderSnapshot(event, view), &js); err != nil {
			t.Fatal(err)
		}
		var cs struct {
			Version  uint64 `json:"version"`
			Encoding string `json:"encoding"`
			Seats    int    `json:"seats"`
			Data     string `json:"data"`
		}
		if err := json.Unmarshal(compactSnapshotFrame(event, view), &cs); err != nil {
			t.Fatal(err)
		}
		raw, err := base64.StdEncoding.DecodeString(cs.Data)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := UnpackSeats(raw, cs.Seats)
		if !ok || cs.Encoding != SeatEncoding || cs.Version != js.Version || cs.Seats != len(js.Tickets) || len(raw) != (n+3)/4 {
			t.Fatalf("round %d: compact v%d %s %d seats %d bytes, JSON v%d %d tickets", round, cs.Version, cs.Encoding, cs.Seats, len(raw), js.Version, len(js.Tickets))
		}
		for i, tk := range js.Tickets {
			if idx, ok := space.Index(tk.TicketID); !ok || idx != i || got[i].String() != tk.Status {
				t.Fatalf("round %d seat %d: compact %s, JSON %s %s", round, i, got[i], tk.TicketID, tk.Status)
			}
		}
	}
}

// TestCompactDeltasMatchJSON is a property test of the coalescing: random
// versions of random changes, fed to a topic as the bus's JSON deltas and
// flushed at random points, leave a compact client in exactly the state
// that applying every JSON delta gives, and the frames chain without gaps.
func TestCompactDeltasMatchJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 2))
	event := uuid.MustParse("8e6c2f0e-1d5b-4c36-9b1e-2f1f0e6d9a41")
	space := boxoffice.NewTicketSpace(event)
	for round := range 50 {
		n := 1 + rng.IntN(200)
		want := randomStatuses(rng, n)
		got := append([]boxoffice.SeatStatus(nil), want...)
		tp := &topic{id: event, space: space, hub: &hub{}}
		tp.compact.init(1 << 62) // never fires: the test flushes
		var frames []*wireFrame
		c := &wsClient{send: make(chan *wireFrame, 10_000), done: make(chan struct{}), limit: 10_000}
		c.started, c.next = true, 1
		tp.compact.clients[c] = struct{}{}
		for v := uint64(1); v <= 300; v++ {
			d := boxoffice.SeatDelta{EventID: event, Version: v}
			for range rng.IntN(4) {
				i := rng.IntN(n)
				want[i] = boxoffice.SeatStatus(rng.IntN(3))
				d.Changes = append(d.Changes, boxoffice.SeatChange{TicketID: space.ID(i), Status: want[i]})
			}
			tp.mu.Lock()
			tp.addCompactLocked(DeltaFrame(d), v, false)
			if rng.IntN(5) == 0 || v == 300 {
				tp.flushCompactLocked()
			}
			tp.mu.Unlock()
		}
		tp.compact.stopLocked()
		close(c.send)
		next := uint64(1)
		for f := range c.send {
			frames = append(frames, f)
			var cd struct {
				From    uint64      `json:"from_version"`
				Version uint64      `json:"version"`
				Changes [][2]uint32 `json:"changes"`
			}
			body := f.sse[len("id: ")+len(itoa(f.to))+len("\ndata: ") : len(f.sse)-2]
			if err := json.Unmarshal(body, &cd); err != nil {
				t.Fatalf("round %d: %v: %s", round, err, body)
			}
			if cd.From != next || cd.Version < cd.From || cd.From != f.from || cd.Version != f.to {
				t.Fatalf("round %d: frame %d..%d after version %d", round, cd.From, cd.Version, next-1)
			}
			next = cd.Version + 1
			for _, ch := range cd.Changes {
				got[ch[0]] = SeatStatusOfCode(int(ch[1]))
			}
		}
		if next != 301 || c.kicked {
			t.Fatalf("round %d: compact client ends at version %d (kicked %v)", round, next-1, c.kicked)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("round %d seat %d: compact %s, JSON %s", round, i, got[i], want[i])
			}
		}
		if len(tp.compact.ring) != len(frames) {
			t.Fatalf("round %d: %d frames kept for resumes, %d sent", round, len(tp.compact.ring), len(frames))
		}
	}
}

func itoa(v uint64) string { b, _ := json.Marshal(v); return string(b) }

// TestCompactFirstChangeNotDelayed: a change after a quiet tick goes out
// at once; the changes that follow within the tick wait for it and go out
// together (the test fires the tick itself).
func TestCompactFirstChangeNotDelayed(t *testing.T) {
	event := uuid.MustParse("8e6c2f0e-1d5b-4c36-9b1e-2f1f0e6d9a41")
	space := boxoffice.NewTicketSpace(event)
	tp := &topic{id: event, space: space, hub: &hub{}}
	tp.compact.init(1 << 62) // never fires by itself
	defer tp.compact.stopLocked()
	c := &wsClient{send: make(chan *wireFrame, 16), done: make(chan struct{}), limit: 16}
	c.started, c.next = true, 1
	tp.compact.clients[c] = struct{}{}
	add := func(v uint64) {
		t.Helper()
		d := boxoffice.SeatDelta{EventID: event, Version: v,
			Changes: []boxoffice.SeatChange{{TicketID: space.ID(int(v)), Status: boxoffice.SeatReserved}}}
		tp.mu.Lock()
		tp.addCompactLocked(DeltaFrame(d), v, false)
		tp.mu.Unlock()
	}
	sent := func(from, to uint64) {
		t.Helper()
		select {
		case f := <-c.send:
			if f.from != from || f.to != to {
				t.Fatalf("frame %d..%d, want %d..%d", f.from, f.to, from, to)
			}
		default:
			t.Fatalf("no frame sent, want %d..%d", from, to)
		}
		if len(c.send) != 0 {
			t.Fatalf("%d more frames sent", len(c.send))
		}
	}
	steps := []struct {
		add, tick bool
		v         uint64
		from, to  uint64 // the frame sent by the step; 0: none
	}{
		{add: true, v: 1, from: 1, to: 1}, // quiet: at once
		{add: true, v: 2},                 // within the tick: waits
		{add: true, v: 3},
		{tick: true, from: 2, to: 3}, // the tick sends both
		{tick: true},                 // nothing came: quiet again
		{add: true, v: 4, from: 4, to: 4},
	}
	for _, s := range steps {
		if s.add {
			add(s.v)
		} else {
			tp.flushCompact()
		}
		if s.from == 0 {
			if len(c.send) != 0 {
				f := <-c.send
				t.Fatalf("after step %+v: frame %d..%d sent, want none yet", s, f.from, f.to)
			}
			continue
		}
		sent(s.from, s.to)
	}
}
