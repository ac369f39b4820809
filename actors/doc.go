// Package actors is the seat engine: one Proto.Actor cluster grain per event
// (kind "event", identity = the event ID) owns that event's seat map
// (actors/seatmap) in memory and decides every reserve, release and confirm
// for it, one message at a time.
//
// The write path (../../shared/DESIGN.md): a command is applied to the seat
// map at once, its records join the grain's open commit group, and the reply
// waits. A grain has at most one group in flight in the node's journal
// writer (a boxoffice.Journal, which gathers groups from every grain on
// the node into one PostgreSQL transaction); while it is in flight the grain
// keeps serving, and the next group collects behind it. When a group commits
// the grain replies to its callers in order and publishes one seat delta per
// version on the bus. When a group fails or is fenced off, the grain fails
// every waiting caller with "unavailable" and stops: its next activation
// rebuilds from PostgreSQL, so memory never runs ahead of the journal for
// longer than one failed commit.
//
// Reads (GetSeats) also wait for the group that holds the state they saw,
// so a client is never shown a seat state that could still be rolled back.
//
// Confirm pins the hold (durably), charges the payment provider outside the
// mailbox, then sells: the SeatsSold record, the sold_seats rows (whose
// primary key refuses a second sale even from a stale activation) and the
// confirmed booking commit in one transaction.
//
// Payments (payment.go, payrun.go): the provider is asked under a key
// derived from the booking and its attempt number, never a client's key,
// and its answer must name the booking and amount it was asked for. The
// payments row is written first and fenced by the activation's epoch. While
// an answer is late the hold stays pinned and the provider is asked again
// with the same key (Config.PaymentAttempts), then the attempt is voided;
// an activation that finds a pinned hold claims its row and settles it the
// same way. Engine.Drain lets calls in flight end before the node closes
// the database.
package actors
