package seatmap_test

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/seatmap"
)

// reportRows and reportAreas are a layout with seated and standing
// sections interleaved: A (two rows) 0-3, Floor 4-9, B 10-11, Pit 12-14;
// 15-17 belong to no section (as in a map without its layout).
var (
	reportRows = []boxoffice.RowSpan{{Section: "A", Row: "1", First: 0, Seats: 2}, {Section: "A", Row: "2", First: 2, Seats: 2},
		{Section: "B", Row: "1", First: 10, Seats: 2}}
	reportAreas = []boxoffice.StandingArea{{Name: "Floor", First: 4, Capacity: 6}, {Name: "Pit", First: 12, Capacity: 3}}
)

const reportSeats = 18

// reportSection is the section of index i in the layout above, the naive
// way.
func reportSection(i int) string {
	for _, r := range reportRows {
		if i >= r.First && i < r.First+r.Seats {
			return r.Section
		}
	}
	for _, a := range reportAreas {
		if i >= a.First && i < a.First+a.Capacity {
			return a.Name
		}
	}
	return ""
}

// TestAdmissionReport admits random tickets of a sold-out map (random
// gates, some scanned offline at random earlier times), refunds one sale,
// and compares the map's report with counts made the naive way from the
// admissions the test made: per section (every section, in seat-map
// order, zeros included, "" last only when used), per gate and per
// bucket of an hour and of a day. A snapshot restores the same report.
func TestAdmissionReport(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 19))
	m := seatmap.New(eventID, reportSeats)
	if err := m.SetRows(reportRows); err != nil {
		t.Fatal(err)
	}
	if err := m.SetStanding(reportAreas); err != nil {
		t.Fatal(err)
	}
	if r := m.AdmissionReport(time.Hour); r.Admitted != 0 || len(r.Gates) != 0 || len(r.Buckets) != 0 ||
		!slices.Equal(r.Sections, []seatmap.AdmissionCount{{Name: "A"}, {Name: "Floor"}, {Name: "B"}, {Name: "Pit"}}) {
		t.Fatalf("no admissions: %+v", r)
	}
	// Three sales of six seats each: booking(k) owns 6(k-1)..6k-1.
	for k := 1; k <= 3; k++ {
		idx := make([]int, 6)
		for j := range idx {
			idx[j] = 6*(k-1) + j
		}
		mustOK(t, m)(m.Hold(alice, booking(k), tickets(m, idx...), t0, ttl))
		mustOK(t, m)(m.Sell(booking(k)))
	}
	type scan struct {
		seat int
		gate string
		at   time.Time // when it counts: scanned_at, else admitted
	}
	door := uuid.MustParse("00000000-0000-4000-8000-0000000d0052")
	gates := []string{"", "North", "South"}
	var scans []scan
	for _, seat := range rng.Perm(reportSeats)[:12] {
		now := t0.Add(time.Duration(rng.IntN(72*60)) * time.Minute)
		var offline time.Time
		if rng.IntN(3) == 0 {
			offline = now.Add(-time.Duration(rng.IntN(30*60)) * time.Minute)
		}
		gate := gates[rng.IntN(len(gates))]
		mustOK(t, m)(m.Admit(booking(seat/6+1), door, seat, now, offline, gate))
		at := now
		if !offline.IsZero() {
			at = offline
		}
		scans = append(scans, scan{seat, gate, at})
	}
	// Refunding booking(2) drops its admissions.
	mustOK(t, m)(m.Refund(booking(2), alice, []int32{6, 7, 8, 9, 10, 11}))
	scans = slices.DeleteFunc(scans, func(s scan) bool { return s.seat >= 6 && s.seat < 12 })

	want := func(width time.Duration) seatmap.AdmissionReport {
		w := seatmap.AdmissionReport{Admitted: len(scans), Gates: []seatmap.AdmissionCount{}, Buckets: []seatmap.AdmissionBucket{}}
		count := func(list []seatmap.AdmissionCount, name string) []seatmap.AdmissionCount {
			for k := range list {
				if list[k].Name == name {
					list[k].Admitted++
					return list
				}
			}
			return append(list, seatmap.AdmissionCount{Name: name, Admitted: 1})
		}
		w.Sections = []seatmap.AdmissionCount{{Name: "A"}, {Name: "Floor"}, {Name: "B"}, {Name: "Pit"}}
		for _, s := range scans {
			w.Sections = count(w.Sections, reportSection(s.seat))
			w.Gates = count(w.Gates, s.gate)
			start := s.at.Truncate(width) // from the zero time: UTC hours and days
			k := slices.IndexFunc(w.Buckets, func(b seatmap.AdmissionBucket) bool { return b.Start.Equal(start) })
			if k < 0 {
				w.Buckets = append(w.Buckets, seatmap.AdmissionBucket{Start: start})
				k = len(w.Buckets) - 1
			}
			w.Buckets[k].Admitted++
		}
		slices.SortFunc(w.Gates, func(a, b seatmap.AdmissionCount) int { return strings.Compare(a.Name, b.Name) })
		slices.SortFunc(w.Buckets, func(a, b seatmap.AdmissionBucket) int { return a.Start.Compare(b.Start) })
		return w
	}
	check := func(t *testing.T, m *seatmap.Map) {
		t.Helper()
		for _, width := range []time.Duration{time.Hour, 24 * time.Hour} {
			got, w := m.AdmissionReport(width), want(width)
			if got.Admitted != w.Admitted || !slices.Equal(got.Sections, w.Sections) || !slices.Equal(got.Gates, w.Gates) ||
				!slices.EqualFunc(got.Buckets, w.Buckets, func(a, b seatmap.AdmissionBucket) bool {
					return a.Start.Equal(b.Start) && a.Start.Location() == time.UTC && a.Admitted == b.Admitted
				}) {
				t.Fatalf("width %v:\n got %+v\nwant %+v", width, got, w)
			}
		}
		if got := m.AdmissionReport(0); len(got.Buckets) != 0 || got.Admitted != len(scans) {
			t.Fatalf("width 0: %+v", got)
		}
	}
	check(t, m)
	if !slices.ContainsFunc(scans, func(s scan) bool { return s.seat >= 15 }) {
		// Seats 15-17 are booking(3)'s; make sure "" is exercised.
		mustOK(t, m)(m.Admit(booking(3), door, 16, t0, time.Time{}, "North"))
		scans = append(scans, scan{16, "North", t0})
		check(t, m)
	}
	data, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	back, err := seatmap.Decode(eventID, data)
	if err != nil {
		t.Fatal(err)
	}
	if err := back.SetRows(reportRows); err != nil { // rows are venue data, not in the snapshot
		t.Fatal(err)
	}
	check(t, back)
}

// BenchmarkAdmissionReport is the grain's work for GET .../report's
// check-ins on a sold-out 50,000-seat event with every ticket admitted (500
// seated rows of 100 in 10 sections, admitted over 12 hours at 4 gates),
// by the hour: the time the event's actor spends away from reserves.
func BenchmarkAdmissionReport(b *testing.B) {
	m := seatmap.New(benchEvent, benchSeats)
	rows := make([]boxoffice.RowSpan, 0, benchSeats/100)
	for r := range benchSeats / 100 {
		rows = append(rows, boxoffice.RowSpan{Section: string(rune('A' + r/50)), Row: "r", First: r * 100, Seats: 100})
	}
	if err := m.SetRows(rows); err != nil {
		b.Fatal(err)
	}
	bookings, tickets := benchHolds(m, 10)
	for k := range tickets {
		if _, err := m.Hold(benchOwner, bookings[k], tickets[k], benchStart, time.Hour); err != nil {
			b.Fatal(err)
		}
		if _, err := m.Sell(bookings[k]); err != nil {
			b.Fatal(err)
		}
	}
	gates := []string{"North", "South", "East", "West"}
	for i := range benchSeats {
		at := benchStart.Add(time.Duration(i) * 12 * time.Hour / benchSeats)
		if _, err := m.Admit(bookings[i/10], benchOwner, i, at, time.Time{}, gates[i%4]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if r := m.AdmissionReport(time.Hour); r.Admitted != benchSeats || len(r.Buckets) != 12 {
			b.Fatalf("%d admitted, %d buckets", r.Admitted, len(r.Buckets))
		}
	}
}
