package actors

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/seatmap"
)

// localBooking returns a booking from this node's projector (the rows its
// grains committed that the bookings table may not show yet), else from
// PostgreSQL: exact for every booking whose event's grain committed on this
// node, and for every booking when the bookings of holds are written in the
// journal's commit (Config.BookingsWindow zero). Booking uses it for IDs
// that name no event.
func (e *Engine) localBooking(ctx context.Context, id uuid.UUID) (boxoffice.Booking, error) {
	if e.proj != nil {
		if b, ok := e.proj.lookup(id); ok {
			return b, nil
		}
	}
	b, err := e.deps.Store.Booking(ctx, id)
	if e.behind() && errors.Is(err, boxoffice.ErrNotFound) {
		// The row may be in the write that is in flight right now.
		e.proj.sync(ctx)
		if b, ok := e.proj.lookup(id); ok {
			return b, nil
		}
		return e.deps.Store.Booking(ctx, id)
	}
	return b, err
}

// behind reports whether the bookings of holds are written behind the
// journal (Config.BookingsWindow).
func (e *Engine) behind() bool { return e.proj != nil && e.cfg.BookingsWindow > 0 }

// ProjectionStats reports the bookings projection's work and lag; zero
// when the projection is off.
func (e *Engine) ProjectionStats() ProjectionStats {
	if e.proj == nil {
		return ProjectionStats{}
	}
	return e.proj.snapshot()
}

// SyncProjection writes the bookings pending on this node now and returns
// once that write ended (or ctx did).
func (e *Engine) SyncProjection(ctx context.Context) {
	if e.proj != nil {
		e.proj.sync(ctx)
	}
}

// projected reports whether a booking row of this status goes to the
// projection rather than into the journal's commit: the states of a hold.
// A sale, a refund and a payment's failure stay synchronous (I1, I2).
func (g *grain) projected(b *boxoffice.Booking, sale *boxoffice.Sale) bool {
	if !g.e.behind() || sale != nil {
		return false
	}
	switch b.Status {
	case boxoffice.BookingInProgress, boxoffice.BookingCancelled, boxoffice.BookingExpired:
		return true
	}
	return false
}

// watermark is an event's bookings projection watermark as an activation
// read it; ok is false when the event has none.
type watermark struct {
	version uint64
	ok      bool
}

// catchUp hands the projector the bookings of every record after the
// event's projection watermark: what a crash lost between the journal's
// commit and the projection's write. It runs at activation, after the
// seat map is rebuilt (the map gives the rows their tickets and prices).
// wm is the watermark a batched activation read, nil to read it now.
func (g *grain) catchUp(ctx context.Context, wm *watermark) error {
	if g.e.proj == nil {
		return nil
	}
	if wm == nil {
		from, ok, err := g.e.deps.Projection.ProjectionWatermark(ctx, g.eventID)
		if err != nil {
			return err
		}
		wm = &watermark{version: from, ok: ok}
	}
	from, ok := wm.version, wm.ok
	if from >= g.committed || (!ok && !g.e.behind()) {
		return nil // caught up, or never projected: every row is synchronous
	}
	var rows []projRow
	err := g.e.deps.Store.ReadJournal(ctx, g.eventID, from, func(en boxoffice.Entry) error {
		if en.Version > g.committed {
			return nil
		}
		r, err := seatmap.UnmarshalRecord(en.Record)
		if err != nil {
			return fmt.Errorf("journal v%d: %w", en.Version, err)
		}
		if row, ok := g.recordRow(r); ok {
			rows = append(rows, row)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("catch up bookings projection: %w", err)
	}
	g.e.proj.add(g.eventID, g.committed, rows, nil)
	if len(rows) > 0 {
		g.log.Info("bookings projection caught up from the journal", "event", g.eventID,
			"from", from, "to", g.committed, "rows", len(rows))
	}
	return nil
}

// recordRow is the projected booking row a journal record leads to, as
// the grain staged it when the record was made (times aside: a caught-up
// row is updated now, and a hold's creation is its expiry less the TTL).
func (g *grain) recordRow(r seatmap.Record) (projRow, bool) {
	var st boxoffice.BookingStatus
	switch r.Kind {
	case seatmap.KindHeld, seatmap.KindExtended:
		st = boxoffice.BookingInProgress
	case seatmap.KindReleased:
		st = boxoffice.BookingCancelled
	case seatmap.KindExpired:
		st = boxoffice.BookingExpired
	default:
		return projRow{}, false
	}
	b := g.bookingRow(holdInfo(r), st)
	switch r.Kind {
	case seatmap.KindHeld:
		b.CreatedAt = b.ExpiresAt.Add(-g.e.cfg.HoldTTL)
	case seatmap.KindExpired:
		// The record does not say when it was made; the grain makes it
		// within a tick of the expiry. Now would read as a late expiry
		// (I3) to `boxoffice check` after every crash.
		b.UpdatedAt = b.ExpiresAt
	}
	// Never fresh: an old owner's projector may still write the hold, so
	// its end must be written too.
	return projRow{row: boxoffice.ProjectedBooking{Booking: *b, Version: r.Version}}, true
}

// pendingCreatedAt is the creation time of a booking pending in the
// projector (zero if none), for a synchronous row of a hold not written yet.
func (g *grain) pendingCreatedAt(id uuid.UUID) time.Time {
	if g.e.proj == nil {
		return time.Time{}
	}
	b, _ := g.e.proj.lookup(id)
	return b.CreatedAt
}
