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
