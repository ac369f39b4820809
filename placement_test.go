package boxoffice_test

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/boxoffice/boxoffice"
)

// TestPlacementPoint checks the geometry of a placed block: straight rows,
// turns in each quarter, row spacing and curved rows.
func TestPlacementPoint(t *testing.T) {
	r := 10.0
	for _, tc := range []struct {
		name  string
		p     boxoffice.Placement
		row   int
		along float64
		wantX float64
		wantY float64
	}{
		{"anchor", boxoffice.Placement{X: 3, Y: -2}, 0, 0, 3, -2},
		{"along the first row", boxoffice.Placement{X: 3, Y: -2}, 0, 4, 7, -2},
		{"rows go down", boxoffice.Placement{}, 2, -1, -1, 2},
		{"row spacing", boxoffice.Placement{RowSpacing: 1.5}, 2, 0, 0, 3},
		{"turned 90 clockwise: rows run down, further rows to the left", boxoffice.Placement{X: 1, Y: 1, Angle: 90}, 2, 3, 1 - 2, 1 + 3},
		{"turned 180: facing down", boxoffice.Placement{Angle: 180}, 1, 5, -5, -1},
		{"turned -90: further rows to the right", boxoffice.Placement{Angle: -90}, 3, 2, 3, -2},
		{"turned 360 is unturned", boxoffice.Placement{Angle: 360}, 1, 2, 2, 1},
		{"curved: the middle seat", boxoffice.Placement{Radius: r}, 0, 0, 0, 0},
		{"curved: the arc's end bends towards the stage", boxoffice.Placement{Radius: r}, 0, r * math.Pi / 2, r, -r},
		{"curved: a further row is a wider arc", boxoffice.Placement{Radius: r}, 2, (r + 2) * math.Pi / 6, (r + 2) / 2, (r+2)*math.Sqrt(3)/2 - r},
		{"curved and turned", boxoffice.Placement{X: 5, Radius: r, Angle: 90}, 0, r * math.Pi / 2, 5 + r, r},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, y := tc.p.Point(tc.row, tc.along)
			if math.Abs(x-tc.wantX) > 1e-9 || math.Abs(y-tc.wantY) > 1e-9 {
				t.Errorf("Point(%d, %g) = (%g, %g), want (%g, %g)", tc.row, tc.along, x, y, tc.wantX, tc.wantY)
			}
		})
	}
}

// TestPlacementCellsDistinct checks that neighbouring seats of a block keep
// cells of their own at any angle and curvature (PlacementCells).
func TestPlacementCellsDistinct(t *testing.T) {
	for angle := -360.0; angle <= 360; angle += 7.5 {
		for _, radius := range []float64{0, 8, 25, 400} {
			p := boxoffice.Placement{X: 0.3, Y: -0.7, Angle: angle, Radius: radius}
			seen := map[[2]int]bool{}
			for row := range 12 {
				for seat := range 40 {
					cx, cy := p.Cell(row, boxoffice.SeatAlong(seat, 40))
					if seen[[2]int{cx, cy}] {
						t.Fatalf("angle %g radius %g: row %d seat %d shares cell (%d,%d)", angle, radius, row, seat, cx, cy)
					}
					seen[[2]int{cx, cy}] = true
				}
			}
		}
	}
}

// TestPlacementValidate checks that bad placements are 400s naming the
// field, and good ones pass.
func TestPlacementValidate(t *testing.T) {
	block := func(name string, p *boxoffice.Placement) boxoffice.Section {
		s := boxoffice.Section{Name: name, Place: p}
		for r := range 4 {
			s.Rows = append(s.Rows, boxoffice.Row{Name: fmt.Sprint(r + 1), Seats: 10})
		}
		return s
	}
	at := func(x, y, angle float64) *boxoffice.Placement { return &boxoffice.Placement{X: x, Y: y, Angle: angle} }
	for _, tc := range []struct {
		name      string
		sections  []boxoffice.Section
		wantField string // "" = valid
	}{
		{"none placed", []boxoffice.Section{block("A", nil), block("B", nil)}, ""},
		{"side by side", []boxoffice.Section{block("A", at(-6, 0, 0)), block("B", at(6, 0, 0))}, ""},
		{"facing each other", []boxoffice.Section{block("A", at(0, 5, 0)), block("B", at(0, -5, 180))}, ""},
		{"a standing floor placed", []boxoffice.Section{block("A", at(0, 5, 0)), {Name: "F", Standing: 100, Place: at(0, 30, 0)}}, ""},
		{"only some placed", []boxoffice.Section{block("A", at(0, 0, 0)), block("B", nil)}, "seat_map.sections[1].place"},
		{"x too far", []boxoffice.Section{block("A", at(boxoffice.MaxPlaceCoord+1, 0, 0))}, "seat_map.sections[0].place.x"},
		{"y too far", []boxoffice.Section{block("A", at(0, -boxoffice.MaxPlaceCoord-1, 0))}, "seat_map.sections[0].place.y"},
		{"angle", []boxoffice.Section{block("A", at(0, 0, 400))}, "seat_map.sections[0].place.angle"},
		{"not a number", []boxoffice.Section{block("A", at(math.NaN(), 0, 0))}, "seat_map.sections[0].place.x"},
		{"negative radius", []boxoffice.Section{block("A", &boxoffice.Placement{Radius: -5})}, "seat_map.sections[0].place.radius"},
		{"radius below 1", []boxoffice.Section{block("A", &boxoffice.Placement{Radius: 0.5})}, "seat_map.sections[0].place.radius"},
		{"a row longer than its arc", []boxoffice.Section{block("A", &boxoffice.Placement{Radius: 1.5})}, "seat_map.sections[0].place.radius"},
		{"row spacing below 1", []boxoffice.Section{block("A", &boxoffice.Placement{RowSpacing: 0.5})}, "seat_map.sections[0].place.row_spacing"},
		{"row spacing too wide", []boxoffice.Section{block("A", &boxoffice.Placement{RowSpacing: 11})}, "seat_map.sections[0].place.row_spacing"},
		{"overlapping blocks", []boxoffice.Section{block("A", at(0, 0, 0)), block("B", at(3, 1, 0))}, "seat_map.sections[1].place"},
		{"crossing blocks", []boxoffice.Section{block("A", at(0, 0, 0)), block("B", at(0, -3, 90))}, "seat_map.sections[1].place"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := boxoffice.SeatMap{Sections: tc.sections}.Validate()
			if tc.wantField == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var e *boxoffice.Error
			if !errors.As(err, &e) || e.Code != boxoffice.EInvalid || e.Details["field"] != tc.wantField {
				t.Fatalf("Validate = %v, want invalid_argument on %s", err, tc.wantField)
			}
		})
	}
}
