package actors

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// projector writes the bookings of holds (held, released, expired, moved)
// behind the journal: the grain hands it a commit's rows once the commit is
// durable, and every BookingsWindow it writes what is pending in one
// transaction with the events' watermarks (the journal version each event
// is reflected up to). Rows of one booking coalesce while pending: a hold
// that ends within the window is never written at all, so a hold costs no
// PostgreSQL row on the path its reply waits for, and usually none later.
// What is pending is lost with the process; the journal is not: the next
// activation of the event replays the journal after its watermark
// (grain.catchUp). A row is written once it has been pending for the
// window (checked four times a window), so the lag is bounded by 1.25
// windows plus one write.
type projector struct {
	store   boxoffice.BookingProjection
	window  time.Duration
	timeout time.Duration
	log     *slog.Logger
	// before, when set, runs before each write; an error leaves the rows
	// pending (tests stop the projector after the journal commit with it).
	before func() error

	mu      sync.Mutex
	pending map[uuid.UUID]*projEntry
	// flying are the rows of the write in progress (taken out of pending,
	// not committed yet): lookup still answers them, so that a booking
	// this node's grains committed is always found here or in the table.
	flying  map[uuid.UUID]*projEntry
	marks   map[uuid.UUID]uint64
	stats   ProjectionStats
	lags    []time.Duration // the latest lags, a ring of maxLagSamples
	lagNext int
	// ended are the latest holds coalesced away (never written), a ring
	// of maxEnded: lookup still answers how they ended, so a confirm or
	// release just after a release is 409, not 404, on this node.
	ended     map[uuid.UUID]boxoffice.Booking
	endedRing []uuid.UUID
	endedNext int

	kick chan chan struct{}
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// projEntry is one booking's pending row. fresh: the booking has no row
// yet (the entry began with its hold), so its end can drop it.
type projEntry struct {
	row   boxoffice.ProjectedBooking
	fresh bool
	since time.Time
	// stale: a synchronous row (a sale) superseded it while it was flying
	// (set under p.mu; the write itself leaves the newer row as it is).
	stale bool
}

// ProjectionStats counts the projector's work: rows written, rows dropped
// by coalescing, writes that failed, and the lag from a hold's durable
// commit to its row's commit (percentiles over the latest samples).
type ProjectionStats struct {
	Written, Coalesced, Failed, Writes uint64
	LagP50, LagP99, LagMax             time.Duration
}

const (
	maxLagSamples = 1 << 16
	maxEnded      = 1 << 16
)

func newProjector(store boxoffice.BookingProjection, window, timeout time.Duration, log *slog.Logger, before func() error) *projector {
	p := &projector{
		store: store, window: window, timeout: timeout, log: log, before: before,
		pending: map[uuid.UUID]*projEntry{}, marks: map[uuid.UUID]uint64{}, ended: map[uuid.UUID]boxoffice.Booking{},
		kick: make(chan chan struct{}), stop: make(chan struct{}), done: make(chan struct{}),
	}
	go p.run()
	return p
}

// final reports whether a row ends its hold without a sale.
func final(s boxoffice.BookingStatus) bool {
	return s == boxoffice.BookingCancelled || s == boxoffice.BookingExpired
}

// add takes a durable commit's rows (in version order) and the event's
// committed version; written are the bookings the commit wrote itself (a
// sale): their pending hold rows are stale for lookups, and the table
// refuses them anyway (an older version).
func (p *projector) add(eventID uuid.UUID, version uint64, rows []projRow, written []boxoffice.Booking) {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range written {
		delete(p.pending, written[i].ID)
		if e, ok := p.flying[written[i].ID]; ok {
			e.stale = true
		}
	}
	for _, r := range rows {
		p.put(&projEntry{row: r.row, fresh: r.fresh, since: now})
	}
	if version > p.marks[eventID] {
		p.marks[eventID] = version
	}
}

// put merges one entry into pending (p.mu held): a later row replaces an
// earlier one, keeps its creation time and freshness, and a fresh hold
// that ended is dropped.
func (p *projector) put(e *projEntry) {
	cur, ok := p.pending[e.row.ID]
	if !ok {
		p.pending[e.row.ID] = e
		return
	}
	if e.row.Version < cur.row.Version {
		cur, e = e, cur // e is the newer one
	}
	if cur.fresh && final(e.row.Status) {
		delete(p.pending, e.row.ID)
		p.stats.Coalesced++
		p.remember(e.row.Booking, cur.row.CreatedAt)
		return
	}
	if e.row.CreatedAt.IsZero() {
		e.row.CreatedAt = cur.row.CreatedAt
	}
	e.fresh = e.fresh || cur.fresh
	if cur.since.Before(e.since) {
		e.since = cur.since
	}
	p.pending[e.row.ID] = e
}

// remember keeps a coalesced-away hold's end for lookup (p.mu held).
func (p *projector) remember(b boxoffice.Booking, created time.Time) {
	if b.CreatedAt.IsZero() {
		b.CreatedAt = created
	}
	if len(p.endedRing) < maxEnded {
		p.endedRing = append(p.endedRing, b.ID)
	} else {
		delete(p.ended, p.endedRing[p.endedNext])
		p.endedRing[p.endedNext] = b.ID
		p.endedNext = (p.endedNext + 1) % maxEnded
	}
	p.ended[b.ID] = b
}

// lookup is a pending row of a booking, if any: the state the grain
// committed and the table may not show yet (or a recent hold's end that
// it never will).
func (p *projector) lookup(id uuid.UUID) (boxoffice.Booking, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.pending[id]
	if !ok {
		if e, ok = p.flying[id]; ok && e.stale {
			ok = false
		}
	}
	if !ok {
		b, ok := p.ended[id]
		b.TicketIDs = slices.Clone(b.TicketIDs)
		return b, ok
	}
	b := e.row.Booking
	b.TicketIDs = slices.Clone(b.TicketIDs)
	return b, true
}

func (p *projector) run() {
	defer close(p.done)
	t := time.NewTicker(max(p.window/4, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-t.C:
			p.flush(false)
		case ack := <-p.kick:
			p.flush(true)
			close(ack)
		case <-p.stop:
			p.flush(true)
			return
		}
	}
}

// sync writes what is pending now and returns once that write ended.
func (p *projector) sync(ctx context.Context) {
	ack := make(chan struct{})
	select {
	case p.kick <- ack:
	case <-p.done:
		return
	case <-ctx.Done():
		return
	}
	select {
	case <-ack:
	case <-ctx.Done():
	}
}

// close writes what is pending (best effort) and stops the projector.
func (p *projector) close() {
	p.once.Do(func() { close(p.stop) })
	<-p.done
}

// flush writes in one transaction the rows pending for a window or longer
// (all of them when all is set), with the watermarks they allow; on
// failure the rows go back to pending, merged with what came in meanwhile.
// A younger row waits for the next tick, so a hold that ends within the
// window of its commit is never written. An event's watermark stops short
// of its oldest row still pending: everything up to it is in the table.
func (p *projector) flush(all bool) {
	cut := time.Now().Add(-p.window)
	p.mu.Lock()
	if len(p.pending) == 0 && len(p.marks) == 0 {
		p.mu.Unlock()
		return
	}
	var pending map[uuid.UUID]*projEntry
	marks := p.marks
	if all {
		pending = p.pending
		p.pending = map[uuid.UUID]*projEntry{}
		p.marks = map[uuid.UUID]uint64{}
	} else {
		pending = map[uuid.UUID]*projEntry{}
		below := map[uuid.UUID]uint64{} // per event: the oldest version kept pending
		for id, e := range p.pending {
			if e.since.After(cut) {
				if v, ok := below[e.row.EventID]; !ok || e.row.Version < v {
					below[e.row.EventID] = e.row.Version
				}
				continue
			}
			pending[id] = e
			delete(p.pending, id)
		}
		p.marks = map[uuid.UUID]uint64{}
		for ev, v := range below {
			if m, ok := marks[ev]; ok && m >= v {
				p.marks[ev] = m // still to be reached
				marks[ev] = v - 1
			}
		}
	}
	p.flying = pending
	p.mu.Unlock()

	rows := make([]boxoffice.ProjectedBooking, 0, len(pending))
	for _, e := range pending {
		rows = append(rows, e.row)
	}
	ms := make([]boxoffice.ProjectionMark, 0, len(marks))
	for id, v := range marks {
		ms = append(ms, boxoffice.ProjectionMark{EventID: id, Version: v})
	}
	var err error
	if p.before != nil {
		err = p.before()
	}
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
		err = p.store.ProjectBookings(ctx, rows, ms)
		cancel()
	}
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.flying = nil
	if err != nil {
		p.stats.Failed++
		p.log.Warn("bookings projection write failed; retrying at the next window", "rows", len(rows), "err", err)
		for _, e := range pending {
			if !e.stale {
				p.put(e)
			}
		}
		for id, v := range marks {
			if v > p.marks[id] {
				p.marks[id] = v
			}
		}
		return
	}
	p.stats.Writes++
	p.stats.Written += uint64(len(rows))
	for _, e := range pending {
		p.sample(now.Sub(e.since))
	}
}

func (p *projector) sample(d time.Duration) {
	if len(p.lags) < maxLagSamples {
		p.lags = append(p.lags, d)
		return
	}
	p.lags[p.lagNext] = d
	p.lagNext = (p.lagNext + 1) % maxLagSamples
}

func (p *projector) snapshot() ProjectionStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	if n := len(p.lags); n > 0 {
		l := slices.Clone(p.lags)
		slices.Sort(l)
		s.LagP50, s.LagP99, s.LagMax = l[n/2], l[min(n-1, n*99/100)], l[n-1]
	}
	return s
}

// projRow is a row staged for the projector: fresh when its record made
// the hold.
type projRow struct {
	row   boxoffice.ProjectedBooking
	fresh bool
}
