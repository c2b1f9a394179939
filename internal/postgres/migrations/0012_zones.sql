-- Named zones (industrial parks, river sections) that surveys are planned over, and the zone a
-- survey was planned on. A survey keeps its own copy of the geometry: what it planned on.
CREATE TABLE zones (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (name <> '' AND length(name) <= 200),
    geom        geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom)),
    created_by  text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX zones_geom_idx ON zones USING gist (geom);

ALTER TABLE surveys ADD COLUMN zone_id bigint REFERENCES zones (id);
