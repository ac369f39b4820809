-- The shared placement record of the bounded-load grain placement
-- (cluster.PlacementStore): which cluster member (Proto.Actor member id, new
-- on every process start) hosts each active grain. Every node reads it to
-- keep the busiest member within ceil(1.15 x mean) and to leave an active
-- grain where it is; a row goes when the grain stops. Rows of members that
-- are gone are ignored and overwritten. The event grain's epoch fence
-- (event_ownership) still decides who may write.
CREATE TABLE IF NOT EXISTS grain_placement (
    kind      text NOT NULL,
    identity  text NOT NULL,
    member    text NOT NULL,
    placed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, identity)
);
CREATE INDEX IF NOT EXISTS grain_placement_member ON grain_placement (member, kind);

-- Members that take no new grains (a draining node), for every node's claims.
CREATE TABLE IF NOT EXISTS grain_placement_excluded (
    member text PRIMARY KEY,
    since  timestamptz NOT NULL DEFAULT now()
);

-- Records per member and kind, kept by a trigger, so that a claim reads a
-- few rows instead of counting thousands of records.
CREATE TABLE IF NOT EXISTS grain_placement_counts (
    kind   text NOT NULL,
    member text NOT NULL,
    n      bigint NOT NULL,
    PRIMARY KEY (kind, member)
);

CREATE OR REPLACE FUNCTION grain_placement_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE grain_placement_counts SET n = n - 1 WHERE kind = OLD.kind AND member = OLD.member;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO grain_placement_counts (kind, member, n) VALUES (NEW.kind, NEW.member, 1)
        ON CONFLICT (kind, member) DO UPDATE SET n = grain_placement_counts.n + 1;
    END IF;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS grain_placement_count ON grain_placement;
CREATE TRIGGER grain_placement_count AFTER INSERT OR UPDATE OF member OR DELETE ON grain_placement
    FOR EACH ROW EXECUTE FUNCTION grain_placement_count();
