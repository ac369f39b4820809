-- GET /user/bookings pages by (created_at, id) descending within a user;
-- the index covers the whole key, so each page is one index range scan.
CREATE INDEX IF NOT EXISTS bookings_user_created_id ON bookings (user_id, created_at DESC, id DESC);
DROP INDEX IF EXISTS bookings_user_created;
