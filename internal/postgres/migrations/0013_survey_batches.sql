-- Survey parts per batch of parcels: a capture with many parcels under it is split into
-- batches of nearby parcels (each reads a compact window), run as separate tasks.
ALTER TABLE surveys ADD COLUMN batch_size integer NOT NULL DEFAULT 0 CHECK (batch_size >= 0);
ALTER TABLE survey_parts ADD COLUMN batch integer NOT NULL DEFAULT 0 CHECK (batch >= 0),
    ADD COLUMN parcel_ids text[]; -- NULL: every parcel under the capture
ALTER TABLE survey_parts DROP CONSTRAINT survey_parts_pkey;
ALTER TABLE survey_parts ADD PRIMARY KEY (survey_id, capture_id, batch);
