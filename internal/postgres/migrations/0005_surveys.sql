-- Surveys: an analyst's request to process the captures of some kinds that cover a zone in a
-- time window. Status names follow openEO's job lifecycle. Each capture is one part.
CREATE TABLE surveys (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL DEFAULT '',
    zone          geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(zone)),
    window_start  timestamptz NOT NULL,
    window_end    timestamptz NOT NULL CHECK (window_end > window_start),
    kinds         text[] NOT NULL CHECK (cardinality(kinds) > 0),
    pipeline      text NOT NULL,
    status        text NOT NULL DEFAULT 'created'
                  CHECK (status IN ('created', 'queued', 'running', 'canceled', 'finished', 'error')),
    parcels       integer NOT NULL DEFAULT 0, -- parcels inside the zone when planned
    error         text NOT NULL DEFAULT '',
    created_by    text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    finished_at   timestamptz
);

CREATE TABLE survey_parts (
    survey_id   bigint NOT NULL REFERENCES surveys (id),
    capture_id  bigint NOT NULL REFERENCES captures (id),
    status      text NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'running', 'done', 'failed', 'canceled')),
    error       text NOT NULL DEFAULT '',
    clips       integer NOT NULL DEFAULT 0,
    findings    integer NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (survey_id, capture_id)
);
CREATE INDEX survey_parts_status_idx ON survey_parts (survey_id, status);
