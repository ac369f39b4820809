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
