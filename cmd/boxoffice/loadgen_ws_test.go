package main

import (
	"io"
	"testing"
	"time"
)

// TestLoadgenWatchModes: a second ws-mode run on the same event within
// the hold TTL still makes holds and delivers each of them to every
// watcher (before, its first buyer still held its seats from the first
// run and it tried the same seats again, so it held none); and a connect
// storm gets every watcher its snapshot.
func TestLoadgenWatchModes(t *testing.T) {
	n := startTestNode(t)
	admin := n.token(t, "admin@example.com", "admin")
	ev, _ := rulesEvent(t, n, admin, 60, nil)
	for _, compact := range []bool{false, true} {
		c := loadConfig{URLs: []string{n.URL}, Event: ev, Users: 3, PerBuyer: 10, Duration: 300 * time.Millisecond,
			Interval: 5 * time.Millisecond, Compact: compact}
		res, err := watchRun(t.Context(), c, io.Discard)
		if err != nil {
			t.Fatalf("compact=%v: %v", compact, err)
		}
		if res.holds == 0 {
			t.Fatalf("compact=%v: no holds (%d reserves failed)", compact, res.failed)
		}
		if res.dropped != 0 || res.released != res.holds {
			t.Fatalf("compact=%v: holds %d (failed %d), released %d, dropped %d; want holds, all released, none dropped",
				compact, res.holds, res.failed, res.released, res.dropped)
		}
		if want := int(res.holds) * c.Users; res.delivered != want {
			t.Fatalf("compact=%v: %d deltas delivered, want %d", compact, res.delivered, want)
		}
	}
	for _, deflate := range []bool{false, true} {
		c := loadConfig{URLs: []string{n.URL}, Event: ev, Users: 4, Duration: 100 * time.Millisecond, Compact: true, Deflate: deflate}
		res, err := stormRun(t.Context(), c, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if res.connected != c.Users || res.failed != 0 || res.bytes < int64(c.Users)*100 || len(res.toSnapshot) != c.Users {
			t.Fatalf("deflate=%v: storm %+v; want %d watchers with their snapshot", deflate, res, c.Users)
		}
	}
}
