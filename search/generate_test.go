package search_test

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

func TestGenerate(t *testing.T) {
	ls := generate(20_000, 42)
	if len(ls) != 20_000 {
		t.Fatalf("len %d", len(ls))
	}
	again := generate(20_000, 42)
	if !slices.EqualFunc(ls, again, func(a, b boxoffice.Listing) bool { return a == b }) {
		t.Error("the same n and seed gave different listings")
	}
	if generate(10, 43)[0].EventID == ls[0].EventID {
		t.Error("another seed gave the same first event")
	}

	ids := map[uuid.UUID]bool{}
	venues := map[uuid.UUID]bool{}
	types := map[string]int{}
	start, end := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2029, 1, 2, 0, 0, 0, 0, time.UTC)
	for _, l := range ls {
		if ids[l.EventID] {
			t.Fatalf("duplicate event ID %s", l.EventID)
		}
		ids[l.EventID] = true
		venues[l.VenueID] = true
		types[l.Type]++
		if l.StartsAt.Before(start) || !l.StartsAt.Before(end) {
			t.Fatalf("%s starts %v, outside two years from 2027", l.Name, l.StartsAt)
		}
		if l.Name == "" || l.City == "" || l.VenueName == "" || l.PerformerName == "" || l.Capacity <= 0 ||
			l.MinPrice <= 0 || !boxoffice.ValidCurrency(l.Currency) || l.Location.Validate() != nil || l.Revision != 1 {
			t.Fatalf("incomplete listing %+v", l)
		}
		ev := boxoffice.Event{Name: l.Name, Type: l.Type, StartsAt: l.StartsAt, Currency: l.Currency}
		if err := ev.Validate(); err != nil {
			t.Fatalf("listing %q is not a valid event: %v", l.Name, err)
		}
	}
	if len(venues) < 4000 {
		t.Errorf("%d venues used, want most of %d", len(venues), generateVenues)
	}
	for _, typ := range []string{"concert", "sports", "theater", "comedy", "festival"} {
		if types[typ] < len(ls)/20 {
			t.Errorf("only %d %s events", types[typ], typ)
		}
	}
}
