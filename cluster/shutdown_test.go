package cluster_test

import (
	"bytes"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestShutdownStopsOwnGoroutines checks that both kinds of Shutdown stop the
// goroutines this package starts (sync loop, rejoin loop, transport
// forwarders) and that concurrent and repeated calls are safe.
func TestShutdownStopsOwnGoroutines(t *testing.T) {
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
			waitFor(t, 2*time.Second, "own goroutines gone", func() error {
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
