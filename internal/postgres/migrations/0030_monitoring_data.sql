-- Automatic monitoring (issue 15): what the HJ 212 receiver stores. Every frame a data logger
-- sent is kept verbatim with its SHA-256 (it is evidence); the values parsed from valid data
-- uploads go to monitoring_values, one row per (MN, command, DataTime, factor), so that a
-- retransmitted frame never doubles a value.
CREATE TABLE monitoring_frames (
    id          bigserial PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now(),
    remote_addr text NOT NULL DEFAULT '',
    sha256      text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    raw         bytea NOT NULL,
    valid       boolean NOT NULL,
    reason      text NOT NULL DEFAULT '',      -- why a frame was refused
    version     text NOT NULL DEFAULT '',      -- '2017' or '2005'
    qn          text NOT NULL DEFAULT '',
    st          text NOT NULL DEFAULT '',
    cn          text NOT NULL DEFAULT '',
    mn          text NOT NULL DEFAULT '',
    data_time   timestamptz,                   -- the frame's DataTime, China Standard Time as sent
    deviations  text[] NOT NULL DEFAULT '{}',  -- departures from HJ 212-2017 that were accepted
    quarantined boolean NOT NULL DEFAULT false -- MN unknown or password wrong: kept, not analysed
);
CREATE UNIQUE INDEX monitoring_frames_sha256 ON monitoring_frames (sha256);
CREATE INDEX monitoring_frames_mn_time ON monitoring_frames (mn, data_time);

-- Parsed values of data uploads (CN 2011 real-time, 2051 minute, 2061 hour, 2031 day), one
-- row per factor, partitioned by month of DataTime. Fields as HJ 212-2017 names them; fields
-- not listed here go to extra. flag is the data flag (N, F, M, S, D, C, T, B) as sent.
CREATE TABLE monitoring_values (
    mn           text NOT NULL,
    cn           text NOT NULL,
    data_time    timestamptz NOT NULL,
    factor       text NOT NULL,               -- the factor code as sent (2017 or 2005)
    rtd          double precision,
    avg          double precision,
    min          double precision,
    max          double precision,
    cou          double precision,
    zs_rtd       double precision,
    zs_avg       double precision,
    zs_min       double precision,
    zs_max       double precision,
    flag         text,
    extra        jsonb NOT NULL DEFAULT '{}',
    frame_sha256 text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (mn, cn, data_time, factor)
) PARTITION BY RANGE (data_time);
-- Rows whose month has no partition yet land here; the receiver creates month partitions
-- ahead (monitoring_values_YYYYMM) so that the default stays nearly empty.
CREATE TABLE monitoring_values_default PARTITION OF monitoring_values DEFAULT;
