-- Automatic monitoring (issue 15, parts 3-5): the registry of monitoring points and permit
-- limits, monitoring findings, and the enterprises' own reports of exceedances.

-- A monitoring point is a data logger's MN (HJ 212-2017 6.3.2: up to 24 characters) on an
-- outlet of the enterprise's discharge permit (HJ 608-2017 outlet codes: DA001 flue gas,
-- DW001 waste water). Its HJ 212 access password is kept only as a salted hash.
CREATE TABLE monitoring_points (
    mn         text PRIMARY KEY CHECK (mn ~ '^[0-9A-Za-z]{1,24}$'),
    uscc       text NOT NULL REFERENCES enterprises (uscc),
    outlet     text NOT NULL CHECK (outlet ~ '^D[AW][0-9]{3}$'),
    name       text NOT NULL DEFAULT '',
    geom       geometry(Point, 4326) NOT NULL,
    pw_hash    text NOT NULL CHECK (pw_hash ~ '^sha256\$[0-9a-f]{32}\$[0-9a-f]{64}$'),
    version    integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX monitoring_points_uscc ON monitoring_points (uscc, outlet);

-- The permit's limits per outlet and pollutant (monitoring.Pollutants): concentration limits
-- on valid hourly and daily values, converted to the reference oxygen o2_ref where the
-- standard has one, and a daily load limit where the permit sets it.
CREATE TABLE monitoring_limits (
    uscc        text NOT NULL REFERENCES enterprises (uscc),
    outlet      text NOT NULL CHECK (outlet ~ '^D[AW][0-9]{3}$'),
    pollutant   text NOT NULL CHECK (pollutant ~ '^[a-z0-9_]{1,32}$'),
    hourly      double precision CHECK (hourly > 0),
    daily       double precision CHECK (daily > 0),
    o2_ref      double precision CHECK (o2_ref >= 0 AND o2_ref < 21),
    load_kg_day double precision CHECK (load_kg_day > 0),
    basis       text NOT NULL DEFAULT '',   -- the standard or permit clause the limit comes from
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (uscc, outlet, pollutant),
    CHECK (hourly IS NOT NULL OR daily IS NOT NULL OR load_kg_day IS NOT NULL)
);

-- Monitoring findings belong to an enterprise, not to a parcel, and rest on frames, not
-- captures: parcel_id is empty and uscc set for them (geom is the monitoring point).
ALTER TABLE findings ADD COLUMN uscc text REFERENCES enterprises (uscc);
ALTER TABLE findings ALTER COLUMN parcel_id DROP NOT NULL;
ALTER TABLE findings DROP CONSTRAINT findings_kind_check;
ALTER TABLE findings ADD CONSTRAINT findings_kind_check
    CHECK (kind IN ('change', 'hotspot', 'plume', 'exceedance', 'monitoring'));
ALTER TABLE findings DROP CONSTRAINT findings_capture_ids_check;
ALTER TABLE findings ADD CONSTRAINT findings_capture_ids_check
    CHECK (cardinality(capture_ids) BETWEEN 1 AND 2 OR kind = 'monitoring' AND cardinality(capture_ids) = 0);
ALTER TABLE findings ADD CONSTRAINT findings_owner_check
    CHECK (CASE WHEN kind = 'monitoring' THEN uscc IS NOT NULL AND parcel_id IS NULL ELSE parcel_id IS NOT NULL END);
CREATE INDEX findings_uscc_idx ON findings (uscc, detected_at DESC) WHERE uscc IS NOT NULL;

-- What an enterprise reports of its own exceedances (四.10: an exceedance it did not report
-- is treated with severity). Append-only.
CREATE TABLE monitoring_self_reports (
    id          bigserial PRIMARY KEY,
    uscc        text NOT NULL REFERENCES enterprises (uscc),
    mn          text NOT NULL REFERENCES monitoring_points (mn),
    pollutant   text NOT NULL DEFAULT '',   -- '' : every pollutant of the point
    started_at  timestamptz NOT NULL,
    ended_at    timestamptz,
    text        text NOT NULL CHECK (length(text) BETWEEN 1 AND 10000),
    reported_by text NOT NULL,
    reported_at timestamptz NOT NULL DEFAULT now(),
    CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE INDEX monitoring_self_reports_mn ON monitoring_self_reports (mn, started_at);

-- Each exceedance finding and whether the enterprise reported it itself by report_due:
-- pending until then, then reported (naming the report) or unreported.
CREATE TABLE monitoring_exceedances (
    finding_id text PRIMARY KEY REFERENCES findings (id),
    uscc       text NOT NULL REFERENCES enterprises (uscc),
    mn         text NOT NULL,
    pollutant  text NOT NULL,
    started_at timestamptz NOT NULL,
    ended_at   timestamptz NOT NULL,
    report_due timestamptz NOT NULL,
    status     text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'reported', 'unreported')),
    report_id  bigint REFERENCES monitoring_self_reports (id),
    decided_at timestamptz,
    CHECK ((status = 'reported') = (report_id IS NOT NULL))
);
CREATE INDEX monitoring_exceedances_uscc ON monitoring_exceedances (uscc, status);

REVOKE UPDATE, DELETE, TRUNCATE ON monitoring_self_reports FROM offsite_app;
REVOKE DELETE, TRUNCATE ON monitoring_exceedances, monitoring_points FROM offsite_app;

INSERT INTO audit_actions (action) VALUES
    ('monitoring_point.create'), ('monitoring_point.update'), ('monitoring_limit.set'),
    ('monitoring_limit.delete'), ('monitoring.self_report')
ON CONFLICT DO NOTHING;
