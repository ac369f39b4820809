package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestLoadgenStandingOnlyInClosedLoop: -standing drives the closed loop of
// -mode reserve; with a mode or loop that cannot ask for places, loadgen
// refuses at once instead of silently reserving seats.
func TestLoadgenStandingOnlyInClosedLoop(t *testing.T) {
	for _, args := range [][]string{
		{"-standing", "Floor", "-mode", "view"},
		{"-standing", "Floor", "-mode", "ws"},
		{"-standing", "Floor", "-rate", "10"},
		{"-standing", "Floor", "-rate", "10", "-sweep"},
		{"-standing", "Floor", "-wrk-data", "x.lua"},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), append([]string{"loadgen", "-url", "http://127.0.0.1:1", "-event", "e"}, args...),
			func(string) string { return "" }, &out, &errOut)
		if err == nil || !strings.Contains(err.Error(), "-standing") {
			t.Errorf("loadgen %v: %v, want a refusal naming -standing", args, err)
		}
	}
}
