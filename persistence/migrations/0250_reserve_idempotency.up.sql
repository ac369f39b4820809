-- Idempotency-Key of POST /booking/reserve (API.md, Additions version 2).
-- One row per (user, key): the request it belongs to (fingerprint: a hash
-- of the body as parsed JSON), and the booking ID every repetition of that
-- request uses. The booking row with that ID exists once the hold is
-- durable (same transaction as the hold's journal record), so the join
-- with bookings says which keys led to a hold. Rows older than the 24-hour
-- window are replaced by a new use of the key and pruned by the sweeper.
CREATE TABLE reserve_idempotency (
    user_id      uuid NOT NULL,
    idem_key     text NOT NULL,
    fingerprint  bytea NOT NULL,
    event_id     uuid NOT NULL,
    booking_id   uuid NOT NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);
-- An event actor loads its keyed bookings of the window at activation.
CREATE INDEX reserve_idempotency_event ON reserve_idempotency (event_id, created_at);
-- Pruning deletes by age.
CREATE INDEX reserve_idempotency_created ON reserve_idempotency (created_at);
