DROP TABLE IF EXISTS payment_events;
