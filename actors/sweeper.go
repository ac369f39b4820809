package actors

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	pcluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice/cluster"
)

// SweepOptions tune one sweep for overdue holds.
type SweepOptions struct {
	// Limit is how many events with overdue holds one sweep reads, oldest
	// expiry first; the rest wait for the next sweep.
	Limit int
	// Parallel is how many events a sweep wakes at once. Each wake is an
	// activation (ownership, snapshot, replay) bounded by RequestTimeout;
	// one at a time, hundreds of events moved by a failover would end
	// their holds minutes late.
	Parallel int
	// Owns tells whether this node owns an event; nil asks the cluster's
	// placement (Owns). Every node sweeps only its own events, so the
	// events of a dead node are shared among the survivors instead of
	// every survivor waking every event in the same order.
	Owns func(uuid.UUID) bool
	// Touch wakes an event's actor; nil is Engine.Touch. Tests observe
	// the sweep through it.
	Touch func(context.Context, uuid.UUID) error
}

// DefaultSweepOptions are RunSweeper's settings.
func DefaultSweepOptions() SweepOptions {
	return SweepOptions{Limit: 1000, Parallel: 16}
}

// SweepReport says what one sweep did.
type SweepReport struct {
	Overdue int         // events with overdue holds read from PostgreSQL
	Woken   []uuid.UUID // the events this node owns, in the order their wakes started
	Failed  int         // wakes that failed (each logged at warn)
}

// Sweep wakes, oldest expiry first and at most opts.Parallel at a time, the
// actors of the events this node owns whose holds ran out while no actor
// was up (after a restart or failover), so those holds end on time (I3).
// It returns an error when the events cannot be listed.
func (e *Engine) Sweep(ctx context.Context, opts SweepOptions) (SweepReport, error) {
	d := DefaultSweepOptions()
	if opts.Limit <= 0 {
		opts.Limit = d.Limit
	}
	if opts.Parallel <= 0 {
		opts.Parallel = d.Parallel
	}
	if opts.Touch == nil {
		opts.Touch = e.Touch
	}
	ids, err := e.deps.Store.OverdueHoldEvents(ctx, opts.Limit)
	if err != nil {
		return SweepReport{}, fmt.Errorf("sweeper: list events with overdue holds: %w", err)
	}
	if opts.Owns == nil {
		owns, err := e.ownership(ctx, ids)
		if err != nil {
			return SweepReport{}, err
		}
		opts.Owns = owns
	}
	rep := SweepReport{Overdue: len(ids)}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		slot = make(chan struct{}, opts.Parallel)
	)
	for _, id := range ids {
		if !opts.Owns(id) {
			continue
		}
		select {
		case slot <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return rep, ctx.Err()
		}
		rep.Woken = append(rep.Woken, id)
		wg.Add(1)
		go func() { // bounded by slot; Sweep waits for every one
			defer wg.Done()
			defer func() { <-slot }()
			if err := opts.Touch(ctx, id); err != nil {
				e.cfg.Logger.Warn("sweeper could not wake an event with overdue holds; they end late",
					"event", id, "err", err)
				mu.Lock()
				rep.Failed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return rep, nil
}

// errNoCluster: the engine is not attached to a cluster yet.
var errNoCluster = errors.New("sweeper: the engine is not attached to a cluster yet")

// ownership returns a test of "this node owns the event" for ids, from the
// cluster's placement: with bounded-load placement (cluster.PlacementOf)
// the shared record of active events, and for the others the first choice
// of its rendezvous order, exactly as that placement would place them;
// with plain rendezvous hashing the same hash of the identity over the
// members hosting the kind that the disthash identity lookup places grains
// by.
func (e *Engine) ownership(ctx context.Context, ids []uuid.UUID) (func(uuid.UUID) bool, error) {
	c := e.grains.Cluster()
	if c == nil {
		return nil, errNoCluster
	}
	if pl := cluster.PlacementOf(c); pl != nil {
		keys := make([]string, len(ids))
		for i, id := range ids {
			keys[i] = id.String()
		}
		owned, err := pl.Owned(ctx, Kind, keys)
		if err != nil {
			return nil, fmt.Errorf("sweeper: read event placement: %w", err)
		}
		return func(id uuid.UUID) bool { return owned[id.String()] }, nil
	}
	rdv := pcluster.NewRendezvous()
	rdv.UpdateMembers(c.MemberList.Members().Members())
	self := c.ActorSystem.Address()
	return func(id uuid.UUID) bool {
		return rdv.GetByClusterIdentity(pcluster.NewClusterIdentity(id.String(), Kind)) == self
	}, nil
}

// Owns reports whether the cluster places the event's actor on this node
// now (false before Attach).
func (e *Engine) Owns(eventID uuid.UUID) bool {
	owns, err := e.ownership(context.Background(), []uuid.UUID{eventID})
	return err == nil && owns(eventID)
}

// RunSweeper sweeps (Sweep with DefaultSweepOptions) every interval until
// ctx ends; about once a minute it also deletes Idempotency-Key claims of
// reserve out of their window (pruneClaims). A sweep that cannot list the events is logged at error, a wake
// that fails at warn: either leaves holds ending late.
func (e *Engine) RunSweeper(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	var pruned time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if time.Since(pruned) >= pruneClaimsEvery {
			pruned = time.Now()
			e.pruneClaims(ctx)
		}
		rep, err := e.Sweep(ctx, DefaultSweepOptions())
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, errNoCluster):
		case err != nil:
			e.cfg.Logger.Error("sweeper failed; overdue holds end late", "err", err)
		case rep.Failed > 0:
			e.cfg.Logger.Warn("sweeper woke events with overdue holds", "overdue", rep.Overdue,
				"owned", len(rep.Woken), "failed", rep.Failed)
		}
	}
}
