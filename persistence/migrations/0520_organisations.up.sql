-- Organisations own venues, performers, events and webhooks (API.md
-- Roles): an organiser acts only on its organisation's. A NULL org_id is
-- the shared catalog that only admins edit (and everything created before
-- organisations existed).
CREATE TABLE organisations (
    id          uuid PRIMARY KEY,
    name        text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE venues ADD COLUMN org_id uuid REFERENCES organisations (id);
ALTER TABLE performers ADD COLUMN org_id uuid REFERENCES organisations (id);
ALTER TABLE events ADD COLUMN org_id uuid REFERENCES organisations (id);
ALTER TABLE webhooks ADD COLUMN org_id uuid REFERENCES organisations (id);

-- The dashboard's lists page by id within an organisation.
CREATE INDEX venues_org ON venues (org_id, id);
CREATE INDEX performers_org ON performers (org_id, id);
CREATE INDEX events_org ON events (org_id, id);
