-- Reconciliation: an event's grain lists its pending payments at every
-- activation and periodically (PendingPayments); finished rows are most.
CREATE INDEX IF NOT EXISTS payments_pending_by_event ON payments (event_id) WHERE status = 'pending';
