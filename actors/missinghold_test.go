package actors_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/actors"
	"github.com/boxoffice/boxoffice/api/devpay"
)

// TestGoneHoldIsNotNotFound: a booking that exists is never answered
// not_found when the grain no longer has its hold because the hold's end
// (a release, an expiry) is staged but not yet durable; the answer is the
// one its stored state calls for once that end is durable (API.md:
// booking_state, hold_expired). The journal is held back at a gate so the
// second call certainly meets the staged end.
func TestGoneHoldIsNotNotFound(t *testing.T) {
	cases := []struct {
		name    string
		end     func(e *env, c *clock, b boxoffice.Booking, user uuid.UUID) error // ends the hold; returns when durable
		endsBy  string                                                            // the outcome the grain records for the end
		call    func(e *env, b boxoffice.Booking, user uuid.UUID) error
		callsAs string // the outcome the grain records for the call
		want    string
	}{
		{"confirm after a release", release, "release ok", confirmVisa, "confirm not_found", boxoffice.EBookingState},
		{"confirm after an expiry", expire, "expire ok", confirmVisa, "confirm not_found", boxoffice.EHoldExpired},
		{"release after an expiry", expire, "expire ok", releaseErr, "release not_found", boxoffice.EHoldExpired},
		{"release after a release", release, "release ok", releaseErr, "release not_found", boxoffice.EBookingState},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, g, o := newClock(), &gate{}, &outcomes{}
			e := newEnv(t, venue200(), actors.Config{Now: c.Now, TickInterval: 20 * time.Millisecond})
			e.node.stop()
			e.node = startNode(t, e.db, actors.Config{Now: c.Now, TickInterval: 20 * time.Millisecond}, gated(g), counting(o))
			user := uuid.New()
			b := e.mustReserve(t, user, 40, 41)

			g.close()
			ended := make(chan error, 1)
			go func() { ended <- tc.end(e, c, b, user) }()
			waitOutcome(t, o, tc.endsBy, 1)
			require.Eventually(t, func() bool { return g.pending() == 1 }, 5*time.Second, 20*time.Millisecond, "the end of the hold is held at the gate")
			called := make(chan error, 1)
			go func() { called <- tc.call(e, b, user) }()
			waitOutcome(t, o, tc.callsAs, 1)
			g.open()
			if err := <-ended; err != nil {
				t.Fatalf("ending the hold: %v", err)
			}
			if err := <-called; codeOf(err) != tc.want {
				t.Errorf("got %v; want %s", err, tc.want)
			}
		})
	}
}

func release(e *env, _ *clock, b boxoffice.Booking, user uuid.UUID) error {
	_, err := e.node.eng.Release(context.Background(), e.eventID, b.ID, user)
	return err
}

// expire moves the clock past the hold; the grain's tick expires it.
func expire(e *env, c *clock, b boxoffice.Booking, _ uuid.UUID) error {
	c.add(11 * time.Minute)
	return nil
}

func confirmVisa(e *env, b boxoffice.Booking, user uuid.UUID) error {
	_, err := e.node.eng.Confirm(context.Background(), boxoffice.ConfirmRequest{
		EventID: e.eventID, BookingID: b.ID, UserID: user, Method: "card", Token: devpay.TokenVisa})
	return err
}

func releaseErr(e *env, b boxoffice.Booking, user uuid.UUID) error {
	_, err := e.node.eng.Release(context.Background(), e.eventID, b.ID, user)
	return err
}

// TestReleaseConfirmRace races a DELETE and a confirm of one hold, many
// times: exactly one wins, and the other is booking_state, never
// not_found.
func TestReleaseConfirmRace(t *testing.T) {
	e := newEnv(t, venue200(), actors.Config{})
	for i := range 30 {
		user := uuid.New()
		b := e.mustReserve(t, user, i)
		rel, conf := make(chan error, 1), make(chan error, 1)
		go func() { rel <- releaseErr(e, b, user) }()
		go func() { conf <- confirmVisa(e, b, user) }()
		rerr, cerr := <-rel, <-conf
		ok := (rerr == nil && codeOf(cerr) == boxoffice.EBookingState) ||
			(cerr == nil && codeOf(rerr) == boxoffice.EBookingState)
		if !ok {
			t.Fatalf("race %d: release %v, confirm %v; want one success and one booking_state", i, rerr, cerr)
		}
	}
}

// TestExpiryConfirmRace races the hold's expiry (the clock moving past
// it) and its confirm, many times: the confirm either wins or is
// hold_expired, never not_found.
func TestExpiryConfirmRace(t *testing.T) {
	c := newClock()
	e := newEnv(t, venue200(), actors.Config{Now: c.Now, TickInterval: 5 * time.Millisecond})
	for i := range 30 {
		user := uuid.New()
		b := e.mustReserve(t, user, i)
		conf := make(chan error, 1)
		go func() { conf <- confirmVisa(e, b, user) }()
		c.add(11 * time.Minute)
		if err := <-conf; err != nil && codeOf(err) != boxoffice.EHoldExpired {
			t.Fatalf("race %d: confirm %v; want success or hold_expired", i, err)
		}
	}
}
