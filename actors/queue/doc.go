// Package queue is the waiting room (virtual queue) of a hot on-sale: it
// admits a surge of people to an event's booking at the rate the event can
// take, first come first served.
//
// # The room grain
//
// Each event has one room, a Proto.Actor grain of kind "queue" whose
// identity is the event ID. A join gets the next sequence number (its
// place); one user holds one place, so joining again returns the same
// place. Every TickInterval the room earns admissions at the event's rate
// (boxoffice.Event.WaitingRoom, re-read every RefreshInterval and applied at
// once by SetRate) and raises its admitted watermark; a place's position is
// its seq minus the watermark. A room that is off admits everyone at once
// and its places are "open" (no token: reserve needs none then); rate 0
// with the room on pauses admission.
//
// # On-periods
//
// Each time an event's room is switched on, the write that does it bumps
// boxoffice.WaitingRoom.Period. Tokens carry the period, and reserve
// checks it against the event's, so a token from before the last
// switch-on no longer admits. The room records the watermark at which the
// period began (its base, durable with the next write): places at or below
// it were admitted, or open, in an earlier period and are expired in this
// one, so their owners queue again behind those who waited.
//
// # Durability and failover
//
// PostgreSQL holds, per event, one row (next seq, watermark, when it last
// rose, the activation epoch, the on-period and its base) and one row per queued user (user, seq). A
// join is answered only once its row is durable; joins that arrive while a
// batch is being written form the next batch (one INSERT each). The
// watermark is written before the admissions it implies are visible. When
// the grain moves to another node, or the node restarts, the new
// activation bumps the epoch (fencing off the old one, whose next write
// fails and stops it) and reloads every place in seq order: no place is
// lost or reordered.
//
// # Admission tokens and queue IDs
//
// An admitted user gets an admission token: an HMAC-SHA256 over the event,
// the user, the room's on-period and an expiry (AdmissionTTL after the
// admission), so any node verifies it with VerifyToken and the shared key,
// without a call. The key derives from a deployment secret (DeriveKey);
// one derived from an empty secret is refused (WeakKey). Queue
// IDs are UUIDs that carry the seq and a MAC, so they need no lookup table
// and cannot be guessed.
//
// # Pushes
//
// Subscribe serves the queue WebSocket. All watchers of one event on one
// node share a hub fed by the room's watermark publications on NATS
// (subject boxoffice.queue.<eventID>) or, without a bus, by a poll of the
// room. A watcher hears of its admission at once and of its position at
// most every PushInterval, so 100,000 watchers cost a node one message per
// admission step plus 100,000 small pushes every few seconds.
//
// # Bots
//
// The HTTP layer (api/queueroom) rate-limits joins per user and per IP.
// A deployment that wants a challenge on top (a proof-of-work or a CAPTCHA)
// adds it without a third-party service through queueroom.Deps.Challenge,
// a hook called before every join that may refuse it:
//
//   - Proof of work: serve a page script that asks GET /challenge (a route
//     the deployment adds) for a random nonce signed with a server key and
//     a difficulty, finds a counter such that SHA-256(nonce || counter) has
//     that many leading zero bits, and sends "nonce.counter" in an
//     X-Challenge header with the join. The hook checks the nonce's
//     signature and age, the hash, and that the nonce was not used before
//     (a small expiring set per node suffices, since a nonce is bound to
//     the user). Raising the difficulty for an event raises the cost of a
//     bot farm linearly while a person's browser pays well under a second.
//   - CAPTCHA: the hook verifies a response token from a self-hosted
//     CAPTCHA server the deployment runs, and refuses joins without one.
//
// Either way the refusal is a *boxoffice.Error (403 forbidden, with details
// telling the page to solve a challenge), and the room itself is unchanged.
package queue
