-- Sale rules of an event (API.md, "Idempotency, limits and the sale
-- window"). NULL times take their defaults: sale_starts_at NULL is on sale
-- from creation, sale_ends_at NULL follows starts_at (also when a PATCH
-- moves it), refund_until NULL is 24 hours before starts_at.
ALTER TABLE events
    ADD COLUMN max_tickets_per_user integer NOT NULL DEFAULT 10
        CHECK (max_tickets_per_user BETWEEN 0 AND 1000),
    ADD COLUMN sale_starts_at timestamptz,
    ADD COLUMN sale_ends_at timestamptz,
    ADD COLUMN refund_until timestamptz,
    ADD COLUMN cancelled_at timestamptz;
