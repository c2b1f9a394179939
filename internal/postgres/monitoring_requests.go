package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/offsite/offsite/internal/derrors"
	"github.com/offsite/offsite/internal/monitoring"
)

// Data requests to the points' loggers (monitoring_data_requests, migration 0105): queued
// through the API (monitoringTx.CreateDataRequest, audited), read and marked sent by the
// receiver (PendingDataRequests, MarkDataRequestSent), and the loggers' replies recorded
// (RecordDataRequestReply).

const dataRequestColumns = `id, mn, cn, begin_time, end_time, finding_id, requested_by, requested_at, coalesce(qn, ''), sent_at, attempts, qn_rtn, exe_rtn, replied_at`

func scanDataRequest(r pgx.CollectableRow) (*monitoring.DataRequest, error) {
	var d monitoring.DataRequest
	err := r.Scan(&d.ID, &d.MN, &d.CN, &d.Begin, &d.End, &d.FindingID, &d.RequestedBy, &d.RequestedAt, &d.QN, &d.SentAt, &d.Attempts, &d.QnRtn, &d.ExeRtn, &d.RepliedAt)
	return &d, err
}

func (t *monitoringTx) CreateDataRequest(ctx context.Context, r *monitoring.DataRequest) error {
	return formatError(t.tx.QueryRow(ctx, `INSERT INTO monitoring_data_requests (mn, cn, begin_time, end_time, finding_id, requested_by, requested_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, r.MN, r.CN, r.Begin, r.End, r.FindingID, r.RequestedBy, r.RequestedAt).Scan(&r.ID))
}

// FindDataRequests returns the data requests to point mn's logger, newest first.
func (st *MonitoringRegistry) FindDataRequests(ctx context.Context, mn string, limit int) (_ []*monitoring.DataRequest, err error) {
	defer derrors.Wrap(&err, "FindDataRequests(%q)", mn)
	rows, err := st.s.db.Pool.Query(ctx, `SELECT `+dataRequestColumns+` FROM monitoring_data_requests WHERE mn = $1 ORDER BY id DESC LIMIT $2`, mn, limit)
	if err != nil {
		return nil, formatError(err)
	}
	out, err := pgx.CollectRows(rows, scanDataRequest)
	return out, formatError(err)
}

// PendingDataRequests returns the data requests to send, oldest first: those not sent yet,
// and those sent fewer than attempts times, the last time before unansweredSince, that no
// reply answered.
func (s *MonitoringStore) PendingDataRequests(ctx context.Context, unansweredSince time.Time, attempts, limit int) (_ []*monitoring.DataRequest, err error) {
	defer derrors.Wrap(&err, "PendingDataRequests")
	rows, err := s.db.Pool.Query(ctx, `SELECT `+dataRequestColumns+` FROM monitoring_data_requests
		WHERE sent_at IS NULL OR replied_at IS NULL AND sent_at < $1 AND attempts < $2 ORDER BY id LIMIT $3`, unansweredSince, attempts, limit)
	if err != nil {
		return nil, formatError(err)
	}
	out, err := pgx.CollectRows(rows, scanDataRequest)
	return out, formatError(err)
}

// MarkDataRequestSent records that request id was sent (again) with QN qn at t.
func (s *MonitoringStore) MarkDataRequestSent(ctx context.Context, id int64, qn string, t time.Time) (err error) {
	defer derrors.Wrap(&err, "MarkDataRequestSent(%d)", id)
	_, err = s.db.Pool.Exec(ctx, `UPDATE monitoring_data_requests SET qn = $2, sent_at = $3, attempts = attempts + 1 WHERE id = $1 AND replied_at IS NULL`, id, qn, t)
	return formatError(err)
}

// RecordDataRequestReply records a logger's reply to the request it sent with QN qn: the
// request reply (CN 9011, QnRtn) or the execution result (9012, ExeRtn). It reports whether a
// request of mn has that QN.
func (s *MonitoringStore) RecordDataRequestReply(ctx context.Context, mn, qn, cn, rtn string, t time.Time) (_ bool, err error) {
	defer derrors.Wrap(&err, "RecordDataRequestReply(%q, %q)", mn, qn)
	column := "qn_rtn"
	if cn == "9012" {
		column = "exe_rtn"
	}
	tag, err := s.db.Pool.Exec(ctx, `UPDATE monitoring_data_requests SET `+column+` = $3, replied_at = $4 WHERE mn = $1 AND qn = $2`, mn, qn, rtn, t)
	if err != nil {
		return false, formatError(err)
	}
	return tag.RowsAffected() > 0, nil
}

// UnmarkDataRequestSent undoes MarkDataRequestSent for request id sent with QN qn, when the
// sending failed: the attempt does not count, and a request never sent is pending again.
func (s *MonitoringStore) UnmarkDataRequestSent(ctx context.Context, id int64, qn string) (err error) {
	defer derrors.Wrap(&err, "UnmarkDataRequestSent(%d)", id)
	_, err = s.db.Pool.Exec(ctx, `UPDATE monitoring_data_requests SET attempts = attempts - 1,
			qn = CASE WHEN attempts = 1 THEN NULL ELSE qn END, sent_at = CASE WHEN attempts = 1 THEN NULL ELSE sent_at END
		WHERE id = $1 AND qn = $2 AND replied_at IS NULL AND attempts > 0`, id, qn)
	return formatError(err)
}
