-- What a capture's metadata says besides its pixels: the scale and offset of its bands from
-- its STAC sidecar's raster:bands (recorded at registration; NULL when the sidecar gives
-- none), and GDAL's warnings on the source at ingest (it was ingested anyway).
ALTER TABLE captures
    ADD COLUMN band_scales jsonb,
    ADD COLUMN warnings    jsonb NOT NULL DEFAULT '[]';
