package api

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// demoStadium is the demo seed's stadium (cmd/boxoffice/seed.go): sections
// A..J of 50 rows of 100 seats, priced from 95.00 down.
func demoStadium() (boxoffice.Event, boxoffice.Venue, []boxoffice.Ticket) {
	var m boxoffice.SeatMap
	prices := map[string]boxoffice.Money{}
	for s := range 10 {
		sec := boxoffice.Section{Name: string(rune('A' + s))}
		for r := 1; r <= 50; r++ {
			sec.Rows = append(sec.Rows, boxoffice.Row{Name: fmt.Sprint(r), Seats: 100})
		}
		m.Sections = append(m.Sections, sec)
		prices[sec.Name] = boxoffice.Money(max(9500-s*9500/11, 1000) / 50 * 50)
	}
	v := boxoffice.Venue{ID: uuid.New(), Name: "Estadio Boxoffice", City: "Madrid", SeatMap: m}
	ev := boxoffice.Event{ID: uuid.New(), Name: "Metallica: M72 World Tour", Type: "concert", StartsAt: time.Now(),
		VenueID: v.ID, Currency: "EUR", Prices: prices}
	return ev, v, ev.Tickets(m)
}

// soldShare is every seat booked with probability p, at random.
func soldShare(rng *rand.Rand, n int, p float64) []boxoffice.SeatStatus {
	st := make([]boxoffice.SeatStatus, n)
	for i := range st {
		if rng.Float64() < p {
			st[i] = boxoffice.SeatBooked
		}
	}
	return st
}

func gzipLen(b testing.TB, level int, body []byte) int {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, level)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = zw.Write(body)
	_ = zw.Close()
	return buf.Len()
}

// deflateLen is body's size under permessage-deflate as gorilla/websocket
// sends it at level (1 on the JSON WebSocket, 6 on the compact one).
func deflateLen(b testing.TB, level int, body []byte) int {
	var buf bytes.Buffer
	zw, err := flate.NewWriter(&buf, level)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = zw.Write(body)
	_ = zw.Flush()
	return buf.Len()
}

// BenchmarkSeatMapBytes reports what the demo stadium's seat map costs on
// the wire, today's JSON beside the compact forms, at 0 %, 50 % (random)
// and 95 % (random) sold: B/plain, B/gzip (as served: level 1 for the event
// view, 6 for availability, 9 for the layout) and, for WebSocket snapshots,
// B/deflate (permessage-deflate: level 1 JSON, 6 compact). ns/op is the
// cost of rendering the body, once per version on a node.
func BenchmarkSeatMapBytes(b *testing.B) {
	ev, venue, tickets := demoStadium()
	view, err := newEventView(ev, venue, boxoffice.Performer{ID: uuid.New(), Name: "Metallica"}, tickets)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("layout", func(b *testing.B) {
		var l *seatLayout
		for b.Loop() {
			if l, err = buildLayout(ev, venue.SeatMap); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(l.body)), "B/plain")
		b.ReportMetric(float64(len(l.gz)), "B/gzip")
	})
	for _, sold := range []float64{0, 0.5, 0.95} {
		rng := rand.New(rand.NewPCG(20, uint64(sold*100)))
		seats := boxoffice.SeatsView{EventID: ev.ID, Version: 123456, Statuses: soldShare(rng, len(tickets), sold)}
		name := fmt.Sprintf("sold=%.0f%%", sold*100)
		b.Run(name+"/event-json", func(b *testing.B) {
			var body []byte
			for b.Loop() {
				view.version = 0 // render again
				if body, _, err = view.render(seats); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(body)), "B/plain")
			b.ReportMetric(float64(gzipLen(b, gzip.BestSpeed, body)), "B/gzip")
		})
		b.Run(name+"/ws-json-snapshot", func(b *testing.B) {
			var body []byte
			for b.Loop() {
				body = renderSnapshot(ev.ID, seats)
			}
			b.ReportMetric(float64(len(body)), "B/plain")
			b.ReportMetric(float64(deflateLen(b, 1, body)), "B/deflate")
		})
		b.Run(name+"/availability", func(b *testing.B) {
			var body []byte
			for b.Loop() {
				body = availabilityBody(seats, "/events/"+ev.ID.String()+"/layout?v=0123456789abcdef0123", nil)
			}
			b.ReportMetric(float64(len(body)), "B/plain")
			b.ReportMetric(float64(gzipLen(b, gzip.DefaultCompression, body)), "B/gzip")
		})
		b.Run(name+"/compact-snapshot", func(b *testing.B) {
			var body []byte
			for b.Loop() {
				body = compactSnapshotFrame(ev.ID, seats)
			}
			b.ReportMetric(float64(len(body)), "B/plain")
			b.ReportMetric(float64(deflateLen(b, flate.DefaultCompression, body)), "B/deflate")
		})
	}
}
