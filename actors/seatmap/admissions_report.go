package seatmap

import (
	"sort"
	"time"
)

// Check-ins in the event report (issue 19, h19checkin): the map owns the
// event's admissions (KindAdmitted records, snapshot and replay), so the
// report's check-ins per section, per time bucket and per gate are counted
// here, from the admissions it keeps, rather than from a table that would
// have to follow the journal.

// AdmissionCount is how many tickets were admitted under one name: a
// section or a gate.
type AdmissionCount struct {
	Name     string
	Admitted int
}

// AdmissionBucket is how many tickets were scanned in [Start, Start+width).
type AdmissionBucket struct {
	Start    time.Time
	Admitted int
}

// AdmissionReport is the map's check-ins, counted three ways.
type AdmissionReport struct {
	// Admitted is every admission (Map.Admitted).
	Admitted int
	// Sections lists every section of the layout (SetRows and SetStanding:
	// seated and standing alike), in seat-map order (by each section's
	// first index), those without admissions too, so that a report shows
	// admitted beside sold per section. Admissions of indexes in no known
	// section (a map without its layout) count under "", last.
	Sections []AdmissionCount
	// Gates are the gates with admissions, by name; "" counts scans that
	// named no gate.
	Gates []AdmissionCount
	// Buckets are the time buckets with admissions, oldest first, in UTC. A
	// check-in counts when its ticket was scanned: the scan's own time for
	// a scan made offline and synced later, else when it was admitted.
	Buckets []AdmissionBucket
}

// sectionSpan is indexes first..end-1 of the section names[sec].
type sectionSpan struct {
	first, end int32
	sec        int
}

// sectionSpans is the layout's seated rows and standing areas in index
// order, each naming its section in names (one entry per section name, in
// the order sections first appear).
func (m *Map) sectionSpans() (spans []sectionSpan, names []string) {
	spans = make([]sectionSpan, 0, len(m.rows)+len(m.areas))
	seen := map[string]int{}
	add := func(first, n int32, name string) {
		k, ok := seen[name]
		if !ok {
			k = len(names)
			seen[name] = k
			names = append(names, name)
		}
		spans = append(spans, sectionSpan{first: first, end: first + n, sec: k})
	}
	// Rows and areas are each in index order and never overlap (SetRows,
	// SetStanding): merge them.
	r, a := 0, 0
	for r < len(m.rows) || a < len(m.areas) {
		if a == len(m.areas) || (r < len(m.rows) && m.rows[r].first < m.areas[a].first) {
			add(m.rows[r].first, m.rows[r].n, m.sections[m.rows[r].sec])
			r++
		} else {
			add(m.areas[a].first, m.areas[a].n, m.areas[a].name)
			a++
		}
	}
	return spans, names
}

// AdmissionReport counts the map's admissions by section, by gate and by
// time bucket of width (from the Unix epoch, so a day is a UTC day; no
// buckets for a width below 1ns). It reads the map only: O(admissions ×
// log sections).
func (m *Map) AdmissionReport(width time.Duration) AdmissionReport {
	spans, names := m.sectionSpans()
	perSection := make([]int, len(names)+1) // the last: no known section
	gates := map[string]int{}
	buckets := map[int64]int{}
	w := int64(width)
	for seat, a := range m.admitted {
		k := sort.Search(len(spans), func(k int) bool { return spans[k].end > seat })
		if k < len(spans) && spans[k].first <= seat {
			perSection[spans[k].sec]++
		} else {
			perSection[len(names)]++
		}
		gates[a.gate]++
		if w > 0 {
			t := a.at
			if a.scannedAt != 0 {
				t = a.scannedAt
			}
			buckets[t-((t%w)+w)%w]++
		}
	}
	out := AdmissionReport{Admitted: len(m.admitted), Sections: make([]AdmissionCount, 0, len(perSection))}
	for k, name := range names {
		out.Sections = append(out.Sections, AdmissionCount{Name: name, Admitted: perSection[k]})
	}
	if n := perSection[len(names)]; n > 0 {
		out.Sections = append(out.Sections, AdmissionCount{Name: "", Admitted: n})
	}
	out.Gates = make([]AdmissionCount, 0, len(gates))
	for g, n := range gates {
		out.Gates = append(out.Gates, AdmissionCount{Name: g, Admitted: n})
	}
	sort.Slice(out.Gates, func(i, j int) bool { return out.Gates[i].Name < out.Gates[j].Name })
	out.Buckets = make([]AdmissionBucket, 0, len(buckets))
	for start, n := range buckets {
		out.Buckets = append(out.Buckets, AdmissionBucket{Start: time.Unix(0, start).UTC(), Admitted: n})
	}
	sort.Slice(out.Buckets, func(i, j int) bool { return out.Buckets[i].Start.Before(out.Buckets[j].Start) })
	return out
}
