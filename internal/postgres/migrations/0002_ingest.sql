-- What ingest learns of a capture: the COG that later reads use (the source itself when it
-- already is one), its size, per-band statistics, and when.
ALTER TABLE captures
    ADD COLUMN cog_key     text NOT NULL DEFAULT '',
    ADD COLUMN size_bytes  bigint NOT NULL DEFAULT 0,
    ADD COLUMN band_stats  jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN ingested_at timestamptz;
