package search_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// generateVenues is how many venues generate spreads events over.
const generateVenues = 5000

// generateStart is where generate's two years of dates begin, fixed so that
// a seed always yields the same catalog.
var generateStart = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)

// generate returns n realistic listings for the tests and benchmarks:
// concerts, sports, theater, comedy and festivals named from word lists, at
// 5,000 venues in about a hundred real cities (with their coordinates and
// currencies), starting over two years from 2027-01-01. The same n and seed
// always give the same listings; venue and performer IDs repeat across
// listings as real ones would. It is test code: production never makes up
// a catalog (the demo seeder writes its own, cmd/boxoffice/seed.go).
func generate(n int, seed uint64) []boxoffice.Listing {
	g := newGenerator(seed, n)
	out := make([]boxoffice.Listing, n)
	for i := range out {
		out[i] = g.listing(generateStart)
	}
	return out
}

type genVenue struct {
	id       uuid.UUID
	name     string
	city     int
	lat, lon float64
	capacity int
}

type genPerformer struct {
	id   uuid.UUID
	name string
}

type generator struct {
	r         *rand.Rand
	venues    []genVenue
	artists   []genPerformer
	comedians []genPerformer
	companies []genPerformer
	teams     [][]genPerformer // per city
}

func newGenerator(seed uint64, n int) *generator {
	g := &generator{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	for range generateVenues {
		g.venues = append(g.venues, g.venue())
	}
	for range clamp(n/40, 50, 25_000) {
		g.artists = append(g.artists, genPerformer{g.uuid(), g.artistName()})
	}
	for range clamp(n/200, 20, 5_000) {
		g.comedians = append(g.comedians, genPerformer{g.uuid(), g.personName()})
	}
	for range clamp(n/400, 20, 2_000) {
		g.companies = append(g.companies, genPerformer{g.uuid(), g.companyName()})
	}
	g.teams = make([][]genPerformer, len(genCities))
	for c := range genCities {
		for range 3 {
			name := genCities[c].name + " " + pick(g.r, genMascots)
			g.teams[c] = append(g.teams[c], genPerformer{g.uuid(), name})
		}
	}
	return g
}

func (g *generator) uuid() uuid.UUID {
	var u uuid.UUID
	a, b := g.r.Uint64(), g.r.Uint64()
	for i := range 8 {
		u[i], u[8+i] = byte(a>>(8*i)), byte(b>>(8*i))
	}
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return u
}

func (g *generator) venue() genVenue {
	c := g.r.IntN(len(genCities))
	city := genCities[c]
	kind := genVenueKinds[g.r.IntN(len(genVenueKinds))]
	name := pick(g.r, genVenuePrefixes) + " " + kind.name
	if g.r.IntN(10) < 4 {
		name = city.name + " " + kind.name
	}
	// Within about 10 km of the centre (0.05 degrees of latitude ≈ 5.5 km).
	lat := math.Max(-89.9, math.Min(89.9, city.lat+g.r.NormFloat64()*0.05))
	lon := city.lon + g.r.NormFloat64()*0.05/math.Cos(city.lat*math.Pi/180)
	return genVenue{
		id: g.uuid(), name: name, city: c, lat: lat, lon: lon,
		capacity: kind.min + g.r.IntN(kind.max-kind.min+1),
	}
}

func (g *generator) artistName() string {
	switch p := g.r.IntN(10); {
	case p < 3:
		return "The " + pick(g.r, genAdjectives) + " " + pick(g.r, genNouns) + "s"
	case p < 5:
		return pick(g.r, genAdjectives) + " " + pick(g.r, genNouns)
	case p < 9:
		return g.personName()
	default:
		return pick(g.r, genNouns) + " " + pick(g.r, genNouns)
	}
}

func (g *generator) personName() string {
	return pick(g.r, genFirstNames) + " " + pick(g.r, genLastNames)
}

func (g *generator) companyName() string {
	switch g.r.IntN(3) {
	case 0:
		return pick(g.r, genCities).name + " Repertory Company"
	case 1:
		return pick(g.r, genLastNames) + " Players"
	default:
		return pick(g.r, genVenuePrefixes) + " Ballet & Opera"
	}
}

// listing draws one event. Type shares: concerts 45%, sports 20%, theater
// 15%, comedy 12%, festivals 8%.
func (g *generator) listing(start time.Time) boxoffice.Listing {
	v := g.venues[g.r.IntN(len(g.venues))]
	city := genCities[v.city]
	l := boxoffice.Listing{
		EventID:   g.uuid(),
		StartsAt:  g.startTime(start),
		VenueID:   v.id,
		VenueName: v.name,
		City:      city.name,
		Location:  boxoffice.Location{Lat: v.lat, Lon: v.lon},
		Currency:  city.currency,
		Capacity:  v.capacity,
		Revision:  1,
	}
	var p genPerformer
	var lo, hi int
	switch t := g.r.IntN(100); {
	case t < 45:
		l.Type, lo, hi = boxoffice.TypeConcert, 2500, 15000
		p = pick(g.r, g.artists)
		l.Name = g.concertName(p.name, city.name)
	case t < 65:
		l.Type, lo, hi = boxoffice.TypeSports, 1500, 20000
		p = pick(g.r, g.teams[v.city])
		away := pick(g.r, g.teams[g.r.IntN(len(g.teams))])
		l.Name = p.name + " vs " + away.name
	case t < 80:
		l.Type, lo, hi = boxoffice.TypeTheater, 2000, 12000
		p = pick(g.r, g.companies)
		l.Name = pick(g.r, genShowTitles)
	case t < 92:
		l.Type, lo, hi = boxoffice.TypeComedy, 1500, 6000
		p = pick(g.r, g.comedians)
		l.Name = p.name + ": " + pick(g.r, genAdjectives) + " " + pick(g.r, genNouns)
	default:
		l.Type, lo, hi = boxoffice.TypeFestival, 5000, 30000
		p = pick(g.r, g.artists)
		l.Name = fmt.Sprintf("%s %s Festival %d", city.name, pick(g.r, genGenres), l.StartsAt.Year())
	}
	l.PerformerID, l.PerformerName = p.id, p.name
	l.MinPrice = boxoffice.Money((lo + g.r.IntN(hi-lo+1)) / 50 * 50)
	return l
}

func (g *generator) concertName(artist, city string) string {
	switch g.r.IntN(10) {
	case 0, 1, 2:
		return artist
	case 3, 4:
		return artist + " Live in " + city
	default:
		return artist + ": " + pick(g.r, genTourWords)
	}
}

// startTime is an evening start on a quarter hour within two years.
func (g *generator) startTime(start time.Time) time.Time {
	day := g.r.IntN(730)
	minute := 18*60 + 15*g.r.IntN(15) // 18:00 .. 21:30
	return start.AddDate(0, 0, day).Add(time.Duration(minute) * time.Minute)
}

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

func clamp(v, lo, hi int) int { return max(lo, min(hi, v)) }
