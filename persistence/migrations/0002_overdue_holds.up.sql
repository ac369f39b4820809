-- Lets each node find events whose holds ran out while no actor was up.
CREATE INDEX IF NOT EXISTS bookings_in_progress_expiry ON bookings (expires_at) WHERE status = 'in-progress';
