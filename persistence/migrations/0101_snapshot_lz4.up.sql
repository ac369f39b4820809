-- Snapshots are dense binary seat maps (about 200-470 KB for 50,000 seats).
-- PostgreSQL's default TOAST compression, pglz, spends milliseconds of a
-- busy server's CPU on each one; lz4 is several times cheaper. A server
-- built without lz4 keeps pglz: the change is an optimisation, not a need.
DO $$
BEGIN
    ALTER TABLE snapshots ALTER COLUMN state SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'this PostgreSQL has no lz4; snapshots stay compressed with pglz';
END
$$;
