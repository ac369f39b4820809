// Package queueroom is the HTTP face of the waiting room (API.md, "Waiting
// room"): POST /events/{eventId}/queue to join, GET .../queue/{queueId}
// for the current place, GET .../queue/{queueId}/ws for pushes, and the
// admission check POST /booking/reserve runs for events whose room is on.
//
// It plugs into the api package as its Queue: cmd builds a Handler with
// the node's waiting room (a boxoffice.Admissions: actors/queue's *Room)
// and passes it as api.Deps.Queue. It answers with the api package's
// writers and limits joins with its limiter, per user and per address (on
// top of the API's general per-IP limit); Deps.Challenge is the hook for a
// proof-of-work or CAPTCHA check (see actors/queue).
package queueroom
