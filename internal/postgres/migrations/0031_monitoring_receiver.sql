-- The HJ 212 receiver (issue 15, cmd/receiver): what it needs beyond 0030's tables.

-- Sub-packets (PNUM/PNO) are stored one frame each and reassembled from here, so a message
-- survives a receiver restart between its packets. quarantine_reason says why a valid frame
-- is quarantined ('unknown MN', 'wrong PW'); released_at when an administrator released it
-- (its values then stored).
ALTER TABLE monitoring_frames
    ADD COLUMN pnum int CHECK (pnum BETWEEN 1 AND 9999),
    ADD COLUMN pno int CHECK (pno BETWEEN 1 AND 9999),
    ADD COLUMN quarantine_reason text NOT NULL DEFAULT '',
    ADD COLUMN released_at timestamptz,
    -- A frame is evidence: its hash is the hash of its bytes, checked by the database.
    ADD CONSTRAINT monitoring_frames_sha256_raw CHECK (sha256 = encode(sha256(raw), 'hex'));
CREATE INDEX monitoring_frames_packets ON monitoring_frames (mn, qn, pnum) WHERE pnum IS NOT NULL;
CREATE INDEX monitoring_frames_quarantine ON monitoring_frames (mn, received_at) WHERE quarantined;

-- Frames are never rewritten or removed by the application: it may only mark a quarantined
-- frame released. Values are only added.
REVOKE UPDATE, DELETE, TRUNCATE ON monitoring_frames FROM offsite_app;
GRANT UPDATE (quarantined, released_at) ON monitoring_frames TO offsite_app;
REVOKE UPDATE, DELETE, TRUNCATE ON monitoring_values, monitoring_values_default FROM offsite_app;

-- Data loggers' passwords, per MN, until the registry of monitoring points (monitoring
-- package) takes their place: pw_hash is hex SHA-256 of 'MN:PW' (HJ 212 sends PW in clear in
-- every frame; the hash keeps a database dump from handing them out).
CREATE TABLE monitoring_credentials (
    mn         text PRIMARY KEY CHECK (mn ~ '^[A-Za-z0-9_-]{1,32}$'),
    pw_hash    text NOT NULL CHECK (pw_hash ~ '^[0-9a-f]{64}$'),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Month partitions of monitoring_values (monitoring_values_YYYYMM, months of China Standard
-- Time, as DataTime is sent). The receiver calls this for the months around now at start and
-- for every month a batch touches; rows that landed in the default partition for that month
-- move into the new one. The application may not create tables, so this runs as the owner.
CREATE FUNCTION monitoring_values_ensure_month(m date) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    name text := 'monitoring_values_' || to_char(m, 'YYYYMM');
    lo timestamptz := date_trunc('month', m)::timestamp AT TIME ZONE 'Asia/Shanghai';
    hi timestamptz := (date_trunc('month', m) + interval '1 month')::timestamp AT TIME ZONE 'Asia/Shanghai';
BEGIN
    IF to_regclass(name) IS NOT NULL THEN
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext(name));
    IF to_regclass(name) IS NOT NULL THEN
        RETURN;
    END IF;
    EXECUTE format('CREATE TABLE %I (LIKE monitoring_values INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', name);
    EXECUTE format('WITH moved AS (DELETE FROM monitoring_values_default WHERE data_time >= %L AND data_time < %L RETURNING *) INSERT INTO %I SELECT * FROM moved', lo, hi, name);
    EXECUTE format('ALTER TABLE monitoring_values ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', name, lo, hi);
    EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON %I FROM offsite_app', name);
END $$;
REVOKE ALL ON FUNCTION monitoring_values_ensure_month(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION monitoring_values_ensure_month(date) TO offsite_app;
