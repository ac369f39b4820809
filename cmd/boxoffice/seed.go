package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
	"github.com/schollz/progressbar/v3"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/persistence"
)

// seedNamespace makes the demo catalog's IDs deterministic, so seeding
// twice changes nothing (the catalog's create calls are idempotent by ID).
var seedNamespace = uuid.MustParse("6f1d8d2e-6c1e-4f59-9a53-0d4c1c1e5a11")

// StadiumName is the demo's 50,000-seat venue, the hot on-sale of loadgen.
const StadiumName = "Estadio Boxoffice"

// StadiumEventName is the demo's hot event at the stadium.
const StadiumEventName = "Metallica: M72 World Tour"

func seedID(kind, name string) uuid.UUID { return uuid.NewSHA1(seedNamespace, []byte(kind+"/"+name)) }

type demoVenue struct {
	name, city, address string
	lat, lon            float64
	sections, rows, per int
}

var demoVenues = []demoVenue{
	{StadiumName, "Madrid", "Av. de Concha Espina 1", 40.4531, -3.6883, 10, 50, 100},
	{"WiZink Center", "Madrid", "Av. Felipe II", 40.4240, -3.6717, 4, 12, 25},
	{"Palau Sant Jordi", "Barcelona", "Passeig Olímpic 5", 41.3633, 2.1526, 4, 12, 25},
	{"O2 Arena", "London", "Peninsula Square", 51.5030, 0.0032, 5, 12, 30},
	{"Royal Albert Hall", "London", "Kensington Gore", 51.5009, -0.1774, 3, 10, 20},
	{"Madison Square Garden", "New York", "4 Pennsylvania Plaza", 40.7505, -73.9934, 5, 12, 30},
	{"Beacon Theatre", "New York", "2124 Broadway", 40.7805, -73.9812, 3, 10, 20},
	{"Olympiahalle", "Munich", "Spiridon-Louis-Ring 21", 48.1755, 11.5518, 4, 12, 25},
	{"Accor Arena", "Paris", "8 Bd de Bercy", 48.8386, 2.3785, 4, 12, 25},
	{"Ziggo Dome", "Amsterdam", "De Passage 100", 52.3130, 4.9371, 4, 12, 25},
	{"Mercedes-Benz Arena", "Berlin", "Mercedes-Platz 1", 52.5079, 13.4432, 4, 12, 25},
	{"Altice Arena", "Lisbon", "Rossio dos Olivais", 38.7685, -9.0940, 4, 12, 25},
	{"Tokyo Dome", "Tokyo", "1-3-61 Koraku", 35.7056, 139.7519, 5, 12, 30},
	{"Sydney Opera House", "Sydney", "Bennelong Point", -33.8568, 151.2153, 3, 10, 20},
	{"Hollywood Bowl", "Los Angeles", "2301 N Highland Ave", 34.1122, -118.3391, 4, 12, 25},
	{"United Center", "Chicago", "1901 W Madison St", 41.8807, -87.6742, 4, 12, 25},
	{"Scotiabank Arena", "Toronto", "40 Bay St", 43.6435, -79.3791, 4, 12, 25},
	{"Teatro Colón", "Buenos Aires", "Cerrito 628", -34.6011, -58.3833, 3, 10, 20},
	{"Auditorio Nacional", "Mexico City", "Paseo de la Reforma 50", 19.4248, -99.1948, 4, 12, 25},
	{"Mediolanum Forum", "Milan", "Via G. Di Vittorio 6", 45.4195, 9.1286, 4, 12, 25},
}

var demoPerformers = []struct{ name, kind string }{
	{"Metallica", boxoffice.TypeConcert}, {"Taylor Swift", boxoffice.TypeConcert}, {"Coldplay", boxoffice.TypeConcert},
	{"Rosalía", boxoffice.TypeConcert}, {"Bad Bunny", boxoffice.TypeConcert}, {"Arctic Monkeys", boxoffice.TypeConcert},
	{"Billie Eilish", boxoffice.TypeConcert}, {"The Rolling Stones", boxoffice.TypeConcert}, {"Dua Lipa", boxoffice.TypeConcert},
	{"Ed Sheeran", boxoffice.TypeConcert}, {"Real Madrid", boxoffice.TypeSports}, {"FC Barcelona", boxoffice.TypeSports},
	{"Los Angeles Lakers", boxoffice.TypeSports}, {"Chicago Bulls", boxoffice.TypeSports}, {"New York Knicks", boxoffice.TypeSports},
	{"Cirque du Soleil", boxoffice.TypeTheater}, {"The Phantom of the Opera", boxoffice.TypeTheater}, {"Hamilton", boxoffice.TypeTheater},
	{"Les Misérables", boxoffice.TypeTheater}, {"Dave Chappelle", boxoffice.TypeComedy}, {"Ricky Gervais", boxoffice.TypeComedy},
	{"Hannah Gadsby", boxoffice.TypeComedy}, {"Primavera Sound", boxoffice.TypeFestival}, {"Glastonbury Live", boxoffice.TypeFestival},
	{"Lollapalooza Nights", boxoffice.TypeFestival},
}

// seedEvents is how many demo events besides the stadium's.
const seedEvents = 300

// cmdSeed loads the demo catalog: 20 venues in real cities (one of them a
// 50,000-seat stadium), 25 performers and about 300 events. It is
// idempotent: running it again finds everything in place.
func cmdSeed(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	db, err := openDBFlags(ctx, "seed", args, getenv, stderr, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Event(ctx, seedID("event", StadiumEventName)); err == nil {
		fmt.Fprintln(stdout, "demo catalog already loaded")
		return nil
	}
	bar := progressbar.NewOptions(len(demoVenues)+len(demoPerformers)+seedEvents+1,
		progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("seeding the demo catalog"),
		progressbar.OptionShowCount(), progressbar.OptionClearOnFinish(), progressbar.OptionThrottle(200*time.Millisecond))
	n, err := seed(ctx, db, func() { _ = bar.Add(1) })
	_ = bar.Finish()
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	fmt.Fprintf(stdout, "demo catalog loaded: %d venues, %d performers, %d events (%d tickets)\n",
		len(demoVenues), len(demoPerformers), seedEvents+1, n)
	return nil
}

// seed creates the demo catalog and returns the number of tickets.
func seed(ctx context.Context, db *persistence.DB, step func()) (int, error) {
	venues := make([]boxoffice.Venue, len(demoVenues))
	for i, d := range demoVenues {
		v, _, err := db.CreateVenue(ctx, demoVenueOf(d))
		if err != nil {
			return 0, fmt.Errorf("venue %s: %w", d.name, err)
		}
		venues[i] = v
		step()
	}
	performers := make([]boxoffice.Performer, len(demoPerformers))
	for i, d := range demoPerformers {
		p, _, err := db.CreatePerformer(ctx, boxoffice.Performer{ID: seedID("performer", d.name), Name: d.name,
			Biography: d.name + " live on the boxoffice demo stage."})
		if err != nil {
			return 0, fmt.Errorf("performer %s: %w", d.name, err)
		}
		performers[i] = p
		step()
	}
	r := rand.New(rand.NewPCG(42, 7))
	start := time.Now().UTC().Truncate(24 * time.Hour).Add(20 * time.Hour)
	total := 0
	for i := range seedEvents + 1 {
		var e boxoffice.Event
		var v boxoffice.Venue
		if i == 0 {
			v = venues[0]
			e = demoEvent(StadiumEventName, boxoffice.TypeConcert, v, performers[0], start.Add(60*24*time.Hour), 9500)
		} else {
			v = venues[1+r.IntN(len(venues)-1)]
			k := r.IntN(len(performers))
			p := performers[k]
			when := start.Add(time.Duration(1+r.IntN(365)) * 24 * time.Hour)
			name := fmt.Sprintf("%s at %s", p.Name, v.Name)
			if r.IntN(3) == 0 {
				name = fmt.Sprintf("%s — %s %d", p.Name, v.City, when.Year())
			}
			e = demoEvent(name, demoPerformers[k].kind, v, p, when, 2500+r.IntN(12)*500)
			e.ID = seedID("event", fmt.Sprintf("%d/%s", i, name))
		}
		_, n, _, err := db.CreateEvent(ctx, e)
		if err != nil {
			return total, fmt.Errorf("event %s: %w", e.Name, err)
		}
		total += n
		step()
	}
	return total, nil
}

func demoVenueOf(d demoVenue) boxoffice.Venue {
	var sm boxoffice.SeatMap
	for s := range d.sections {
		sec := boxoffice.Section{Name: string(rune('A' + s))}
		for r := 1; r <= d.rows; r++ {
			row := boxoffice.Row{Name: fmt.Sprint(r), Seats: d.per}
			if d.name == StadiumName && r == d.rows {
				// h19access: the stadium's back rows have a wheelchair
				// space at each end with a companion seat beside it.
				row.Wheelchair, row.Companion = []int{1, d.per}, []int{2, d.per - 1}
			}
			sec.Rows = append(sec.Rows, row)
		}
		sm.Sections = append(sm.Sections, sec)
	}
	if d.name == StadiumName {
		for k := range sm.Sections {
			sm.Sections[k].Place = stadiumBowl(k)
		}
	}
	return boxoffice.Venue{ID: seedID("venue", d.name), Name: d.name, City: d.city, Address: d.address,
		Location: boxoffice.Location{Lat: d.lat, Lon: d.lon}, SeatMap: sm}
}

// demoEvent prices sections from top (A, dearest) to bottom.
func demoEvent(name, kind string, v boxoffice.Venue, p boxoffice.Performer, when time.Time, top int) boxoffice.Event {
	prices := map[string]boxoffice.Money{}
	for i, s := range v.SeatMap.Sections {
		prices[s.Name] = boxoffice.Money(max(top-i*top/(len(v.SeatMap.Sections)+1), 1000) / 50 * 50)
	}
	return boxoffice.Event{ID: seedID("event", name), Name: name, Type: kind,
		Description: fmt.Sprintf("%s live at %s, %s.", p.Name, v.Name, v.City),
		StartsAt:    when, VenueID: v.ID, PerformerID: p.ID, Currency: "EUR", Prices: prices}
}

// stadiumBowl is where the stadium's k-th block (of 10, 50 rows of 100)
// stands, as an operator would place it in the venue builder
// (boxoffice.Placement): a bowl around the pitch at the origin, three
// blocks along each side on one arc of radius 250 and two at each end on
// an arc of 300, each block's rows curved along its stand's arc, aisles
// between blocks. A and B, the dearest, face the middle of the pitch from
// the south and the north; C-F flank them (west, then east); G-J are
// the ends.
func stadiumBowl(k int) *boxoffice.Placement {
	const (
		sideR, sideFront = 250.0, 55.0 // the sides' arc radius, and their first row's distance from the pitch's centre
		endR, endFront   = 300.0, 190.0
		aisle            = 4.0
	)
	side := (100 + aisle) / sideR // the angle between neighbouring side blocks
	end := (100 + aisle) / 2 / endR
	deg := func(rad float64) float64 { return rad * 180 / math.Pi }
	round := func(v float64) float64 { return math.Round(v*100) / 100 }
	var p boxoffice.Placement
	switch {
	case k < 6: // the sides: A, C, E south and B, D, F north
		phi := [6]float64{0, 0, -side, -side, side, side}[k]
		c := sideR - sideFront // the arc's centre, beyond the pitch
		if k%2 == 0 {          // south, row 1 at the top facing the pitch
			p = boxoffice.Placement{X: sideR * math.Sin(phi), Y: -c + sideR*math.Cos(phi), Angle: -deg(phi)}
		} else { // north, turned to face down
			p = boxoffice.Placement{X: sideR * math.Sin(phi), Y: c - sideR*math.Cos(phi), Angle: 180 + deg(phi)}
		}
		p.Radius = sideR
	default: // the ends: G, H west, I, J east
		psi := [4]float64{-end, end, -end, end}[k-6]
		c := endR - endFront
		if k < 8 {
			p = boxoffice.Placement{X: c - endR*math.Cos(psi), Y: endR * math.Sin(psi), Angle: 90 - deg(psi)}
		} else {
			p = boxoffice.Placement{X: -c + endR*math.Cos(psi), Y: endR * math.Sin(psi), Angle: -90 + deg(psi)}
		}
		p.Radius = endR
	}
	p.X, p.Y, p.Angle = round(p.X)+0, round(p.Y)+0, round(p.Angle)+0 // +0: no -0 in the stored map
	return &p
}
