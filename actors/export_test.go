package actors

// Draining reports whether Drain has begun on e, so that tests can wait
// for it instead of sleeping.
func Draining(e *Engine) bool {
	select {
	case <-e.pay.stopping:
		return true
	default:
		return false
	}
}

// PerEventActivation makes e's grains read their activations one event at
// a time, as before activation batching (benchmarks compare the two).
func PerEventActivation(e *Engine) { e.loads = nil }

// BatchedActivations returns how many activation batches e ran and how
// many events they loaded.
func BatchedActivations(e *Engine) (batches, loaded int64) {
	if e.loads == nil {
		return 0, 0
	}
	return e.loads.batches.Load(), e.loads.loaded.Load()
}
