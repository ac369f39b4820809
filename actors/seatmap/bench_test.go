package seatmap_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/seatmap"
)

// benchSeats is the venue size the targets are stated for.
const benchSeats = 50_000

var (
	benchEvent = uuid.MustParse("5eb9a1f0-0000-4000-8000-000000000050")
	benchOwner = uuid.MustParse("0b0e0000-0000-4000-8000-000000000001")
	benchStart = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
)

// benchHolds prepares one request per hold of size seats over the whole
// venue, in seat order, with its own booking ID, so the timed loop only
// calls Hold.
func benchHolds(m *seatmap.Map, size int) (bookings []uuid.UUID, tickets [][]uuid.UUID) {
	for first := 0; first+size <= m.Len(); first += size {
		req := make([]uuid.UUID, size)
		for k := range req {
			req[k] = m.TicketID(first + k)
		}
		tickets = append(tickets, req)
		bookings = append(bookings, uuid.New())
	}
	return bookings, tickets
}

// benchHold measures Hold alone: each iteration holds the next free seats
// of a 50,000-seat event, with now one microsecond later than the last
// (holds expire in request order, as they do live). When every seat is
// held, the timer stops and a fresh empty map replaces the full one, so
// occupancy sweeps from 0 to 100% and the booking index's growth is part
// of the measured cost.
func benchHold(b *testing.B, size int) { benchHoldOn(b, size, nil) }

// benchHoldOn is benchHold on maps that rows (nil: none) declares seated
// rows of, as a live event's grain does from its venue.
func benchHoldOn(b *testing.B, size int, rows []boxoffice.RowSpan) {
	fresh := func() *seatmap.Map {
		m := seatmap.New(benchEvent, benchSeats)
		if err := m.SetRows(rows); err != nil {
			b.Fatal(err)
		}
		return m
	}
	m := fresh()
	bookings, tickets := benchHolds(m, size)
	now := benchStart
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := i % len(tickets)
		if k == 0 && i > 0 {
			b.StopTimer()
			m = fresh()
			b.StartTimer()
		}
		now = now.Add(time.Microsecond)
		if _, err := m.Hold(benchOwner, bookings[k], tickets[k], now, 10*time.Minute); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHold1 is the single-seat hold decision (target <= 100 ns).
func BenchmarkHold1(b *testing.B) { benchHold(b, 1) }

// BenchmarkHold1Rows is BenchmarkHold1 on a map with the seated rows a
// grain declares for best available (1,000 rows of 50 in 25 sections),
// which every status change keeps counters of.
func BenchmarkHold1Rows(b *testing.B) {
	rows := make([]boxoffice.RowSpan, benchSeats/50)
	for k := range rows {
		rows[k] = boxoffice.RowSpan{Section: fmt.Sprint("S", k/40), Row: fmt.Sprint(k%40 + 1), First: k * 50, Seats: 50}
	}
	benchHoldOn(b, 1, rows)
}

// BenchmarkHold4 is a four-seat hold decision.
func BenchmarkHold4(b *testing.B) { benchHold(b, 4) }

// BenchmarkHoldRelease1 is one single-seat hold plus its release on a
// 50,000-seat event kept at 20% held: the steady-state cost of a
// hold that ends without a sale (two versions per iteration).
func BenchmarkHoldRelease1(b *testing.B) {
	m, _ := populated(rand.New(rand.NewPCG(1, 2)))
	var free []int
	for i := range m.Len() {
		if m.Status(i) == 0 {
			free = append(free, i)
		}
	}
	booking := uuid.New()
	tickets := make([][]uuid.UUID, len(free))
	for k, i := range free {
		tickets[k] = []uuid.UUID{m.TicketID(i)}
	}
	now := benchStart
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		now = now.Add(time.Microsecond)
		if _, err := m.Hold(benchOwner, booking, tickets[i%len(tickets)], now, 10*time.Minute); err != nil {
			b.Fatal(err)
		}
		if _, err := m.Release(booking, benchOwner); err != nil {
			b.Fatal(err)
		}
	}
}

// populated builds the reference state: a 50,000-seat event with
// 20% of its seats (10,000) held by holds of 1 to 4 random seats, built
// through Hold as live traffic would.
func populated(rng *rand.Rand) (*seatmap.Map, int) {
	m := seatmap.New(benchEvent, benchSeats)
	order := rng.Perm(benchSeats)
	target := benchSeats / 5
	now := benchStart
	holds := 0
	for held := 0; held < target; {
		size := min(1+rng.IntN(4), target-held)
		req := make([]uuid.UUID, size)
		for k := range req {
			req[k] = m.TicketID(order[held+k])
		}
		now = now.Add(time.Millisecond)
		if _, err := m.Hold(benchOwner, uuid.New(), req, now, 10*time.Minute); err != nil {
			panic(err)
		}
		held += size
		holds++
	}
	return m, holds
}

// BenchmarkMemoryPerSeat reports the heap a populated 50,000-seat map
// keeps alive, per seat (target <= 32 bytes/seat): HeapAlloc after a GC
// with the map built, minus HeapAlloc after a GC before building it. The
// ticket UUIDs are derived, so there is no UUID index to count; the
// booking index is included.
func BenchmarkMemoryPerSeat(b *testing.B) {
	var perSeat float64
	var holds int
	for i := 0; i < b.N; i++ {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		m, h := populated(rand.New(rand.NewPCG(uint64(i), 7)))
		runtime.GC()
		runtime.ReadMemStats(&after)
		perSeat = float64(after.HeapAlloc-before.HeapAlloc) / benchSeats
		holds = h
		runtime.KeepAlive(m)
	}
	b.ReportMetric(perSeat, "bytes/seat")
	b.ReportMetric(float64(holds), "holds")
}

// BenchmarkSnapshotEncode encodes the populated map (target <= 5 ms).
func BenchmarkSnapshotEncode(b *testing.B) {
	m, _ := populated(rand.New(rand.NewPCG(1, 2)))
	var size int
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		data, err := m.MarshalBinary()
		if err != nil {
			b.Fatal(err)
		}
		size = len(data)
	}
	b.ReportMetric(float64(size), "bytes")
}

// BenchmarkSnapshotDecode decodes the populated map's snapshot, with every
// consistency check Decode makes (target <= 5 ms).
func BenchmarkSnapshotDecode(b *testing.B) {
	m, _ := populated(rand.New(rand.NewPCG(1, 2)))
	data, err := m.MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := seatmap.Decode(benchEvent, data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(data)), "bytes")
}
