-- What ingest did to a capture: the bytes it fetched (once), the conversion it needed (none
-- for a COG or any tiled GeoTIFF, "cog" for one in strips re-encoded), the size of what it
-- converted and each stage's seconds. NULL for captures ingested before.
ALTER TABLE captures ADD COLUMN ingest jsonb;
