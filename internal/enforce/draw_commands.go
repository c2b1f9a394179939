package enforce

import (
	"context"
	"fmt"

	"github.com/offsite/offsite"
)

// DrawStore runs the draw command in a transaction.
type DrawStore interface {
	// InTx runs fn in one transaction: committed when fn returns nil, rolled back otherwise.
	InTx(ctx context.Context, fn func(DrawTx) error) error
}

// DrawTx is what the draw command reads, stores and appends in a transaction.
type DrawTx interface {
	// DrawPool returns every enterprise of the agency and of those under it (0: every
	// enterprise) as a candidate, listed by its effective status.
	DrawPool(ctx context.Context, agency int64) ([]Candidate, error)
	// LastDrawn maps each inspector to the enterprises they were drawn for in the latest
	// draw that included each enterprise.
	LastDrawn(ctx context.Context) (map[string][]string, error)
	// CreateDraw stores the draw, setting its ID and CreatedAt.
	CreateDraw(ctx context.Context, d *StoredDraw) error
	// Append chains an audit entry to the log.
	Append(ctx context.Context, a Actor, action AuditAction, subject string, detail any) error
}

// Draws holds the command of the double-random draw (二.5).
type Draws struct {
	Store  DrawStore
	Config DrawConfig
}

// Create draws from the current pool of the actor's agency with seed and stores and audits the result. Besides
// the conflicts given, an inspector is not drawn for an enterprise they were drawn for in the
// latest draw that included it.
func (c *Draws) Create(ctx context.Context, a Actor, seed uint64, inspectors []Inspector) (*StoredDraw, error) {
	out := &StoredDraw{CreatedBy: a.Name}
	err := c.Store.InTx(ctx, func(tx DrawTx) error {
		pool, err := tx.DrawPool(ctx, a.Agency) // an agency draws among its own enterprises
		if err != nil {
			return err
		}
		last, err := tx.LastDrawn(ctx)
		if err != nil {
			return err
		}
		ins := make([]Inspector, len(inspectors))
		for i, in := range inspectors {
			ins[i] = Inspector{ID: in.ID, Conflicts: append(append([]string(nil), in.Conflicts...), last[in.ID]...)}
		}
		res, err := Draw(c.Config, seed, pool, ins)
		if err != nil {
			return offsite.Invalid("inspectors", "%v", err)
		}
		out.Result = res
		if err := tx.CreateDraw(ctx, out); err != nil {
			return err
		}
		return tx.Append(ctx, a, AuditDrawCreate, fmt.Sprintf("draw/%d", out.ID), map[string]any{
			"seed": res.Seed, "pool_size": res.PoolSize, "groups": res.Groups, "targets": len(res.Targets), "inspectors": ins})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
