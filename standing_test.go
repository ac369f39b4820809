package boxoffice_test

import (
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// TestStandingSeatMap: a standing section is a capacity without rows; it
// counts in the capacity, takes a run of flat indexes in map order, and
// its places are tickets with no row, numbered from 1.
func TestStandingSeatMap(t *testing.T) {
	seated := boxoffice.Section{Name: "A", Rows: []boxoffice.Row{{Name: "1", Seats: 3}}}
	for _, c := range []struct {
		name string
		s    boxoffice.Section
		ok   bool
	}{
		{"standing", boxoffice.Section{Name: "Floor", Standing: 4}, true},
		{"largest", boxoffice.Section{Name: "Floor", Standing: boxoffice.MaxStandingPlaces}, true},
		{"too large", boxoffice.Section{Name: "Floor", Standing: boxoffice.MaxStandingPlaces + 1}, false},
		{"negative", boxoffice.Section{Name: "Floor", Standing: -1}, false},
		{"rows too", boxoffice.Section{Name: "Floor", Standing: 4, Rows: seated.Rows}, false},
		{"neither", boxoffice.Section{Name: "Floor"}, false},
	} {
		err := boxoffice.SeatMap{Sections: []boxoffice.Section{seated, c.s}}.Validate()
		if (err == nil) != c.ok {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	m := boxoffice.SeatMap{Sections: []boxoffice.Section{seated, {Name: "Floor", Standing: 4}, seated2()}}
	if m.Capacity() != 9 {
		t.Fatalf("capacity %d, want 9", m.Capacity())
	}
	if got := fmt.Sprint(m.StandingAreas()); got != "[{Floor 3 4}]" {
		t.Fatalf("areas %s", got)
	}
	ev := boxoffice.Event{ID: uuid.New(), Prices: map[string]boxoffice.Money{"A": 100, "Floor": 50, "B": 70}}
	ts := ev.Tickets(m)
	for i, want := range []string{"A/1/1", "A/1/2", "A/1/3", "Floor//1", "Floor//2", "Floor//3", "Floor//4", "B/1/1", "B/1/2"} {
		if got := fmt.Sprintf("%s/%s/%d", ts[i].Section, ts[i].Row, ts[i].Seat); got != want || ts[i].Index != i {
			t.Errorf("ticket %d is %s, want %s", i, got, want)
		}
		sec, row, seat, ok := m.SeatAt(i)
		if got := fmt.Sprintf("%s/%s/%d", sec, row, seat); !ok || got != want {
			t.Errorf("SeatAt(%d) = %s, want %s", i, got, want)
		}
	}
	if ts[4].Price != 50 {
		t.Errorf("a place costs %d, want the section's 50", ts[4].Price)
	}
}

func seated2() boxoffice.Section {
	return boxoffice.Section{Name: "B", Rows: []boxoffice.Row{{Name: "1", Seats: 2}}}
}
