package cluster

import (
	"context"
	"slices"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"
)

// activation is one grain the placement actor spawned.
type activation struct {
	ci  *pcluster.ClusterIdentity
	pid *actor.PID
}

// shedFarOff asks the placement actor to stop grains over factor x bound
// (0: Config.PlacementFarOff, the automatic check after a topology change).
type shedFarOff struct {
	factor float64
	ctx    context.Context
}

// handoff asks the placement actor to poison every local grain; it answers
// with their poison futures.
type handoff struct{}

type shedResult struct {
	n   int
	err error
}

// activator is a member's placement actor: it spawns the grains placed on
// it and releases their records when they stop.
type activator struct {
	p      *placement
	grains map[string]activation // by ClusterIdentity.AsKey()
	// shedding holds the keys of grains shed for the bound until their
	// records are released: a call that still finds the record here must
	// not activate the grain on this member again (undoing the shed), so it
	// is refused and its retry places the grain by the bound.
	shedding map[string]bool
}

// shedReleased tells the activator that a shed grain's record is gone.
type shedReleased struct{ key string }

func (a *activator) Receive(ctx actor.Context) {
	switch msg := ctx.Message().(type) {
	case *pcluster.ActivationRequest:
		a.activate(ctx, msg.ClusterIdentity)
	case *actor.Terminated:
		a.terminated(msg.Who)
	case *handoff:
		futures := make([]*actor.Future, 0, len(a.grains))
		for _, g := range a.grains {
			futures = append(futures, ctx.PoisonFuture(g.pid))
		}
		ctx.Respond(futures)
	case *shedReleased:
		delete(a.shedding, msg.key)
	case *shedFarOff:
		n, err := a.shed(ctx, msg)
		if ctx.Sender() != nil {
			ctx.Respond(&shedResult{n: n, err: err})
		}
	case *actor.Stopping:
		futures := make([]*actor.Future, 0, len(a.grains))
		for _, g := range a.grains {
			futures = append(futures, ctx.PoisonFuture(g.pid))
		}
		for _, f := range futures {
			_ = f.Wait()
		}
	}
}

func (a *activator) activate(ctx actor.Context, ci *pcluster.ClusterIdentity) {
	key := ci.AsKey()
	if g, ok := a.grains[key]; ok {
		respond(ctx, &pcluster.ActivationResponse{Pid: g.pid})
		return
	}
	kind := a.p.c.GetClusterKind(ci.Kind)
	if kind == nil {
		respond(ctx, &pcluster.ActivationResponse{Failed: true})
		return
	}
	if a.shedding[key] {
		a.p.shedRefused.Add(1)
	}
	if a.p.draining() || a.shedding[key] {
		// A claim read this member's record before its release: drop the
		// record, then refuse, so the caller's retry places the grain on
		// another member.
		self, k, id, sender, shed, me := a.p.self, ci.Kind, ci.Identity, ctx.Sender(), a.shedding[key], a.p.actor
		a.write(func(c context.Context) {
			if err := a.p.store.Release(c, k, id, self); err != nil {
				a.p.log.Warn("cluster: release placement", "kind", k, "identity", id, "err", err)
			} else if shed {
				a.p.c.ActorSystem.Root.Send(me, &shedReleased{key: key})
			}
			if sender != nil {
				a.p.c.ActorSystem.Root.Send(sender, &pcluster.ActivationResponse{Failed: true})
			}
		})
		return
	}
	pid := ctx.SpawnPrefix(pcluster.WithClusterIdentity(kind.Props, ci), ci.Identity)
	kind.Inc()
	a.grains[key] = activation{ci: ci, pid: pid}
	a.p.ensure(ci.Kind, ci.Identity)
	respond(ctx, &pcluster.ActivationResponse{Pid: pid})
}

// respond answers an activation request; one without a sender (the
// activation a survivor asks for when it re-places a departed member's
// grains) needs no answer.
func respond(ctx actor.Context, r *pcluster.ActivationResponse) {
	if ctx.Sender() != nil {
		ctx.Respond(r)
	}
}

func (a *activator) terminated(who *actor.PID) {
	for key, g := range a.grains {
		if !g.pid.Equal(who) {
			continue
		}
		delete(a.grains, key)
		if kind := a.p.c.GetClusterKind(g.ci.Kind); kind != nil {
			kind.Dec()
		}
		a.p.c.MemberList.BroadcastEvent(&pcluster.ActivationTerminated{Pid: who, ClusterIdentity: g.ci}, true)
		self, k, id, shed, me := a.p.self, g.ci.Kind, g.ci.Identity, a.shedding[key], a.p.actor
		a.write(func(c context.Context) {
			// A shed grain stays refused here until its record is gone: a
			// failed release leaves the record naming this member, and the
			// next refusal tries the release again.
			if err := a.p.store.Release(c, k, id, self); err != nil {
				a.p.log.Warn("cluster: release placement", "kind", k, "identity", id, "err", err)
			} else if shed {
				a.p.c.ActorSystem.Root.Send(me, &shedReleased{key: key})
			}
		})
		return
	}
}

// ensureWrite is a queued record of an activation (placement.ensure); the
// writer runs those queued together in one Ensure.
type ensureWrite struct{ kind, id string }

// placementWrite is one queued store write: an activation's record, or
// any other write (fn).
type placementWrite struct {
	ensure *ensureWrite
	fn     func(context.Context)
}

// ensure queues the record of this member hosting id of kind behind the
// earlier writes.
func (p *placement) ensure(kind, id string) {
	p.send(placementWrite{ensure: &ensureWrite{kind: kind, id: id}})
}

// write queues a store write behind the earlier ones.
func (a *activator) write(w func(context.Context)) { a.p.enqueue(w) }

// enqueue queues a store write; false if the writer has stopped (the node
// is stopping).
func (p *placement) enqueue(w func(context.Context)) (ok bool) {
	return p.send(placementWrite{fn: w})
}

func (p *placement) send(w placementWrite) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	p.writes <- w
	return true
}

// draining reports whether this member excluded itself.
func (p *placement) draining() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.excluded[p.self]
}

// shed stops, per kind, the local grains beyond factor x bound, those that
// rendezvous hashing places elsewhere first. Reading the counts blocks the
// actor for one store query; it runs on topology changes and on request.
func (a *activator) shed(ctx actor.Context, msg *shedFarOff) (int, error) {
	factor := msg.factor
	if factor <= 0 {
		factor = a.p.farOff
	}
	c := msg.ctx
	if c == nil {
		var cancel context.CancelFunc
		c, cancel = context.WithTimeout(context.Background(), a.p.timeout)
		defer cancel()
	}
	byKind := map[string][]activation{}
	for _, g := range a.grains {
		byKind[g.ci.Kind] = append(byKind[g.ci.Kind], g)
	}
	stopped := 0
	for kind, gs := range byKind {
		excess, err := a.p.excessOf(c, kind, len(gs), factor)
		if err != nil {
			return stopped, err
		}
		if excess == 0 {
			continue
		}
		_, candidates, _ := a.p.view(kind)
		// Grains whose first choice is another member go first.
		slices.SortFunc(gs, func(x, y activation) int {
			fx := RendezvousOrder(x.ci.Identity, candidates)[0] == a.p.self
			fy := RendezvousOrder(y.ci.Identity, candidates)[0] == a.p.self
			switch {
			case fx == fy:
				return 0
			case !fx:
				return -1
			}
			return 1
		})
		for _, g := range gs[:excess] {
			a.shedding[g.ci.AsKey()] = true
			ctx.Poison(g.pid)
			stopped++
		}
		a.p.log.Info("cluster: shedding grains over the placement bound", "kind", kind, "held", len(gs), "stopping", excess)
	}
	return stopped, nil
}
