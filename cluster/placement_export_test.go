package cluster

// QueuedClaims is how many claims wait for the claimer of pl's node while
// it is busy, so a test knows they will be decided together.
func QueuedClaims(pl *Placement) int { return len(pl.p.claims) }
