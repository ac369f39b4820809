package cluster

import (
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	pcluster "github.com/asynkron/protoactor-go/cluster"
	"github.com/hashicorp/memberlist"
)

// Status is a member's state as this node sees it.
type Status string

const (
	// StatusAlive: gossip reaches the member and it takes part in placement.
	StatusAlive Status = "alive"
	// StatusSuspect: memberlist declared the member dead moments ago; it
	// keeps its grains for Gossip.DeadGrace in case it refutes.
	StatusSuspect Status = "suspect"
	// StatusBlocked: gossip reaches the member, but this node's Proto.Actor
	// blocked its member id after it was declared dead. Proto.Actor never
	// unblocks an id, so the member is a zombie until it restarts; it is told
	// so and its Node.Dead channel closes when most of its peers agree.
	StatusBlocked Status = "blocked"
	// StatusDead: the member stopped answering and was declared dead.
	StatusDead Status = "dead"
	// StatusLeft: the member shut down gracefully.
	StatusLeft Status = "left"
)

// MemberInfo describes one node for admin views and placement displays. It is
// built from the metadata each node gossips about itself.
type MemberInfo struct {
	Name       string    `json:"name"`      // stable node name (Config.NodeName)
	MemberID   string    `json:"member_id"` // Proto.Actor member id of that process
	GossipAddr string    `json:"gossip_addr"`
	ActorAddr  string    `json:"actor_addr"` // host:port found in PIDs of its grains
	HTTPAddr   string    `json:"http_addr,omitempty"`
	StartedAt  time.Time `json:"started_at"`
	Status     Status    `json:"status"`
	Kinds      []string  `json:"kinds,omitempty"`
	Self       bool      `json:"self,omitempty"` // the node answering
	// Draining: the member is handing its grains to the others before it
	// leaves (Node.Drain); nothing new is placed on it.
	Draining bool `json:"draining,omitempty"`
}

// nodeMeta is what a node gossips about itself (memberlist node metadata,
// at most memberlist.MetaMaxSize = 512 bytes of JSON).
type nodeMeta struct {
	Version int      `json:"v"`
	Name    string   `json:"name"`
	Host    string   `json:"host"` // Proto.Actor advertised host
	Port    int      `json:"port"` // Proto.Actor port
	HTTP    string   `json:"http,omitempty"`
	Started int64    `json:"started"` // unix milliseconds
	Kinds   []string `json:"kinds"`
	// Draining is set by Node.Drain: peers stop placing grains on the node.
	Draining bool `json:"draining,omitempty"`
}

const metaVersion = 1

// encode returns the metadata, or an error if it does not fit in gossip.
func (m nodeMeta) encode() ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode node metadata: %w", err)
	}
	if len(b) > memberlist.MetaMaxSize {
		return nil, fmt.Errorf("node metadata is %d bytes, more than gossip's %d: shorten the node name, HTTP address or kind names",
			len(b), memberlist.MetaMaxSize)
	}
	return b, nil
}

// memberInfo decodes a memberlist node; ok is false for nodes that carry no
// boxoffice metadata.
func memberInfo(n *memberlist.Node) (MemberInfo, bool) {
	var m nodeMeta
	if err := json.Unmarshal(n.Meta, &m); err != nil || m.Version < 1 || m.Name == "" || m.Port <= 0 {
		return MemberInfo{}, false
	}
	return MemberInfo{
		Name:       m.Name,
		MemberID:   n.Name,
		GossipAddr: net.JoinHostPort(n.Addr.String(), strconv.Itoa(int(n.Port))),
		ActorAddr:  net.JoinHostPort(m.Host, strconv.Itoa(m.Port)),
		HTTPAddr:   m.HTTP,
		StartedAt:  time.UnixMilli(m.Started).UTC(),
		Status:     StatusAlive,
		Kinds:      m.Kinds,
		Draining:   m.Draining,
	}, true
}

// protoMember is the Proto.Actor view of a member. A member handing off
// (handoff: draining, and for this node once Drain let it go) hosts no
// kinds, so placement passes it over while it stays a member: calls in
// flight to it are still answered and its address is not blocked.
func (mi MemberInfo) protoMember(handoff bool) *pcluster.Member {
	host, port, _ := splitHostPort(mi.ActorAddr)
	kinds := mi.Kinds
	if handoff {
		kinds = []string{}
	}
	return &pcluster.Member{Id: mi.MemberID, Host: host, Port: int32(port), Kinds: kinds}
}

// departure remembers a node that is gone, for Members and NameOf.
type departure struct {
	info MemberInfo
	at   time.Time
}

// memberView is what the provider learned at its last sync. The provider's
// mutex guards it.
type memberView struct {
	self     string                // this process's member id
	current  map[string]MemberInfo // members gossip reaches, by member id
	departed map[string]departure  // gone nodes, by node name (a restart replaces its entry)
	left     map[string]time.Time  // member ids that announced a graceful leave, and when
	missing  map[string]time.Time  // current members gossip lost, since when (DeadGrace)
}

func newMemberView(self string) memberView {
	return memberView{self: self, current: map[string]MemberInfo{}, departed: map[string]departure{}, left: map[string]time.Time{}, missing: map[string]time.Time{}}
}

// keepMissing adds to seen the current members gossip no longer lists, as
// suspects, until they have been missing for grace; members that announced a
// leave go at once.
func (v *memberView) keepMissing(now time.Time, seen map[string]MemberInfo, grace time.Duration) {
	for id, m := range v.current {
		_, back := seen[id]
		_, left := v.left[id]
		if back || left {
			delete(v.missing, id)
			continue
		}
		since, known := v.missing[id]
		if !known {
			since = now
			v.missing[id] = now
		}
		if now.Sub(since) >= grace {
			delete(v.missing, id)
			continue
		}
		m.Status = StatusSuspect
		seen[id] = m
	}
}

// change is one membership change found by update, for logging.
type change struct {
	info MemberInfo
	from Status // "" for a member seen for the first time
}

// update replaces the current members and returns what changed. Members that
// vanished become departures, marked left if they announced it, else dead.
func (v *memberView) update(now time.Time, members map[string]MemberInfo, retention time.Duration) []change {
	var changes []change
	for id, old := range v.current {
		if _, ok := members[id]; ok {
			continue
		}
		from := old.Status
		old.Status, old.Self = StatusDead, false
		if _, ok := v.left[id]; ok {
			old.Status = StatusLeft
		}
		v.departed[old.Name] = departure{info: old, at: now}
		changes = append(changes, change{info: old, from: from})
	}
	for id, m := range members {
		if old, ok := v.current[id]; !ok || old.Status != m.Status {
			changes = append(changes, change{info: m, from: old.Status})
		}
	}
	for name, d := range v.departed {
		if now.Sub(d.at) > retention {
			delete(v.departed, name)
		}
	}
	for id, at := range v.left {
		if now.Sub(at) > retention {
			delete(v.left, id)
		}
	}
	v.current = members
	return changes
}

// list returns the current members and then the departed nodes that have
// not come back under a new member id, each group sorted by name.
func (v *memberView) list() []MemberInfo {
	out := make([]MemberInfo, 0, len(v.current)+len(v.departed))
	names := map[string]bool{}
	for _, m := range v.current {
		out = append(out, m)
		names[m.Name] = true
	}
	byName := func(a, b MemberInfo) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.MemberID, b.MemberID)
	}
	slices.SortFunc(out, byName)
	n := len(out)
	for name, d := range v.departed {
		if !names[name] {
			out = append(out, d.info)
		}
	}
	slices.SortFunc(out[n:], byName)
	return out
}

// nameOf returns the node name that owns a Proto.Actor address; current
// members win over departed ones, since a restarted node may reuse a port.
func (v *memberView) nameOf(actorAddr string) string {
	for _, m := range v.current {
		if m.ActorAddr == actorAddr {
			return m.Name
		}
	}
	for _, d := range v.departed {
		if d.info.ActorAddr == actorAddr {
			return d.info.Name
		}
	}
	return ""
}
