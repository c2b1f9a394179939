-- The audit log's vocabulary as tables instead of one CHECK list, so that each later migration
-- adds the actions and roles its feature writes (INSERT ... ON CONFLICT DO NOTHING) without
-- restating, and so possibly dropping, those of the others. enforce.AuditActions and
-- enforce.Roles must equal these tables (internal/postgres TestVocabularyChecks).
CREATE TABLE audit_actions (action text PRIMARY KEY CHECK (action ~ '^[a-z_]+\.[a-z_]+$'));
CREATE TABLE audit_roles (role text PRIMARY KEY CHECK (role ~ '^[a-z_]+$'));

INSERT INTO audit_actions (action) VALUES
    ('enterprise.create'), ('enterprise.update'), ('enterprise.import'), ('enterprise.parcels'),
    ('enterprise.uscc_override'), ('enterprise.barred'), ('enterprise.special_supervision'),
    ('evidence.view'), ('evidence.download'), ('health_visit.record'),
    ('list.propose'), ('list.refused'), ('list.notice'), ('list.objection'), ('list.objection_resolve'),
    ('list.list'), ('list.renew'), ('list.remove'), ('list.expire'), ('list.export'),
    ('inspection.opened'), ('inspection.linked'), ('inspection.warning_joined'), ('inspection.warning_confirmed'),
    ('inspection.request_self_check'), ('inspection.submit_report'), ('inspection.proof_upload'),
    ('inspection.proof_download'), ('inspection.review'), ('inspection.request_site_visit'),
    ('inspection.approve_site_visit'), ('inspection.record_site_visit'), ('inspection.close'),
    ('disposition.waived'), ('disposition.strict'), ('draw.create');
INSERT INTO audit_roles (role) VALUES
    ('admin'), ('analyst'), ('inspector'), ('approver'), ('enterprise'), ('public'), ('system');

-- The application reads the vocabulary and may not extend it.
REVOKE ALL ON audit_actions, audit_roles FROM offsite_app;
GRANT SELECT ON audit_actions, audit_roles TO offsite_app;

-- Keyed entries appended from now on name a known action and role; unkeyed entries predate the
-- vocabulary (a trigger, not a foreign key, because the condition is on key_id).
ALTER TABLE audit_log DROP CONSTRAINT audit_log_action_check;
ALTER TABLE audit_log DROP CONSTRAINT audit_log_role_check;
CREATE FUNCTION audit_log_vocabulary() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.key_id IS NOT NULL THEN
        IF NOT EXISTS (SELECT FROM audit_actions WHERE action = NEW.action) THEN
            RAISE EXCEPTION 'audit action % is not in audit_actions', NEW.action USING ERRCODE = 'check_violation';
        END IF;
        IF NOT EXISTS (SELECT FROM audit_roles WHERE role = NEW.role) THEN
            RAISE EXCEPTION 'audit role % is not in audit_roles', NEW.role USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER audit_log_vocabulary BEFORE INSERT OR UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_vocabulary();
