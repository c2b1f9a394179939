-- The HJ 212 receiver's ingest (issue 15, item 6: bench-monitoring), what PostgreSQL does per
-- frame, measured with perf on the backends: every frame stored runs its table's CHECKs and
-- index insertions.
--
-- The form check of sha256 (a regular expression, ~5% of the backends' CPU per frame) says
-- less than monitoring_frames_sha256_raw (0031), which requires sha256 to be the hex SHA-256
-- of raw: the latter alone stays.
ALTER TABLE monitoring_frames DROP CONSTRAINT IF EXISTS monitoring_frames_sha256_check;
-- No query reads frames by (mn, data_time): frames are found by hash (values cite it), by
-- message (monitoring_frames_packets) and in quarantine (monitoring_frames_quarantine).
DROP INDEX IF EXISTS monitoring_frames_mn_time;
