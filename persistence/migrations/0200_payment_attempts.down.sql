DROP TABLE IF EXISTS confirm_keys;
UPDATE payments SET status = 'declined' WHERE status = 'voided';
ALTER TABLE payments DROP CONSTRAINT IF EXISTS payments_status_check;
ALTER TABLE payments ADD CONSTRAINT payments_status_check
    CHECK (status IN ('pending', 'succeeded', 'declined'));
ALTER TABLE payments
    DROP COLUMN IF EXISTS token,
    DROP COLUMN IF EXISTS method,
    DROP COLUMN IF EXISTS attempt,
    DROP COLUMN IF EXISTS epoch,
    DROP COLUMN IF EXISTS event_id;
