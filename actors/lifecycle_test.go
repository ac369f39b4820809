package actors_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors"
	"github.com/boxoffice/boxoffice/actors/grainpb"
	"github.com/boxoffice/boxoffice/cluster/clustertest"
	"github.com/boxoffice/boxoffice/persistence"
)

// TestNoEarlySuccessAfterPanic reproduces the in-place restart of issue
// 14: group G1 is written but its ack is late; the grain panics; the next
// instance behind the same PID takes a new epoch and submits G2; then G1's
// ack arrives. It must not be credited to G2: the grain may not count G2
// committed (nor answer its caller) while PostgreSQL does not hold it (I2).
// Contained, the panic stops the grain; escaped, Proto.Actor restarts it
// in place and the activation tag on the ack must drop it.
func TestNoEarlySuccessAfterPanic(t *testing.T) {
	for _, tc := range []struct {
		name    string
		escapes bool
	}{
		{"contained", false},
		{"restarted in place", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.escapes {
				actors.EscapePanics(t)
			}
			e := newBareEnv(t, venue200())
			gate := &gatedJournal{}
			n := startGatedNode(t, e.db, actors.Config{RequestTimeout: 2 * time.Second}, gate)
			e.node = n
			ctx := context.Background()

			// G1: written, ack held back.
			gate.holdAcks.Store(true)
			a := goReserve(e, uuid.New(), 1)
			require.Eventually(t, func() bool { return gate.heldAcks() == 1 }, 5*time.Second, 20*time.Millisecond, "G1 is durable with its ack held")
			gate.holdAcks.Store(false)

			// The grain panics while G1 is in flight.
			var armed atomic.Bool
			armed.Store(true)
			actors.SetReceiveHook(t, func(msg any) {
				if _, ok := msg.(*grainpb.GetStats); ok && armed.CompareAndSwap(true, false) {
					panic("injected")
				}
			})
			short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
			_, _ = n.eng.Stats(short, e.eventID)
			cancel()
			<-a // G1's caller gets an answer (unavailable) or gives up
			// Contained, the failed grain refuses until it has stopped;
			// wait for an activation that serves.
			require.Eventually(t, func() bool {
				_, err := n.eng.Stats(ctx, e.eventID)
				return err == nil
			}, 5*time.Second, 20*time.Millisecond, "the event is served again")

			// G2: submitted by the next activation, held before writing.
			gate.holdSubmits.Store(true)
			b := goReserve(e, uuid.New(), 2)
			require.Eventually(t, func() bool { return gate.heldSubmits() == 1 }, 5*time.Second, 20*time.Millisecond, "G2 is submitted")

			// G1's late ack arrives; then the grain is asked what it
			// counts as committed (the reply comes after the ack).
			gate.releaseAcks()
			st, err := n.eng.Stats(ctx, e.eventID)
			if err != nil {
				t.Fatalf("stats: %v", err)
			}
			durable := restore(t, e).Version()
			if st.Version > durable {
				t.Fatalf("the grain counts version %d committed, PostgreSQL holds %d: G1's ack was credited to G2", st.Version, durable)
			}
			select {
			case r := <-b:
				if r.err == nil {
					t.Fatalf("G2's caller got success while G2 was not written")
				}
			default:
			}

			// G2 is written: its caller succeeds, and its booking is durable.
			gate.releaseSubmits()
			r := <-b
			if r.err != nil {
				t.Fatalf("reserve in G2: %v", r.err)
			}
			if _, err := e.db.Booking(ctx, r.b.ID); err != nil {
				t.Fatalf("G2's booking after success: %v", err)
			}
		})
	}
}

type reserveResult struct {
	b   boxoffice.Booking
	err error
}

// goReserve reserves seat i for user on a goroutine; the channel gets the
// outcome.
func goReserve(e *env, user uuid.UUID, i int) <-chan reserveResult {
	out := make(chan reserveResult, 1)
	go func() {
		b, err := e.node.eng.Reserve(context.Background(), boxoffice.ReserveRequest{
			EventID: e.eventID, UserID: user, BookingID: uuid.New(), TicketIDs: e.tickets(i)})
		out <- reserveResult{b, err}
	}()
	return out
}

// gatedJournal is the node's journal writer with two gates a test opens
// and closes: holdAcks writes commits but keeps their acks back,
// holdSubmits keeps commits back before writing them.
type gatedJournal struct {
	jw          *persistence.JournalWriter
	holdAcks    atomic.Bool
	holdSubmits atomic.Bool

	mu      sync.Mutex
	acks    []func()
	submits []func()
}

func (j *gatedJournal) Submit(c boxoffice.Commit, done func(error)) {
	if j.holdSubmits.Load() {
		j.mu.Lock()
		j.submits = append(j.submits, func() { j.jw.Submit(c, done) })
		j.mu.Unlock()
		return
	}
	if !j.holdAcks.Load() {
		j.jw.Submit(c, done)
		return
	}
	j.jw.Submit(c, func(err error) {
		j.mu.Lock()
		j.acks = append(j.acks, func() { done(err) })
		j.mu.Unlock()
	})
}

func (j *gatedJournal) heldAcks() int    { j.mu.Lock(); defer j.mu.Unlock(); return len(j.acks) }
func (j *gatedJournal) heldSubmits() int { j.mu.Lock(); defer j.mu.Unlock(); return len(j.submits) }

func (j *gatedJournal) releaseAcks() {
	j.mu.Lock()
	acks := j.acks
	j.acks = nil
	j.mu.Unlock()
	for _, f := range acks {
		f()
	}
}

func (j *gatedJournal) releaseSubmits() {
	j.holdSubmits.Store(false)
	j.mu.Lock()
	subs := j.submits
	j.submits = nil
	j.mu.Unlock()
	for _, f := range subs {
		f()
	}
}

// startGatedNode is startNode with the journal writer wrapped by gate.
func startGatedNode(t *testing.T, db *persistence.DB, cfg actors.Config, gate *gatedJournal) *node {
	t.Helper()
	n := startNode(t, db, cfg, func(d *actors.Deps) {
		gate.jw = d.Journal.(*persistence.JournalWriter)
		d.Journal = gate
	})
	t.Cleanup(func() { // before n.stop, which waits for the journal
		gate.releaseAcks()
		gate.releaseSubmits()
	})
	return n
}

// TestEngineCloseEndsTopologySubscription: Attach subscribes a Caller to the
// actor system's event stream; attaching again replaces and closes it, and
// Close ends it (it was never closed, so each engine's Caller lived, and ran
// on every topology change, as long as the actor system).
func TestEngineCloseEndsTopologySubscription(t *testing.T) {
	e := newEnv(t, venue200(), actors.Config{})
	first := actors.CallerOf(e.node.eng)
	e.node.eng.Attach(e.node.cluster)
	second := actors.CallerOf(e.node.eng)
	if !first.Closed() || second.Closed() {
		t.Fatalf("after attaching again: first closed %v, second closed %v; want true, false", first.Closed(), second.Closed())
	}
	e.node.eng.Close()
	if !second.Closed() || actors.CallerOf(e.node.eng) != nil {
		t.Fatalf("after Close: the Caller is still attached or watching")
	}
	e.node.eng.Close() // idempotent
	if _, err := e.node.eng.Stats(context.Background(), e.eventID); codeOf(err) != boxoffice.EUnavailable {
		t.Fatalf("stats after Close: %v, want unavailable", err)
	}
}

// TestActivationFallsBackFromBadSnapshot corrupts snapshot rows in
// PostgreSQL (cut in half, as a torn write would leave them). The next
// activation must fall back on the older snapshot kept beside the newest,
// or on a full replay of the journal, and serve the event as it was.
func TestActivationFallsBackFromBadSnapshot(t *testing.T) {
	cases := []struct {
		name    string
		corrupt string // which snapshot rows to cut in half
	}{
		{"newest", `version = (SELECT max(version) FROM snapshots WHERE event_id = $1)`},
		{"both", `true`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, venue200(), actors.Config{SnapshotEvery: 2})
			ctx := context.Background()
			reserved := []int{1, 2, 3, 4, 5, 6, 7}
			for _, i := range reserved {
				e.mustReserve(t, uuid.New(), i)
			}
			require.Eventually(t, func() bool { return countRows(t, e, "snapshots") >= 2 }, 5*time.Second, 20*time.Millisecond, "two snapshots are kept")
			e.node.stop()
			tag, err := e.db.Pool().Exec(ctx, `UPDATE snapshots SET state = substring(state FROM 1 FOR length(state) / 2)
				WHERE event_id = $1 AND `+tc.corrupt, e.eventID)
			if err != nil || tag.RowsAffected() == 0 {
				t.Fatalf("corrupt snapshots: %v (%d rows)", err, tag.RowsAffected())
			}

			n := startNode(t, e.db, actors.Config{})
			v, err := n.eng.Seats(ctx, e.eventID)
			if err != nil {
				t.Fatalf("seats after corrupting the %s snapshot: %v", tc.name, err)
			}
			for _, i := range reserved {
				if v.Statuses[i] != boxoffice.SeatReserved {
					t.Errorf("seat %d = %v, want reserved", i, v.Statuses[i])
				}
			}
			if v.Statuses[0] != boxoffice.SeatAvailable {
				t.Errorf("seat 0 = %v, want available", v.Statuses[0])
			}
		})
	}
}

// TestFailedActivationBacksOff: an event whose activation fails (a journal
// record that cannot be applied) is not activated again, with a new epoch
// and ownership_history row, by every call that follows; only once the
// pause is over (the test moves the clock).
func TestFailedActivationBacksOff(t *testing.T) {
	e := newEnv(t, venue200(), actors.Config{})
	ctx := context.Background()
	e.mustReserve(t, uuid.New(), 1)
	e.node.stop()
	for _, q := range []string{
		`DELETE FROM snapshots WHERE event_id = $1`,                                                            // the passivation snapshot
		`UPDATE journal SET records = '\x0000000100'::bytea, first_version = last_version WHERE event_id = $1`, // one record, 0x00
	} {
		if _, err := e.db.Pool().Exec(ctx, q, e.eventID); err != nil {
			t.Fatal(err)
		}
	}
	clock := clustertest.NewClock(time.Now())
	n := startNode(t, e.db, actors.Config{Now: clock.Now})

	if err := n.eng.Touch(ctx, e.eventID); codeOf(err) != boxoffice.EUnavailable {
		t.Fatalf("touch a broken event: %v, want unavailable", err)
	}
	failedAt := countRows(t, e, "ownership_history")
	for range 5 {
		if err := n.eng.Touch(ctx, e.eventID); codeOf(err) != boxoffice.EUnavailable {
			t.Fatalf("touch during the pause: %v, want unavailable", err)
		}
	}
	if got := countRows(t, e, "ownership_history"); got != failedAt {
		t.Fatalf("%d activations during the pause after a failed one, want none", got-failedAt)
	}

	clock.Advance(time.Minute)
	require.Eventually(t, func() bool {
		_ = n.eng.Touch(ctx, e.eventID)
		return countRows(t, e, "ownership_history") > failedAt
	}, 5*time.Second, 20*time.Millisecond, "an activation is tried again after the pause")
}

// countRows counts the event's rows in table.
func countRows(t *testing.T, e *env, table string) int {
	t.Helper()
	var n int
	if err := e.db.Pool().QueryRow(context.Background(), `SELECT count(*) FROM `+table+` WHERE event_id = $1`, e.eventID).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}
