DROP TABLE IF EXISTS booking_projection;
ALTER TABLE bookings DROP COLUMN IF EXISTS version;
