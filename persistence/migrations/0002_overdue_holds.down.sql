DROP INDEX IF EXISTS bookings_in_progress_expiry;
