-- Accounts and agencies (issue 16 parts 1 and 2): the enforcement bodies as a tree (province →
-- city → county), users with roles and passwords, server-side sessions, API tokens for
-- machines, and failed-login counters. Secrets are stored only as hashes: argon2id for
-- passwords (internal/account), SHA-256 for session and API tokens (random 256-bit values).

CREATE TABLE agencies (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL CHECK (name <> '' AND length(name) <= 200),
    level      text NOT NULL CHECK (level IN ('province', 'city', 'county')),
    parent_id  bigint REFERENCES agencies (id),
    -- path lists the agency's ancestors from its province down to itself: "under a" is
    -- a.id = ANY(path). An agency never moves, so path never changes.
    path       bigint[] NOT NULL,
    version    integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((level = 'province') = (parent_id IS NULL)),
    CHECK (path[array_length(path, 1)] = id)
);
CREATE UNIQUE INDEX agencies_parent_name ON agencies (COALESCE(parent_id, 0), name);
CREATE INDEX agencies_path ON agencies USING gin (path);

-- The first province: every enterprise recorded before agencies existed belongs to it. An
-- administrator renames it (PATCH /api/v1/agencies/1) and adds the cities and counties.
INSERT INTO agencies (id, name, level, parent_id, path) VALUES (1, 'Province', 'province', NULL, '{1}');
SELECT setval('agencies_id_seq', 1);

-- An enterprise inserted without an agency (bulk loads, older tools) belongs to the first
-- province.
CREATE FUNCTION first_province() RETURNS bigint LANGUAGE sql STABLE
    AS $$ SELECT min(id) FROM agencies WHERE parent_id IS NULL $$;
ALTER TABLE enterprises ADD COLUMN agency_id bigint REFERENCES agencies (id) DEFAULT first_province();
UPDATE enterprises SET agency_id = 1;
ALTER TABLE enterprises ALTER COLUMN agency_id SET NOT NULL;
CREATE INDEX enterprises_agency ON enterprises (agency_id);

CREATE TABLE users (
    id                  bigserial PRIMARY KEY,
    name                text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9._@-]{1,63}$'),
    display_name        text NOT NULL DEFAULT '' CHECK (length(display_name) <= 200),
    role                text NOT NULL CHECK (role IN ('admin', 'analyst', 'inspector', 'approver', 'enterprise')),
    agency_id           bigint NOT NULL REFERENCES agencies (id),
    -- An enterprise's account speaks for that enterprise only.
    uscc                text REFERENCES enterprises (uscc),
    -- password_hash is an argon2id PHC string; '' means the user cannot sign in with a
    -- password (API tokens only).
    password_hash       text NOT NULL DEFAULT '',
    password_changed_at timestamptz,
    disabled            boolean NOT NULL DEFAULT false,
    version             integer NOT NULL DEFAULT 1,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK ((role = 'enterprise') = (uscc IS NOT NULL))
);
CREATE INDEX users_agency ON users (agency_id);

CREATE TABLE sessions (
    id           bigserial PRIMARY KEY,
    token_sha256 bytea NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    address      text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE api_tokens (
    id           bigserial PRIMARY KEY,
    token_sha256 bytea NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
    user_id      bigint NOT NULL REFERENCES users (id),
    name         text NOT NULL CHECK (name <> '' AND length(name) <= 200),
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    revoked_by   text,
    last_used_at timestamptz
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- Failed sign-ins counted per account ("user:<name>") and per client address
-- ("addr:<ip>"), whether or not the account exists.
CREATE TABLE login_throttle (
    key          text PRIMARY KEY,
    failures     integer NOT NULL,
    window_start timestamptz NOT NULL,
    locked_until timestamptz
);

INSERT INTO audit_actions (action) VALUES
    ('agency.create'), ('agency.update'),
    ('user.create'), ('user.update'), ('user.password'), ('user.login'), ('user.logout'), ('user.lockout'),
    ('token.create'), ('token.revoke')
ON CONFLICT DO NOTHING;
