package api

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// fixedEvent prices m's sections for a layout with a fixed event id, so
// the layout's bytes (and version) depend on the code alone.
func fixedEvent(m boxoffice.SeatMap) boxoffice.Event {
	ev := boxoffice.Event{ID: uuid.MustParse("0b9d3c4e-2f51-4d6a-9c1e-5a7b8c9d0e1f"), Currency: "EUR", Prices: map[string]boxoffice.Money{}}
	for i, s := range m.Sections {
		ev.Prices[s.Name] = boxoffice.Money(9000 - 500*i)
	}
	return ev
}

func blocksOf(sections, rows, seats int) boxoffice.SeatMap {
	var m boxoffice.SeatMap
	for s := range sections {
		sec := boxoffice.Section{Name: string(rune('A' + s))}
		for r := 1; r <= rows; r++ {
			sec.Rows = append(sec.Rows, boxoffice.Row{Name: fmt.Sprint(r), Seats: seats})
		}
		m.Sections = append(m.Sections, sec)
	}
	return m
}

// TestLayoutUnplacedUnchanged pins the layout version (a hash of its
// bytes, the ETag) of venues without placed blocks to what it was before
// placements existed: their layouts, and every cached copy, stay valid.
func TestLayoutUnplacedUnchanged(t *testing.T) {
	standing := blocksOf(2, 5, 8)
	standing.Sections = append(standing.Sections, boxoffice.Section{Name: "Floor", Standing: 300})
	for _, tc := range []struct {
		name string
		m    boxoffice.SeatMap
		want string
	}{
		{"stadium bowl 10x50x100", blocksOf(10, 50, 100), "321662b36b3f144ea316"},
		{"shelves 3x10x20", blocksOf(3, 10, 20), "f6e77ff03499515c0b25"},
		{"with a standing floor", standing, "e23b7ff1a9f981daad0b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := buildLayout(fixedEvent(tc.m), tc.m)
			if err != nil {
				t.Fatal(err)
			}
			if l.version != tc.want {
				t.Errorf("layout version %s, want %s (before placements)", l.version, tc.want)
			}
		})
	}
}

// TestLayoutPlacedBlocks checks the layout of placed blocks: every seat at
// its placement's cell (shifted alike), in a cell of its own, inside its
// section's box and the map, off the stage, and the stage about the origin
// when the blocks surround it.
func TestLayoutPlacedBlocks(t *testing.T) {
	place := func(m boxoffice.SeatMap, ps ...boxoffice.Placement) boxoffice.SeatMap {
		for k := range m.Sections {
			m.Sections[k].Place = &ps[k]
		}
		return m
	}
	theatre := place(blocksOf(2, 4, 6), boxoffice.Placement{X: -4, Y: 0}, boxoffice.Placement{X: 4, Y: 0})
	around := place(blocksOf(4, 3, 9),
		boxoffice.Placement{Y: 6},                          // below the pitch
		boxoffice.Placement{Y: -6, Angle: 180},             // above it, facing down
		boxoffice.Placement{X: -10, Angle: 90},             // left of it, facing right
		boxoffice.Placement{X: 10, Angle: -90, Radius: 12}) // right of it, curved
	withFloor := place(blocksOf(1, 5, 10), boxoffice.Placement{Y: 8, Angle: 0, Radius: 30, RowSpacing: 1.5})
	withFloor.Sections = append(withFloor.Sections, boxoffice.Section{Name: "Floor", Standing: 50, Place: &boxoffice.Placement{X: 0, Y: 30}})
	for _, tc := range []struct {
		name        string
		m           boxoffice.SeatMap
		stageAround bool // the stage is the box about the origin, not a band
	}{
		{"theatre, stage above", theatre, false},
		{"four stands around a pitch", around, true},
		{"curved block and a standing floor", withFloor, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.m.Validate(); err != nil {
				t.Fatal(err)
			}
			l, err := buildLayout(fixedEvent(tc.m), tc.m)
			if err != nil {
				t.Fatal(err)
			}
			var doc layoutJSON
			if err := json.Unmarshal(l.body, &doc); err != nil {
				t.Fatal(err)
			}
			in := func(b layoutRect, x, y int) bool {
				return x >= b.X && x < b.X+b.Width && y >= b.Y && y < b.Y+b.Height
			}
			dx, dy, shifted := 0, 0, false
			seen := map[[2]int]int{}
			for k, s := range doc.Sections {
				sec := tc.m.Sections[k]
				check := func(i, row int, along float64, own bool) {
					t.Helper()
					cx, cy := sec.Place.Cell(row, along)
					if !shifted {
						dx, dy, shifted = doc.X[i]-cx, doc.Y[i]-cy, true
					}
					if doc.X[i]-cx != dx || doc.Y[i]-cy != dy {
						t.Fatalf("seat %d at (%d,%d), want its placement's cell (%d,%d) shifted by (%d,%d)", i, doc.X[i], doc.Y[i], cx, cy, dx, dy)
					}
					if !in(s.layoutRect, doc.X[i], doc.Y[i]) || !in(layoutRect{Width: doc.Width, Height: doc.Height}, doc.X[i], doc.Y[i]) || in(doc.Stage, doc.X[i], doc.Y[i]) {
						t.Fatalf("seat %d at (%d,%d): section box %+v, map %dx%d, stage %+v", i, doc.X[i], doc.Y[i], s.layoutRect, doc.Width, doc.Height, doc.Stage)
					}
					if s.Y < layoutLabel {
						t.Fatalf("section %s at y %d leaves no room for its label", s.Name, s.Y)
					}
					if own {
						c := [2]int{doc.X[i], doc.Y[i]}
						if j, dup := seen[c]; dup {
							t.Fatalf("seats %d and %d share cell %v", j, i, c)
						}
						seen[c] = i
					}
				}
				for ry, r := range s.Rows {
					for seat := range r.Seats {
						check(r.First+seat, ry, boxoffice.SeatAlong(seat, r.Seats), true)
					}
				}
				if st := s.Standing; st != nil {
					length, rows := sectionLength(sec), sectionRows(sec)
					for p := range st.Capacity {
						check(st.First+p, p/length%rows, boxoffice.SeatAlong(p%length, length), false)
					}
				}
			}
			if tc.stageAround != (doc.Stage.X <= dx && dx < doc.Stage.X+doc.Stage.Width && doc.Stage.Y <= dy && dy < doc.Stage.Y+doc.Stage.Height) {
				t.Errorf("stage %+v, origin at (%d,%d): want the stage about the origin %v", doc.Stage, dx, dy, tc.stageAround)
			}
			if doc.Stage.X < 0 || doc.Stage.Y < 0 || doc.Stage.X+doc.Stage.Width > doc.Width || doc.Stage.Y+doc.Stage.Height > doc.Height {
				t.Errorf("stage %+v outside the map %dx%d", doc.Stage, doc.Width, doc.Height)
			}
		})
	}
}
