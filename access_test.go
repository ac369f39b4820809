package boxoffice

import (
	"testing"
)

// TestRowAccessValidate: a row's wheelchair and companion seats must be
// its own seat numbers, each once, never both (h19access); RowSpans and
// Tickets carry them at the right flat indexes.
func TestRowAccessValidate(t *testing.T) {
	cases := []struct {
		name       string
		wheelchair []int
		companion  []int
		ok         bool
	}{
		{"none", nil, nil, true},
		{"space and companion", []int{1, 6}, []int{2, 5}, true},
		{"seat 0", []int{0}, nil, false},
		{"past the row", nil, []int{7}, false},
		{"twice", []int{3, 3}, nil, false},
		{"both", []int{2}, []int{2}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := SeatMap{Sections: []Section{{Name: "A", Rows: []Row{{Name: "1", Seats: 6, Wheelchair: c.wheelchair, Companion: c.companion}}}}}
			err := m.Validate()
			if (err == nil) != c.ok {
				t.Fatalf("Validate: %v, want ok %v", err, c.ok)
			}
			if err != nil && ErrorCode(err) != EInvalid {
				t.Fatalf("Validate: %v, want invalid_argument", err)
			}
		})
	}
	m := SeatMap{Sections: []Section{
		{Name: "Floor", Standing: 3},
		{Name: "A", Rows: []Row{{Name: "1", Seats: 2}, {Name: "2", Seats: 4, Wheelchair: []int{4}, Companion: []int{3}}}},
	}}
	spans := m.RowSpans()
	if len(spans) != 2 || spans[1].First != 5 || spans[1].Seats != 4 {
		t.Fatalf("RowSpans: %+v", spans)
	}
	ts := Event{Prices: map[string]Money{"Floor": 100, "A": 200}, Currency: "EUR"}.Tickets(m)
	if ts[8].Access != AccessWheelchair || ts[7].Access != AccessCompanion || ts[6].Access != "" {
		t.Fatalf("tickets' access: %q %q %q", ts[6].Access, ts[7].Access, ts[8].Access)
	}
}
