package cluster

import (
	"math/rand/v2"
	"time"

	"github.com/hashicorp/memberlist"
)

// Why a node has to learn that it is dead: when memberlist declares a member
// dead, every peer's Proto.Actor blocks that member id forever. If the member
// was only slow or cut off, it comes back in gossip (memberlist refutes the
// rumour), but Proto.Actor peers refuse its connections and never place
// grains on it again; the member itself is not told (protoactor-go
// remote/endpoint_writer.go "TODO: handle blocked status"). It has to restart
// with a new member id. So each node tells every member it sees in gossip but
// has blocked: "you are blocked by me". A node closes Node.Dead when
//
//   - a live peer blocked it that it has not blocked in turn (it alone was
//     declared dead), or
//   - a strict majority of its live peers blocked it (both sides of a healed
//     partition declared the other dead; the minority gives up, and two
//     nodes that lost each other both restart).
//
// memberlist's own "Refuting a dead message" is not the verdict: the
// majority side of a healed partition sees it too, when the minority's stale
// rumours arrive. Gossip.DeadGrace keeps such short-lived verdicts from
// reaching Proto.Actor at all. A node that is already dead sends no notices:
// its view no longer counts, and it would otherwise drag healthy peers along.

// Notice kinds, the first byte of a memberlist user message.
const (
	noticeBlocked byte = 'B' // the sender's Proto.Actor blocked the receiver
	noticeLeaving byte = 'L' // the sender is leaving gracefully
)

// NotifyMsg implements memberlist.Delegate: it records notices from peers.
// memberlist may reuse buf, so the sender id is copied.
func (p *provider) NotifyMsg(buf []byte) {
	if len(buf) < 2 {
		return
	}
	from := string(buf[1:])
	p.mu.Lock()
	switch buf[0] {
	case noticeBlocked:
		p.blockedBy[from] = true
	case noticeLeaving:
		p.view.left[from] = time.Now()
	}
	p.mu.Unlock()
	p.signal()
}

// notifyBlocked tells members that gossip reaches but Proto.Actor blocked.
// It repeats on every sync, so a lost UDP packet only delays the verdict.
func (p *provider) notifyBlocked(zombies []*memberlist.Node) {
	if p.isDead() {
		return
	}
	msg := append([]byte{noticeBlocked}, p.self...)
	for _, n := range zombies {
		if err := p.ml.SendBestEffort(n, msg); err != nil {
			p.log.Debug("cluster: blocked notice", "member_id", n.Name, "err", err)
		}
	}
}

// announceLeave tells every member this node is leaving on purpose, so their
// admin views say "left" rather than "dead".
func (p *provider) announceLeave() {
	msg := append([]byte{noticeLeaving}, p.self...)
	for _, n := range p.gossipNodes() {
		if n.Name != p.self {
			_ = p.ml.SendBestEffort(n, msg)
		}
	}
}

// checkDead applies the verdict rule above to the current view.
func (p *provider) checkDead(view map[string]MemberInfo) {
	peers, blockers, unilateral := 0, 0, 0
	p.mu.Lock()
	for id, m := range view {
		if id == p.self || m.Status == StatusSuspect {
			continue
		}
		peers++
		if p.blockedBy[id] {
			blockers++
			if m.Status != StatusBlocked {
				unilateral++
			}
		}
	}
	p.mu.Unlock()
	if unilateral > 0 || 2*blockers > peers {
		p.declareDead(blockers, peers)
	}
}

func (p *provider) isDead() bool {
	select {
	case <-p.dead:
		return true
	default:
		return false
	}
}

func (p *provider) declareDead(blockers, peers int) {
	p.deadOnce.Do(func() {
		p.log.Error("cluster: peers declared this node dead and blocked its member id; it must restart",
			"member_id", p.self, "blocked_by", blockers, "peers", peers)
		close(p.dead)
	})
}

// onRefute is called from memberlist's logger, under memberlist's locks, so
// it only logs and signals: peers suspected this node or declared it dead,
// and memberlist refuted it. The verdict comes from the blocked notices;
// this only hurries the next sync.
func (p *provider) onRefute(dead bool) {
	if dead {
		p.log.Warn("cluster: a peer declared this node dead; refuted, waiting for the peers' verdict")
	} else {
		p.log.Info("cluster: a peer suspected this node; refuted")
	}
	p.signal()
}

// rejoinLoop heals partitions. memberlist stops contacting a dead member once
// GossipToTheDeadTime is over, and a node that declared everyone else dead
// has nobody to gossip with, so without this both sides of a healed partition
// would stay apart for good. Every RejoinInterval it joins (a push/pull state
// exchange) up to three targets: the seeds while this node is alone, and
// members seen dying within ReconnectTimeout.
func (p *provider) rejoinLoop() {
	defer p.wg.Done()
	t := time.NewTicker(p.cfg.Gossip.RejoinInterval)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		if targets := p.rejoinTargets(3); len(targets) > 0 {
			if _, err := p.ml.Join(targets); err != nil {
				p.log.Debug("cluster: rejoin", "targets", targets, "err", err)
			}
		}
	}
}

// rejoinTargets picks at most max addresses to join, skipping addresses of
// members gossip already reaches.
func (p *provider) rejoinTargets(max int) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	reached := map[string]bool{}
	for _, m := range p.view.current {
		reached[m.GossipAddr] = true
	}
	var targets []string
	if len(p.view.current) <= 1 {
		targets = append(targets, p.cfg.Join...)
	}
	for _, f := range p.failed {
		if !reached[f.info.GossipAddr] {
			targets = append(targets, f.info.GossipAddr)
		}
	}
	rand.Shuffle(len(targets), func(i, j int) { targets[i], targets[j] = targets[j], targets[i] })
	if len(targets) > max {
		targets = targets[:max]
	}
	return targets
}
