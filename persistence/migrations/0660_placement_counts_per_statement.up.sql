-- The per-member counts of grain_placement (0550) kept per statement
-- instead of per row: a batched claim writes hundreds of records in one
-- statement, and a row trigger then updated the same few counts rows once
-- per record in one transaction (each update a new row version of the
-- same row). Statement triggers add the counts of each statement's rows
-- (transition tables) in one update per member.
DROP TRIGGER IF EXISTS grain_placement_count ON grain_placement;

CREATE OR REPLACE FUNCTION grain_placement_count_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO grain_placement_counts (kind, member, n)
    SELECT kind, member, count(*) FROM placement_new GROUP BY kind, member
    ON CONFLICT (kind, member) DO UPDATE SET n = grain_placement_counts.n + EXCLUDED.n;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION grain_placement_count_sub() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE grain_placement_counts c SET n = c.n - o.k
    FROM (SELECT kind, member, count(*) AS k FROM placement_old GROUP BY kind, member) o
    WHERE c.kind = o.kind AND c.member = o.member;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION grain_placement_count_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE grain_placement_counts c SET n = c.n - o.k
    FROM (SELECT kind, member, count(*) AS k FROM placement_old GROUP BY kind, member) o
    WHERE c.kind = o.kind AND c.member = o.member;
    INSERT INTO grain_placement_counts (kind, member, n)
    SELECT kind, member, count(*) FROM placement_new GROUP BY kind, member
    ON CONFLICT (kind, member) DO UPDATE SET n = grain_placement_counts.n + EXCLUDED.n;
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS grain_placement_count_ins ON grain_placement;
CREATE TRIGGER grain_placement_count_ins AFTER INSERT ON grain_placement
    REFERENCING NEW TABLE AS placement_new
    FOR EACH STATEMENT EXECUTE FUNCTION grain_placement_count_add();
DROP TRIGGER IF EXISTS grain_placement_count_del ON grain_placement;
CREATE TRIGGER grain_placement_count_del AFTER DELETE ON grain_placement
    REFERENCING OLD TABLE AS placement_old
    FOR EACH STATEMENT EXECUTE FUNCTION grain_placement_count_sub();
DROP TRIGGER IF EXISTS grain_placement_count_upd ON grain_placement;
CREATE TRIGGER grain_placement_count_upd AFTER UPDATE ON grain_placement
    REFERENCING OLD TABLE AS placement_old NEW TABLE AS placement_new
    FOR EACH STATEMENT EXECUTE FUNCTION grain_placement_count_move();
