package monitoring

import (
	"context"
	"time"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
)

// DataRequest is a request to a point's data logger to send its data of a period again: the
// platform's data requests of HJ 212-2017 (Annex C.20–C.23), "CN=2061;...;Flag=5;
// CP=&&BeginTime=yyyyMMddHHmmss;EndTime=yyyyMMddHHmmss&&" for hour data. Staff queue it (for
// the gap of an event, FindingID); the receiver sends it while the logger is connected and
// records the logger's request reply (9011 QnRtn: 1 accepted) and execution result (9012
// ExeRtn: 1 done), sending it again with its QN when no reply came in time, as HJ 212-2017
// has a requester do (OverTime, ReCount); the data itself arrives as uploads of CN and is
// stored as any other.
type DataRequest struct {
	ID          int64      `json:"id"`
	MN          string     `json:"mn"`
	CN          string     `json:"cn"`
	Begin       time.Time  `json:"begin_time"`
	End         time.Time  `json:"end_time"`
	FindingID   string     `json:"finding_id,omitempty"`
	RequestedBy string     `json:"requested_by"`
	RequestedAt time.Time  `json:"requested_at"`
	QN          string     `json:"qn,omitempty"`
	SentAt      *time.Time `json:"sent_at,omitempty"` // the last sending
	Attempts    int        `json:"attempts"`          // how often it was sent
	QnRtn       string     `json:"qn_rtn,omitempty"`
	ExeRtn      string     `json:"exe_rtn,omitempty"`
	RepliedAt   *time.Time `json:"replied_at,omitempty"`
}

// DataRequestCNs are the data a logger can be asked to send again, with the most days one
// request may span: minute data is many frames a day.
var DataRequestCNs = map[string]int{CNMinute: 2, CNHour: 31, CNDay: 366, CNRunTime: 366}

// Validate checks the request's point, data and period.
func (r *DataRequest) Validate() error {
	if err := CheckMN(r.MN); err != nil {
		return err
	}
	days, ok := DataRequestCNs[r.CN]
	if !ok {
		return offsite.Invalid("cn", "must be 2051 (minute), 2061 (hour), 2031 (day) or 2041 (running time), got %q", r.CN)
	}
	if r.Begin.IsZero() {
		return offsite.Required("begin_time", "is required")
	}
	if r.End.IsZero() {
		return offsite.Required("end_time", "is required")
	}
	if r.End.Before(r.Begin) {
		return offsite.Invalid("end_time", "must not be before begin_time")
	}
	if r.End.Sub(r.Begin) > time.Duration(days)*24*time.Hour {
		return offsite.Invalid("end_time", "at most %d days after begin_time for CN %s", days, r.CN)
	}
	return nil
}

// Params is the request's command parameters as HJ 212-2017 writes them: BeginTime and
// EndTime in China Standard Time.
func (r *DataRequest) Params() string {
	return "BeginTime=" + r.Begin.In(CST).Format("20060102150405") + ";EndTime=" + r.End.In(CST).Format("20060102150405")
}

// RequestData queues a data request to a registered point's logger, audited.
func (c *Registry) RequestData(ctx context.Context, a enforce.Actor, r *DataRequest) error {
	if err := r.Validate(); err != nil {
		return err
	}
	r.RequestedBy, r.RequestedAt = a.Name, c.now()
	return c.Store.InTx(ctx, func(tx Tx) error {
		p, err := tx.LockPoint(ctx, r.MN)
		if err != nil {
			return err
		}
		if err := tx.CreateDataRequest(ctx, r); err != nil {
			return err
		}
		return tx.Append(ctx, a, enforce.AuditMonitoringPointRequestData, PointSubject(r.MN),
			map[string]any{"uscc": p.USCC, "request": r.ID, "cn": r.CN, "begin_time": r.Begin, "end_time": r.End, "finding_id": r.FindingID})
	})
}
