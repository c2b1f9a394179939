-- A parcel may be retired (issue 16 item 7): it leaves the parcel lists, the OGC collections,
-- the GIS exports and clipping, and stays in the evidence already made on it. Storing the
-- parcel again brings it back.
ALTER TABLE parcels ADD COLUMN retired_at timestamptz;
CREATE INDEX parcels_current_geom_idx ON parcels USING gist (geom) WHERE retired_at IS NULL;
INSERT INTO audit_actions (action) VALUES ('enterprise.parcel_retire') ON CONFLICT DO NOTHING;
