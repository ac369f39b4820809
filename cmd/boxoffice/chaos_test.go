package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice/persistence/pgtest"
)

// chaosConfig is how long TestChaos runs and how many faults it injects.
// `make test` runs the defaults (30 s, two kills); `make chaos` sets
// BOXOFFICE_CHAOS_DURATION=5m, which kills a node every 10 s.
type chaosConfig struct {
	duration time.Duration
	kills    int
	users    int
}

func chaosFromEnv(t testing.TB) chaosConfig {
	t.Helper()
	c := chaosConfig{duration: 30 * time.Second, kills: 2, users: 12}
	if v := os.Getenv("BOXOFFICE_CHAOS_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 10*time.Second {
			t.Fatalf("BOXOFFICE_CHAOS_DURATION=%q: want a duration of at least 10s", v)
		}
		c.duration = d
		c.kills = max(1, int(d/(10*time.Second))-1) // one every 10 s
	}
	if v := os.Getenv("BOXOFFICE_CHAOS_KILLS"); v != "" {
		k, err := strconv.Atoi(v)
		if err != nil || k < 0 {
			t.Fatalf("BOXOFFICE_CHAOS_KILLS=%q: want a count", v)
		}
		c.kills = k
	}
	return c
}

// fault is one injected failure and when the cluster was whole again.
type fault struct {
	what     string
	at       time.Time
	restored time.Time
}

// TestChaos runs three nodes (child processes) under loadgen on two seated
// events and a standing one (a Floor of chaosFloor places, sold 1..3
// places a reserve) and, at even intervals, kills -9 a random node and restarts it at once;
// half-way between two kills it restarts PostgreSQL. Every node runs an
// embedded NATS server in the NATS cluster, so each kill -9 is also a NATS
// server crash and each restart a NATS restart. Afterwards `boxoffice check`
// must find no violation; the share of 503s and the time to recover from
// each fault (first decided reply of each event after it) are logged.
//
// Holds last 30 s, so the default 30-second run ends before any expires:
// it checks double sales, acknowledgements and versions across kills and
// the PostgreSQL restart. Longer runs (make chaos) also check that holds
// expiring while their event moves are released on time.
// chaosPromoLimit is the use limit of the chaos run's promo code: small,
// so that it is used up and given back again all run long.
const chaosPromoLimit = 12

// The chaos run's standing event: a Floor of chaosFloor places, small so
// that it sells out and places come back (released, expired, refunded)
// all run long, sold by a load of its own (1..3 places a reserve), which
// tries a promo code of chaosFloorPromoLimit uses first. 2 % of its holds
// are left to expire: at ~60 holds/s of 2 places they fill the floor
// half-way through the 30-second run, and then keep it at its limit (each
// expiry gives places back to the racing reserves, the released ones come
// back at once). Nearly all of its few sales are refunded at once, so that
// `make chaos`' 5 minutes do not sell it out for good.
const (
	chaosFloor           = 40
	chaosFloorPromoLimit = 6
	chaosFloorUsers      = 2
	chaosFloorConfirm    = 0.01
	chaosFloorRelease    = 0.97
	chaosFloorRefund     = 0.95
)

func TestChaos(t *testing.T) {
	cfg := chaosFromEnv(t)
	pc := startProcCluster(t, 3)
	events := seedSmall(t, pc.DB, 2)
	urls := urlsOf(pc)
	// Both loads sign in the same loadgen-N users; create them first, since
	// two concurrent first sign-ins of one user can collide (400).
	for i := range cfg.users / 2 {
		pc.Nodes[0].client().token(t, fmt.Sprintf("loadgen-%d@example.com", i))
	}
	// Seats keep cycling so that writes flow through every fault: most
	// holds are released again or expire, few are sold, and the two
	// 2,000-seat events do not sell out within `make chaos`' 5 minutes.
	// The first event is priced (a fee, a tax and a promo code of 12 uses
	// every reserve tries first): the code's limit is raced for through
	// every fault, and check's promo_over_limit and price_mismatch audit it.
	c0 := pc.Nodes[0].client()
	if code := c0.call(t, http.MethodPatch, "/admin/api/events/"+events[0], c0.token(t, "chaos-admin@example.com", "admin"),
		map[string]any{
			"fees": []any{
				map[string]any{"kind": "fee", "label": "Service fee", "amount": "1.25"},
				map[string]any{"kind": "tax", "label": "VAT", "percent": "21"},
			},
			"promo_codes": []any{map[string]any{"code": "CHAOS", "percent": "15", "limit": chaosPromoLimit}},
		}, nil); code != http.StatusOK {
		t.Fatalf("PATCH the first event's pricing: %d", code)
	}
	floor := createChaosFloor(t, c0, c0.token(t, "chaos-admin@example.com", "admin"))
	events = append(events, floor)
	loads := []*loadRun{
		startLoadPromo(t, urls, events[0], cfg.users/2, cfg.duration, chaosConfirm, chaosRelease, "CHAOS"),
		startLoadWith(t, urls, events[1], cfg.users/2, cfg.duration, chaosConfirm, chaosRelease),
		startLoadConfig(t, loadConfig{URLs: urls, Event: floor, Users: chaosFloorUsers, Duration: cfg.duration, Seats: 3,
			Standing: "Floor", Confirm: chaosFloorConfirm, Release: chaosFloorRelease, Refund: chaosFloorRefund, Mode: "reserve", Promo: "FLOOR"}),
	}
	start := time.Now()
	r := rand.New(rand.NewPCG(uint64(start.UnixNano()), 9))
	step := cfg.duration / time.Duration(cfg.kills+1)
	var faults []fault
	for i := 1; i <= cfg.kills; i++ {
		sleepUntil(start.Add(time.Duration(i) * step))
		victim := pc.Nodes[r.IntN(len(pc.Nodes))]
		f := fault{what: "kill -9 " + victim.Name, at: time.Now()}
		victim.kill()
		victim.restart()
		f.restored = time.Now()
		faults = append(faults, f)
		if i == 1 {
			sleepUntil(start.Add(step + step/2))
			f := fault{what: "PostgreSQL restart", at: time.Now()}
			if err := pgtest.Restart(); err != nil {
				t.Fatalf("restart PostgreSQL: %v", err)
			}
			f.restored = time.Now()
			faults = append(faults, f)
		}
	}
	var samples []sample
	for _, l := range loads {
		samples = append(samples, l.wait(t)...)
	}
	for _, nd := range pc.Nodes {
		nd.waitReady(30 * time.Second)
	}
	stats := judgeReplies(t, samples)
	t.Logf("chaos: %s of load, %d faults; replies: %s", cfg.duration, len(faults), stats)
	for _, f := range faults {
		t.Logf("  %-20s at +%5.1fs, back after %-7s; serving again: %s", f.what,
			f.at.Sub(start).Seconds(), f.restored.Sub(f.at).Round(time.Millisecond), recoveryAfter(samples, events, f.at))
	}
	for _, line := range writesPerMinute(samples, start, faults) {
		t.Logf("  %s", line)
	}
	// The Floor is left out: at its limit, its next acknowledged write
	// waits for a hold to expire (its "decided" above is its recovery).
	t.Logf("recovery after a kill (first acknowledged write of each seated event): %s", killRecovery(samples, events[:2], faults))
	for _, ev := range events {
		if n := decided(samples, ev); n == 0 {
			t.Errorf("event %s: no request was decided", ev)
		}
	}
	// I3 after kills: a hold whose event moved (its owner was killed) may
	// end late by the move, up to defaultMoveBudget (15 s) from its expiry,
	// and within a second of the new owner taking over; a hold whose event
	// did not move, within a second. With the fast gossip timings here a
	// move takes about 3 s (suspicion 0.6 s, dead grace 0.4 s, a sweep
	// every second, an activation), so the budget has a wide margin on a
	// loaded machine; the figures are logged to show the real margin.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := checkWith(ctx, openPool(t, pc.DB), samples, defaultMoveBudget)
	if err != nil {
		t.Fatalf("check: %v", err)
	}
	t.Logf("I3: %s", res.i3)
	for _, p := range []struct {
		event, code string
		limit       int
	}{{events[0], "CHAOS", chaosPromoLimit}, {floor, "FLOOR", chaosFloorPromoLimit}} {
		var uses int
		if err := openPool(t, pc.DB).QueryRow(ctx, `SELECT count(*) FROM bookings WHERE event_id = $1 AND promo_code = $2
			AND status IN ('confirmed', 'in-progress')`, p.event, p.code).Scan(&uses); err != nil {
			t.Fatal(err)
		}
		t.Logf("promo %s: %d live uses at the end (limit %d)", p.code, uses, p.limit)
	}
	t.Logf("standing Floor: %s", floorFigures(t, pc, floor, samples))
	for _, v := range res.violations {
		t.Errorf("check: %s: %s", v.Kind, v.Detail)
	}
}

func sleepUntil(at time.Time) { time.Sleep(time.Until(at)) }

// The chaos load's follow-ups of a successful hold: few sales, most
// released again, the rest expire, so that seats keep cycling. At about
// 250 holds/s of 2 seats, 1 % sold takes ~1,500 of the 4,000 seats in 5
// minutes and the 4 % left to expire pin ~600 at a time (30 s holds).
const (
	chaosConfirm = 0.01
	chaosRelease = 0.95
)

// writesPerMinute counts the acknowledged holds (201) and sales (confirm
// 200) of each minute of the run, with the faults that fell in it.
func writesPerMinute(samples []sample, start time.Time, faults []fault) []string {
	type minute struct{ holds, sales, faults int }
	var mins []minute
	at := func(t time.Time) int {
		m := max(0, int(t.Sub(start)/time.Minute))
		for len(mins) <= m {
			mins = append(mins, minute{})
		}
		return m
	}
	for _, s := range samples {
		switch {
		case s.Op == "reserve" && s.Status == 201:
			mins[at(s.At)].holds++
		case s.Op == "confirm" && s.Status == 200:
			mins[at(s.At)].sales++
		}
	}
	for _, f := range faults {
		mins[at(f.at)].faults++
	}
	out := make([]string, len(mins))
	for i, m := range mins {
		out[i] = fmt.Sprintf("minute %d: %d holds, %d sales, %d faults", i+1, m.holds, m.sales, m.faults)
	}
	return out
}

// killRecovery is the p50/p99/max over every kill and event of the time
// from the kill to the first acknowledged write (201 hold, 200 sale or
// release) of a request sent after it; a measurement for the log and
// docs/benchmarks.md, never asserted.
func killRecovery(samples []sample, events []string, faults []fault) string {
	var ds []time.Duration
	for _, f := range faults {
		if !strings.HasPrefix(f.what, "kill") {
			continue
		}
		for _, ev := range events {
			best := time.Duration(-1)
			for _, s := range samples {
				if s.EventID == ev && !s.At.Before(f.at) && (s.Status == 200 || s.Status == 201) {
					if d := s.At.Add(time.Duration(s.Latency * float64(time.Millisecond))).Sub(f.at); best < 0 || d < best {
						best = d
					}
				}
			}
			if best >= 0 {
				ds = append(ds, best)
			}
		}
	}
	if len(ds) == 0 {
		return "no kill was followed by an acknowledged write"
	}
	slices.Sort(ds)
	at := func(p float64) time.Duration {
		return ds[min(len(ds)-1, int(p*float64(len(ds))))].Round(time.Millisecond)
	}
	return fmt.Sprintf("p50 %s, p99 %s, max %s over %d (kill, event) pairs", at(0.5), at(0.99), ds[len(ds)-1].Round(time.Millisecond), len(ds))
}

// decided counts the replies for ev that were decisions (not 503, not lost).
func decided(samples []sample, ev string) int {
	n := 0
	for _, s := range samples {
		if s.EventID == ev && s.Status < 500 {
			n++
		}
	}
	return n
}

// recoveryAfter reports, per event, the time from a fault to the first
// decided reply (any status below 500, e.g. 409 taken, which the event's
// actor decides from memory) and to the first acknowledged write (201 hold,
// 200 sale or release, which PostgreSQL stored) to requests sent after it.
func recoveryAfter(samples []sample, events []string, at time.Time) string {
	first := func(ev string, ok func(sample) bool) string {
		best := time.Duration(-1)
		for _, s := range samples {
			if s.EventID == ev && !s.At.Before(at) && ok(s) {
				d := s.At.Add(time.Duration(s.Latency * float64(time.Millisecond))).Sub(at)
				if best < 0 || d < best {
					best = d
				}
			}
		}
		if best < 0 {
			return "none"
		}
		return best.Round(time.Millisecond).String()
	}
	var parts []string
	for i, ev := range events {
		parts = append(parts, fmt.Sprintf("event %d: decided %s, write acked %s", i+1,
			first(ev, func(s sample) bool { return s.Status < 500 }),
			first(ev, func(s sample) bool { return s.Status == 200 || s.Status == 201 })))
	}
	return strings.Join(parts, "; ")
}

// createChaosFloor creates the chaos run's standing event through the
// admin API: a venue whose only section is a standing Floor of chaosFloor
// places, priced with a fee, a tax and the promo code FLOOR.
func createChaosFloor(t *testing.T, n *testNode, admin string) string {
	t.Helper()
	ev := createEventThrough(t, n, admin, map[string]any{
		"name": "Chaos Floor", "city": "Madrid", "address": "Calle Mayor 2", "location": map[string]float64{"lat": 40.41, "lon": -3.70},
		"seat_map": map[string]any{"sections": []any{map[string]any{"name": "Floor", "standing": chaosFloor}}},
	}, map[string]any{"name": "The Floor", "biography": "Standing only."},
		map[string]any{"name": "Chaos floor night", "type": "concert", "prices": map[string]string{"Floor": "20.00"},
			"starts_at": time.Now().UTC().Truncate(time.Hour).Add(30 * 24 * time.Hour).Format(time.RFC3339)})
	if code := n.call(t, http.MethodPatch, "/admin/api/events/"+ev, admin, map[string]any{
		"fees": []any{
			map[string]any{"kind": "fee", "label": "Service fee", "amount": "1.25"},
			map[string]any{"kind": "tax", "label": "VAT", "percent": "21"},
		},
		"promo_codes": []any{map[string]any{"code": "FLOOR", "percent": "15", "limit": chaosFloorPromoLimit}},
	}, nil); code != http.StatusOK {
		t.Fatalf("PATCH the standing event's pricing: %d", code)
	}
	return ev
}

// floorFigures sums up the standing event's run for the log: how full the
// Floor is at the end, as its event's actor counts it (GET
// /admin/api/events/{id}) and as PostgreSQL has it (the places of live
// bookings, which check's over_capacity judges, once the bookings
// projection has caught up with the actor's version), and how often it
// was sold out. A measurement, never asserted: check judges the invariants.
func floorFigures(t *testing.T, pc *procCluster, ev string, samples []sample) string {
	t.Helper()
	var holds, places, full int
	for _, s := range samples {
		if s.EventID != ev || s.Op != "reserve" {
			continue
		}
		switch s.Status {
		case http.StatusCreated:
			holds++
			places += len(s.TicketIDs)
		case http.StatusConflict:
			full++
		}
	}
	c := pc.Nodes[0].client()
	admin := c.token(t, "chaos-admin@example.com", "admin")
	var st struct {
		Version uint64 `json:"version"`
		Counts  struct {
			Reserved int `json:"reserved"`
			Booked   int `json:"booked"`
		} `json:"counts"`
	}
	if code := c.call(t, http.MethodGet, "/admin/api/events/"+ev, admin, nil, &st); code != http.StatusOK {
		return fmt.Sprintf("GET /admin/api/events/%s: %d", ev, code)
	}
	ctx := context.Background()
	pool := openPool(t, pc.DB)
	var mark uint64
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if err := pool.QueryRow(ctx, `SELECT coalesce((SELECT version FROM booking_projection WHERE event_id = $1), 0)`, ev).Scan(&mark); err != nil {
			t.Fatal(err)
		}
		if mark >= st.Version {
			break
		}
	}
	var held, sold int
	if err := pool.QueryRow(ctx, `SELECT
			coalesce(sum(cardinality(ticket_ids)) FILTER (WHERE status = 'in-progress'), 0),
			coalesce(sum(cardinality(ticket_ids)) FILTER (WHERE status = 'confirmed'), 0)
		FROM bookings WHERE event_id = $1`, ev).Scan(&held, &sold); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("capacity %d; at the end the actor has %d taken (%d held, %d sold) at version %d, PostgreSQL %d (%d held, %d sold) "+
		"at projection version %d; %d holds of %d places acknowledged, %d reserves refused (409, sold out)",
		chaosFloor, st.Counts.Reserved+st.Counts.Booked, st.Counts.Reserved, st.Counts.Booked, st.Version,
		held+sold, held, sold, mark, holds, places, full)
}
