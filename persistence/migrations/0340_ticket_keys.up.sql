-- The Ed25519 keys that sign ticket codes when BOXOFFICE_TICKET_KEYS is
-- not set. One key is active (signs new codes); retired keys stay so that
-- codes they signed still verify. The partial unique index makes "one
-- active key" a constraint, so concurrent first starts that each generate
-- a key insert-if-absent and all end up with the same one.
CREATE TABLE IF NOT EXISTS ticket_keys (
    kid        text PRIMARY KEY,
    seed       bytea NOT NULL CHECK (octet_length(seed) = 32),
    active     boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    retired_at timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS ticket_keys_one_active ON ticket_keys (active) WHERE active;
