package search_test

import (
	"context"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/search"
)

// fixture is a small real catalog. Keys are short handles for assertions;
// the IDs derive from them.
type fixture struct {
	key, name, typ, performer, venue, city string
	lat, lon                               float64
	starts                                 string // RFC 3339
	capacity                               int
}

var catalog = []fixture{
	{"met-mad", "Metallica: M72 World Tour", "concert", "Metallica", "Cívitas Metropolitano", "Madrid", 40.4362, -3.5995, "2027-05-10T19:00:00Z", 68000},
	{"met-ber", "Metallica: M72 World Tour", "concert", "Metallica", "Olympiastadion", "Berlin", 52.5147, 13.2395, "2027-06-01T00:00:00Z", 74000},
	{"met-lon", "Metallica: M72 World Tour", "concert", "Metallica", "Wembley Stadium", "London", 51.5560, -0.2796, "2027-06-20T19:00:00Z", 90000},
	{"swift-lon", "Taylor Swift | The Eras Tour", "concert", "Taylor Swift", "Wembley Stadium", "London", 51.5560, -0.2796, "2027-07-01T19:00:00Z", 90000},
	{"cold-mad", "Coldplay: Music of the Spheres", "concert", "Coldplay", "Estadio Santiago Bernabéu", "Madrid", 40.4531, -3.6883, "2027-05-20T20:00:00Z", 81000},
	{"rm-fcb", "Real Madrid vs FC Barcelona", "sports", "Real Madrid", "Estadio Santiago Bernabéu", "Madrid", 40.4531, -3.6883, "2027-03-15T20:00:00Z", 81000},
	{"atm-sev", "Atlético de Madrid vs Sevilla FC", "sports", "Atlético de Madrid", "Cívitas Metropolitano", "Madrid", 40.4362, -3.5995, "2027-04-02T19:00:00Z", 68000},
	{"her-uni", "Hertha BSC vs Union Berlin", "sports", "Hertha BSC", "Olympiastadion", "Berlin", 52.5147, 13.2395, "2027-02-20T14:30:00Z", 74000},
	{"ars-che", "Arsenal vs Chelsea", "sports", "Arsenal", "Emirates Stadium", "London", 51.5549, -0.1084, "2027-03-01T16:00:00Z", 60000},
	{"hamlet", "Hamlet", "theater", "Royal Shakespeare Company", "National Theatre", "London", 51.5070, -0.1143, "2027-02-10T19:30:00Z", 1100},
	{"phantom", "The Phantom of the Opera", "theater", "Really Useful Group", "His Majesty's Theatre", "London", 51.5083, -0.1318, "2027-04-10T19:30:00Z", 1200},
	{"lesmis", "Les Misérables", "theater", "Cameron Mackintosh", "Théâtre du Châtelet", "Paris", 48.8579, 2.3469, "2027-09-01T19:00:00Z", 2000},
	{"swan", "Swan Lake", "theater", "Staatsballett Berlin", "Staatsoper Unter den Linden", "Berlin", 52.5169, 13.3952, "2027-12-01T18:00:00Z", 1350},
	{"chappelle", "Dave Chappelle Live", "comedy", "Dave Chappelle", "Madison Square Garden", "New York", 40.7505, -73.9934, "2027-03-03T23:00:00Z", 20000},
	{"gervais", "Ricky Gervais: Armageddon", "comedy", "Ricky Gervais", "The O2", "London", 51.5030, 0.0032, "2027-05-05T19:00:00Z", 20000},
	{"noah", "Trevor Noah: Off the Record", "comedy", "Trevor Noah", "Tempodrom", "Berlin", 52.5006, 13.3804, "2027-10-10T19:00:00Z", 3700},
	{"primavera", "Primavera Sound", "festival", "Primavera Sound", "Parc del Fòrum", "Barcelona", 41.4105, 2.2219, "2027-06-05T16:00:00Z", 60000},
	{"glasto", "Glastonbury Festival", "festival", "Glastonbury", "Worthy Farm", "Pilton", 51.1537, -2.5850, "2027-06-30T23:30:00Z", 210000},
	{"lolla", "Lollapalooza Berlin", "festival", "Lollapalooza", "Olympiapark", "Berlin", 52.5170, 13.2440, "2027-09-12T12:00:00Z", 70000},
	{"rosalia", "Rosalía: Motomami Tour", "concert", "Rosalía", "Palau Sant Jordi", "Barcelona", 41.3633, 2.1527, "2027-07-10T20:00:00Z", 17000},
	{"phil", "Berliner Philharmoniker: Beethoven 9", "concert", "Berliner Philharmoniker", "Philharmonie", "Berlin", 52.5100, 13.3699, "2027-12-31T19:00:00Z", 2440},
	{"bunny", "Bad Bunny: Most Wanted Tour", "concert", "Bad Bunny", "Yankee Stadium", "New York", 40.8296, -73.9262, "2027-08-08T20:00:00Z", 46000},
	{"nyy-bos", "New York Yankees vs Boston Red Sox", "sports", "New York Yankees", "Yankee Stadium", "New York", 40.8296, -73.9262, "2027-05-01T17:00:00Z", 46000},
	{"hamilton", "Hamilton", "theater", "Lin-Manuel Miranda", "Richard Rodgers Theatre", "New York", 40.7590, -73.9865, "2027-01-20T19:00:00Z", 1319},
	{"zjazz", "Zürich Jazz Night", "concert", "Zürich Jazz Orchestra", "Tonhalle", "Zürich", 47.3660, 8.5390, "2027-11-11T19:30:00Z", 1455},
	{"flamenco", "Flamenco Nights", "concert", "Compañía Sara Baras", "Teatro de Rojas", "Toledo", 39.8590, -4.0226, "2027-05-12T20:00:00Z", 900},
	{"potsdam", "Potsdam Classical Open Air", "concert", "Kammerakademie Potsdam", "Park Sanssouci", "Potsdam", 52.4042, 13.0385, "2027-07-15T18:00:00Z", 8000},
	{"madrock", "Madrid Rock Festival", "festival", "Various Artists", "IFEMA", "Madrid", 40.4636, -3.6163, "2028-06-01T16:00:00Z", 40000},
	{"psg-om", "Paris Saint-Germain vs Olympique de Marseille", "sports", "Paris Saint-Germain", "Parc des Princes", "Paris", 48.8414, 2.2530, "2027-04-20T19:00:00Z", 47900},
	{"standup", "Stand-up Madrid: Comedy Night", "comedy", "Various Artists", "Teatro Alcázar", "Madrid", 40.4183, -3.6990, "2027-01-15T20:30:00Z", 700},
}

// city centres used by the geo tests.
var (
	berlin = boxoffice.Location{Lat: 52.5200, Lon: 13.4050}
	madrid = boxoffice.Location{Lat: 40.4168, Lon: -3.7038}
)

func idOf(key string) uuid.UUID {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("boxoffice-test/"+key))
}

func (f fixture) listing() boxoffice.Listing {
	t, err := time.Parse(time.RFC3339, f.starts)
	if err != nil {
		panic(err)
	}
	return boxoffice.Listing{
		EventID: idOf(f.key), Name: f.name, Type: f.typ, StartsAt: t,
		VenueID: idOf("venue/" + f.venue), VenueName: f.venue, City: f.city,
		Location:    boxoffice.Location{Lat: f.lat, Lon: f.lon},
		PerformerID: idOf("performer/" + f.performer), PerformerName: f.performer,
		MinPrice: 4950, Currency: "EUR", Capacity: f.capacity, Revision: 1,
	}
}

func catalogListings() []boxoffice.Listing {
	out := make([]boxoffice.Listing, len(catalog))
	for i, f := range catalog {
		out[i] = f.listing()
	}
	return out
}

// keysWhere lists the fixture keys whose listing satisfies keep, sorted.
func keysWhere(keep func(boxoffice.Listing) bool) []string {
	var out []string
	for _, f := range catalog {
		if keep(f.listing()) {
			out = append(out, f.key)
		}
	}
	sort.Strings(out)
	return out
}

var keyByID = func() map[uuid.UUID]string {
	m := make(map[uuid.UUID]string)
	for _, f := range catalog {
		m[idOf(f.key)] = f.key
	}
	return m
}()

// keysOf names the hits by fixture key, in result order.
func keysOf(r search.Result) []string {
	out := make([]string, len(r.Hits))
	for i, h := range r.Hits {
		if k, ok := keyByID[h.EventID]; ok {
			out[i] = k
		} else {
			out[i] = h.EventID.String()
		}
	}
	return out
}

func sortedKeys(r search.Result) []string {
	k := keysOf(r)
	sort.Strings(k)
	return k
}

// mustOpen opens an index that the test closes.
func mustOpen(tb testing.TB, cfg search.Config) *search.Index {
	tb.Helper()
	ix, err := search.Open(cfg)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := ix.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return ix
}

// catalogIndex is an in-memory index holding the fixture.
func catalogIndex(tb testing.TB) *search.Index {
	tb.Helper()
	ix := mustOpen(tb, search.DefaultConfig(""))
	if err := ix.ApplyBatch(catalogListings()); err != nil {
		tb.Fatalf("ApplyBatch: %v", err)
	}
	return ix
}

// mustSearch runs q, failing the test on error.
func mustSearch(tb testing.TB, ix *search.Index, q search.Query) search.Result {
	tb.Helper()
	r, err := ix.Search(context.Background(), q)
	if err != nil {
		tb.Fatalf("Search(%+v): %v", q, err)
	}
	if int(r.Total) < len(r.Hits) {
		tb.Fatalf("Search(%+v): total %d < %d hits", q, r.Total, len(r.Hits))
	}
	return r
}

func equalKeys(tb testing.TB, what string, got, want []string) {
	tb.Helper()
	if !slices.Equal(got, want) {
		tb.Errorf("%s:\n got %v\nwant %v", what, got, want)
	}
}

// distanceKm is the haversine distance the geo tests expect.
func distanceKm(a, b boxoffice.Location) float64 {
	const r = 6371.0088
	rad := func(d float64) float64 { return d * math.Pi / 180 }
	dLat, dLon := rad(b.Lat-a.Lat), rad(b.Lon-a.Lon)
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(rad(a.Lat))*math.Cos(rad(b.Lat))*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * r * math.Asin(math.Sqrt(h))
}

// hasWord reports whether s contains w as a whole word, ignoring case.
func hasWord(s, w string) bool {
	words := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) })
	return slices.Contains(words, strings.ToLower(w))
}
