DROP INDEX IF EXISTS payments_pending_by_event;
