package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/boxoffice/boxoffice/persistence"
)

// violation is one broken invariant that check found.
type violation struct {
	Kind   string `json:"kind"`
	Detail string `json:"detail"`
}

// Violation kinds, one per invariant check audits (DESIGN.md "Invariants").
const (
	kindDoubleSale    = "double_sale"    // a seat sold to two bookings (I1)
	kindDoubleBooking = "double_booking" // a seat in two live bookings at once (I1)
	kindLostAck       = "lost_ack"       // an acknowledged hold or sale missing from PostgreSQL (I2)
	kindLostSale      = "lost_sale"      // a confirmed booking whose seats are not all in sold_seats (I1, I2)
	kindVersionGap    = "version_gap"    // an event's journal versions are not 1, 2, 3, ... (I5)
	kindLateExpiry    = "late_expiry"    // a hold outlived its expiry by more than a second (I3)
	kindLateMove      = "late_move"      // a hold whose event moved outlived its expiry by more than the move budget (I3)
	kindBadHistory    = "bad_history"    // the history itself is malformed
	kindBadRecord     = "bad_record"     // a journal record does not decode
	kindOverCapacity  = "over_capacity"  // a standing section with more places held and sold than its capacity, or a ticket past the venue (I1)
)

// expiryGrace is how long past its expiry a hold may still be honoured:
// expiry runs on a timer tick, not at the exact nanosecond.
const expiryGrace = time.Second

// defaultMoveBudget bounds how late, counted from its expiry, a hold may
// end when its event changed owner after the expiry (a node died or left
// with the event): the failure must be detected (SuspicionMult *
// ProbeInterval = 4 s with the default gossip timings), the dead member
// dropped from placement (DeadGrace, 2 s), and the new owner's sweeper
// (every second) must activate the event (snapshot and replay, under
// load). About 8 s with the defaults, twice that as the budget, so that
// a loaded machine does not fail a run while a sweeper that wakes
// hundreds of moved events one at a time (minutes) does.
const defaultMoveBudget = 15 * time.Second

// i3Figures summarises how late holds ended (I3), counted from their
// expiry, with the part spent while their event moved reported apart.
type i3Figures struct {
	Late     int           // holds that ended more than expiryGrace after their expiry
	MaxLate  time.Duration // the latest of them, from its expiry
	Moved    int           // of Late, those whose event changed owner after their expiry
	MaxMove  time.Duration // the longest time from such a hold's expiry to its event's new owner taking over
	MaxAfter time.Duration // the longest time from that takeover to the hold's end
}

func (f i3Figures) String() string {
	return fmt.Sprintf("%d hold(s) ended more than %s after their expiry (latest: %s after it); %d of them while their event moved "+
		"(expiry to new owner: up to %s; new owner to release: up to %s)",
		f.Late, expiryGrace, f.MaxLate.Round(time.Millisecond), f.Moved, f.MaxMove.Round(time.Millisecond), f.MaxAfter.Round(time.Millisecond))
}

// checkResult is what check found: the violations, and the I3 figures.
type checkResult struct {
	violations []violation
	i3         i3Figures
}

// cmdCheck audits a loadgen history against PostgreSQL's final state and
// reports every double sale, lost acknowledgement, version gap, late
// expiry, sale without its own charge and charge paying for two bookings,
// standing section over its capacity and acknowledged hold whose journal
// record holds other tickets than its reply named (changed_ack).
// It exits non-zero when it finds any.
func cmdCheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var history string
	moveBudget := defaultMoveBudget
	url, err := dbFlags("check", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&history, "history", "", "the JSON-lines history written by `boxoffice loadgen -history`")
		fs.DurationVar(&moveBudget, "move-budget", defaultMoveBudget,
			"how late, from its expiry, a hold may end when its event changed owner after the expiry")
	})
	if err != nil {
		return err
	}
	samples, err := readHistory(history)
	if err != nil {
		return err
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return err
	}
	defer pool.Close()
	res, err := checkWith(ctx, pool, samples, moveBudget)
	if err != nil {
		return err
	}
	vs := res.violations
	for _, v := range vs {
		fmt.Fprintf(stdout, "VIOLATION %s: %s\n", v.Kind, v.Detail)
	}
	fmt.Fprintf(stdout, "I3: %s\n", res.i3)
	fmt.Fprintf(stdout, "checked %d replies: %d violation(s)\n", len(samples), len(vs))
	if len(vs) > 0 {
		return fmt.Errorf("%d invariant violation(s)", len(vs))
	}
	return nil
}

func readHistory(path string) ([]sample, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	defer f.Close()
	var out []sample
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var s sample
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			return nil, fmt.Errorf("history line %d: %w", len(out)+1, err)
		}
		out = append(out, s)
	}
	return out, sc.Err()
}

// audit collects violations; each check method guards one invariant.
type audit struct {
	vs []violation
	// holds and sales are the acknowledged ones of the history: a reserve
	// answered 201 and a confirm answered 200, by booking.
	holds map[uuid.UUID]sample
	sales map[uuid.UUID]sample
	// refunds are the acknowledged refunds (answered 200), by booking;
	// refundedInDB are the acknowledged sales PostgreSQL has as refunded.
	refunds      map[uuid.UUID]sample
	refundedInDB map[uuid.UUID]bool
	// moveBudget bounds a late end after a move (kindLateMove).
	moveBudget time.Duration
	i3         i3Figures
}

func (a *audit) add(kind, format string, args ...any) {
	a.vs = append(a.vs, violation{kind, fmt.Sprintf(format, args...)})
}

// check runs every audit against the history and PostgreSQL's final state,
// with the default move budget.
func check(ctx context.Context, db persistence.Querier, samples []sample) ([]violation, error) {
	res, err := checkWith(ctx, db, samples, defaultMoveBudget)
	return res.violations, err
}

// checkWith runs every audit and returns the I3 figures too.
func checkWith(ctx context.Context, db persistence.Querier, samples []sample, moveBudget time.Duration) (checkResult, error) {
	a := &audit{holds: map[uuid.UUID]sample{}, sales: map[uuid.UUID]sample{}, refunds: map[uuid.UUID]sample{},
		refundedInDB: map[uuid.UUID]bool{}, moveBudget: moveBudget}
	a.indexHistory(samples)
	a.historySales()
	steps := []func(context.Context, persistence.Querier) error{
		a.ackedInBookings, a.historyLiveSales, a.liveBookingsDisjoint, a.salesInSoldSeats, a.journal, a.expiries,
		a.payments, a.withinCapacity,
		a.pricing, // h19price
	}
	for _, step := range steps {
		if err := step(ctx, db); err != nil {
			return checkResult{}, fmt.Errorf("check: %w", err)
		}
	}
	return checkResult{violations: a.vs, i3: a.i3}, nil
}

// indexHistory keeps the acknowledged holds and sales of the history.
func (a *audit) indexHistory(samples []sample) {
	for _, s := range samples {
		acked := s.Op == "reserve" && s.Status == 201 || s.Op == "confirm" && s.Status == 200 || s.Op == "refund" && s.Status == 200
		if !acked {
			continue
		}
		id, err := uuid.Parse(s.BookingID)
		if err != nil {
			a.add(kindBadHistory, "%s acknowledged at %s with booking id %q", s.Op, s.At.Format(time.RFC3339Nano), s.BookingID)
			continue
		}
		if s.Op == "refund" {
			a.refunds[id] = s
		} else if s.Op == "reserve" {
			a.holds[id] = s
		} else if prev, ok := a.sales[id]; !ok || s.At.Before(prev.At) {
			// The first acknowledged confirm: a retry after the sale is
			// answered 200 too, and may come after the hold's expiry.
			a.sales[id] = s
		}
	}
}

// historySales checks the sales the clients were told about: no sale of a
// hold whose expiry had passed when the confirm was sent (I3); I1 is
// historyLiveSales, which needs PostgreSQL's refunds.
func (a *audit) historySales() {
	for id, sale := range a.sales {
		hold, ok := a.holds[id]
		if !ok {
			continue // the hold's reply was not recorded; PostgreSQL still tells
		}
		if exp, err := time.Parse(time.RFC3339Nano, hold.ExpiresAt); err == nil && sale.At.After(exp.Add(expiryGrace)) {
			a.add(kindLateExpiry, "booking %s was sold on a confirm sent at %s, after its hold expired at %s",
				id, sale.At.Format(time.RFC3339Nano), hold.ExpiresAt)
		}
	}
}

// historyLiveSales checks I1 on the sales the clients were told about: a
// seat may be sold again once its sale was refunded (the refund
// acknowledged, or the booking refunded in PostgreSQL: a refund whose
// reply was lost still completes), but never has two sales that are not.
func (a *audit) historyLiveSales(context.Context, persistence.Querier) error {
	live := map[string][]uuid.UUID{} // event/ticket -> bookings sold it and not refunded
	for id := range a.sales {
		hold, ok := a.holds[id]
		_, acked := a.refunds[id]
		if !ok || acked || a.refundedInDB[id] {
			continue
		}
		for _, t := range hold.TicketIDs {
			key := hold.EventID + "/" + t
			live[key] = append(live[key], id)
		}
	}
	for key, ids := range live {
		if len(ids) > 1 {
			a.add(kindDoubleSale, "event/ticket %s was acknowledged as sold to bookings %s and %s, neither refunded", key, ids[0], ids[1])
		}
	}
	return nil
}

// ackedInBookings: every acknowledged hold and sale is in PostgreSQL's
// bookings, a sale as confirmed (I2).
func (a *audit) ackedInBookings(ctx context.Context, db persistence.Querier) error {
	ids := make([]uuid.UUID, 0, len(a.holds)+len(a.sales))
	for id := range a.holds {
		ids = append(ids, id)
	}
	for id := range a.sales {
		if _, dup := a.holds[id]; !dup {
			ids = append(ids, id)
		}
	}
	for id := range a.refunds {
		_, h := a.holds[id]
		if _, s := a.sales[id]; !h && !s {
			ids = append(ids, id)
		}
	}
	status, err := persistence.NewAudit(db).BookingStatuses(ctx, ids)
	if err != nil {
		return err
	}
	marks, err := persistence.NewAudit(db).ProjectionWatermarks(ctx)
	if err != nil {
		return err
	}
	for id, s := range a.holds {
		if ev, err := uuid.Parse(s.EventID); err == nil && marks[ev] > 0 {
			// The event's holds are projected behind the journal: a hold may
			// lag, or never be written if it ended within the window. The
			// journal step checks its record (I2), projectionCovers its row.
			continue
		}
		if _, ok := status[id]; !ok {
			a.add(kindLostAck, "hold %s was acknowledged at %s but the booking is not in PostgreSQL", id, s.At.Format(time.RFC3339Nano))
		}
	}
	for id, s := range a.sales {
		switch st, ok := status[id]; {
		case !ok:
			a.add(kindLostAck, "sale of booking %s was acknowledged at %s but the booking is not in PostgreSQL", id, s.At.Format(time.RFC3339Nano))
		case st == "refunded":
			a.refundedInDB[id] = true
		case st != "confirmed": // a refund ends a sale that was made
			a.add(kindLostAck, "sale of booking %s was acknowledged at %s but the booking is %s", id, s.At.Format(time.RFC3339Nano), st)
		}
	}
	for id, s := range a.refunds {
		if st := status[id]; st != "refunded" {
			a.add(kindLostAck, "refund of booking %s was acknowledged at %s but the booking is %q", id, s.At.Format(time.RFC3339Nano), st)
		}
	}
	return nil
}

// liveBookingsDisjoint: no ticket is in two live bookings (I1).
func (a *audit) liveBookingsDisjoint(ctx context.Context, db persistence.Querier) error {
	shared, err := persistence.NewAudit(db).SharedTickets(ctx)
	for _, s := range shared {
		a.add(kindDoubleBooking, "event %s ticket %s is in %d live bookings", s.EventID, s.TicketID, s.Bookings)
	}
	return err
}

// withinCapacity: no standing section has more places held and sold than
// its capacity, and no live booking has a ticket its event does not have
// (general admission; I1 for places).
func (a *audit) withinCapacity(ctx context.Context, db persistence.Querier) error {
	over, err := persistence.NewAudit(db).OverCapacity(ctx)
	for _, o := range over {
		if o.Section == "" {
			a.add(kindOverCapacity, "booking %s of event %s has ticket %s, which the event does not have", o.BookingID, o.EventID, o.TicketID)
		} else {
			a.add(kindOverCapacity, "event %s standing section %q has %d places held and sold, capacity %d", o.EventID, o.Section, o.Taken, o.Capacity)
		}
	}
	return err
}

// salesInSoldSeats: every seat of a confirmed booking is in sold_seats,
// sold to that booking (I1's last line of defence, I2 for the sale).
func (a *audit) salesInSoldSeats(ctx context.Context, db persistence.Querier) error {
	unsold, err := persistence.NewAudit(db).UnsoldSeats(ctx)
	for _, s := range unsold {
		if s.SoldTo == nil {
			a.add(kindLostSale, "booking %s is confirmed but event %s ticket %s is not in sold_seats", s.BookingID, s.EventID, s.TicketID)
		} else {
			a.add(kindDoubleSale, "booking %s is confirmed but event %s ticket %s is sold to booking %s", s.BookingID, s.EventID, s.TicketID, *s.SoldTo)
		}
	}
	return err
}

// expiries: no hold outlived its expiry by more than a second (I3), as
// PostgreSQL saw it: released late, or still held. Lateness counts from
// the expiry, always. When the event changed owner after the expiry (the
// last acquisition in ownership_history before the release; while an event
// moves between nodes nobody can release its holds), the lateness is split
// into the move (expiry to the new owner's acquisition) and what the new
// owner took after it: the latter must stay within the second
// (kindLateExpiry), and the whole, from the expiry, within the move budget
// (kindLateMove), so a move is never an excuse for an unbounded delay
// (a slow sweeper shows as a late acquisition). Both parts are reported
// in the I3 figures. With a history, only the run's own holds count: a
// database reused across runs keeps holds that expired while no node was
// running and were released at the next start, which says nothing about
// this run.
func (a *audit) expiries(ctx context.Context, db persistence.Querier) error {
	holds, err := persistence.NewAudit(db).LateHolds(ctx, expiryGrace)
	if err != nil {
		return err
	}
	for _, h := range holds {
		id, st, exp, end, moved := h.BookingID, h.Status, h.ExpiresAt, h.Ended, h.Moved
		if _, ours := a.holds[id]; len(a.holds) > 0 && !ours {
			continue
		}
		late := end.Sub(exp)
		f := &a.i3
		f.Late++
		f.MaxLate = max(f.MaxLate, late)
		how := fmt.Sprintf("was released at %s", end.Format(time.RFC3339Nano))
		if st != "expired" {
			how = "is still held"
		}
		if moved == nil {
			a.add(kindLateExpiry, "booking %s expired at %s but %s (%s late)", id, exp.Format(time.RFC3339Nano), how, late.Round(time.Millisecond))
			continue
		}
		move, after := moved.Sub(exp), end.Sub(*moved)
		f.Moved++
		f.MaxMove, f.MaxAfter = max(f.MaxMove, move), max(f.MaxAfter, after)
		if after > expiryGrace {
			a.add(kindLateExpiry, "booking %s expired at %s, its event moved %s later, but it %s %s after the move",
				id, exp.Format(time.RFC3339Nano), move.Round(time.Millisecond), how, after.Round(time.Millisecond))
		}
		if late > a.moveBudget {
			a.add(kindLateMove, "booking %s expired at %s but %s, %s late (over the move budget of %s; the move took %s)",
				id, exp.Format(time.RFC3339Nano), how, late.Round(time.Millisecond), a.moveBudget, move.Round(time.Millisecond))
		}
	}
	return nil
}
