package cluster

import (
	"context"
	"time"

	pcluster "github.com/asynkron/protoactor-go/cluster"
)

// Retry policy of grain calls. Proto.Actor retries a request when the owner
// could not be resolved or the grain was gone (a dead letter: it moved or
// stopped), after calling the retry action. Its default action sleeps
// i*i*50 nanoseconds, so all retries burn out in microseconds, before a
// moved grain's new owner has even seen the topology change. A timeout is
// not retried in practice: one attempt may use the whole timeout.
const (
	retryBase       = 25 * time.Millisecond  // first pause
	retryMaxBackoff = 500 * time.Millisecond // longest pause
	retryCount      = 10                     // attempts, bounded by the timeout too
)

// CallOptions returns the options for one grain request with a total budget
// of timeout: that timeout, up to ten attempts, and a quadratic backoff
// between them (25ms, 100ms, 225ms, ... capped at 500ms and at a quarter of
// the timeout). The options keep no per-call state, so the slice may be
// built once and reused.
//
//	res, err := node.Cluster().Request(id, kind, msg, cluster.CallOptions(2*time.Second)...)
func CallOptions(timeout time.Duration) []pcluster.GrainCallOption {
	return callOptions(timeout, time.Sleep)
}

// callOptions is CallOptions pausing with sleep, which tests record
// instead of timing.
func callOptions(timeout time.Duration, sleep func(time.Duration)) []pcluster.GrainCallOption {
	return []pcluster.GrainCallOption{
		pcluster.WithTimeout(timeout),
		pcluster.WithRetryCount(retryCount),
		pcluster.WithRetryAction(func(attempt int) int {
			attempt++
			sleep(retryBackoff(attempt, timeout))
			return attempt
		}),
	}
}

// retryBackoff is the pause before retry number attempt (1-based).
func retryBackoff(attempt int, timeout time.Duration) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	limit := min(retryMaxBackoff, timeout/4)
	if attempt > 10 { // avoid overflow; the cap applies long before
		return limit
	}
	return min(time.Duration(attempt*attempt)*retryBase, limit)
}

// Budget is the timeout for one grain request made under ctx: limit, or
// what is left of ctx when its deadline comes sooner. Zero or less means
// the caller has already run out of time and should not call at all.
func Budget(ctx context.Context, limit time.Duration) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		return min(limit, time.Until(dl))
	}
	return limit
}
