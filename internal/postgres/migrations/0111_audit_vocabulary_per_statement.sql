-- The audit log's vocabulary (0023) checked once per statement instead of once per row: a group
-- commit of evidence views appends its entries in one INSERT, and the row trigger ran two
-- lookups in PL/pgSQL for each of them. The rule is the same: keyed entries name an action in
-- audit_actions and a role in audit_roles, or the statement fails with a check violation.
-- The old trigger also fired on UPDATE, which audit_log_no_update refuses for every row
-- before (and the application's role may not UPDATE at all).
DROP TRIGGER audit_log_vocabulary ON audit_log;
DROP FUNCTION audit_log_vocabulary();
CREATE FUNCTION audit_log_vocabulary() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT n.action, n.role, a.action IS NULL AS unknown_action INTO bad
        FROM audit_new n
        LEFT JOIN audit_actions a ON a.action = n.action
        LEFT JOIN audit_roles r ON r.role = n.role
        WHERE n.key_id IS NOT NULL AND (a.action IS NULL OR r.role IS NULL)
        LIMIT 1;
    IF FOUND THEN
        IF bad.unknown_action THEN
            RAISE EXCEPTION 'audit action % is not in audit_actions', bad.action USING ERRCODE = 'check_violation';
        END IF;
        RAISE EXCEPTION 'audit role % is not in audit_roles', bad.role USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER audit_log_vocabulary AFTER INSERT ON audit_log REFERENCING NEW TABLE AS audit_new
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_vocabulary();
