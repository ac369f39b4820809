-- Payment provider notifications (Stripe webhook events) already applied:
-- Stripe delivers each event at least once and in any order, and each is
-- applied at most once by its id (API.md "Payments, refunds,
-- cancellation"). A row is written after the event's effect, which is
-- idempotent, so a crash between the two applies it again harmlessly.
CREATE TABLE payment_events (
    id          text PRIMARY KEY,
    booking_id  uuid NOT NULL,
    kind        text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_events_booking ON payment_events (booking_id);
