package cluster_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"testing"
	"time"
)

// shutdownChildEnv marks the test binary that TestShutdownStopsOwnGoroutines
// starts to run the check alone.
const shutdownChildEnv = "BOXOFFICE_CLUSTER_SHUTDOWN_CHILD"

// TestShutdownStopsOwnGoroutines checks that both kinds of Shutdown stop the
// goroutines this package starts (sync loop, rejoin loop, transport
// forwarders) and that concurrent and repeated calls are safe. Goroutines
// of earlier tests in the same binary would count too, so the check runs
// in a fresh test binary of its own that runs nothing else.
func TestShutdownStopsOwnGoroutines(t *testing.T) {
	if os.Getenv(shutdownChildEnv) == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestShutdownStopsOwnGoroutines$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), shutdownChildEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("the check in its own process failed: %v\n%s", err, out)
		}
		if !bytes.Contains(out, []byte("--- PASS: TestShutdownStopsOwnGoroutines/graceful=true")) {
			t.Fatalf("the check in its own process did not run:\n%s", out)
		}
		return
	}
	if got := ownGoroutines(); got != 0 {
		t.Fatalf("%d goroutines of package cluster run before any node started", got)
	}
	for _, graceful := range []bool{false, true} {
		t.Run(fmt.Sprintf("graceful=%v", graceful), func(t *testing.T) {
			n := mustStart(t, "node-x")
			if got := ownGoroutines(); got == 0 {
				t.Fatal("no goroutines of package cluster found while running; the check is broken")
			}
			var wg sync.WaitGroup
			for range 3 {
				wg.Go(func() { n.Shutdown(graceful) })
			}
			wg.Wait()
			n.Shutdown(graceful)
			waitFor(t, 30*time.Second, "own goroutines gone", func() error {
				if got := ownGoroutines(); got != 0 {
					return fmt.Errorf("%d goroutines still run code of package cluster", got)
				}
				return nil
			})
		})
	}
}

// ownGoroutines counts goroutines whose stack runs this package's code, not
// counting the test's own.
func ownGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	count := 0
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		if bytes.Contains(g, []byte("boxoffice/cluster.(*")) && !bytes.Contains(g, []byte("cluster_test.")) {
			count++
		}
	}
	return count
}
