package actors

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/seatmap"
	"github.com/boxoffice/boxoffice/cluster"
)

// An activation: ownership with a new epoch, then the seat map rebuilt from
// the latest usable snapshot and the journal after it (restore).

// activate takes ownership of the event with a new epoch (fencing off any
// older activation, I4) and rebuilds the seat map from the latest snapshot
// plus the journal after it.
func (g *grain) activate(ctx actor.Context, identity string) {
	err := g.Activate(context.Background(), identity, &g.eventID, g.e.cfg.RequestTimeout, cluster.Activation{
		Admit: func(id uuid.UUID) error {
			if wait := g.e.holdOff(id, g.e.cfg.Now()); wait > 0 {
				// The last activation failed moments ago: refuse without
				// taking a new epoch until the pause is over.
				return boxoffice.Errorf(boxoffice.EUnavailable, "activation held off for %s after a failure", wait)
			}
			return nil
		},
		Load: g.load,
		Failed: func(id uuid.UUID, err error) {
			if boxoffice.ErrorCode(err) != boxoffice.ENotFound {
				g.e.activated(id, g.e.cfg.Now(), true)
			}
		},
	})
	if err != nil {
		g.loadErr = err
		g.fail(ctx, err)
		return
	}
	id := g.eventID
	g.e.activated(id, g.e.cfg.Now(), false)
	g.log.Info("event activated", "event", id, "epoch", g.epoch, "version", g.committed,
		"seats", g.m.Len(), "took", g.Took())
	ctx.SetReceiveTimeout(g.e.cfg.IdleTimeout)
	g.becomeResident(ctx)
	g.startTicker(ctx)
	g.settleInterrupted(ctx)
	g.reconcile(ctx)
	g.resumeRefunds(ctx)
	g.pre = nil
}

func (g *grain) load(ctx context.Context) error {
	if g.e.loads != nil {
		a, err := g.e.loads.load(ctx, g.eventID)
		switch {
		case err == nil && a == nil:
			return fmt.Errorf("load event: %w", boxoffice.Errorf(boxoffice.ENotFound, "event %s not found", g.eventID))
		case err == nil:
			g.pre = a
			return g.build(ctx, a.Event, a.Venue, a.Epoch, &prefetched{JournalReader: g.e.deps.Store, a: a},
				a.Claims, &watermark{version: a.Watermark, ok: a.Projected})
		case ctx.Err() != nil:
			return fmt.Errorf("activate: %w", err)
		}
		g.log.Warn("batched activation failed; reading on its own", "event", g.eventID, "err", err)
	}
	ev, err := g.e.deps.Store.Event(ctx, g.eventID)
	if err != nil {
		return fmt.Errorf("load event: %w", err)
	}
	venue, err := g.e.deps.Store.Venue(ctx, ev.VenueID)
	if err != nil {
		return fmt.Errorf("load venue: %w", err)
	}
	epoch, err := g.e.deps.Store.Acquire(ctx, g.eventID, g.e.cfg.NodeName)
	if err != nil {
		return fmt.Errorf("acquire ownership: %w", err)
	}
	since := g.e.cfg.Now().Add(-boxoffice.IdempotencyWindow)
	claims, err := g.e.deps.Store.ClaimedHolds(ctx, g.eventID, since)
	if err != nil {
		return fmt.Errorf("load idempotency keys: %w", err)
	}
	return g.build(ctx, ev, venue, epoch, g.e.deps.Store, claims, nil)
}

// build makes the grain's state from what its activation read: the event
// and venue rows, the epoch it took, the snapshot and journal (through
// store, read after the epoch was taken) and the Idempotency-Key claims;
// wm is the bookings projection's watermark, nil to read it.
func (g *grain) build(ctx context.Context, ev boxoffice.Event, venue boxoffice.Venue, epoch int64,
	store boxoffice.JournalReader, claims []boxoffice.ReserveClaim, wm *watermark) error {
	g.currency = ev.Currency
	for _, s := range venue.SeatMap.Sections {
		end := s.Size()
		if k := len(g.priceEnds); k > 0 {
			end += g.priceEnds[k-1]
		}
		g.priceEnds = append(g.priceEnds, end)
		g.prices = append(g.prices, ev.Prices[s.Name])
		g.sections = append(g.sections, s.Name)
	}
	g.base = ev.Prices
	g.epoch = epoch
	m, snap, replayed, err := restore(ctx, store, g.eventID, venue.SeatMap.Capacity(), func(v uint64, err error) {
		g.log.Warn("snapshot unusable; falling back to an older one or the full journal", "event", g.eventID,
			"version", v, "err", err)
	})
	if err != nil {
		return err
	}
	if err := m.SetStanding(venue.SeatMap.StandingAreas()); err != nil {
		return fmt.Errorf("standing sections: %w", err)
	}
	if err := m.SetRows(venue.SeatMap.RowSpans()); err != nil {
		return fmt.Errorf("rows for best available: %w", err)
	}
	g.lastSnapshot, g.sinceSnap = snap, replayed
	g.m, g.committed = m, m.Version()
	g.setRules(ev)
	g.countsDirty = true
	g.keepKeyed(claims)
	if err := g.catchUp(ctx, wm); err != nil {
		return err
	}
	return nil
}

// prefetched serves restore the snapshot and journal tail a batched
// activation read (boxoffice.ActivationLoad); the older snapshots and
// journal a fallback asks for come from the store.
type prefetched struct {
	boxoffice.JournalReader
	a *boxoffice.ActivationLoad
}

func (p *prefetched) SnapshotBefore(ctx context.Context, eventID uuid.UUID, before uint64) (uint64, []byte, bool, error) {
	if before != math.MaxInt64 { // restore's fallback to an older one
		return p.JournalReader.SnapshotBefore(ctx, eventID, before)
	}
	return p.a.SnapshotVersion, p.a.Snapshot, p.a.HasSnapshot, nil
}

func (p *prefetched) ReadJournal(ctx context.Context, eventID uuid.UUID, after uint64, fn func(boxoffice.Entry) error) error {
	base := uint64(0)
	if p.a.HasSnapshot {
		base = p.a.SnapshotVersion
	}
	if after != base {
		return p.JournalReader.ReadJournal(ctx, eventID, after, fn)
	}
	for _, e := range p.a.Journal {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// Restore rebuilds an event's seat map from its latest usable snapshot and
// the journal after it, exactly as an activation does (benchmarks and
// audits use it to see the durable state).
func Restore(ctx context.Context, store boxoffice.JournalReader, eventID uuid.UUID, seats int) (*seatmap.Map, error) {
	m, _, _, err := restore(ctx, store, eventID, seats, nil)
	return m, err
}

// badState marks a snapshot or journal record that cannot be decoded or
// applied, as opposed to PostgreSQL failing to deliver it.
type badState struct{ err error }

func (b *badState) Error() string { return b.err.Error() }
func (b *badState) Unwrap() error { return b.err }

// restore rebuilds the seat map from the newest snapshot that decodes and
// that the journal after it applies to, trying older snapshots (two are
// kept) and then a full replay: one bad snapshot row must not make the
// event unavailable. skipped, if set, hears of each snapshot given up on.
// snap is the version of the snapshot used (0 for a full replay).
func restore(ctx context.Context, store boxoffice.JournalReader, eventID uuid.UUID, seats int,
	skipped func(version uint64, err error)) (m *seatmap.Map, snap uint64, replayed int, err error) {
	before := uint64(math.MaxInt64)
	for {
		v, state, ok, err := store.SnapshotBefore(ctx, eventID, before)
		if err != nil {
			return nil, 0, 0, fmt.Errorf("load snapshot: %w", err)
		}
		if !ok {
			m, replayed, err := replay(ctx, store, eventID, seatmap.New(eventID, seats))
			return m, 0, replayed, err
		}
		m, err := fromSnapshot(eventID, v, state, seats)
		if err == nil {
			m, replayed, err = replay(ctx, store, eventID, m)
		}
		var bad *badState
		if err == nil || !errors.As(err, &bad) {
			return m, v, replayed, err
		}
		if skipped != nil {
			skipped(v, err)
		}
		before = v
	}
}

func fromSnapshot(eventID uuid.UUID, v uint64, state []byte, seats int) (m *seatmap.Map, err error) {
	defer func() {
		if r := recover(); r != nil { // a decoder bug on a damaged row must not stop the fallback
			m, err = nil, &badState{fmt.Errorf("decode snapshot v%d: panic: %v", v, r)}
		}
	}()
	m, err = seatmap.Decode(eventID, state)
	if err != nil {
		return nil, &badState{fmt.Errorf("decode snapshot v%d: %w", v, err)}
	}
	if m.Len() != seats {
		return nil, &badState{fmt.Errorf("snapshot v%d has %d seats, the venue %d", v, m.Len(), seats)}
	}
	return m, nil
}

// replay applies the journal after m's version to m.
func replay(ctx context.Context, store boxoffice.JournalReader, eventID uuid.UUID, m *seatmap.Map) (*seatmap.Map, int, error) {
	replayed := 0
	err := store.ReadJournal(ctx, eventID, m.Version(), func(en boxoffice.Entry) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = &badState{fmt.Errorf("journal v%d: panic: %v", en.Version, r)}
			}
		}()
		r, err := seatmap.UnmarshalRecord(en.Record)
		if err != nil {
			return &badState{fmt.Errorf("journal v%d: %w", en.Version, err)}
		}
		if err := m.Apply(r); err != nil {
			return &badState{fmt.Errorf("journal v%d: %w", en.Version, err)}
		}
		replayed++
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("replay journal: %w", err)
	}
	return m, replayed, nil
}
