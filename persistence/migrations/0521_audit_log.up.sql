-- Every admin and organiser action (API.md Roles): who, what, when, and
-- the target before and after. Append-only: the triggers below refuse
-- UPDATE, DELETE and TRUNCATE for every role, the table owner included
-- (a grant alone would not bind the owner the node connects as).
CREATE TABLE audit_log (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    actor_id     uuid NOT NULL,
    actor_roles  text[] NOT NULL DEFAULT '{}',
    org_id       uuid,
    action       text NOT NULL,
    target_type  text NOT NULL DEFAULT '',
    target_id    text NOT NULL DEFAULT '',
    before       jsonb,
    after        jsonb,
    request_id   text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_org ON audit_log (org_id, id);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
