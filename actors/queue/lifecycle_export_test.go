package queue

// StaleFlushDone is a successful join write's outcome as an earlier
// activation of a room would send it.
func StaleFlushDone() any { return toSelf{msg: flushDone{}} }
