-- Reports (API.md Roles, GET /admin/api/events/{eventId}/report) read an
-- event's sales: its bookings confirmed or refunded, among many more
-- holds that ended. This index finds them without scanning the holds.
CREATE INDEX IF NOT EXISTS bookings_event_sales ON bookings (event_id, status)
    WHERE status IN ('confirmed', 'refunded');
