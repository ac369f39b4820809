DROP INDEX IF EXISTS bookings_event_sales;
