package actors_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors"
)

// TestReserveTicketsCheckedByTheSeatMap: a reserve's tickets are checked
// in one place, the grain's seat map (the API validates the request's
// shape before the engine). Whatever is wrong with them, the engine's
// answer is the seat map's, invalid_input on ticket_ids, carried back
// across the cluster with its field.
func TestReserveTicketsCheckedByTheSeatMap(t *testing.T) {
	e := newEnv(t, venue200(), actors.Config{})
	cases := []struct {
		name    string
		idx     []int
		message string // part of the seat map's message
	}{
		{"none", nil, "not 0"},
		{"eleven", []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, "not 11"},
		{"twice", []int{3, 3}, "appears twice"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.reserve(t, uuid.New(), c.idx...)
			var be *boxoffice.Error
			if !errors.As(err, &be) || be.Code != boxoffice.EInvalid || be.Details["field"] != "ticket_ids" ||
				!strings.Contains(be.Message, c.message) {
				t.Fatalf("reserve %v: %v, want the seat map's invalid ticket_ids (%q)", c.idx, err, c.message)
			}
		})
	}
}
