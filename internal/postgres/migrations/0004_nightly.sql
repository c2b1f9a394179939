-- Nightly runs: each sweep of the captures bucket and of registered captures, so that the next
-- run knows what "new since the last successful run" means.
CREATE TABLE nightly_runs (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    status       text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'finished', 'error')),
    scanned      integer NOT NULL DEFAULT 0, -- sidecar STAC items read
    registered   integer NOT NULL DEFAULT 0, -- captures registered from them
    queued       integer NOT NULL DEFAULT 0, -- clip tasks queued
    expired      integer NOT NULL DEFAULT 0, -- positive-list entries past their validity, expired
    problems     jsonb NOT NULL DEFAULT '[]', -- sidecars that could not be registered, and why
    error        text NOT NULL DEFAULT ''
);
CREATE INDEX nightly_runs_finished_idx ON nightly_runs (started_at DESC) WHERE status = 'finished';
