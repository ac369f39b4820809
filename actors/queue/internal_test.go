package queue

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestQueueIDRoundTrip(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	ev := uuid.New()
	for _, seq := range []int64{1, 2, 255, 256, 1 << 32, maxSeq} {
		id := queueID(key, ev, seq)
		if id.Version() != 8 || id.Variant() != uuid.RFC4122 {
			t.Fatalf("seq %d: %s is not an RFC 9562 v8 UUID", seq, id)
		}
		if got, ok := parseQueueID(key, ev, id); !ok || got != seq {
			t.Fatalf("seq %d: parsed %d, %v", seq, got, ok)
		}
		if _, ok := parseQueueID(key, uuid.New(), id); ok {
			t.Fatalf("seq %d: accepted for another event", seq)
		}
		if _, ok := parseQueueID([]byte("another key, 32 bytes long......"), ev, id); ok {
			t.Fatalf("seq %d: accepted under another key", seq)
		}
		next := id
		putSeq(next[:6], seq+1) // someone guessing the next place
		if _, ok := parseQueueID(key, ev, next); ok {
			t.Fatalf("seq %d: the neighbour's ID was guessable", seq)
		}
	}
}

func TestAdmissionsTimes(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	a := newAdmissions(0, t0)
	a.add(10, t0.Add(1*time.Second))
	a.add(15, t0.Add(2*time.Second))
	a.add(40, t0.Add(3*time.Second))
	cases := []struct {
		seq  int64
		want time.Duration
	}{{1, 1 * time.Second}, {10, 1 * time.Second}, {11, 2 * time.Second}, {15, 2 * time.Second}, {16, 3 * time.Second}, {40, 3 * time.Second}}
	for _, c := range cases {
		if got := a.at(c.seq); !got.Equal(t0.Add(c.want)) {
			t.Errorf("at(%d) = %v, want t0+%v", c.seq, got.Sub(t0), c.want)
		}
	}
	a.prune(t0.Add(2500 * time.Millisecond)) // the first two steps collapse
	if len(a.steps) != 1 || a.floorUpto != 15 {
		t.Fatalf("after prune: steps %v, floor %d", a.steps, a.floorUpto)
	}
	if got := a.at(3); got.After(t0.Add(2 * time.Second)) {
		t.Errorf("a pruned place's time %v is later than its step's", got.Sub(t0))
	}
	if got := a.at(16); !got.Equal(t0.Add(3 * time.Second)) {
		t.Errorf("at(16) = %v after prune", got.Sub(t0))
	}
	if got := a.last(); !got.Equal(t0.Add(3 * time.Second)) {
		t.Errorf("last = %v", got.Sub(t0))
	}
	// After a failover only the last step's time is known: earlier places
	// count from it, so their admission ends later, never earlier.
	b := newAdmissions(40, t0.Add(3*time.Second))
	if got := b.at(1); !got.Equal(t0.Add(3 * time.Second)) {
		t.Errorf("reloaded at(1) = %v", got.Sub(t0))
	}
}

func TestOfferKeepsLatest(t *testing.T) {
	ch := make(chan Status, 1)
	offer(ch, Status{Position: 3})
	offer(ch, Status{Position: 2})
	offer(ch, Status{Position: 1})
	if s := <-ch; s.Position != 1 {
		t.Fatalf("reader got position %d, want the latest (1)", s.Position)
	}
	select {
	case s := <-ch:
		t.Fatalf("stale status %+v left behind", s)
	default:
	}
}
