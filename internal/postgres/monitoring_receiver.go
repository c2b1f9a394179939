package postgres

import (
	"context"

	"github.com/offsite/offsite/internal/hj212"
)

// ReceiverCredentials checks a data logger's access password for the HJ 212 receiver: against
// the monitoring registry (monitoring_points, whose points the analysis knows) when the MN is
// registered there, else against the receiver's own monitoring_credentials (loggers set up
// with `receiver credentials`), so that both kinds of logger are accepted.
type ReceiverCredentials struct {
	Registry *MonitoringRegistry
	Fallback *MonitoringStore
}

var _ hj212.Credentials = ReceiverCredentials{}

// Check implements hj212.Credentials.
func (c ReceiverCredentials) Check(ctx context.Context, mn, pw string) (hj212.Verdict, error) {
	known, ok, err := c.Registry.CheckPassword(ctx, mn, pw)
	switch {
	case err != nil:
		return 0, err
	case known && ok:
		return hj212.VerdictOK, nil
	case known:
		return hj212.VerdictWrongPW, nil
	case c.Fallback != nil:
		return c.Fallback.Check(ctx, mn, pw)
	}
	return hj212.VerdictUnknownMN, nil
}
