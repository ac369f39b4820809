-- Payments are charged under a key derived from the booking and its attempt
-- number (never a client's key), are fenced by the ownership epoch of the
-- activation that claimed them, and keep the attempt's card so that an
-- attempt whose outcome is unknown is asked again with the same request.
-- 'voided': the outcome stayed unknown and the attempt was voided.
ALTER TABLE payments
    ADD COLUMN event_id uuid,
    ADD COLUMN epoch    bigint  NOT NULL DEFAULT 0,
    ADD COLUMN attempt  integer NOT NULL DEFAULT 1,
    ADD COLUMN method   text    NOT NULL DEFAULT '',
    ADD COLUMN token    text    NOT NULL DEFAULT '';
UPDATE payments p SET event_id = b.event_id FROM bookings b WHERE b.id = p.booking_id;
ALTER TABLE payments DROP CONSTRAINT IF EXISTS payments_status_check;
ALTER TABLE payments ADD CONSTRAINT payments_status_check
    CHECK (status IN ('pending', 'succeeded', 'declined', 'voided'));

-- A client's confirm Idempotency-Key belongs to one user and one booking.
CREATE TABLE confirm_keys (
    user_id          uuid NOT NULL,
    idempotency_key  text NOT NULL,
    booking_id       uuid NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, idempotency_key)
);
