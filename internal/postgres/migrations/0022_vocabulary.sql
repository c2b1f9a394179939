-- The enforcement vocabulary as the schema's own constraints (issue 14): every column holding
-- one of internal/enforce's typed constants accepts only those.
--
-- inspections.level is the level of the enforcement body (enforce.Level). The workers used to
-- store the finding's severity there ("high", "medium"); those inspections were opened by this
-- deployment, whose default level is city.
UPDATE inspections SET level = 'city', doc = jsonb_set(doc, '{level}', '"city"')
WHERE level NOT IN ('county', 'city', 'province', 'national');
ALTER TABLE inspections ADD CONSTRAINT inspections_level_check
    CHECK (level IN ('county', 'city', 'province', 'national'));

-- inspections.status (enforce.InspectionStatus) and the site visit's trigger (enforce.Trigger),
-- kept in doc.
ALTER TABLE inspections ADD CONSTRAINT inspections_status_check
    CHECK (status IN ('open', 'self_check_requested', 'report_submitted', 'site_visit_requested',
                      'site_visit_approved', 'site_visit_done', 'closed'));
ALTER TABLE inspections ADD CONSTRAINT inspections_trigger_check
    CHECK (doc->'site_visit'->>'trigger' IS NULL OR doc->'site_visit'->>'trigger' IN
           ('complaint', 'media_report', 'referral', 'offsite_anomaly', 'routine'));

-- The audit log's role (enforce.Role) and action (enforce.AuditAction). The log is never
-- rewritten, so the constraints hold for entries appended from now on (NOT VALID), and only
-- for keyed ones: unkeyed entries predate the vocabulary.
ALTER TABLE audit_log ADD CONSTRAINT audit_log_role_check
    CHECK (key_id IS NULL OR role IN ('admin', 'analyst', 'inspector', 'approver', 'enterprise', 'public', 'system'))
    NOT VALID;
ALTER TABLE audit_log ADD CONSTRAINT audit_log_action_check
    CHECK (key_id IS NULL OR action IN (
        'enterprise.create', 'enterprise.update', 'enterprise.import', 'enterprise.parcels',
        'enterprise.uscc_override', 'enterprise.barred', 'enterprise.special_supervision',
        'evidence.view', 'evidence.download', 'health_visit.record',
        'list.propose', 'list.refused', 'list.notice', 'list.objection', 'list.objection_resolve',
        'list.list', 'list.renew', 'list.remove', 'list.expire', 'list.export',
        'inspection.opened', 'inspection.linked', 'inspection.warning_joined', 'inspection.warning_confirmed',
        'inspection.request_self_check', 'inspection.submit_report', 'inspection.proof_upload',
        'inspection.proof_download', 'inspection.review', 'inspection.request_site_visit',
        'inspection.approve_site_visit', 'inspection.record_site_visit', 'inspection.close',
        'disposition.waived', 'disposition.strict', 'draw.create'))
    NOT VALID;

-- The effective status of a list entry at a time: a listed entry past its validity is
-- expired. The one SQL form of enforce.EffectiveListStatus (a test holds the two equal);
-- queries call it instead of repeating the rule.
CREATE FUNCTION list_effective_status(status text, valid_to timestamptz, at timestamptz) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN status = 'listed' AND valid_to <= at THEN 'expired' ELSE status END $$;
