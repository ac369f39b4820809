package api_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/api"
)

// seedBigEvent creates a 50,000-seat event (50 sections x 10 rows x 100).
func (h *harness) seedBigEvent() (uuid.UUID, []uuid.UUID) {
	h.t.Helper()
	ctx := context.Background()
	m := boxoffice.SeatMap{}
	prices := map[string]boxoffice.Money{}
	for s := 0; s < 50; s++ {
		sec := boxoffice.Section{Name: fmt.Sprintf("S%02d", s)}
		for r := 0; r < 10; r++ {
			sec.Rows = append(sec.Rows, boxoffice.Row{Name: fmt.Sprint(r + 1), Seats: 100})
		}
		m.Sections = append(m.Sections, sec)
		prices[sec.Name] = boxoffice.Money(5000 + s*100)
	}
	v, _, err := h.catalog.CreateVenue(ctx, boxoffice.Venue{Name: "Stadium", City: "Rome", SeatMap: m})
	if err != nil {
		h.t.Fatal(err)
	}
	p, _, _ := h.catalog.CreatePerformer(ctx, boxoffice.Performer{Name: "Band"})
	e, n, _, err := h.catalog.CreateEvent(ctx, boxoffice.Event{Name: "Big", Type: "concert", StartsAt: time.Now(),
		VenueID: v.ID, PerformerID: p.ID, Currency: "EUR", Prices: prices})
	if err != nil {
		h.t.Fatal(err)
	}
	space := boxoffice.NewTicketSpace(e.ID)
	ids := make([]uuid.UUID, n)
	for i := range ids {
		ids[i] = space.ID(i)
	}
	return e.ID, ids
}

func serveBench(b *testing.B, handler http.Handler, method, path string, body []byte, headers ...string) {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	w := &discardWriter{header: http.Header{}}
	handler.ServeHTTP(w, req)
	if w.code >= 300 {
		b.Fatalf("%s %s: status %d", method, path, w.code)
	}
}

// discardWriter counts the body instead of keeping it, so that benchmarks
// measure the server, not a recorder copying megabytes.
type discardWriter struct {
	header http.Header
	code   int
	n      int
}

func (w *discardWriter) Header() http.Header { return w.header }
func (w *discardWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}
func (w *discardWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.n += len(b)
	return len(b), nil
}

// BenchmarkEventViewCached: GET /events/{id} of a 50,000-seat event whose
// version did not move: served from the per-version cache (the engine's
// Seats call, a copy of 50,000 statuses in the fake, is included).
func BenchmarkEventViewCached(b *testing.B) {
	h := newHarness(b)
	event, _ := h.seedBigEvent()
	handler, path := h.srv.Handler(), "/events/"+event.String()
	serveBench(b, handler, "GET", path, nil)
	b.ReportAllocs()
	for b.Loop() {
		serveBench(b, handler, "GET", path, nil)
	}
}

// BenchmarkEventViewRender: the same, with the version moving before every
// read, so each one renders the 50,000 tickets.
func BenchmarkEventViewRender(b *testing.B) {
	h := newHarness(b)
	event, tickets := h.seedBigEvent()
	handler, path := h.srv.Handler(), "/events/"+event.String()
	user := uuid.New()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		b.StopTimer()
		_, _ = h.engine.Reserve(context.Background(), boxoffice.ReserveRequest{
			EventID: event, UserID: user, BookingID: uuid.New(), TicketIDs: tickets[i%len(tickets) : i%len(tickets)+1]})
		i++
		b.StartTimer()
		serveBench(b, handler, "GET", path, nil)
	}
}

// stubEngine answers every reserve at once, so that the benchmark measures
// the API's own cost: auth, rate limits, decoding, the event cache, the
// reply.
type stubEngine struct{ *memEngine }

func (stubEngine) Reserve(_ context.Context, req boxoffice.ReserveRequest) (boxoffice.Booking, error) {
	return boxoffice.Booking{ID: req.BookingID, UserID: req.UserID, EventID: req.EventID, TicketIDs: req.TicketIDs,
		Status: boxoffice.BookingInProgress, Total: 14950, Currency: "EUR", ExpiresAt: time.Now().Add(10 * time.Minute)}, nil
}

// BenchmarkReserveAPI: POST /booking/reserve through the whole handler
// chain (metrics, per-IP and per-user limits on, JWT check, decoding,
// cached event lookup) over an engine that answers at once.
func BenchmarkReserveAPI(b *testing.B) {
	h0 := newHarness(b)
	event, tickets := h0.seedEvent()
	h := newHarness(b, func(c *apiConfig, d *apiDeps) {
		d.Engine, d.Catalog = stubEngine{h0.engine}, h0.catalog
		c.RateIP = api.RateConfig{PerSecond: 1e9, Burst: 1 << 30}
		c.RateUser = api.RateConfig{PerSecond: 1e9, Burst: 1 << 30}
	})
	token, _ := h.userToken("bench")
	body := []byte(`{"event_id":"` + event.String() + `","ticket_ids":["` + tickets[0].String() + `","` + tickets[1].String() + `"]}`)
	handler := h.srv.Handler()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			serveBench(b, handler, "POST", "/booking/reserve", body, "Authorization", "Bearer "+token)
		}
	})
}

// BenchmarkSeatFanout: one delta reaching every one of 1,000 WebSocket
// clients of an event on one node over real sockets; ns/op is the time
// from publish until the last client has read it.
func BenchmarkSeatFanout(b *testing.B) {
	const clients = 1000
	h := newHarness(b, func(c *apiConfig, _ *apiDeps) { c.WSSendQueue = 1024 })
	event, _ := h.seedEvent()
	var received atomic.Int64
	var wg sync.WaitGroup
	url := "ws" + strings.TrimPrefix(h.ts.URL, "http") + "/events/" + event.String() + "/seats/ws"
	for range clients {
		c, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := c.ReadMessage(); err != nil { // the snapshot
			b.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					return
				}
				received.Add(1)
			}
		}()
		defer c.Close()
	}
	require.Eventually(b, func() bool { return h.hubClients(b) == clients }, 10*time.Second, 5*time.Millisecond, "all clients joined")
	space := boxoffice.NewTicketSpace(event)
	b.ResetTimer()
	var v uint64
	for b.Loop() {
		v++
		want := received.Load() + clients
		h.feed.publish(event, []byte(fmt.Sprintf(`{"type":"delta","event_id":"%s","version":%d,"changes":[{"ticket_id":"%s","status":"reserved"}]}`,
			event, v, space.ID(int(v%20)))))
		for received.Load() < want {
			time.Sleep(20 * time.Microsecond)
		}
	}
	b.StopTimer()
	h.srv.Close()
	wg.Wait()
}
