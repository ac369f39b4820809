package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/singleflight"

	"github.com/boxoffice/boxoffice"
)

// eventCache keeps the catalog half of events in memory: the event alone
// (what reserve and the WebSocket need) or with venue, performer and
// pre-rendered tickets (what GET /events/{eventId} needs). Reads are ~100x
// writes and catalog data changes rarely, so entries live for a TTL, are
// refreshed by one loader per event at a time, and are served stale while
// the store is unavailable.
type eventCache struct {
	catalog Catalog
	ttl     time.Duration
	max     int
	timeout time.Duration
	now     func() time.Time
	group   singleflight.Group

	mu      sync.Mutex // guards entries
	entries map[uuid.UUID]*catalogEntry
}

// catalogEntry is immutable once published, except for the render cache
// inside view.
type catalogEntry struct {
	event  boxoffice.Event
	view   *eventView // nil when only the event was loaded
	loaded time.Time
}

func newEventCache(c Catalog, ttl time.Duration, max int, timeout time.Duration) *eventCache {
	return &eventCache{catalog: c, ttl: ttl, max: max, timeout: timeout, now: time.Now,
		entries: make(map[uuid.UUID]*catalogEntry)}
}

// event returns the event, or not_found.
func (c *eventCache) event(ctx context.Context, id uuid.UUID) (boxoffice.Event, error) {
	e, err := c.get(ctx, id, false)
	if err != nil {
		return boxoffice.Event{}, err
	}
	return e.event, nil
}

// get returns id's entry, with its view when full is set.
func (c *eventCache) get(ctx context.Context, id uuid.UUID, full bool) (*catalogEntry, error) {
	c.mu.Lock()
	old := c.entries[id]
	c.mu.Unlock()
	usable := old != nil && (!full || old.view != nil)
	if usable && c.now().Sub(old.loaded) < c.ttl {
		return old, nil
	}
	key := id.String()
	if full {
		key += "/full"
	}
	// One load per event at a time, detached from the first caller's
	// cancellation so that its departure does not fail the others.
	v, err, _ := c.group.Do(key, func() (any, error) {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
		defer cancel()
		return c.load(lctx, id, full, old)
	})
	if err == nil {
		return v.(*catalogEntry), nil
	}
	switch code := boxoffice.ErrorCode(err); {
	case code == boxoffice.ENotFound:
		c.forget(id)
	case usable && (code == boxoffice.EUnavailable || code == boxoffice.EInternal):
		return old, nil // stale beats failing while the store is down
	}
	return nil, err
}

// load reads the entry from the catalog and publishes it.
func (c *eventCache) load(ctx context.Context, id uuid.UUID, full bool, old *catalogEntry) (*catalogEntry, error) {
	ev, err := c.catalog.Event(ctx, id)
	if err != nil {
		return nil, err
	}
	e := &catalogEntry{event: ev, loaded: c.now()}
	switch {
	case old != nil && old.view != nil && reflect.DeepEqual(old.event, ev):
		// Venue, performer and tickets never change under an event, so
		// an unchanged event keeps its view and render cache: a refresh
		// costs one row, not the tickets of a stadium.
		e.view = old.view
	case full:
		if e.view, err = c.loadView(ctx, ev); err != nil {
			return nil, err
		}
		if old != nil && old.view != nil {
			e.view.fallback = old.view.lastBody()
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cur := c.entries[id]; cur == nil && len(c.entries) >= c.max {
		c.evictOldest()
	}
	c.entries[id] = e
	return e, nil
}

func (c *eventCache) loadView(ctx context.Context, ev boxoffice.Event) (*eventView, error) {
	venue, err := c.catalog.Venue(ctx, ev.VenueID)
	if err != nil {
		return nil, fmt.Errorf("venue of event %s: %w", ev.ID, err)
	}
	perf, err := c.catalog.Performer(ctx, ev.PerformerID)
	if err != nil {
		return nil, fmt.Errorf("performer of event %s: %w", ev.ID, err)
	}
	tickets, err := c.catalog.Tickets(ctx, ev.ID)
	if err != nil {
		return nil, fmt.Errorf("tickets of event %s: %w", ev.ID, err)
	}
	return newEventView(ev, venue, perf, tickets)
}

func (c *eventCache) evictOldest() {
	var oldest uuid.UUID
	var at time.Time
	for id, e := range c.entries {
		if at.IsZero() || e.loaded.Before(at) {
			oldest, at = id, e.loaded
		}
	}
	delete(c.entries, oldest)
}

// forget drops an event, after a PATCH through this node or when the
// catalog says it is gone.
func (c *eventCache) forget(id uuid.UUID) {
	c.mu.Lock()
	delete(c.entries, id)
	c.mu.Unlock()
}

// eventView is GET /events/{eventId} pre-rendered: everything but the
// statuses and the version is encoded once per catalog load, and the last
// full body is kept per seat version, so a hot event is rendered once per
// change however many people look at it.
type eventView struct {
	event    boxoffice.Event // for the status at each render
	headPre  []byte          // {"event":{...,"status":"
	head     []byte          // ",...,"venue":...,"performer":...,"tickets":[
	prefixes []byte          // each ticket's JSON up to its status value
	ends     []int32         // end of ticket i's prefix in prefixes
	fallback []byte          // the previous entry's last body, for engine outages
	layout   *layoutSource   // GET /events/{eventId}/layout, built on first use
	avail    availability    // GET /events/{eventId}/availability, per version

	// standing is the venue's standing sections, shown with places left.
	standing []boxoffice.StandingArea

	mu       sync.Mutex // guards the fields below; held while rendering
	version  uint64
	status   boxoffice.EventStatus // of body; time moves it without a version
	body     []byte
	at       time.Time // when body was rendered
	gz       []byte    // body gzipped, made on the first request that accepts it
	gzFailed bool
}

// touch makes the next read ask the seat engine again, so that a caller
// who just changed the event through this node reads its own write.
func (c *eventCache) touch(id uuid.UUID) {
	c.mu.Lock()
	e := c.entries[id]
	c.mu.Unlock()
	if e != nil && e.view != nil {
		e.view.mu.Lock()
		e.view.at = time.Time{}
		e.view.mu.Unlock()
	}
}

// fresh returns the body rendered within maxAge, and its gzipped form when
// wantGzip, so that a burst of reads of a hot event costs neither a call to
// the seat engine nor a render: the body is exactly the state at its own
// "version", only up to maxAge old; WebSocket deltas carry what is newer.
func (v *eventView) fresh(maxAge time.Duration, wantGzip bool) (body []byte, gzipped bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.body == nil || time.Since(v.at) > maxAge {
		return nil, false
	}
	return v.encoded(wantGzip)
}

// encoded returns the current body, gzipped if asked and possible. The
// caller holds mu.
func (v *eventView) encoded(wantGzip bool) ([]byte, bool) {
	if !wantGzip || v.gzFailed {
		return v.body, false
	}
	if v.gz == nil {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		if _, err := zw.Write(v.body); err != nil || zw.Close() != nil {
			v.gzFailed = true
			return v.body, false
		}
		v.gz = buf.Bytes()
	}
	return v.gz, true
}

func newEventView(ev boxoffice.Event, v boxoffice.Venue, p boxoffice.Performer, ts []boxoffice.Ticket) (*eventView, error) {
	head, err := json.Marshal(struct {
		Event     eventJSON     `json:"event"`
		Venue     venueJSON     `json:"venue"`
		Performer performerJSON `json:"performer"`
	}{renderEvent(ev, time.Time{}), renderVenue(v, false), renderPerformer(p)})
	if err != nil {
		return nil, fmt.Errorf("render event %s: %w", ev.ID, err)
	}
	// The status is the event object's last field; each render puts the
	// current one between headPre and head. Inside JSON strings a quote is
	// escaped, so the first unescaped match is the field.
	mark := []byte(`"status":"`)
	at := bytes.Index(head, mark)
	if at < 0 {
		return nil, fmt.Errorf("render event %s: no status field", ev.ID)
	}
	at += len(mark)
	end := at + bytes.IndexByte(head[at:], '"')
	view := &eventView{event: ev, headPre: head[:at:at], head: append(head[end:len(head)-1:len(head)-1], `,"tickets":[`...),
		ends: make([]int32, len(ts)), layout: &layoutSource{event: ev, seats: v.SeatMap}, standing: v.SeatMap.StandingAreas()}
	quoted := map[string][]byte{} // section and row names repeat; escape each once
	quote := func(s string) []byte {
		if q, ok := quoted[s]; ok {
			return q
		}
		q, _ := json.Marshal(s)
		quoted[s] = q
		return q
	}
	access := seatAccess(v.SeatMap)
	buf := make([]byte, 0, len(ts)*170)
	for i, t := range ts {
		buf = append(buf, `{"ticket_id":"`...)
		buf = append(buf, t.ID.String()...)
		buf = append(buf, `","section":`...)
		buf = append(buf, quote(t.Section)...)
		buf = append(buf, `,"row":`...)
		buf = append(buf, quote(t.Row)...)
		buf = append(buf, `,"seat":`...)
		buf = strconv.AppendInt(buf, int64(t.Seat), 10)
		buf = append(buf, `,"price":"`...)
		buf = append(buf, t.Price.String()...)
		buf = append(buf, `","currency":`...)
		buf = append(buf, quote(t.Currency)...)
		if a := access[t.Index]; a != "" { // h19access: a wheelchair space or companion seat
			buf = append(buf, `,"access":`...)
			buf = append(buf, quote(a)...)
		}
		buf = append(buf, `,"status":"`...)
		view.ends[i] = int32(len(buf))
	}
	view.prefixes = buf
	return view, nil
}

// seatAccess maps the flat index of each wheelchair space and companion
// seat of m to its access kind (h19access); the stored tickets do not
// carry it, the venue does.
func seatAccess(m boxoffice.SeatMap) map[int]string {
	out := map[int]string{}
	for _, r := range m.RowSpans() {
		for _, w := range r.Wheelchair {
			out[r.First+w-1] = boxoffice.AccessWheelchair
		}
		for _, c := range r.Companion {
			out[r.First+c-1] = boxoffice.AccessCompanion
		}
	}
	return out
}

// render returns the body for seats, rendering it only when the version
// moved since the last call.
func (v *eventView) render(seats boxoffice.SeatsView) ([]byte, bool, error) {
	if len(seats.Statuses) != len(v.ends) {
		return nil, false, fmt.Errorf("event %s: seat engine has %d seats, catalog %d tickets",
			seats.EventID, len(seats.Statuses), len(v.ends))
	}
	available := 0
	for _, st := range seats.Statuses {
		if st == boxoffice.SeatAvailable {
			available++
		}
	}
	status := v.event.StatusAt(time.Now(), available)
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.body != nil && v.version == seats.Version && v.status == status {
		v.at = time.Now()
		return v.body, false, nil
	}
	buf := make([]byte, 0, len(v.headPre)+len(v.head)+len(v.prefixes)+len(v.ends)*13+48)
	buf = append(buf, v.headPre...)
	buf = append(buf, status...)
	buf = append(buf, v.head...)
	start := int32(0)
	for i, end := range v.ends {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, v.prefixes[start:end]...)
		buf = append(buf, seats.Statuses[i].String()...)
		buf = append(buf, `"}`...)
		start = end
	}
	buf = append(buf, ']')
	buf = appendStanding(buf, v.standing, seats.Statuses)
	buf = append(buf, `,"version":`...)
	buf = strconv.AppendUint(buf, seats.Version, 10)
	buf = append(buf, '}')
	v.version, v.status, v.body, v.at, v.gz, v.gzFailed = seats.Version, status, buf, time.Now(), nil, false
	return buf, true, nil
}

// renderHead renders the body without tickets ("tickets": []) at seats'
// version; it is small, so it is not kept.
func (v *eventView) renderHead(seats boxoffice.SeatsView) []byte {
	available := 0
	for _, st := range seats.Statuses {
		if st == boxoffice.SeatAvailable {
			available++
		}
	}
	status := v.event.StatusAt(time.Now(), available)
	buf := make([]byte, 0, len(v.headPre)+len(v.head)+48)
	buf = append(buf, v.headPre...)
	buf = append(buf, status...)
	buf = append(buf, v.head...)
	buf = append(buf, ']')
	buf = appendStanding(buf, v.standing, seats.Statuses)
	buf = append(buf, `,"version":`...)
	buf = strconv.AppendUint(buf, seats.Version, 10)
	return append(buf, '}')
}

// lastBody is the newest body rendered, or the fallback carried over from
// the previous catalog load; nil when there is none.
func (v *eventView) lastBody() []byte {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.body != nil {
		return v.body
	}
	return v.fallback
}

// ForgetEvent drops this node's cached copy of an event, so that the next
// request reads it afresh. A PATCH forgets it only on the node that served
// it; cmd calls this on every node when the catalog stream says the event
// changed, so that a waiting room switched on binds reserve everywhere
// within the stream's delay rather than after CatalogTTL.
func (s *Server) ForgetEvent(id uuid.UUID) { s.events.forget(id) }
