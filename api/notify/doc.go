// Package notify tells people outside the system what happened (DESIGN.md
// "After the sale"): it mails buyers over SMTP (the tickets PDF on
// booking.confirmed, a note on booking.refunded and event.cancelled) and
// delivers organisers' webhooks, signed with the Standard Webhooks scheme
// and retried with exponential backoff until they get a 2xx.
//
// Notices reach it from the outbox through JetStream, at least once; each
// sink de-duplicates (mails by a processed-notice table, webhook fan-out by
// the deliveries' primary key). Nothing here is on the path of a sale: a
// slow or dead SMTP server or endpoint delays only its own queue.
package notify
