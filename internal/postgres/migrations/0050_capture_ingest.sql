-- What ingest did to a capture: the bytes it fetched (once), the conversion it needed (none
-- for a COG or a tiled scene with overviews, overviews added, or a COG written), the size of
-- what it converted and each stage's seconds. NULL for captures ingested before.
ALTER TABLE captures ADD COLUMN ingest jsonb;
