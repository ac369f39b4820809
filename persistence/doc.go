// Package persistence is boxoffice's PostgreSQL adapter (pgx/v5): the
// schema and its migrations, the catalog with its outbox, the event journal
// written by a group-committing writer fenced by ownership epochs, snapshots,
// bookings and payments (the conventional design that benchmarks compare
// the seat engine with is persistence/baseline).
//
// PostgreSQL is the system of record. Everything that must not be lost or
// doubled is enforced by the database itself, not only by the callers: the
// journal's primary key keeps an event's versions unique, the ownership row
// locked FOR SHARE by every journal transaction fences stale owners (I4),
// sold_seats' primary key refuses a second sale of a seat (I1), and the
// payments row makes a charge happen at most once per booking (I6).
//
// Errors that reach callers carry a boxoffice code: unknown rows are
// not_found, a lost connection is unavailable (safe to retry), and the
// root sentinels boxoffice.ErrFenced and boxoffice.ErrSeatSold mark the two
// refusals the seat engine branches on. The driver's error stays wrapped for
// logs. DB and JournalWriter implement the engine's storage contract
// (boxoffice.EventStore, QueueStore and Journal).
package persistence
