ALTER TABLE queue_rooms DROP COLUMN period_base, DROP COLUMN period;
ALTER TABLE events DROP COLUMN waiting_room_period;
