package cluster

import (
	"context"
	"slices"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	pcluster "github.com/asynkron/protoactor-go/cluster"
)

// Claims: how this node asks the shared placement record for owners, in
// batches, and re-places the grains of members that left.

// claimer decides the claims of this node in batches: the first claim
// goes alone, and every claim asked while a batch is in the store joins
// the next one, so a burst of first activations (or a dead member's
// grains) costs a few transactions under the kind's lock instead of one
// each, with no added wait when claims are rare. It also re-places the
// grains of members that left (reclaim), in the same turns.
func (p *placement) claimer() {
	defer close(p.claimDone)
	for {
		var batch []*claimReq
		select {
		case <-p.stop:
			return
		case gone := <-p.reclaims:
			p.reclaim(gone)
			continue
		case r := <-p.claims:
			batch = append(batch, r)
		}
	more:
		for len(batch) < maxClaimBatch {
			select {
			case r := <-p.claims:
				batch = append(batch, r)
			default:
				break more
			}
		}
		p.claimBatch(batch)
	}
}

// claimBatch claims each kind's identities of batch in one store call and
// answers their callers.
func (p *placement) claimBatch(batch []*claimReq) {
	byKind := map[string][]*claimReq{}
	var kinds []string
	for _, r := range batch {
		if _, ok := byKind[r.kind]; !ok {
			kinds = append(kinds, r.kind)
		}
		byKind[r.kind] = append(byKind[r.kind], r)
	}
	for _, kind := range kinds {
		rs := byKind[kind]
		ids := make([]string, len(rs))
		for i, r := range rs {
			ids[i] = r.id
		}
		owners, err := p.claim(kind, ids)
		for _, r := range rs {
			r.reply <- claimResult{owner: owners[r.id], err: err}
		}
	}
}

// claim places ids of kind in one store call over the current view: the
// bounded-load rule over rendezvous order, each pick counted before the
// next.
func (p *placement) claim(kind string, ids []string) (map[string]string, error) {
	live, candidates, _ := p.view(kind)
	if len(live) == 0 {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
	defer cancel()
	return p.store.Claim(ctx, kind, ids, live, func(id string, counts map[string]int) string {
		return ChooseOwner(RendezvousOrder(id, candidates), counts, p.load)
	})
}

// reclaim re-places, in batched claims, the grains whose records name a
// member that left (a crash: a graceful stop releases its records), and
// asks each new owner's placement actor to activate them at once. Without
// it every one of a dead node's grains would be claimed on its own first
// call after the failure, in thousands of turns of the kind's lock, and a
// grain nobody calls would keep a record that counts against its member.
// Every survivor runs it; the first re-places, the others find the records
// live and only repeat the (idempotent) activation requests.
func (p *placement) reclaim(gone []string) {
	for _, kind := range p.c.GetClusterKinds() {
		ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
		ids, err := p.store.HeldBy(ctx, kind, gone)
		cancel()
		if err != nil {
			p.log.Warn("cluster: read placements of departed members", "kind", kind, "err", err)
			continue
		}
		if len(ids) == 0 {
			continue
		}
		start := time.Now()
		moved := 0
		for chunk := range slices.Chunk(ids, maxClaimBatch) {
			owners, err := p.claim(kind, chunk)
			if err != nil {
				p.log.Warn("cluster: re-place departed members' grains", "kind", kind, "err", err)
				break
			}
			_, _, addrs := p.view(kind)
			for _, id := range chunk {
				addr := addrs[owners[id]]
				if addr == "" {
					continue
				}
				moved++
				p.c.ActorSystem.Root.Send(actor.NewPID(addr, activatorName),
					&pcluster.ActivationRequest{ClusterIdentity: pcluster.NewClusterIdentity(id, kind)})
			}
		}
		p.log.Info("cluster: re-placed departed members' grains", "kind", kind, "grains", len(ids), "activating", moved, "took", time.Since(start))
	}
}
