-- Enforcement (issue 6): enterprises, the positive list, health-check visits, off-site
-- inspections with their warnings, double-random draws and the hash-chained audit log.
-- Nested parts of list entries and inspections live in doc (the internal/enforce types as
-- JSON); the columns beside it are what queries filter and aggregate on.

CREATE TABLE enterprises (
    uscc                 text PRIMARY KEY CHECK (length(uscc) = 18),
    name                 text NOT NULL CHECK (name <> ''),
    industry             text NOT NULL,
    permit_no            text NOT NULL DEFAULT '',
    key_discharger       boolean NOT NULL DEFAULT false,
    address              text NOT NULL DEFAULT '',
    zone                 text NOT NULL DEFAULT '',
    location             geometry(Point, 4326),
    complaint_channel    text NOT NULL DEFAULT '',
    legacy_uscc          boolean NOT NULL DEFAULT false,
    barred               boolean NOT NULL DEFAULT false,
    barred_reason        text NOT NULL DEFAULT '',
    special_supervision  boolean NOT NULL DEFAULT false,
    version              integer NOT NULL DEFAULT 1,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX enterprises_location_idx ON enterprises USING gist (location);
CREATE INDEX enterprises_zone_idx ON enterprises (zone);
CREATE INDEX enterprises_updated_idx ON enterprises (updated_at);

CREATE TABLE list_entries (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uscc         text NOT NULL REFERENCES enterprises (uscc),
    status       text NOT NULL CHECK (status IN ('proposed', 'notice', 'listed', 'removed', 'expired', 'rejected')),
    notice_start timestamptz,
    notice_end   timestamptz,
    valid_from   timestamptz,
    valid_to     timestamptz,
    doc          jsonb NOT NULL,
    version      integer NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
-- At most one entry under way per enterprise.
CREATE UNIQUE INDEX list_entries_active_idx ON list_entries (uscc) WHERE status IN ('proposed', 'notice', 'listed');
CREATE INDEX list_entries_status_idx ON list_entries (status, valid_to);

CREATE TABLE health_visits (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uscc        text NOT NULL REFERENCES enterprises (uscc),
    visited_at  timestamptz NOT NULL,
    inspector   text NOT NULL,
    notes       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX health_visits_uscc_idx ON health_visits (uscc, visited_at);

CREATE TABLE inspections (
    id                       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uscc                     text NOT NULL REFERENCES enterprises (uscc),
    level                    text NOT NULL,
    matter                   text NOT NULL,
    status                   text NOT NULL,
    listed                   boolean NOT NULL,
    linked_to                bigint REFERENCES inspections (id),
    self_check_requested_at  timestamptz,
    report_submitted_at      timestamptz,
    site_visited_at          timestamptz,
    waived                   boolean NOT NULL DEFAULT false,
    doc                      jsonb NOT NULL,
    version                  integer NOT NULL DEFAULT 1,
    opened_at                timestamptz NOT NULL,
    closed_at                timestamptz,
    updated_at               timestamptz NOT NULL DEFAULT now()
);
-- At most one open inspection per enterprise: warnings join it.
CREATE UNIQUE INDEX inspections_open_idx ON inspections (uscc) WHERE status <> 'closed';
CREATE INDEX inspections_matter_idx ON inspections (uscc, matter);

CREATE TABLE inspection_warnings (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    inspection_id  bigint NOT NULL REFERENCES inspections (id),
    uscc           text NOT NULL REFERENCES enterprises (uscc),
    source         text NOT NULL CHECK (source IN ('finding', 'monitoring')),
    ref            text NOT NULL,
    severity       text NOT NULL DEFAULT '',
    message        text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inspection_warnings_inspection_idx ON inspection_warnings (inspection_id);
CREATE INDEX inspection_warnings_created_idx ON inspection_warnings (created_at);

CREATE TABLE draws (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    seed        text NOT NULL,
    result      jsonb NOT NULL,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- The audit log: each entry's hash covers the previous one (internal/enforce.AuditEntry).
-- Appending is the only operation: a trigger refuses UPDATE, DELETE and TRUNCATE, and the
-- application's role has those privileges revoked.
CREATE TABLE audit_log (
    seq        bigint PRIMARY KEY CHECK (seq > 0),
    at         timestamptz NOT NULL,
    actor      text NOT NULL,
    role       text NOT NULL,
    action     text NOT NULL,
    subject    text NOT NULL,
    detail     text NOT NULL,
    prev_hash  text NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
    hash       text NOT NULL UNIQUE CHECK (hash ~ '^[0-9a-f]{64}$')
);
CREATE INDEX audit_log_subject_idx ON audit_log (subject, seq);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;
DO $$ BEGIN
    EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM %I', current_user);
END $$;
