package main

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/seatmap"
	"github.com/boxoffice/boxoffice/persistence"
)

// seatHolder is who has a seat during the journal replay.
type seatHolder struct {
	booking uuid.UUID
	sold    bool
}

// replay is the state of one event's seats while check reads its journal.
type replay struct {
	event uuid.UUID
	next  uint64 // the version the next record must have
	seats map[int32]seatHolder
}

// journal replays every event's journal in version order, as an event
// actor would on recovery, and checks that the versions run 1, 2, 3, ...
// (I5), that no record takes a seat another booking has (I1), and that
// every acknowledged hold and sale has its record (I2), a hold's with the
// tickets its reply named (ackedTickets).
func (a *audit) journal(ctx context.Context, db persistence.Querier) error {
	var (
		cur  *replay
		held = map[uuid.UUID]bool{}
		live = map[uuid.UUID]liveHold{} // holds live at the journal's end
		sold = map[uuid.UUID]bool{}
		// heldSeats are the acknowledged holds' records (ackedTickets).
		heldSeats = map[uuid.UUID]heldAt{}
	)
	err := persistence.NewAudit(db).Journal(ctx, func(ev uuid.UUID, version int64, data []byte) error {
		if cur == nil || cur.event != ev {
			cur = &replay{event: ev, next: 1, seats: map[int32]seatHolder{}}
		}
		if uint64(version) != cur.next {
			a.add(kindVersionGap, "event %s journal jumps from version %d to %d", ev, cur.next-1, version)
		}
		cur.next = uint64(version) + 1
		r, err := seatmap.UnmarshalRecord(data)
		if err != nil {
			a.add(kindBadRecord, "event %s version %d: %v", ev, version, err)
			return nil
		}
		if r.Version != uint64(version) {
			a.add(kindVersionGap, "event %s row version %d holds a record of version %d", ev, version, r.Version)
		}
		if _, ok := a.holds[r.Booking]; ok && r.Kind == seatmap.KindHeld {
			held[r.Booking] = true
			heldSeats[r.Booking] = heldAt{event: ev, seats: slices.Clone(r.Seats)}
		}
		if _, ok := a.sales[r.Booking]; ok && r.Kind == seatmap.KindSold {
			sold[r.Booking] = true
		}
		a.apply(cur, r)
		switch r.Kind {
		case seatmap.KindHeld:
			live[r.Booking] = liveHold{event: ev, version: r.Version}
		case seatmap.KindReleased, seatmap.KindExpired, seatmap.KindSold:
			delete(live, r.Booking)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := a.projectionCovers(ctx, db, live); err != nil {
		return err
	}
	if err := a.ackedTickets(ctx, db, heldSeats); err != nil {
		return err
	}
	for id, s := range a.holds {
		if !held[id] {
			a.add(kindLostAck, "hold %s was acknowledged at %s but the journal has no SeatsHeld record for it", id, s.At.Format(time.RFC3339Nano))
		}
	}
	for id, s := range a.sales {
		if !sold[id] {
			a.add(kindLostAck, "sale of booking %s was acknowledged at %s but the journal has no SeatsSold record for it", id, s.At.Format(time.RFC3339Nano))
		}
	}
	return nil
}

// apply plays one record on the event's seats and reports a seat taken
// from another booking.
func (a *audit) apply(ev *replay, r seatmap.Record) {
	for _, seat := range r.Seats {
		h, taken := ev.seats[seat]
		other := taken && h.booking != r.Booking
		switch r.Kind {
		case seatmap.KindHeld:
			if other {
				a.add(kindDoubleBooking, "event %s version %d holds seat %d for booking %s while booking %s has it (sold: %t)",
					ev.event, r.Version, seat, r.Booking, h.booking, h.sold)
				continue
			}
			ev.seats[seat] = seatHolder{booking: r.Booking}
		case seatmap.KindReleased, seatmap.KindExpired:
			if taken && !other && !h.sold {
				delete(ev.seats, seat)
			} else {
				a.add(kindDoubleBooking, "event %s version %d frees seat %d of booking %s, which does not hold it",
					ev.event, r.Version, seat, r.Booking)
			}
		case seatmap.KindSold:
			if other && h.sold {
				a.add(kindDoubleSale, "event %s version %d sells seat %d to booking %s, already sold to booking %s",
					ev.event, r.Version, seat, r.Booking, h.booking)
				continue
			}
			if !taken || other {
				a.add(kindDoubleBooking, "event %s version %d sells seat %d to booking %s, which does not hold it",
					ev.event, r.Version, seat, r.Booking)
			}
			ev.seats[seat] = seatHolder{booking: r.Booking, sold: true}
		case seatmap.KindRefunded:
			// A refund ends the booking's sale: the seat may be sold again.
			if taken && !other && h.sold {
				delete(ev.seats, seat)
			} else {
				a.add(kindBadRefund, "event %s version %d refunds seat %d of booking %s, which did not buy it",
					ev.event, r.Version, seat, r.Booking)
			}
		}
	}
}

// kindProjectionLost: a hold live in the journal, covered by its event's
// bookings projection watermark, is not in bookings as in-progress.
const kindProjectionLost = "projection_lost"

// liveHold is a hold the journal leaves live: its event and version.
type liveHold struct {
	event   uuid.UUID
	version uint64
}

// projectionCovers: every hold live at the journal's end whose version its
// event's bookings projection watermark covers is in bookings, in
// progress. Holds after the watermark may lag (the projection is written
// behind the journal), and ended holds may never have been written.
func (a *audit) projectionCovers(ctx context.Context, db persistence.Querier, live map[uuid.UUID]liveHold) error {
	marks, err := persistence.NewAudit(db).ProjectionWatermarks(ctx)
	if err != nil || len(marks) == 0 {
		return err
	}
	var ids []uuid.UUID
	for id, h := range live {
		if h.version <= marks[h.event] {
			ids = append(ids, id)
		}
	}
	status, err := persistence.NewAudit(db).BookingStatuses(ctx, ids)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if st := status[id]; st != string(boxoffice.BookingInProgress) {
			h := live[id]
			a.add(kindProjectionLost, "event %s hold %s (version %d) is live in the journal and under the projection's watermark %d, but bookings has it as %q",
				h.event, id, h.version, marks[h.event], st)
		}
	}
	return nil
}
