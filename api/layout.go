package api

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// Geometry of the drawn seat map, in seat cells (one cell a seat and its
// gap): sections are blocks of rows and seats, arranged in shelves under a
// stage band, the map as near as it gets to layoutAspect wide.
const (
	layoutGap    = 3 // cells between section blocks
	layoutLabel  = 3 // cells above a block for its name and price
	layoutStage  = 5 // cells for the stage band at the top
	layoutAspect = 1.6
)

// layoutJSON is GET /events/{eventId}/layout (openapi.yaml, SeatLayout):
// everything about the event's seats that does not change during a sale,
// each seat at its index in the availability and compact frames.
type layoutJSON struct {
	EventID    uuid.UUID        `json:"event_id"`
	Seats      int              `json:"seats"`
	Currency   string           `json:"currency"`
	Width      int              `json:"width"`
	Height     int              `json:"height"`
	Stage      layoutRect       `json:"stage"`
	Categories []layoutCategory `json:"categories"`
	Sections   []layoutSection  `json:"sections"`
	TicketIDs  []uuid.UUID      `json:"ticket_ids"`
	X          []int            `json:"x"`
	Y          []int            `json:"y"`
}

type layoutRect struct {
	X      int `json:"x"`
	Y      int `json:"y"`
	Width  int `json:"width"`
	Height int `json:"height"`
}

type layoutCategory struct {
	Category int    `json:"category"`
	Price    string `json:"price"`
}

type layoutSection struct {
	Name     string `json:"name"`
	Category int    `json:"category"`
	layoutRect
	Rows []layoutRow `json:"rows"`
	// Standing marks a standing section (no rows): its places are seats
	// first..first+capacity-1, taken by quantity.
	Standing *layoutStanding `json:"standing,omitempty"`
}

type layoutStanding struct {
	First    int `json:"first"`
	Capacity int `json:"capacity"`
}

type layoutRow struct {
	Name  string `json:"name"`
	First int    `json:"first"`
	Seats int    `json:"seats"`
	// Wheelchair and Companion are the row's accessible seat numbers
	// (h19access), omitted when none.
	Wheelchair []int `json:"wheelchair,omitempty"`
	Companion  []int `json:"companion,omitempty"`
}

// seatLayout is an event's layout rendered once: the body, its gzipped
// form and its version (a hash of the body), which names the URL that may
// be cached forever.
type seatLayout struct {
	version string
	body    []byte
	gz      []byte
}

// etag is the layout's strong entity tag.
func (l *seatLayout) etag() string { return `"` + l.version + `"` }

// url is the layout's versioned address.
func (l *seatLayout) url(eventID uuid.UUID) string {
	return "/events/" + eventID.String() + "/layout?v=" + l.version
}

// layoutSource builds an event's layout once, on first use: most events
// are read through GET /events/{eventId} alone and never need one.
type layoutSource struct {
	event boxoffice.Event
	seats boxoffice.SeatMap
	once  sync.Once
	l     *seatLayout
	err   error
}

func (s *layoutSource) get() (*seatLayout, error) {
	s.once.Do(func() { s.l, s.err = buildLayout(s.event, s.seats) })
	return s.l, s.err
}

// buildLayout renders ev's layout on m, in flat seat order (the order of
// boxoffice.Event.Tickets and of the engine's statuses).
func buildLayout(ev boxoffice.Event, m boxoffice.SeatMap) (*seatLayout, error) {
	n := m.Capacity()
	doc := layoutJSON{EventID: ev.ID, Seats: n, Currency: ev.Currency,
		TicketIDs: make([]uuid.UUID, n), X: make([]int, n), Y: make([]int, n)}
	space := boxoffice.NewTicketSpace(ev.ID)
	for i := range doc.TicketIDs {
		doc.TicketIDs[i] = space.ID(i)
	}
	cats := priceCategories(ev, m)
	for _, p := range cats.prices {
		doc.Categories = append(doc.Categories, layoutCategory{Category: len(doc.Categories), Price: p.String()})
	}
	var blocks []placedBlock
	placed := m.Placed()
	switch {
	case placed:
		// The venue builder placed the blocks: placeSeats below.
		blocks = make([]placedBlock, len(m.Sections))
	case len(m.Sections) >= bowlSections:
		blocks, doc.Width, doc.Height, doc.Stage = arrangeBowl(m)
	default:
		blocks = make([]placedBlock, len(m.Sections))
		rects := make([]layoutRect, len(m.Sections))
		for k, s := range m.Sections {
			blocks[k].length, blocks[k].rows = sectionLength(s), sectionRows(s)
			rects[k] = layoutRect{Width: blocks[k].length, Height: blocks[k].rows}
		}
		doc.Width, doc.Height = arrangeBlocks(rects, layoutAspect)
		for k := range blocks {
			blocks[k].layoutRect = rects[k]
		}
		doc.Stage = layoutRect{X: doc.Width / 4, Y: 0, Width: max(1, doc.Width/2), Height: layoutStage - 2}
	}
	i := 0
	for k, s := range m.Sections {
		b := blocks[k]
		sec := layoutSection{Name: s.Name, Category: cats.of[s.Name], layoutRect: b.layoutRect, Rows: make([]layoutRow, 0, len(s.Rows))}
		if s.Standing > 0 {
			// The area is drawn as its block; its places fill the block's
			// cells in turn (many places share a cell in a big area).
			sec.Standing = &layoutStanding{First: i, Capacity: s.Standing}
			if placed {
				b.length, b.rows = sectionLength(s), sectionRows(s)
			}
			for p := range s.Standing {
				if placed {
					doc.X[i], doc.Y[i] = s.Place.Cell(p/b.length%b.rows, boxoffice.SeatAlong(p%b.length, b.length))
				} else {
					doc.X[i], doc.Y[i] = b.cell(p/b.length%b.rows, p%b.length)
				}
				i++
			}
		}
		for ry, r := range s.Rows {
			sec.Rows = append(sec.Rows, layoutRow{Name: r.Name, First: i, Seats: r.Seats, Wheelchair: r.Wheelchair, Companion: r.Companion})
			p0 := (b.length - r.Seats) / 2
			for seat := range r.Seats {
				if placed {
					doc.X[i], doc.Y[i] = s.Place.Cell(ry, boxoffice.SeatAlong(seat, r.Seats))
				} else {
					doc.X[i], doc.Y[i] = b.cell(ry, p0+seat)
				}
				i++
			}
		}
		doc.Sections = append(doc.Sections, sec)
	}
	if placed {
		placeSeats(&doc)
	}
	body, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("render layout of event %s: %w", ev.ID, err)
	}
	sum := sha256.Sum256(body)
	l := &seatLayout{version: hex.EncodeToString(sum[:10]), body: body}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // once per layout, read many times
	if _, err := zw.Write(body); err != nil {
		return nil, fmt.Errorf("gzip layout of event %s: %w", ev.ID, err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip layout of event %s: %w", ev.ID, err)
	}
	l.gz = buf.Bytes()
	return l, nil
}

// bowlSections is how many sections make a venue a stadium, drawn as a
// bowl: stands on three sides of an end stage, rows curved towards it.
const bowlSections = 6

// Stand sides of a bowl; a shelf layout's blocks are all facing the stage.
const (
	standFront = iota // below the pitch, row 1 at the top
	standLeft         // left of it, row 1 on the right
	standRight        // right of it, row 1 on the left
)

// placedBlock is a section's place: its rectangle (label above it), the
// side it stands on, its rows and its length (the longest row) and the
// bulge of its curved rows, in cells.
type placedBlock struct {
	layoutRect
	side   int
	rows   int
	length int
	bulge  int
}

// cell is the cell of row r's seat at position p along the block. Rows
// are the same curve shifted by one cell each, so no two seats share a
// cell; the curve bends the block's ends towards the pitch.
func (b placedBlock) cell(r, p int) (x, y int) {
	off := 0
	if b.bulge > 0 && b.length > 1 {
		d := float64(p) - float64(b.length-1)/2
		half := float64(b.length-1) / 2
		off = int(math.Round(float64(b.bulge) * d * d / (half * half)))
	}
	switch b.side {
	case standLeft:
		return b.X + (b.rows - 1 - r) + off, b.Y + p
	case standRight:
		return b.X + r + b.bulge - off, b.Y + p
	}
	return b.X + p, b.Y + r + b.bulge - off
}

// standingSide is the length of a standing area's block: about the square
// root of its places, within bounds that keep it readable.
func standingSide(s boxoffice.Section) int {
	return min(40, max(4, int(math.Ceil(math.Sqrt(float64(s.Standing))))))
}

// sectionRows is the block's depth: its rows, or a standing area's.
func sectionRows(s boxoffice.Section) int {
	if s.Standing > 0 {
		return max(2, min(standingSide(s), (s.Standing+2*standingSide(s)-1)/(2*standingSide(s))))
	}
	return len(s.Rows)
}

func sectionLength(s boxoffice.Section) int {
	if s.Standing > 0 {
		return 2 * standingSide(s)
	}
	n := 1
	for _, r := range s.Rows {
		n = max(n, r.Seats)
	}
	return n
}

// arrangeBowl puts a stadium's sections in a bowl around an end stage, in
// the venue's order: down the left stand, across the front stands (in
// shelves facing the stage, below it), up the right stand. It returns each
// block, the map's size and the stage.
func arrangeBowl(m boxoffice.SeatMap) (blocks []placedBlock, w, h int, stage layoutRect) {
	n := len(m.Sections)
	nSide := n / 3
	blocks = make([]placedBlock, n)
	var front []int
	for k, s := range m.Sections {
		b := &blocks[k]
		b.rows, b.length = sectionRows(s), sectionLength(s)
		b.bulge = max(1, b.length/10)
		switch {
		case k < nSide:
			b.side = standLeft
		case k < n-nSide:
			b.side, front = standFront, append(front, k)
		default:
			b.side = standRight
		}
		if b.side == standFront {
			b.Width, b.Height = b.length, b.rows+b.bulge
		} else {
			b.Width, b.Height = b.rows+b.bulge, b.length
		}
	}
	step := layoutGap + layoutLabel // between blocks: a gap and the next one's label
	leftW, rightW := 0, 0
	for _, b := range blocks {
		switch b.side {
		case standLeft:
			leftW = max(leftW, b.Width)
		case standRight:
			rightW = max(rightW, b.Width)
		}
	}
	// The front stands in shelves of about the square root of their count.
	cols := max(1, int(math.Ceil(math.Sqrt(float64(len(front))))))
	midW := 1
	for i := 0; i < len(front); i += cols {
		wd := -layoutGap
		for _, k := range front[i:min(i+cols, len(front))] {
			wd += blocks[k].Width + layoutGap
		}
		midW = max(midW, wd)
	}
	mid := leftW + layoutGap
	stage = layoutRect{X: mid + midW/6, Y: 0, Width: max(1, midW*2/3), Height: max(layoutStage, midW/8)}
	y := stage.Height + layoutGap + layoutLabel
	for i := 0; i < len(front); i += cols {
		shelf := front[i:min(i+cols, len(front))]
		wd, ht := -layoutGap, 0
		for _, k := range shelf {
			wd, ht = wd+blocks[k].Width+layoutGap, max(ht, blocks[k].Height)
		}
		x := mid + (midW-wd)/2
		for _, k := range shelf {
			blocks[k].X, blocks[k].Y = x, y
			x += blocks[k].Width + layoutGap
		}
		y += ht + step
	}
	h = y - step
	// The side stands run down from the stage's level.
	ly := layoutLabel
	var right []int
	for k := range blocks {
		b := &blocks[k]
		switch b.side {
		case standLeft:
			b.X, b.Y = leftW-b.Width, ly
			ly += b.Height + step
		case standRight:
			right = append(right, k)
		}
	}
	ry := layoutLabel
	for i := len(right) - 1; i >= 0; i-- { // the last section nearest the stage, continuing the bowl
		b := &blocks[right[i]]
		b.X, b.Y = mid+midW+layoutGap, ry
		ry += b.Height + step
	}
	return blocks, mid + midW + layoutGap + rightW, max(h, ly-step, ry-step), stage
}

// categories are the event's distinct prices, dearest first, and each
// section's category.
type categories struct {
	prices []boxoffice.Money
	of     map[string]int
}

func priceCategories(ev boxoffice.Event, m boxoffice.SeatMap) categories {
	c := categories{of: map[string]int{}}
	for _, s := range m.Sections {
		if p := ev.Prices[s.Name]; !slices.Contains(c.prices, p) {
			c.prices = append(c.prices, p)
		}
	}
	slices.SortFunc(c.prices, func(a, b boxoffice.Money) int {
		switch {
		case a > b:
			return -1
		case a < b:
			return 1
		}
		return 0
	})
	for _, s := range m.Sections {
		c.of[s.Name] = slices.Index(c.prices, ev.Prices[s.Name])
	}
	return c
}

// arrangeBlocks places blocks (their Width and Height set) in shelves,
// choosing the number per shelf that brings the map's width/height nearest
// to aspect; it sets each block's X and Y (its top-left seat, below its
// label) and returns the map's size.
func arrangeBlocks(blocks []layoutRect, aspect float64) (w, h int) {
	shelves := func(cols int) [][]int {
		var out [][]int
		for i := 0; i < len(blocks); i += cols {
			var sh []int
			for k := i; k < min(i+cols, len(blocks)); k++ {
				sh = append(sh, k)
			}
			out = append(out, sh)
		}
		return out
	}
	widthOf := func(sh []int) int {
		wd := layoutGap * (len(sh) - 1)
		for _, k := range sh {
			wd += blocks[k].Width
		}
		return wd
	}
	heightOf := func(sh []int) int {
		ht := 0
		for _, k := range sh {
			ht = max(ht, blocks[k].Height)
		}
		return ht
	}
	bestCols, bestScore := 1, math.Inf(1)
	for cols := 1; cols <= max(1, len(blocks)); cols++ {
		W, H := 1, layoutStage
		for _, sh := range shelves(cols) {
			W = max(W, widthOf(sh))
			H += layoutLabel + heightOf(sh) + layoutGap
		}
		if score := math.Abs(math.Log(float64(W) / float64(H) / aspect)); score < bestScore-1e-9 {
			bestCols, bestScore, w, h = cols, score, W, H
		}
	}
	y := layoutStage
	for _, sh := range shelves(bestCols) {
		x := (w - widthOf(sh)) / 2
		for _, k := range sh {
			blocks[k].X, blocks[k].Y = x, y+layoutLabel
			x += blocks[k].Width + layoutGap
		}
		y += layoutLabel + heightOf(sh) + layoutGap
	}
	return w, h
}

// handleLayout is GET /events/{eventId}/layout. Under its versioned URL
// (?v= the layout's version) the reply may be cached forever; without v
// it is the same body, revalidated on each use; an outdated v redirects
// to the current version. Both carry the ETag and answer 304 to it.
func (s *Server) handleLayout(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "eventId")
	if err != nil {
		return err
	}
	entry, err := s.fullEvent(r, id)
	if err != nil {
		return err
	}
	l, err := entry.view.layout.get()
	if err != nil {
		return err
	}
	h := w.Header()
	v, versioned := r.URL.Query()["v"]
	switch {
	case versioned && (len(v) != 1 || v[0] != l.version):
		h.Set("Cache-Control", "no-cache")
		http.Redirect(w, r, l.url(id), http.StatusFound)
		return nil
	case versioned:
		h.Set("Cache-Control", "public, max-age=86400, immutable")
	default:
		h.Set("Cache-Control", "no-cache")
		h.Set("Content-Location", l.url(id))
	}
	h.Set("ETag", l.etag())
	h.Set("Vary", "Accept-Encoding")
	if etagMatch(r.Header.Get("If-None-Match"), l.etag()) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	body := l.body
	if acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		body = l.gz
	}
	writeBody(w, http.StatusOK, body)
	return nil
}

// etagMatch reports whether an If-None-Match header names etag (or *);
// weak tags match too, as RFC 9110 says for If-None-Match.
func etagMatch(header, etag string) bool {
	for _, part := range strings.Split(header, ",") {
		part = strings.TrimPrefix(strings.TrimSpace(part), "W/")
		if part == etag || part == "*" {
			return true
		}
	}
	return false
}

// placeSeats finishes the layout of a venue whose blocks the builder
// placed (boxoffice.Placement): doc.X and doc.Y hold each seat's cell
// around the venue's origin, the stage or pitch. It finds the stage (the
// largest box about the origin, shaped like the venue, that no seat
// enters; a band above the seats when the origin is among them), shifts
// everything to start at the map's margin and sets each section's box
// (its seats' bounds, its label above) and the map's size.
func placeSeats(doc *layoutJSON) {
	minX, minY, maxX, maxY := math.MaxInt, math.MaxInt, math.MinInt, math.MinInt
	ax, ay := 1, 1 // the seats' extent about the origin
	for i := range doc.X {
		x, y := doc.X[i], doc.Y[i]
		minX, minY, maxX, maxY = min(minX, x), min(minY, y), max(maxX, x), max(maxY, y)
		ax, ay = max(ax, abs(x)), max(ay, abs(y))
	}
	if len(doc.X) == 0 {
		minX, minY, maxX, maxY = 0, 0, 0, 0
	}
	t := math.Inf(1) // the free box about the origin is t*ax by t*ay either side
	for i := range doc.X {
		t = min(t, max(float64(abs(doc.X[i]))/float64(ax), float64(abs(doc.Y[i]))/float64(ay)))
	}
	hw, hh := int(t*float64(ax))-layoutGap, int(t*float64(ay))-layoutGap
	if hw >= 2 && hh >= 2 {
		doc.Stage = layoutRect{X: -hw, Y: -hh, Width: 2*hw + 1, Height: 2*hh + 1}
	} else {
		w := max(1, (maxX-minX)/2)
		doc.Stage = layoutRect{X: (minX + maxX - w) / 2, Y: minY - layoutLabel - layoutGap - layoutStage, Width: w, Height: layoutStage}
	}
	// Shift: the stage and every block's label inside the map.
	dx := layoutGap - min(minX, doc.Stage.X)
	dy := layoutLabel + layoutGap - min(minY, doc.Stage.Y)
	for i := range doc.X {
		doc.X[i] += dx
		doc.Y[i] += dy
	}
	doc.Stage.X += dx
	doc.Stage.Y += dy
	doc.Width = max(maxX+dx, doc.Stage.X+doc.Stage.Width-1) + layoutGap + 1
	doc.Height = max(maxY+dy, doc.Stage.Y+doc.Stage.Height-1) + layoutGap + 1
	for k := range doc.Sections {
		sec := &doc.Sections[k]
		first, n := sectionSpan(*sec)
		if n == 0 {
			continue
		}
		x0, y0, x1, y1 := doc.X[first], doc.Y[first], doc.X[first], doc.Y[first]
		for i := first; i < first+n; i++ {
			x0, y0, x1, y1 = min(x0, doc.X[i]), min(y0, doc.Y[i]), max(x1, doc.X[i]), max(y1, doc.Y[i])
		}
		sec.layoutRect = layoutRect{X: x0, Y: y0, Width: x1 - x0 + 1, Height: y1 - y0 + 1}
	}
}

// sectionSpan is a layout section's run of seat indexes.
func sectionSpan(s layoutSection) (first, n int) {
	if s.Standing != nil {
		return s.Standing.First, s.Standing.Capacity
	}
	if len(s.Rows) == 0 {
		return 0, 0
	}
	last := s.Rows[len(s.Rows)-1]
	return s.Rows[0].First, last.First + last.Seats - s.Rows[0].First
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
