CREATE INDEX IF NOT EXISTS bookings_user_created ON bookings (user_id, created_at DESC);
DROP INDEX IF EXISTS bookings_user_created_id;
