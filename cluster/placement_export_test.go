package cluster

// QueuedClaims is how many claims wait for the claimer of pl's node while
// it is busy, so a test knows they will be decided together.
func QueuedClaims(pl *Placement) int { return len(pl.p.claims) }

// ShedRefused is how many activations pl's node refused because their
// grain had been shed and its record was not yet released.
func ShedRefused(pl *Placement) int64 { return pl.p.shedRefused.Load() }
