DROP INDEX IF EXISTS sold_seats_booking;
DROP TABLE IF EXISTS refunds;
