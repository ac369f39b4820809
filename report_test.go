package boxoffice_test

import (
	"slices"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice"
)

// TestAddCheckIns: a report's buckets take the engine's check-ins, same
// start to same bucket, and the buckets with check-ins only are added in
// time order, sales untouched.
func TestAddCheckIns(t *testing.T) {
	h := func(n int) time.Time { return time.Date(2026, 12, 7, n, 0, 0, 0, time.UTC) }
	sale := boxoffice.SalesFigure{Bookings: 1, Tickets: 2, Amount: 2000}
	type bucket struct {
		hour, tickets, checkIns int
	}
	for _, tc := range []struct {
		name    string
		sales   []int // hours with a sale
		checkIn map[int]int
		want    []bucket
	}{
		{"none", []int{3}, nil, []bucket{{3, 2, 0}}},
		{"no sales", nil, map[int]int{5: 2}, []bucket{{5, 0, 2}}},
		{"interleaved", []int{1, 4, 6}, map[int]int{0: 1, 4: 3, 5: 2, 9: 1},
			[]bucket{{0, 0, 1}, {1, 2, 0}, {4, 2, 3}, {5, 0, 2}, {6, 2, 0}, {9, 0, 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := boxoffice.EventReport{Bucket: boxoffice.BucketHour}
			for _, hr := range tc.sales {
				r.Buckets = append(r.Buckets, boxoffice.ReportBucketFigures{Start: h(hr), Sold: sale})
			}
			c := boxoffice.CheckInReport{Sections: []boxoffice.CheckInCount{{Name: "A", CheckIns: 1}},
				Gates: []boxoffice.CheckInCount{{Name: "North", CheckIns: 1}}}
			for hr := range 24 {
				if n, ok := tc.checkIn[hr]; ok {
					c.Buckets = append(c.Buckets, boxoffice.CheckInBucket{Start: h(hr), CheckIns: n})
					c.Total += n
				}
			}
			r.AddCheckIns(c)
			var got []bucket
			for _, b := range r.Buckets {
				if b.Sold.Tickets != 0 && b.Sold != sale {
					t.Fatalf("bucket %v sold %+v", b.Start, b.Sold)
				}
				got = append(got, bucket{b.Start.Hour(), b.Sold.Tickets, b.CheckIns})
			}
			if !slices.Equal(got, tc.want) || r.CheckIns != c.Total || !slices.Equal(r.CheckInSections, c.Sections) || !slices.Equal(r.CheckInGates, c.Gates) {
				t.Fatalf("buckets %v, want %v; report %+v", got, tc.want, r)
			}
		})
	}
}

// TestReportBucketWidth: the widths of ?bucket=.
func TestReportBucketWidth(t *testing.T) {
	if boxoffice.BucketHour.Width() != time.Hour || boxoffice.BucketDay.Width() != 24*time.Hour {
		t.Fatal(boxoffice.BucketHour.Width(), boxoffice.BucketDay.Width())
	}
}
