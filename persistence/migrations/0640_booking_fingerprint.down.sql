DROP INDEX IF EXISTS events_booking_fp;
ALTER TABLE events DROP COLUMN IF EXISTS booking_fp;
