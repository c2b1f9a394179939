package worker

import (
	"context"

	"github.com/hibiken/asynq"

	"github.com/offsite/offsite/internal/enforce"
)

// AuditCheckpointer writes the signed head of the audit chain outside the database
// (postgres.EnforceService implements it).
type AuditCheckpointer interface {
	CheckpointAudit(ctx context.Context) (*enforce.AuditHead, error)
}

// AuditCheckpointHandler checkpoints the audit chain's newest entry: the nightly bound on
// how many entries can be deleted from its end unnoticed, besides the checkpoint every N
// entries.
type AuditCheckpointHandler struct{ *Deps }

// ProcessTask implements asynq.Handler.
func (h *AuditCheckpointHandler) ProcessTask(ctx context.Context, _ *asynq.Task) error {
	head, err := h.Audit.CheckpointAudit(ctx)
	if err != nil {
		return err
	}
	if head != nil {
		h.Logger.InfoContext(ctx, "audit checkpoint", "seq", head.Seq, "key_id", head.KeyID)
	}
	return nil
}
