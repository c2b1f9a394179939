-- Where a capture failed for good (status 'failed', the message in error): the task, its
-- queue and pipeline, the stage, when, and after how many attempts; NULL when the capture has
-- not failed since its last successful run.
ALTER TABLE captures ADD COLUMN failure jsonb;

-- The captures each nightly run queued, with the pipeline it queued them with, so that a run
-- shows what became of them.
CREATE TABLE nightly_run_captures (
    run_id      bigint NOT NULL REFERENCES nightly_runs (id),
    capture_id  bigint NOT NULL REFERENCES captures (id),
    pipeline    text NOT NULL DEFAULT '',
    queued_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, capture_id)
);
CREATE INDEX nightly_run_captures_capture_idx ON nightly_run_captures (capture_id);
