-- One journal row per (event, commit) instead of one per record (issue 21):
-- the versions the commit covers in first_version..last_version, its
-- records in one bytea value, each a 4-byte big-endian length and the
-- record's bytes (persistence/journal_format.go). Existing rows become
-- one-record rows. The primary key on (event_id, last_version) serves the
-- replay (last_version > after, in order) and refuses a commit written
-- twice; the writer's epoch fence keeps one writer per event, and
-- `boxoffice check` finds any gap or overlap (I5).
ALTER TABLE journal RENAME TO journal_per_record;
ALTER INDEX journal_pkey RENAME TO journal_per_record_pkey;
CREATE TABLE journal (
    event_id       uuid NOT NULL,
    first_version  bigint NOT NULL,
    last_version   bigint NOT NULL,
    epoch          bigint NOT NULL,
    records        bytea NOT NULL,
    PRIMARY KEY (event_id, last_version),
    CHECK (last_version >= first_version)
);
INSERT INTO journal (event_id, first_version, last_version, epoch, records)
SELECT event_id, version, version, epoch, int4send(octet_length(record)) || record
FROM journal_per_record;
DROP TABLE journal_per_record;

-- Versions are written once (I5): a row must start after every version its
-- event already has. The primary key alone only refuses a commit that ends
-- at a version already written; this refuses any overlap, as the old
-- per-record primary key did, with the same error (a unique violation of
-- journal_pkey) so the writer reports it the same way. It costs one index
-- probe per row, and there is one row per event and transaction.
CREATE FUNCTION journal_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM journal WHERE event_id = NEW.event_id AND last_version >= NEW.first_version) THEN
        RAISE EXCEPTION 'journal: event % already has a version in %..%', NEW.event_id, NEW.first_version, NEW.last_version
            USING ERRCODE = 'unique_violation', CONSTRAINT = 'journal_pkey';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER journal_append_only BEFORE INSERT ON journal
    FOR EACH ROW EXECUTE FUNCTION journal_append_only();
