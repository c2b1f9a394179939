-- The application's own role, and a keyed audit chain anchored where the unkeyed one ends.
--
-- Migrations run as the owner (the role that owns every table); the api and worker connect as
-- offsite_app, which may read and write the application's tables but on audit_log only SELECT
-- and INSERT. Not owning audit_log, it cannot ALTER it, disable its triggers, or GRANT itself
-- more. Roles are cluster-wide: scripts/services.sh creates offsite_app with a password;
-- here it is created (LOGIN, no password: password logins fail until one is set) only when
-- missing and the owner may create roles.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'offsite_app') THEN
        IF NOT (SELECT rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = current_user) THEN
            RAISE EXCEPTION 'role offsite_app does not exist and % may not create it', current_user
                USING HINT = 'as a superuser: CREATE ROLE offsite_app LOGIN PASSWORD ''...''; (scripts/services.sh start does this)';
        END IF;
        CREATE ROLE offsite_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION;
    END IF;
END $$;

GRANT USAGE ON SCHEMA public TO offsite_app;

-- Every table and sequence the owner has now; later migrations' objects get the same through
-- the default privileges below.
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT c.oid::regclass AS name, c.relkind FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)
              AND c.relkind IN ('r', 'p', 'v', 'm', 'S') LOOP
        IF r.relkind = 'S' THEN
            EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE %s TO offsite_app', r.name);
        ELSE
            EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE %s TO offsite_app', r.name);
        END IF;
    END LOOP;
END $$;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO offsite_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO offsite_app;

-- The application appends to the audit log and reads it; it reads which migrations ran.
REVOKE ALL ON audit_log, schema_migrations FROM offsite_app;
GRANT SELECT, INSERT ON audit_log TO offsite_app;
GRANT SELECT ON schema_migrations TO offsite_app;

-- Keyed entries name their key (internal/enforce.AuditEntry.ComputeMAC); NULL marks the
-- unkeyed entries written before this migration.
ALTER TABLE audit_log ADD COLUMN key_id text CHECK (key_id ~ '^[A-Za-z0-9._-]{1,64}$');

-- The anchor: the last unkeyed entry. Entries up to it keep their SHA-256; every later entry
-- must be keyed, and the first keyed one chains to it, so its HMAC seals what came before.
-- Signed checkpoints outside the database repeat the anchor, so moving it is found.
CREATE TABLE audit_anchor (
    one          boolean PRIMARY KEY DEFAULT true CHECK (one),
    legacy_until bigint NOT NULL CHECK (legacy_until >= 0),
    created_at   timestamptz NOT NULL DEFAULT now()
);
INSERT INTO audit_anchor (legacy_until) SELECT coalesce(max(seq), 0) FROM audit_log;
REVOKE ALL ON audit_anchor FROM offsite_app;
GRANT SELECT ON audit_anchor TO offsite_app;
