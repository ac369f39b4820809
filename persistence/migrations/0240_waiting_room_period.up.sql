-- Admission tokens are bound to the waiting room's current on-period
-- (API.md "Additions (version 2)"): waiting_room_period counts how often
-- the event's room was switched on, bumped in the same UPDATE that turns it
-- on, so a token minted before the last switch-on names an older period.
ALTER TABLE events ADD COLUMN waiting_room_period bigint NOT NULL DEFAULT 0;

-- The room grain's record of the period it applies, and period_base, the
-- watermark when that period began: places at or below it were admitted
-- (or open) in an earlier period and must queue again.
ALTER TABLE queue_rooms
    ADD COLUMN period bigint NOT NULL DEFAULT 0,
    ADD COLUMN period_base bigint NOT NULL DEFAULT 0;
