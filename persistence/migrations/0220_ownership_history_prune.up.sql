-- PruneOwnershipHistory keeps the acquisitions that `boxoffice check`'s I3
-- audit may need: those that fell while a hold was overdue. It finds the
-- holds released late with this index (few rows: most holds end on time);
-- overdue holds still held use bookings_in_progress_expiry.
CREATE INDEX IF NOT EXISTS bookings_released_late ON bookings (event_id, expires_at, updated_at)
    WHERE status = 'expired' AND updated_at > expires_at;
