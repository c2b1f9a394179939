-- Findings: what a pipeline found on a parcel in one capture or a pair. A finding's id is
-- derived from its inputs (pipeline hash, capture checksums, parcel, geometry), so a
-- re-delivered task records nothing new. Rows are evidence: immutable once written.
CREATE TABLE findings (
    id             text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{16,64}$'),
    parcel_id      text NOT NULL REFERENCES parcels (id),
    capture_ids    bigint[] NOT NULL CHECK (cardinality(capture_ids) BETWEEN 1 AND 2),
    kind           text NOT NULL CHECK (kind IN ('change', 'hotspot', 'plume', 'exceedance')),
    class          text NOT NULL,
    status         text NOT NULL DEFAULT '',
    score          double precision NOT NULL CHECK (score >= 0 AND score <= 1),
    area_m2        double precision NOT NULL CHECK (area_m2 >= 0),
    severity       text NOT NULL DEFAULT '',
    geom           geometry(Geometry, 4326) NOT NULL,
    pipeline       text NOT NULL,
    pipeline_hash  text NOT NULL,
    detected_at    timestamptz NOT NULL,
    properties     jsonb NOT NULL DEFAULT '{}',
    provenance     jsonb NOT NULL,
    artifacts      jsonb NOT NULL DEFAULT '[]',
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX findings_parcel_idx ON findings (parcel_id, detected_at DESC);
CREATE INDEX findings_geom_idx ON findings USING gist (geom);
CREATE INDEX findings_captures_idx ON findings USING gin (capture_ids);

CREATE FUNCTION findings_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'findings are evidence and cannot be %', lower(TG_OP)
        USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER findings_no_update BEFORE UPDATE OR DELETE ON findings
    FOR EACH ROW EXECUTE FUNCTION findings_immutable();
CREATE TRIGGER findings_no_truncate BEFORE TRUNCATE ON findings
    FOR EACH STATEMENT EXECUTE FUNCTION findings_immutable();
