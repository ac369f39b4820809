-- Refunds owed and done (API.md "Payments, refunds, cancellation"). A row is
-- written before the provider is asked to give the money back, so a crash
-- never forgets a refund it started; refunded_at is set in the same
-- transaction as the refund's journal record, the booking's status
-- 'refunded' and the deletion of its sold_seats rows. An event's owed
-- refunds (an owner's, an admin's, or every confirmed booking of a
-- cancelled event) are resumed by its next activation.
CREATE TABLE refunds (
    booking_id    uuid PRIMARY KEY,
    event_id      uuid NOT NULL,
    reason        text NOT NULL CHECK (reason IN ('owner', 'admin', 'cancel', 'provider')),
    requested_at  timestamptz NOT NULL DEFAULT now(),
    refunded_at   timestamptz
);
CREATE INDEX refunds_owed ON refunds (event_id) WHERE refunded_at IS NULL;
CREATE INDEX refunds_event ON refunds (event_id);
-- A refund deletes its booking's sales.
CREATE INDEX sold_seats_booking ON sold_seats (booking_id);
