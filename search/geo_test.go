package search_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/search"
)

// destination is the point distKm from c at bearing (radians).
func destination(c boxoffice.Location, distKm, bearing float64) boxoffice.Location {
	const r = 6371.0088
	lat1, lon1 := c.Lat*math.Pi/180, c.Lon*math.Pi/180
	d := distKm / r
	lat2 := math.Asin(math.Sin(lat1)*math.Cos(d) + math.Cos(lat1)*math.Sin(d)*math.Cos(bearing))
	lon2 := lon1 + math.Atan2(math.Sin(bearing)*math.Sin(d)*math.Cos(lat1), math.Cos(d)-math.Sin(lat1)*math.Sin(lat2))
	return boxoffice.Location{Lat: lat2 * 180 / math.Pi, Lon: math.Remainder(lon2*180/math.Pi, 360)}
}

// TestNearMatchesBruteForce checks the radius filter (interior cells plus a
// distance-checked ring) against a brute-force distance over events placed
// just inside and just outside the circle, and over a generated catalog.
func TestNearMatchesBruteForce(t *testing.T) {
	ix := mustOpen(t, search.DefaultConfig(""))
	r := rand.New(rand.NewPCG(1, 2))
	base := catalog[0].listing()
	var ls []boxoffice.Listing
	centers := []boxoffice.Location{berlin, madrid, {Lat: -33.87, Lon: 151.21}, {Lat: 64.1, Lon: -21.9}, {Lat: 0.2, Lon: 179.9}}
	radii := []float64{0.5, 5, 50, 300, 1500}
	for _, c := range centers {
		for _, rad := range radii {
			for _, f := range []float64{0.2, 0.9, 0.99, 1.01, 1.1, 2} {
				l := base
				l.EventID = uuid.New()
				l.Location = destination(c, rad*f, r.Float64()*2*math.Pi)
				ls = append(ls, l)
			}
		}
	}
	ls = append(ls, generate(3000, 11)...)
	if err := ix.ApplyBatch(ls); err != nil {
		t.Fatal(err)
	}
	byID := make(map[uuid.UUID]boxoffice.Location, len(ls))
	for _, l := range ls {
		byID[l.EventID] = l.Location
	}
	for _, c := range centers {
		for _, rad := range radii {
			res := mustSearch(t, ix, search.Query{Near: &c, RadiusKm: rad, PageSize: 100, Page: 1})
			got := map[uuid.UUID]bool{}
			for page := 1; ; page++ {
				res = mustSearch(t, ix, search.Query{Near: &c, RadiusKm: rad, PageSize: 100, Page: page})
				if len(res.Hits) == 0 {
					break
				}
				for _, h := range res.Hits {
					got[h.EventID] = true
				}
			}
			found := 0
			for id, loc := range byID {
				d := distanceKm(c, loc)
				switch {
				case d < rad*0.995 && !got[id]:
					t.Errorf("near %v r=%g: missed an event %.3f km away", c, rad, d)
				case d > rad*1.005 && got[id]:
					t.Errorf("near %v r=%g: an event %.3f km away matched", c, rad, d)
				}
				if got[id] {
					found++
				}
			}
			if found < 2 {
				t.Errorf("near %v r=%g: only %d hits, the case tests little", c, rad, found)
			}
		}
	}
}

func TestNearScoresDoNotReorderText(t *testing.T) {
	// Under relevance the radius filter must not score: events in different
	// cells but with equal text keep their date order.
	ix := mustOpen(t, search.DefaultConfig(""))
	base := catalog[0].listing()
	base.Name, base.PerformerName = "Echo Parade", "Echo Parade"
	var want []string
	for i, km := range []float64{30, 1, 12, 45, 0.2, 22, 48, 7, 3, 40, 17, 26} {
		l := base
		l.EventID = idOf(string(rune('a' + i)))
		l.Location = destination(berlin, km, float64(i)*2)
		l.StartsAt = base.StartsAt.AddDate(0, 0, i)
		want = append(want, l.EventID.String())
		mustApply(t, ix, l)
	}
	// Crowd the cells of a few of them, so that cell terms differ in
	// document frequency (and so would in weight, if they scored).
	for i := range 60 {
		l := base
		l.EventID = idOf(fmt.Sprintf("filler-%d", i))
		l.Name, l.PerformerName = "Filler Show", "Filler"
		l.Location = destination(berlin, []float64{1, 12, 0.2}[i%3], float64([]int{1, 2, 4}[i%3])*2)
		mustApply(t, ix, l)
	}
	r := mustSearch(t, ix, search.Query{Text: "echo parade", Near: &berlin, RadiusKm: 50})
	var got []string
	for _, h := range r.Hits {
		got = append(got, h.EventID.String())
	}
	equalKeys(t, "equal text near Berlin, by date", got, want)
}
