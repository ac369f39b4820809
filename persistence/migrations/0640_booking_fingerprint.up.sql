-- Booking IDs name their event (issue 21, boxoffice.NewBookingID): the first
-- 48 bits of a booking ID are the event's fingerprint, the first 48 bits of
-- SHA-256(event id || 'boxoffice/bookings'). The fingerprint is a column of
-- events, computed by PostgreSQL (so every event, old or new, has it) and
-- indexed: any node resolves a booking whose row the write-behind projection
-- has not written yet to its event's grain, and asks the grain.
ALTER TABLE events ADD COLUMN IF NOT EXISTS booking_fp bigint GENERATED ALWAYS AS (
    ('x' || left(encode(sha256(uuid_send(id) || '\x626f786f66666963652f626f6f6b696e6773'::bytea), 'hex'), 12))::bit(48)::bigint
) STORED;
CREATE INDEX IF NOT EXISTS events_booking_fp ON events (booking_fp);
