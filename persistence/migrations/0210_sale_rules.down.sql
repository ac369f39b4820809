ALTER TABLE events
    DROP COLUMN max_tickets_per_user,
    DROP COLUMN sale_starts_at,
    DROP COLUMN sale_ends_at,
    DROP COLUMN refund_until,
    DROP COLUMN cancelled_at;
