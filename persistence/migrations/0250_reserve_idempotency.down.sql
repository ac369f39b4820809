DROP TABLE IF EXISTS reserve_idempotency;
