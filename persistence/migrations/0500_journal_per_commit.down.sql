-- Back to one journal row per record: every commit row is split.
CREATE TABLE journal_per_record (
    event_id  uuid NOT NULL,
    version   bigint NOT NULL,
    epoch     bigint NOT NULL,
    record    bytea NOT NULL,
    PRIMARY KEY (event_id, version)
);
DO $$
DECLARE
    r   record;
    off integer;
    n   integer;
    v   bigint;
BEGIN
    FOR r IN SELECT event_id, first_version, epoch, records FROM journal LOOP
        off := 0;
        v := r.first_version;
        WHILE off < octet_length(r.records) LOOP
            n := (get_byte(r.records, off) << 24) | (get_byte(r.records, off + 1) << 16)
               | (get_byte(r.records, off + 2) << 8) | get_byte(r.records, off + 3);
            INSERT INTO journal_per_record VALUES (r.event_id, v, r.epoch, substring(r.records FROM off + 5 FOR n));
            off := off + 4 + n;
            v := v + 1;
        END LOOP;
    END LOOP;
END $$;
DROP TABLE journal;
DROP FUNCTION journal_append_only();
ALTER TABLE journal_per_record RENAME TO journal;
ALTER INDEX journal_per_record_pkey RENAME TO journal_pkey;
