DROP INDEX IF EXISTS bookings_released_late;
