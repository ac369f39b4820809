package seatmap

import (
	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// owners counts, per user, the seats the user holds in live holds plus
// those the user bought: what max_tickets_per_user bounds (API.md). Holds
// carry their owner, so their share is rebuilt with them; bought seats lose
// their hold when sold, so the count of each buyer's sold seats travels in
// the snapshot (format BXS2) and in every SeatsSold record's Owner.
//
// A record kind that gives seats back to the event after a sale (a refund)
// must subtract them here too.
type owners struct {
	total map[uuid.UUID]int32 // held + sold seats per user; absent is 0
	sold  map[uuid.UUID]int32 // sold seats per user (the snapshot's part)
}

func newOwners() owners {
	return owners{total: map[uuid.UUID]int32{}, sold: map[uuid.UUID]int32{}}
}

// add changes u's count in m by d, dropping a count that reaches 0 so the
// map holds only users with seats. An increase is one map operation.
func (o *owners) add(m map[uuid.UUID]int32, u uuid.UUID, d int32) {
	if d > 0 {
		m[u] += d
		return
	}
	if n := m[u] + d; n > 0 {
		m[u] = n
	} else {
		delete(m, u)
	}
}

// SetLimit sets the most seats one user may hold and own together
// (max_tickets_per_user); 0 means no limit. It is a rule of the event, not
// part of its state: the owner of the map sets it after every restore.
func (m *Map) SetLimit(n int) { m.limit = n }

// Limit is the limit SetLimit set.
func (m *Map) Limit() int { return m.limit }

// Owned is how many seats the user holds and has bought.
func (m *Map) Owned(user uuid.UUID) int { return int(m.owners.total[user]) }

// Buyers lists how many seats each buyer bought, for audits and tests.
func (m *Map) Buyers() map[uuid.UUID]int {
	out := make(map[uuid.UUID]int, len(m.owners.sold))
	for u, n := range m.owners.sold {
		out[u] = int(n)
	}
	return out
}

// checkLimit reports limit_reached when owner taking n more seats would
// pass the limit; details.limit and details.current say by how much.
func (m *Map) checkLimit(owner uuid.UUID, n int) error {
	if m.limit <= 0 {
		return nil
	}
	cur := m.Owned(owner)
	if cur+n <= m.limit {
		return nil
	}
	return LimitReached(m.limit, cur)
}

// LimitReached is the limit_reached error API.md describes.
func LimitReached(limit, current int) *boxoffice.Error {
	e := boxoffice.Errorf(boxoffice.ELimitReached,
		"at most %d tickets per user for this event; you hold or own %d", limit, current)
	e.Details = map[string]any{"limit": limit, "current": current}
	return e
}
