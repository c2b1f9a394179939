-- Requests to a data logger to send its data of a period again (issue 15): the platform's
-- data requests of HJ 212-2017 (Annex C.20-C.23: 2051 minute, 2061 hour, 2031 day, 2041
-- running time, with BeginTime and EndTime), queued by staff through the API (audited), sent
-- by the receiver while the logger is connected (sent_at, and qn, the request's QN, which the
-- logger's replies echo), and the logger's request reply (9011 QnRtn) and execution result
-- (9012 ExeRtn) recorded as they arrive. The data itself arrives as uploads of the CN asked,
-- stored as any other (idempotent on MN, CN, DataTime, factor).
CREATE TABLE monitoring_data_requests (
    id           bigserial PRIMARY KEY,
    mn           text NOT NULL REFERENCES monitoring_points (mn),
    cn           text NOT NULL CHECK (cn IN ('2051', '2061', '2031', '2041')),
    begin_time   timestamptz NOT NULL,
    end_time     timestamptz NOT NULL CHECK (end_time >= begin_time),
    finding_id   text NOT NULL DEFAULT '',
    requested_by text NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now(),
    qn           text,
    sent_at      timestamptz,
    qn_rtn       text NOT NULL DEFAULT '',
    exe_rtn      text NOT NULL DEFAULT '',
    replied_at   timestamptz,
    CHECK ((qn IS NULL) = (sent_at IS NULL))
);
CREATE UNIQUE INDEX monitoring_data_requests_qn ON monitoring_data_requests (mn, qn);
CREATE INDEX monitoring_data_requests_pending ON monitoring_data_requests (id) WHERE sent_at IS NULL;
CREATE INDEX monitoring_data_requests_mn ON monitoring_data_requests (mn, requested_at);
REVOKE DELETE, TRUNCATE ON monitoring_data_requests FROM offsite_app;

INSERT INTO audit_actions (action) VALUES ('monitoring_point.request_data') ON CONFLICT DO NOTHING;
