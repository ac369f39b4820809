package api

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// TestLayoutCellsDistinct checks, for the demo stadium (a bowl) and random
// venues of both shapes, that every seat has a cell of its own inside the
// map, off the stage, and that each section's seats lie in its rectangle.
func TestLayoutCellsDistinct(t *testing.T) {
	ev, venue, _ := demoStadium()
	maps := []boxoffice.SeatMap{venue.SeatMap}
	rng := rand.New(rand.NewPCG(20, 5))
	for range 40 {
		var m boxoffice.SeatMap
		for s := range 1 + rng.IntN(12) {
			sec := boxoffice.Section{Name: fmt.Sprint("S", s)}
			for r := range 1 + rng.IntN(30) {
				sec.Rows = append(sec.Rows, boxoffice.Row{Name: fmt.Sprint(r + 1), Seats: 1 + rng.IntN(60)})
			}
			m.Sections = append(m.Sections, sec)
		}
		maps = append(maps, m)
	}
	for k, m := range maps {
		e := ev
		e.ID, e.Prices = uuid.New(), map[string]boxoffice.Money{}
		for i, s := range m.Sections {
			e.Prices[s.Name] = boxoffice.Money(1000 + 100*(i%3))
		}
		l, err := buildLayout(e, m)
		if err != nil {
			t.Fatal(err)
		}
		var doc layoutJSON
		if err := json.Unmarshal(l.body, &doc); err != nil {
			t.Fatal(err)
		}
		seen := map[[2]int]int{}
		for _, s := range doc.Sections {
			for _, r := range s.Rows {
				for i := r.First; i < r.First+r.Seats; i++ {
					c := [2]int{doc.X[i], doc.Y[i]}
					if j, dup := seen[c]; dup {
						t.Fatalf("map %d: seats %d and %d share cell %v", k, j, i, c)
					}
					seen[c] = i
					in := func(b layoutRect) bool {
						return c[0] >= b.X && c[0] < b.X+b.Width && c[1] >= b.Y && c[1] < b.Y+b.Height
					}
					if !in(s.layoutRect) || !in(layoutRect{Width: doc.Width, Height: doc.Height}) || in(doc.Stage) {
						t.Fatalf("map %d seat %d at %v: section %+v, map %dx%d, stage %+v", k, i, c, s.layoutRect, doc.Width, doc.Height, doc.Stage)
					}
				}
			}
		}
		if len(seen) != m.Capacity() {
			t.Fatalf("map %d: %d cells for %d seats", k, len(seen), m.Capacity())
		}
	}
}
