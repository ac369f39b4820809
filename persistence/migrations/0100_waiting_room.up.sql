-- Waiting rooms (virtual queues), kept compact: one row per event that has
-- had a room, and one row per queued user. A user's position is
-- seq - admitted_upto, so admitting a thousand people rewrites one row.
--
-- epoch fences a stale activation of the room's grain: each activation
-- bumps it, and every write names the epoch it read.
CREATE TABLE queue_rooms (
    event_id       uuid PRIMARY KEY,
    epoch          bigint NOT NULL DEFAULT 1,
    next_seq       bigint NOT NULL DEFAULT 1,      -- the next place to hand out
    admitted_upto  bigint NOT NULL DEFAULT 0,      -- every seq <= this is admitted
    admitted_at    timestamptz NOT NULL DEFAULT now(),  -- when admitted_upto last rose
    CHECK (admitted_upto < next_seq)
);

-- One place per user per event (the primary key), first come first served
-- by seq. A user whose admission ran out and who joins again gets a new seq.
CREATE TABLE queue_entries (
    event_id  uuid NOT NULL,
    user_id   uuid NOT NULL,
    seq       bigint NOT NULL,
    PRIMARY KEY (event_id, user_id),
    UNIQUE (event_id, seq)
);
