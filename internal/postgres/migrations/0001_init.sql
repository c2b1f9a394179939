-- Parcels, captures and clips: the foundation slice.
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE parcels (
    id          text PRIMARY KEY CHECK (id <> ''),
    uscc        text NOT NULL DEFAULT '',
    name        text NOT NULL DEFAULT '',
    geom        geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom)),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX parcels_geom_idx ON parcels USING gist (geom);
CREATE INDEX parcels_uscc_idx ON parcels (uscc) WHERE uscc <> '';

CREATE TABLE captures (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind         text NOT NULL,
    acquired_at  timestamptz NOT NULL,
    sensor       text NOT NULL DEFAULT '',
    bucket       text NOT NULL,
    key          text NOT NULL,
    status       text NOT NULL DEFAULT 'registered'
                 CHECK (status IN ('registered', 'queued', 'processing', 'processed', 'failed')),
    error        text NOT NULL DEFAULT '',
    crs          text NOT NULL DEFAULT '',
    width        integer NOT NULL DEFAULT 0,
    height       integer NOT NULL DEFAULT 0,
    bands        integer NOT NULL DEFAULT 0,
    checksum     text NOT NULL DEFAULT '',
    footprint    geometry(Geometry, 4326),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (bucket, key)
);
CREATE INDEX captures_footprint_idx ON captures USING gist (footprint);
CREATE INDEX captures_status_idx ON captures (status);

-- One clip per (capture, parcel): re-delivered tasks hit the primary key and change nothing.
CREATE TABLE clips (
    capture_id        bigint NOT NULL REFERENCES captures (id),
    parcel_id         text NOT NULL REFERENCES parcels (id),
    cog_key           text NOT NULL,
    cog_sha256        text NOT NULL CHECK (cog_sha256 ~ '^[0-9a-f]{64}$'),
    cog_bytes         bigint NOT NULL,
    quicklook_key     text NOT NULL,
    quicklook_sha256  text NOT NULL CHECK (quicklook_sha256 ~ '^[0-9a-f]{64}$'),
    width             integer NOT NULL,
    height            integer NOT NULL,
    valid_pixels      bigint NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (capture_id, parcel_id)
);
CREATE INDEX clips_parcel_idx ON clips (parcel_id);
