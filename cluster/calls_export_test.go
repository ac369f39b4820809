package cluster

import (
	"time"

	pcluster "github.com/asynkron/protoactor-go/cluster"
)

// CallOptionsSleeping is CallOptions with its pauses going to sleep, so a
// test sees them without timing them.
func CallOptionsSleeping(timeout time.Duration, sleep func(time.Duration)) []pcluster.GrainCallOption {
	return callOptions(timeout, sleep)
}
