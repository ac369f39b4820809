package api_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/api"
)

// compactState is a compact client's picture of the seat map, built only
// from the frames it receives.
type compactState struct {
	version  uint64
	statuses []boxoffice.SeatStatus
	frames   int
}

// apply applies one compact frame (checked against openapi.yaml); a delta
// that starts past the client's next version is a gap and fails the test.
func (s *compactState) apply(t testing.TB, raw []byte) (snapshot bool) {
	t.Helper()
	var f struct {
		Type     string      `json:"type"`
		Version  uint64      `json:"version"`
		From     uint64      `json:"from_version"`
		Encoding string      `json:"encoding"`
		Seats    int         `json:"seats"`
		Data     string      `json:"data"`
		Changes  [][2]uint32 `json:"changes"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatalf("frame %s: %v", raw, err)
	}
	s.frames++
	switch f.Type {
	case "snapshot":
		checkFrame(t, "CompactSnapshotFrame", raw)
		packed, err := base64.StdEncoding.DecodeString(f.Data)
		if err != nil {
			t.Fatalf("snapshot data: %v", err)
		}
		st, ok := api.UnpackSeats(packed, f.Seats)
		if !ok || f.Encoding != api.SeatEncoding {
			t.Fatalf("snapshot %s", raw)
		}
		s.version, s.statuses = f.Version, st
		return true
	case "delta":
		checkFrame(t, "CompactDeltaFrame", raw)
		if s.statuses == nil || f.From > s.version+1 || f.From > f.Version {
			t.Fatalf("delta %d..%d at version %d", f.From, f.Version, s.version)
		}
		if f.Version <= s.version {
			return false
		}
		for _, c := range f.Changes {
			s.statuses[c[0]] = api.SeatStatusOfCode(int(c[1]))
		}
		s.version = f.Version
		return false
	}
	t.Fatalf("frame type %q", f.Type)
	return false
}

// sseStream is an EventSource-like client on a real socket.
type sseStream struct {
	resp *http.Response
	r    *bufio.Reader
}

func (h *harness) openSSE(t testing.TB, event uuid.UUID, lastEventID string) *sseStream {
	t.Helper()
	req, _ := http.NewRequest("GET", h.ts.URL+"/events/"+event.String()+"/seats/sse", nil)
	req.Header.Set("Accept", "text/event-stream")
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("open event stream: %v", err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("event stream: %d %v", resp.StatusCode, resp.Header)
	}
	s := &sseStream{resp: resp, r: bufio.NewReader(resp.Body)}
	t.Cleanup(s.close)
	return s
}

func (s *sseStream) close() { s.resp.Body.Close() }

// next reads one event with data: its id and data. Comments and retry
// lines are skipped.
func (s *sseStream) next(t testing.TB) (id string, data []byte) {
	t.Helper()
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			t.Fatalf("read event stream: %v", err)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if data != nil {
				return id, data
			}
		case strings.HasPrefix(line, "id: "):
			id = line[len("id: "):]
		case strings.HasPrefix(line, "data: "):
			data = []byte(line[len("data: "):])
		}
	}
}

// follow applies events until the client is at version want.
func (s *sseStream) follow(t testing.TB, st *compactState, want uint64) {
	t.Helper()
	for st.statuses == nil || st.version < want {
		id, data := s.next(t)
		st.apply(t, data)
		if id != strconv.FormatUint(st.version, 10) && st.version != 0 {
			// id is the frame's version; an old frame (skipped) has a smaller one.
			if n, err := strconv.ParseUint(id, 10, 64); err != nil || n > st.version {
				t.Fatalf("event id %q at version %d", id, st.version)
			}
		}
	}
}

// randomSale runs n random reserves, releases and confirms on the event's
// 20 seats through the API, and returns the engine's version after them.
func (h *harness) randomSale(t testing.TB, rng *rand.Rand, event uuid.UUID, tickets []uuid.UUID, n int) uint64 {
	t.Helper()
	type hold struct {
		id    uuid.UUID
		token string
	}
	var holds []hold
	tokens := []string{}
	for _, name := range []string{"ada", "bob", "cy"} {
		tok, _ := h.userToken(name)
		tokens = append(tokens, tok)
	}
	for range n {
		switch op := rng.IntN(4); {
		case op < 2 || len(holds) == 0:
			tok := tokens[rng.IntN(len(tokens))]
			seats := []uuid.UUID{tickets[rng.IntN(len(tickets))]}
			r := h.do("POST", "/booking/reserve", map[string]any{"event_id": event, "ticket_ids": seats}, auth(tok)...)
			if r.status == http.StatusCreated {
				var b bookingReply
				r.decode(t, &b)
				holds = append(holds, hold{b.BookingID, tok})
			}
		case op == 2:
			k := rng.IntN(len(holds))
			mustStatus(t, h.do("DELETE", "/booking/"+holds[k].id.String(), nil, auth(holds[k].token)...), http.StatusOK)
			holds = append(holds[:k], holds[k+1:]...)
		default:
			k := rng.IntN(len(holds))
			mustStatus(t, h.do("POST", "/booking/confirm", confirmBody(holds[k].id, "tok_visa"), auth(holds[k].token)...), http.StatusOK)
			holds = append(holds[:k], holds[k+1:]...)
		}
	}
	v, err := h.engine.Seats(context.Background(), event)
	if err != nil {
		t.Fatal(err)
	}
	return v.Version
}

// requireEngineState fails unless st is exactly the engine's seat map.
func (h *harness) requireEngineState(t testing.TB, event uuid.UUID, st *compactState) {
	t.Helper()
	v, err := h.engine.Seats(context.Background(), event)
	if err != nil {
		t.Fatal(err)
	}
	if st.version != v.Version || len(st.statuses) != len(v.Statuses) {
		t.Fatalf("client at version %d with %d seats, engine at %d with %d", st.version, len(st.statuses), v.Version, len(v.Statuses))
	}
	for i := range v.Statuses {
		if st.statuses[i] != v.Statuses[i] {
			t.Fatalf("seat %d: client %s, engine %s", i, st.statuses[i], v.Statuses[i])
		}
	}
}

// TestSSEResumeMidSale reconnects an SSE client with Last-Event-ID in the
// middle of a sale: it resumes from the node's retained frames (no second
// snapshot) and ends with exactly the engine's state; after every watcher
// left, the same resume gets a fresh snapshot instead.
func TestSSEResumeMidSale(t *testing.T) {
	h := newHarness(t)
	event, tickets := h.seedEvent()
	rng := rand.New(rand.NewPCG(20, 3))
	h.randomSale(t, rng, event, tickets, 10)

	keeper := h.openSSE(t, event, "") // keeps the event's topic on the node
	var ks compactState
	keeper.follow(t, &ks, 1)

	s := h.openSSE(t, event, "")
	var st compactState
	id, data := s.next(t)
	if !st.apply(t, data) || id != strconv.FormatUint(st.version, 10) {
		t.Fatalf("first event %s: %s", id, data)
	}
	v := h.randomSale(t, rng, event, tickets, 30)
	s.follow(t, &st, v-5) // part of the way: a reconnect in the middle
	s.close()
	h.randomSale(t, rng, event, tickets, 30)

	s = h.openSSE(t, event, strconv.FormatUint(st.version, 10))
	frames := st.frames
	v = h.randomSale(t, rng, event, tickets, 5)
	s.follow(t, &st, v)
	h.requireEngineState(t, event, &st)
	keeper.follow(t, &ks, v)
	h.requireEngineState(t, event, &ks)
	if st.frames == frames {
		t.Fatal("no frames after the resume")
	}

	// With nobody watching, the node keeps nothing: a fresh snapshot.
	s.close()
	keeper.close()
	waitFor(t, "the topic to go", func() bool { return h.feed.subscribers(event) == 0 })
	h.randomSale(t, rng, event, tickets, 5)
	s = h.openSSE(t, event, strconv.FormatUint(st.version, 10))
	_, data = s.next(t)
	if !st.apply(t, data) {
		t.Fatalf("resume without retained frames: %s, want a snapshot", data)
	}
	h.requireEngineState(t, event, &st)
}

// TestSSEResumeUsesRetainedFrames checks the resume really is served from
// the node's frames: the reconnected client's first event is a delta.
func TestSSEResumeUsesRetainedFrames(t *testing.T) {
	h := newHarness(t)
	event, tickets := h.seedEvent()
	ada, _ := h.userToken("ada")
	keeper := h.openSSE(t, event, "")
	var ks compactState
	keeper.follow(t, &ks, 0)
	h.reserve(ada, event, tickets[1])
	keeper.follow(t, &ks, 1)
	h.reserve(ada, event, tickets[2])
	keeper.follow(t, &ks, 2)

	s := h.openSSE(t, event, "1")
	st := compactState{version: 1, statuses: make([]boxoffice.SeatStatus, len(tickets))}
	st.statuses[1] = boxoffice.SeatReserved
	_, data := s.next(t)
	if st.apply(t, data) {
		t.Fatalf("resume from version 1 sent a snapshot: %s", data)
	}
	h.requireEngineState(t, event, &st)
}

// TestCompactWebSocket watches a random sale over the compact WebSocket
// and the JSON one side by side: both end at the engine's state.
func TestCompactWebSocket(t *testing.T) {
	h := newHarness(t)
	event, tickets := h.seedEvent()
	rng := rand.New(rand.NewPCG(20, 4))
	h.randomSale(t, rng, event, tickets, 10)
	url := "ws" + strings.TrimPrefix(h.ts.URL, "http") + "/events/" + event.String() + "/seats/ws?format=compact"
	c, resp, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	defer c.Close()
	js := h.dialSeats(t, event)
	var st compactState
	read := func() {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, raw, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		st.apply(t, raw)
	}
	read()
	if st.statuses == nil {
		t.Fatal("first frame is not a snapshot")
	}
	v := h.randomSale(t, rng, event, tickets, 40)
	for st.version < v {
		read()
	}
	h.requireEngineState(t, event, &st)
	jv := readSeatFrame(t, js).Version
	for jv < v {
		jv = readSeatFrame(t, js).Version
	}
}

// TestSeatStreamBadFormat checks ?format= other than json or compact is a
// documented 400 before any upgrade.
func TestSeatStreamBadFormat(t *testing.T) {
	h := newHarness(t)
	event, _ := h.seedEvent()
	for _, q := range []string{"format=xml", "format=", "format=compact&format=json"} {
		r := h.do("GET", "/events/"+event.String()+"/seats/ws?"+q, nil)
		wantError(t, r, http.StatusBadRequest, "invalid_argument")
		if r.errorField() != "format" {
			t.Errorf("%s: details.field %q", q, r.errorField())
		}
	}
	wantError(t, h.do("GET", "/events/"+uuid.NewString()+"/seats/sse", nil), http.StatusNotFound, "not_found")
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
