package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The open loop offers exactly rate x duration attempts whatever the
// replies, accounts for every one (answered or dropped, by status), and
// records each answered one in the history; a sweep prints one line per
// rate and the knee.
func TestLoadgenOpenLoop(t *testing.T) {
	n := startTestNode(t)
	event := createCheckEvent(t, n)
	path := filepath.Join(t.TempDir(), "history.jsonl")
	ctx := context.Background()
	res, err := runOpenLoad(ctx, loadConfig{URLs: []string{n.URL}, Event: event, Users: 8, PerBuyer: 4,
		Duration: 500 * time.Millisecond, Rate: 200, Seats: 1, History: path, Mode: "reserve"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if res.offered != 100 || res.answered+res.dropped != res.offered {
		t.Fatalf("offered %d, answered %d, dropped %d: want 100 offered, all accounted for", res.offered, res.answered, res.dropped)
	}
	var byStatus int64
	for _, v := range res.statuses {
		byStatus += v
	}
	if byStatus != res.answered || res.ok == 0 || res.ok != res.statuses[201] {
		t.Fatalf("statuses %v for %d answered, %d successes", res.statuses, res.answered, res.ok)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines int64
	for sc := bufio.NewScanner(f); sc.Scan(); lines++ {
		var s sample
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil || s.Op != "reserve" || (s.Status == 201) != (s.BookingID != "") {
			t.Fatalf("history line %d: %s (%v)", lines, sc.Text(), err)
		}
	}
	if lines != res.answered {
		t.Fatalf("%d history lines, want %d", lines, res.answered)
	}

	var out bytes.Buffer
	if err := sweepOpenLoad(ctx, loadConfig{URLs: []string{n.URL}, Event: event, Users: 4, PerBuyer: 4,
		Duration: 200 * time.Millisecond, Rate: 20, MaxRate: 30, Seats: 1, Mode: "reserve"}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	if got := strings.Count(text, "\noffered=") + boolInt(strings.HasPrefix(text, "offered=")); got != 2 || !strings.Contains(text, "knee: ") { // 20 and 30/s, whatever their p99
		t.Fatalf("sweep output:\n%s", text)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
