package boxoffice

import (
	"fmt"
	"math"
)

// Limits of a block's placement (issue 20, the venue builder): they keep a
// drawn venue within what a browser's canvas holds.
const (
	// MaxPlaceCoord bounds a block's position, in venue units.
	MaxPlaceCoord = 2_000
	// MaxPlaceRadius bounds the arc radius of a block's first row.
	MaxPlaceRadius = 10_000
	// MaxRowSpacing bounds the distance between a block's rows.
	MaxRowSpacing = 10
	// PlacementCells is how many cells of a drawn layout (GET
	// /events/{id}/layout) make one venue unit. Two keep the seats of a
	// turned or curved block, whose neighbours are one unit apart, in
	// cells of their own after rounding (two points at least 2 cells apart
	// never round to the same cell).
	PlacementCells = 2
)

// Placement is where the venue builder put a section's block of rows, so a
// stadium's stands can sit around its pitch at their real angles instead
// of the automatic arrangement. Coordinates are venue units (a seat's width
// and a row's depth), with the stage or pitch at the origin and y growing
// downwards, as drawn.
type Placement struct {
	// X and Y are the middle of the block's first row.
	X, Y float64
	// Angle turns the block clockwise about (X, Y), in degrees: at 0 the
	// rows run left to right, row 1 at the top facing a stage above them.
	Angle float64
	// Radius curves the rows: 0 keeps them straight; otherwise the first
	// row is an arc of this radius around a centre in front of it (towards
	// the stage) and each further row an arc RowSpacing wider, seats one
	// unit apart along it.
	Radius float64
	// RowSpacing is the distance between rows; 0 means 1.
	RowSpacing float64
}

// Point is where the seat `along` units from the middle of row `row`
// (0 = the first row) stands, in venue coordinates.
func (p Placement) Point(row int, along float64) (x, y float64) {
	sp := p.RowSpacing
	if sp == 0 {
		sp = 1
	}
	d := float64(row) * sp
	lx, ly := along, d
	if p.Radius > 0 {
		r := p.Radius + d
		s, c := math.Sincos(along / r)
		lx, ly = r*s, r*c-p.Radius
	}
	s, c := math.Sincos(p.Angle * math.Pi / 180)
	return p.X + lx*c - ly*s, p.Y + lx*s + ly*c
}

// Cell is Point in the cells of a drawn layout, before the layout shifts
// them to start at its margin.
func (p Placement) Cell(row int, along float64) (cx, cy int) {
	x, y := p.Point(row, along)
	return int(math.Round(x * PlacementCells)), int(math.Round(y * PlacementCells))
}

// SeatAlong is how far seat `seat` (0-based) of a row of n seats is from
// the row's middle: rows are centred on the block's axis.
func SeatAlong(seat, n int) float64 { return float64(seat) - float64(n-1)/2 }

// Placed reports whether the venue builder placed the map's blocks.
func (m SeatMap) Placed() bool {
	return len(m.Sections) > 0 && m.Sections[0].Place != nil
}

// validatePlacements checks the placed blocks: all sections placed or none,
// each value in range, and no two seats in one cell of the drawn layout.
func (m SeatMap) validatePlacements() error {
	placed := m.Placed()
	for k, s := range m.Sections {
		field := fmt.Sprintf("seat_map.sections[%d].place", k)
		if (s.Place != nil) != placed {
			return InvalidField(field, "place every section of the seat map or none (section %q)", s.Name)
		}
		if s.Place == nil {
			continue
		}
		p := *s.Place
		for _, v := range []struct {
			name     string
			val      float64
			min, max float64
		}{
			{"x", p.X, -MaxPlaceCoord, MaxPlaceCoord},
			{"y", p.Y, -MaxPlaceCoord, MaxPlaceCoord},
			{"angle", p.Angle, -360, 360},
			{"radius", p.Radius, 0, MaxPlaceRadius},
			{"row_spacing", p.RowSpacing, 0, MaxRowSpacing},
		} {
			if math.IsNaN(v.val) || v.val < v.min || v.val > v.max {
				return InvalidField(field+"."+v.name, "section %q: place.%s must be within %g..%g", s.Name, v.name, v.min, v.max)
			}
		}
		if p.Radius != 0 && p.Radius < 1 {
			return InvalidField(field+".radius", "section %q: place.radius must be 0 (straight rows) or at least 1", s.Name)
		}
		if p.RowSpacing != 0 && p.RowSpacing < 1 {
			return InvalidField(field+".row_spacing", "section %q: place.row_spacing must be 0 (one unit) or at least 1", s.Name)
		}
		if p.Radius > 0 {
			for _, r := range s.Rows {
				if float64(r.Seats) > 1.9*math.Pi*p.Radius {
					return InvalidField(field+".radius", "section %q row %q: %d seats do not fit on an arc of radius %g", s.Name, r.Name, r.Seats, p.Radius)
				}
			}
		}
	}
	if !placed {
		return nil
	}
	// Seats of different blocks closer than a seat's width would hide or
	// crowd each other on the map (and overlapping stands are a mistake in
	// the builder): look in each seat's neighbouring unit squares.
	type seatAt struct {
		k    int
		x, y float64
	}
	grid := make(map[[2]int][]seatAt, m.Capacity())
	for k, s := range m.Sections {
		for ri, r := range s.Rows {
			for seat := range r.Seats {
				x, y := s.Place.Point(ri, SeatAlong(seat, r.Seats))
				gx, gy := int(math.Floor(x)), int(math.Floor(y))
				for nx := gx - 1; nx <= gx+1; nx++ {
					for ny := gy - 1; ny <= gy+1; ny++ {
						for _, o := range grid[[2]int{nx, ny}] {
							if o.k != k && math.Hypot(o.x-x, o.y-y) < minSeatGap {
								return InvalidField(fmt.Sprintf("seat_map.sections[%d].place", k),
									"section %q row %q seat %d overlaps section %q; move or turn the block", s.Name, r.Name, seat+1, m.Sections[o.k].Name)
							}
						}
					}
				}
				grid[[2]int{gx, gy}] = append(grid[[2]int{gx, gy}], seatAt{k, x, y})
			}
		}
	}
	return nil
}

// minSeatGap is how close two seats of different blocks may be, in venue
// units (a block's own seats are one unit apart).
const minSeatGap = 0.9
