package search_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/search"
)

func parse(t *testing.T, raw string) search.Query {
	t.Helper()
	v, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatal(err)
	}
	q, err := search.ParseQuery(v)
	if err != nil {
		t.Fatalf("ParseQuery(%q): %v", raw, err)
	}
	return q
}

// parseAll is parse with a page that holds the whole fixture.
func parseAll(t *testing.T, raw string) search.Query {
	t.Helper()
	q := parse(t, raw)
	q.PageSize = search.MaxPageSize
	return q
}

func TestSearchParameters(t *testing.T) {
	ix := catalogIndex(t)
	all := keysWhere(func(boxoffice.Listing) bool { return true })
	date := func(s string) time.Time { t, _ := time.Parse(time.RFC3339, s); return t }
	within := func(c boxoffice.Location, km float64) func(boxoffice.Listing) bool {
		return func(l boxoffice.Listing) bool { return distanceKm(c, l.Location) <= km }
	}

	cases := []struct {
		name  string
		query string
		want  []string
	}{
		{"none", "", all},
		{"unknown parameters ignored", "colour=red&limit=3", all},
		{"q exact", "q=Metallica", []string{"met-ber", "met-lon", "met-mad"}},
		{"q lower case", "q=metallica", []string{"met-ber", "met-lon", "met-mad"}},
		{"q typo one edit", "q=Metalica", []string{"met-ber", "met-lon", "met-mad"}},
		{"q typo two edits", "q=Metallicca+tuor", []string{"met-ber", "met-lon", "met-mad"}},
		{"q transposed city", "q=Madird", keysWhere(func(l boxoffice.Listing) bool {
			return l.City == "Madrid" || hasWord(l.Name, "madrid") || hasWord(l.PerformerName, "madrid")
		})},
		{"q accents folded", "q=zurich", []string{"zjazz"}},
		{"q performer", "q=shakespeare", []string{"hamlet"}},
		{"q venue", "q=wembley", []string{"met-lon", "swift-lon"}},
		{"q every word must match", "q=metallica+berlin", []string{"met-ber"}},
		{"q word may name the type", "q=comedy+berlin", []string{"noah"}},
		{"q stop words only", "q=the+of", nil},
		{"q no match", "q=xylophonist", nil},
		{"type", "type=sports", keysWhere(func(l boxoffice.Listing) bool { return l.Type == "sports" })},
		{"type case-insensitive", "type=Festival", keysWhere(func(l boxoffice.Listing) bool { return l.Type == "festival" })},
		{"city", "city=berlin", keysWhere(func(l boxoffice.Listing) bool { return l.City == "Berlin" })},
		{"city exact not fuzzy", "city=berlinn", nil},
		{"city accents and case folded", "city=ZURICH", []string{"zjazz"}},
		{"city with space", "city=new+york", keysWhere(func(l boxoffice.Listing) bool { return l.City == "New York" })},
		{"near default radius", "near=52.52,13.405", keysWhere(within(berlin, 50))},
		{"near small radius", "near=52.52,13.405&radius_km=10", keysWhere(within(berlin, 10))},
		{"near madrid excludes toledo", "near=40.4168,-3.7038", keysWhere(within(madrid, 50))},
		{"near madrid wide includes toledo", "near=40.4168,-3.7038&radius_km=100", keysWhere(within(madrid, 100))},
		{"from", "from=2027-12-01", keysWhere(func(l boxoffice.Listing) bool { return !l.StartsAt.Before(date("2027-12-01T00:00:00Z")) })},
		{"to date is end of day", "to=2027-01-20", []string{"hamilton", "standup"}},
		{"from and to dates", "from=2027-06-01&to=2027-06-30", []string{"glasto", "met-ber", "met-lon", "primavera"}},
		{"to instant excludes later that day", "from=2027-06-01&to=2027-06-30T00:00:00Z", []string{"met-ber", "met-lon", "primavera"}},
		{"from instant inclusive", "from=2027-06-01T00:00:00Z&to=2027-06-01T00:00:00Z", []string{"met-ber"}},
		{"type and city", "type=concert&city=Berlin", []string{"met-ber", "phil"}},
		{"q and type", "q=madrid&type=sports", []string{"atm-sev", "rm-fcb"}},
		{"near and date", "near=52.52,13.405&from=2027-07-01&to=2027-12-31", []string{"lolla", "noah", "phil", "potsdam", "swan"}},
		{"q near date type", "q=tour&type=concert&near=51.5,-0.12&radius_km=30&from=2027-06-01", []string{"met-lon", "swift-lon"}},
		{"everything combined", "q=metalica&type=concert&city=madrid&near=40.42,-3.70&radius_km=20&from=2027-05-01&to=2027-05-31&sort=date", []string{"met-mad"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := sortedKeys(mustSearch(t, ix, parseAll(t, tc.query)))
			want := slices.Clone(tc.want)
			sort.Strings(want)
			if len(want) == 0 {
				want = []string{}
			}
			equalKeys(t, tc.query, got, want)
		})
	}
}

func TestSearchFixtureSanity(t *testing.T) {
	// The geo cases above only test something if the radii split the fixture.
	if !slices.Contains(keysWhere(func(l boxoffice.Listing) bool { return distanceKm(berlin, l.Location) <= 50 }), "potsdam") {
		t.Fatal("potsdam should be within 50 km of Berlin")
	}
	if slices.Contains(keysWhere(func(l boxoffice.Listing) bool { return distanceKm(berlin, l.Location) <= 10 }), "met-ber") {
		t.Fatal("the Olympiastadion should be over 10 km from Berlin's centre")
	}
	if d := distanceKm(madrid, catalog[25].listing().Location); d < 50 || d > 100 {
		t.Fatalf("Toledo is %.0f km from Madrid, want 50..100", d)
	}
}

func TestSearchSortOrders(t *testing.T) {
	ix := catalogIndex(t)

	t.Run("date is the default without q", func(t *testing.T) {
		r := mustSearch(t, ix, parseAll(t, "type=concert"))
		if r.Total == 0 {
			t.Fatal("no hits")
		}
		if !slices.IsSortedFunc(r.Hits, func(a, b boxoffice.Listing) int { return a.StartsAt.Compare(b.StartsAt) }) {
			t.Errorf("not in date order: %v", keysOf(r))
		}
	})
	t.Run("distance", func(t *testing.T) {
		r := mustSearch(t, ix, parseAll(t, "near=52.52,13.405&radius_km=1000&sort=distance"))
		if len(r.Hits) < 5 {
			t.Fatalf("want several hits, got %v", keysOf(r))
		}
		for i := 1; i < len(r.Hits); i++ {
			a, b := distanceKm(berlin, r.Hits[i-1].Location), distanceKm(berlin, r.Hits[i].Location)
			if a > b+0.01 {
				t.Errorf("hit %d (%.2f km) after hit %d (%.2f km): %v", i, b, i-1, a, keysOf(r))
			}
		}
		if got := keysOf(r)[0]; got != "swan" {
			t.Errorf("nearest to Berlin's centre = %s, want swan (Unter den Linden)", got)
		}
	})
	t.Run("relevance is the default with q and prefers the name", func(t *testing.T) {
		// "madrid" is in the name of rm-fcb, atm-sev, madrock and standup and
		// only the city of the others: name matches must come first.
		r := mustSearch(t, ix, parseAll(t, "q=madrid"))
		named := map[string]bool{"rm-fcb": true, "atm-sev": true, "madrock": true, "standup": true}
		keys := keysOf(r)
		if len(keys) < len(named)+1 {
			t.Fatalf("got %v", keys)
		}
		for i, k := range keys[:len(named)] {
			if !named[k] {
				t.Errorf("rank %d is %s, a city-only match, ahead of a name match: %v", i+1, k, keys)
			}
		}
	})
	t.Run("relevance survives filters and type words", func(t *testing.T) {
		// Both are comedies in one city; only the gala names the word, so it
		// ranks first although it is later. (Terms without norms once scored
		// NaN here, which silently fell back to date order.)
		ix := mustOpen(t, search.DefaultConfig(""))
		gala, riot := catalog[14].listing(), catalog[15].listing()
		gala.Name, riot.Name = "Comedy Gala", "Laugh Riot"
		riot.City, riot.Location = gala.City, gala.Location
		riot.StartsAt = gala.StartsAt.AddDate(0, -1, 0)
		mustApply(t, ix, gala, riot)
		for _, raw := range []string{"q=comedy", "q=comedy&city=london", "q=comedy&type=comedy&near=51.5,-0.1&from=2027-01-01"} {
			r := mustSearch(t, ix, parseAll(t, raw))
			if got := keysOf(r); len(got) != 2 || got[0] != "gervais" {
				t.Errorf("%s: got %v, want gervais (the Comedy Gala) first", raw, got)
			}
		}
	})
	t.Run("exact match outranks typo match", func(t *testing.T) {
		ix := mustOpen(t, search.DefaultConfig(""))
		a, b := catalog[0].listing(), catalog[1].listing()
		a.Name, b.Name = "Metalica Dreams", "Metallica"
		a.PerformerName, b.PerformerName = "Band A", "Band B"
		if err := ix.ApplyBatch([]boxoffice.Listing{a, b}); err != nil {
			t.Fatal(err)
		}
		r := mustSearch(t, ix, search.Query{Text: "metallica"})
		if got := keysOf(r); len(got) != 2 || got[0] != "met-ber" {
			t.Errorf("q=metallica: got %v, want met-ber (the exact name) first", got)
		}
	})
}

func TestSearchPagingStableAndComplete(t *testing.T) {
	ix := catalogIndex(t)
	for _, raw := range []string{"", "q=madrid", "type=concert", "near=50,5&radius_km=2000&sort=distance", "q=tour&sort=date"} {
		t.Run(raw, func(t *testing.T) {
			// One page with everything gives the order; pages of any size
			// must give the same results in the same order, none twice.
			want := keysOf(mustSearch(t, ix, parseAll(t, raw)))
			if len(want) < 2 {
				t.Fatalf("want a multi-page result, got %v", want)
			}
			for _, size := range []int{1, 2, 7} {
				seen := map[string]bool{}
				var union []string
				for page := 1; ; page++ {
					q := parse(t, raw)
					q.Page, q.PageSize = page, size
					r := mustSearch(t, ix, q)
					if int(r.Total) != len(want) || r.Page != page || r.PageSize != size {
						t.Fatalf("page %d size %d: total %d page %d size %d, want total %d", page, size, r.Total, r.Page, r.PageSize, len(want))
					}
					if len(r.Hits) == 0 {
						break
					}
					for _, k := range keysOf(r) {
						if seen[k] {
							t.Errorf("size %d: %s on two pages", size, k)
						}
						seen[k] = true
						union = append(union, k)
					}
				}
				equalKeys(t, fmt.Sprintf("size %d: the pages in order", size), union, want)
			}
		})
	}
}

func TestSearchAvailability(t *testing.T) {
	ix := catalogIndex(t)
	r := mustSearch(t, ix, search.Query{Text: "hamlet"})
	if len(r.Available) != 1 || r.Available[0] != 1100 {
		t.Fatalf("before any count: available %v, want [1100] (capacity)", r.Available)
	}
	hamlet := idOf("hamlet")
	steps := []struct {
		what string
		do   func()
		want int
	}{
		{"a count from the store at start", func() { ix.SeedAvailability(map[uuid.UUID]int{hamlet: 900}) }, 900},
		{"the engine's count replaces the store's", func() { ix.SetAvailability(hamlet, 17, 5) }, 17},
		{"a store count never replaces the engine's", func() { ix.SeedAvailability(map[uuid.UUID]int{hamlet: 900}) }, 17},
		{"a late, older report is ignored", func() { ix.SetAvailability(hamlet, 30, 4) }, 17},
		{"a newer report wins", func() { ix.SetAvailability(hamlet, 12, 6) }, 12},
		{"a negative count shows as none", func() { ix.SetAvailability(hamlet, -3, 7) }, 0},
	}
	for _, s := range steps {
		s.do()
		r = mustSearch(t, ix, search.Query{Text: "hamlet"})
		if r.Available[0] != s.want {
			t.Fatalf("%s: available %v, want [%d]", s.what, r.Available, s.want)
		}
	}
}

func TestSearchPageWindow(t *testing.T) {
	ix := catalogIndex(t)
	_, err := ix.Search(t.Context(), search.Query{Page: 101, PageSize: 100})
	if boxoffice.ErrorCode(err) != boxoffice.EInvalid {
		t.Fatalf("page past the window: err %v, want invalid_argument", err)
	}
	if _, err := ix.Search(t.Context(), search.Query{Page: 100, PageSize: 100}); err != nil {
		t.Fatalf("last page of the window: %v", err)
	}
}

func TestSearchContextCancelled(t *testing.T) {
	ix := catalogIndex(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := ix.Search(ctx, search.Query{Text: "metalica"}); err == nil {
		t.Fatal("search with a cancelled context succeeded")
	}
}
