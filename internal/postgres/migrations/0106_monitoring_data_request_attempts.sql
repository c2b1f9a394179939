-- A data request the logger does not answer is sent again (issue 15): HJ 212-2017 has the
-- requester send a request again, with its QN, when no reply came within its timeout
-- (OverTime), up to its number of retries (ReCount). attempts counts the sendings.
ALTER TABLE monitoring_data_requests ADD COLUMN attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0);
