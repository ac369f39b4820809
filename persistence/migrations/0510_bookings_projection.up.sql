-- Bookings as a write-behind projection of the journal (issue 21): the
-- bookings of holds (held, released, expired) are written behind the
-- journal's commit, coalesced, by the node's projector. Each row keeps the
-- journal version it reflects, so a late or repeated write never turns a
-- newer state back, and booking_projection keeps each event's watermark:
-- the journal up to it is reflected in bookings, advanced in the same
-- transaction as the rows; a catch-up after a crash replays the journal
-- after it. Events without a watermark have had every booking row written
-- synchronously (the default); an engine writing behind catches such an
-- event up from its first version once, at its next activation.
ALTER TABLE bookings ADD COLUMN IF NOT EXISTS version bigint;
CREATE TABLE IF NOT EXISTS booking_projection (
    event_id   uuid PRIMARY KEY,
    version    bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
