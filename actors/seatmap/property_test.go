package seatmap_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors/seatmap"
)

var modelSeed = flag.Uint64("seatmap.seed", 0, "seed of TestModel's command sequences (0: from the clock)")

// modelChooser feeds the driver its decisions: a seeded PRNG in TestModel,
// the fuzzer's bytes in FuzzCommands.
type modelChooser interface {
	intn(n int) int // in [0, n)
	done() bool
}

type modelRand struct{ r *rand.Rand }

func (c modelRand) intn(n int) int { return c.r.IntN(n) }
func (c modelRand) done() bool     { return false }

// modelBytes reads one byte per decision and is done when they run out.
type modelBytes struct{ b []byte }

func (c *modelBytes) intn(n int) int {
	if len(c.b) == 0 {
		return 0
	}
	v := int(c.b[0]) % n
	c.b = c.b[1:]
	return v
}
func (c *modelBytes) done() bool { return len(c.b) == 0 }

var (
	modelEvent = uuid.MustParse("e0e0e0e0-1111-4222-8333-444455556666")
	modelOther = uuid.MustParse("0e0e0e0e-1111-4222-8333-444455556666")
	// Three owners and six bookings, so that bookings collide, owners
	// mismatch and equal expiries are common. The booking IDs' byte order
	// is not their list order, so expiry ties test the booking tie-break.
	modelOwners   = []uuid.UUID{uuid.MustParse("a0000000-0000-4000-8000-000000000001"), uuid.MustParse("a0000000-0000-4000-8000-000000000002"), uuid.MustParse("a0000000-0000-4000-8000-000000000003")}
	modelBookings = []uuid.UUID{
		uuid.MustParse("b5000000-0000-4000-8000-000000000000"), uuid.MustParse("b1000000-0000-4000-8000-000000000000"),
		uuid.MustParse("b4000000-0000-4000-8000-000000000000"), uuid.MustParse("b2000000-0000-4000-8000-000000000000"),
		uuid.MustParse("b6000000-0000-4000-8000-000000000000"), uuid.MustParse("b3000000-0000-4000-8000-000000000000"),
	}
	modelStart = time.Date(2030, 6, 1, 18, 0, 0, 0, time.UTC).UnixNano()
	// modelLens weights hold sizes towards 1..4 seats, with the invalid 0
	// and 11 and the largest valid 10.
	modelLens = []int{0, 1, 1, 1, 2, 2, 3, 4, 5, 10, 11}
)

const modelUnit = int64(time.Minute)

// modelRun drives one command sequence on a map and on the model, checking
// after every step, and returns the first divergence or nil.
type modelRun struct {
	ch      modelChooser
	m       *seatmap.Map
	ref     *refModel
	journal []seatmap.Record
	snap    []byte // a snapshot taken at a random point
	snapAt  int    // len(journal) when snap was taken
	now     int64
	trace   []string
}

func newModelRun(ch modelChooser, seats int) *modelRun {
	m := seatmap.New(modelEvent, seats)
	snap, _ := m.MarshalBinary()
	return &modelRun{ch: ch, m: m, ref: newRefModel(modelEvent, seats), snap: snap, now: modelStart}
}

// run takes up to steps steps; the error names the step and recent ops.
func (r *modelRun) run(steps int) error {
	for i := 0; i < steps && !r.ch.done(); i++ {
		if err := r.step(); err != nil {
			return fmt.Errorf("step %d: %w\nrecent ops:\n  %s", i, err, strings.Join(r.trace, "\n  "))
		}
	}
	// The whole journal from an empty map rebuilds the live state.
	fresh := seatmap.New(modelEvent, r.m.Len())
	if err := replay(fresh, r.journal); err != nil {
		return fmt.Errorf("replay from version 0: %w", err)
	}
	return sameBytes("replay from version 0", fresh, r.m)
}

func (r *modelRun) pickOwner() uuid.UUID { return modelOwners[r.ch.intn(len(modelOwners))] }

func (r *modelRun) pickBooking() uuid.UUID { return modelBookings[r.ch.intn(len(modelBookings))] }

// pickHolder picks a booking and, two times in three, the owner of its hold.
func (r *modelRun) pickHolder() (uuid.UUID, uuid.UUID) {
	b, o := r.pickBooking(), r.pickOwner()
	if h := r.ref.holds[b]; h != nil && r.ch.intn(3) > 0 {
		o = h.owner
	}
	return b, o
}

func (r *modelRun) request() []refTicket {
	req := make([]refTicket, modelLens[r.ch.intn(len(modelLens))])
	for k := range req {
		switch c := r.ch.intn(20); {
		case c == 0 && k > 0:
			req[k] = req[r.ch.intn(k)] // a duplicate
		case c == 1:
			req[k] = refTicket{modelOther, r.ch.intn(r.ref.n)}
		case c == 2:
			req[k] = refTicket{modelEvent, r.ref.n + r.ch.intn(3)}
		default:
			req[k] = refTicket{modelEvent, r.ch.intn(r.ref.n)}
		}
	}
	return req
}

func (r *modelRun) logf(format string, args ...any) {
	if len(r.trace) == 30 {
		r.trace = r.trace[1:]
	}
	r.trace = append(r.trace, fmt.Sprintf("v%d t+%dm ", r.m.Version(), (r.now-modelStart)/modelUnit)+fmt.Sprintf(format, args...))
}

func (r *modelRun) step() error {
	r.now += int64(r.ch.intn(3)) * modelUnit
	now := time.Unix(0, r.now).UTC()
	before, err := r.m.MarshalBinary()
	if err != nil {
		return err
	}
	var (
		want  refOutcome
		got   []seatmap.Record
		opErr error
	)
	one := func(rec seatmap.Record, err error) {
		if err == nil {
			got = []seatmap.Record{rec}
		}
		opErr = err
	}
	switch op := r.ch.intn(100); {
	case op < 40:
		owner, booking, req := r.pickOwner(), r.pickBooking(), r.request()
		ttl := int64(r.ch.intn(10)-1) * modelUnit
		ids := make([]uuid.UUID, len(req))
		for k, t := range req {
			ids[k] = t.id()
		}
		r.logf("Hold(%s, %s, %v, ttl %dm)", owner.String()[:8], booking.String()[:2], req, ttl/modelUnit)
		one(r.m.Hold(owner, booking, ids, now, time.Duration(ttl)))
		want = r.ref.hold(owner, booking, req, r.now, ttl)
	case op < 52:
		b, o := r.pickHolder()
		r.logf("Release(%s, %s)", b.String()[:2], o.String()[:8])
		one(r.m.Release(b, o))
		want = r.ref.release(b, o)
	case op < 64:
		r.logf("ExpireDue")
		got = r.m.ExpireDue(now)
		want = r.ref.expire(r.now)
	case op < 76:
		b, o := r.pickHolder()
		r.logf("PinForPayment(%s, %s)", b.String()[:2], o.String()[:8])
		one(r.m.PinForPayment(b, o, now))
		want = r.ref.pin(b, o, r.now)
	case op < 84:
		b := r.pickBooking()
		r.logf("Unpin(%s)", b.String()[:2])
		one(r.m.Unpin(b))
		want = r.ref.unpin(b)
	case op < 92:
		b := r.pickBooking()
		r.logf("Sell(%s)", b.String()[:2])
		one(r.m.Sell(b))
		want = r.ref.sell(b)
	case op < 96:
		r.logf("snapshot")
		r.snap, r.snapAt = before, len(r.journal)
	default:
		// An actor restart: the last snapshot plus the journal after it
		// becomes the live map, and every later step runs on it.
		r.logf("restart from the snapshot at v%d", r.snapAt)
		m, err := seatmap.Decode(modelEvent, r.snap)
		if err != nil {
			return fmt.Errorf("decode the snapshot: %w", err)
		}
		if err := replay(m, r.journal[r.snapAt:]); err != nil {
			return err
		}
		r.m = m
	}
	if err := r.checkOutcome(want, got, opErr, before); err != nil {
		return err
	}
	return r.checkState()
}

// checkOutcome compares one operation's result with the model's.
func (r *modelRun) checkOutcome(want refOutcome, got []seatmap.Record, err error, before []byte) error {
	if want.code != "" {
		var e *boxoffice.Error
		if !errors.As(err, &e) || e.Code != want.code {
			return fmt.Errorf("error %v, want code %s", err, want.code)
		}
		if f, _ := e.Details["field"].(string); f != want.field {
			return fmt.Errorf("%v: details.field %q, want %q", err, f, want.field)
		}
		if ids, _ := e.Details["ticket_ids"].([]string); !slices.Equal(ids, want.ids) {
			return fmt.Errorf("%v: details.ticket_ids %v, want %v", err, ids, want.ids)
		}
		after, _ := r.m.MarshalBinary()
		if !bytes.Equal(before, after) {
			return fmt.Errorf("failed op (%v) changed the map", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("unexpected error %w", err)
	}
	if len(got) != len(want.records) || (len(got) > 0 && !reflect.DeepEqual(got, want.records)) {
		return fmt.Errorf("records\n  %+v\nwant\n  %+v", got, want.records)
	}
	for _, rec := range got {
		if err := r.checkRecord(rec); err != nil {
			return err
		}
	}
	r.journal = append(r.journal, got...)
	return nil
}

// checkRecord round-trips rec through the journal format, checks its seat
// changes, and checks that replaying it again is refused without a change.
func (r *modelRun) checkRecord(rec seatmap.Record) error {
	data, err := rec.MarshalBinary()
	if err != nil {
		return err
	}
	back, err := seatmap.UnmarshalRecord(data)
	if err != nil || !reflect.DeepEqual(back, rec) {
		return fmt.Errorf("record round trip: %+v, %v; want %+v", back, err, rec)
	}
	st := map[seatmap.Kind]boxoffice.SeatStatus{seatmap.KindHeld: boxoffice.SeatReserved,
		seatmap.KindReleased: boxoffice.SeatAvailable, seatmap.KindExpired: boxoffice.SeatAvailable, seatmap.KindSold: boxoffice.SeatBooked}
	var want []seatmap.Change
	if s, ok := st[rec.Kind]; ok {
		for _, i := range rec.Seats {
			want = append(want, seatmap.Change{Index: i, Status: s})
		}
	}
	if ch := rec.Changes(); !slices.Equal(ch, want) {
		return fmt.Errorf("%s changes %v, want %v", rec.Kind, ch, want)
	}
	before, _ := r.m.MarshalBinary()
	for _, v := range []uint64{r.m.Version() + 1, r.m.Version() + 2, r.m.Version()} {
		again := rec
		again.Seats = slices.Clone(rec.Seats)
		again.Version = v
		if r.m.Apply(again) == nil {
			return fmt.Errorf("%s v%d applied again as v%d", rec.Kind, rec.Version, v)
		}
	}
	if after, _ := r.m.MarshalBinary(); !bytes.Equal(before, after) {
		return fmt.Errorf("a refused Apply of %s changed the map", rec.Kind)
	}
	return nil
}

// checkState compares the map with the model and with its snapshot forms.
func (r *modelRun) checkState() error {
	if d := modelDiff(r.m, r.ref, modelBookings); d != "" {
		return errors.New(d)
	}
	if d := modelInvariants(r.m, modelBookings, uint64(len(r.journal))); d != "" {
		return errors.New(d)
	}
	if err := r.m.Check(); err != nil {
		return err
	}
	data, err := r.m.MarshalBinary()
	if err != nil {
		return err
	}
	decoded, err := seatmap.Decode(modelEvent, data)
	if err != nil {
		return fmt.Errorf("decode a live snapshot: %w", err)
	}
	if d := modelDiff(decoded, r.ref, modelBookings); d != "" {
		return fmt.Errorf("decoded snapshot: %s", d)
	}
	if err := sameBytes("decode and re-encode", decoded, r.m); err != nil {
		return err
	}
	replayed, err := seatmap.Decode(modelEvent, r.snap)
	if err != nil {
		return fmt.Errorf("decode the old snapshot: %w", err)
	}
	if err := replay(replayed, r.journal[r.snapAt:]); err != nil {
		return err
	}
	return sameBytes(fmt.Sprintf("snapshot at v%d + %d records", r.snapAt, len(r.journal)-r.snapAt), replayed, r.m)
}

// replay applies records to m through their journal encoding.
func replay(m *seatmap.Map, records []seatmap.Record) error {
	for _, rec := range records {
		data, err := rec.MarshalBinary()
		if err != nil {
			return err
		}
		back, err := seatmap.UnmarshalRecord(data)
		if err != nil {
			return err
		}
		if err := m.Apply(back); err != nil {
			return fmt.Errorf("replay %s v%d: %w", rec.Kind, rec.Version, err)
		}
	}
	return nil
}

// sameBytes requires two maps to encode to equal snapshots.
func sameBytes(what string, got, want *seatmap.Map) error {
	a, err := got.MarshalBinary()
	if err != nil {
		return err
	}
	b, err := want.MarshalBinary()
	if err != nil {
		return err
	}
	if !bytes.Equal(a, b) {
		return fmt.Errorf("%s: snapshot bytes differ from the live map's (v%d vs v%d)", what, got.Version(), want.Version())
	}
	return nil
}

// TestModel runs thousands of random command sequences on small maps
// (1..48 seats, so holds collide) against the reference model. A failure
// names the sequence; rerun it with -seatmap.seed.
func TestModel(t *testing.T) {
	seed := *modelSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -seatmap.seed=%d)", seed, seed)
	const sequences, steps = 3000, 60
	for i := range sequences {
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		run := newModelRun(modelRand{rng}, 1+rng.IntN(48))
		if err := run.run(steps); err != nil {
			t.Fatalf("seed %d, sequence %d: %v", seed, i, err)
		}
	}
}
