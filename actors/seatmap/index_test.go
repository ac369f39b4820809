package seatmap

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestBookingIndexChurn drives the booking index through many inserts and
// deletes at up to half load in small tables, where probe chains wrap
// around the end and backward-shift deletion has to move entries across
// the wrap, checking after every step that every live booking is found at
// its slot and no removed one is.
func TestBookingIndexChurn(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	for _, seats := range []int{3, 9, 17, 40, 200} {
		m := New(uuid.New(), seats)
		var live, gone []uuid.UUID
		for step := range 3000 {
			if len(live) < seats && (len(live) == 0 || rng.IntN(3) > 0) {
				b := uuid.New()
				s := m.holds.alloc()
				m.putHold(s, b, b, int64(step), false, []int32{0}, slotHint{pos: -1})
				live = append(live, b)
			} else {
				k := rng.IntN(len(live))
				b := live[k]
				s, ok := m.holdOf(b)
				if !ok {
					t.Fatalf("seats %d step %d: live booking lost", seats, step)
				}
				m.heapRemove(int(m.holds.at(s).heapIdx))
				m.indexDelete(b)
				m.holds.release(s)
				live[k] = live[len(live)-1]
				live = live[:len(live)-1]
				gone = append(gone, b)
			}
			if m.index.n != len(live) || 2*m.index.n > len(m.index.e) {
				t.Fatalf("seats %d step %d: %d entries for %d live in %d", seats, step, m.index.n, len(live), len(m.index.e))
			}
			for _, b := range live {
				if s, ok := m.holdOf(b); !ok || m.holds.at(s).booking != b {
					t.Fatalf("seats %d step %d: booking %s not found", seats, step, b)
				}
			}
			for _, b := range gone[max(0, len(gone)-20):] {
				if _, ok := m.holdOf(b); ok {
					t.Fatalf("seats %d step %d: removed booking %s still found", seats, step, b)
				}
			}
		}
	}
}
