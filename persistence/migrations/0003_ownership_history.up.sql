-- Every acquisition of an event, so that an audit can tell a hold released
-- late by a slow owner from one whose expiry fell while its event was moving
-- between nodes (no owner could release it then). One row per activation.
CREATE TABLE IF NOT EXISTS ownership_history (
    event_id     uuid NOT NULL,
    epoch        bigint NOT NULL,
    node         text NOT NULL,
    acquired_at  timestamptz NOT NULL,
    PRIMARY KEY (event_id, epoch)
);
