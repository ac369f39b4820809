// Package queueroom is the HTTP face of the waiting room (API.md, "Waiting
// room"): POST /events/{eventId}/queue to join, GET .../queue/{queueId}
// for the current place, GET .../queue/{queueId}/ws for pushes, and the
// admission check POST /booking/reserve runs for events whose room is on.
//
// It plugs into the api package as its Queue: cmd builds a Handler with
// the node's *queue.Room, api.UserFromContext and api.WriteError, and
// passes it as api.Deps.Queue. Joins are rate-limited per user and per
// address (on top of the API's general per-IP limit), and Deps.Challenge
// is the hook for a proof-of-work or CAPTCHA check (see actors/queue).
package queueroom
