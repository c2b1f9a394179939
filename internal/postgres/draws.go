package postgres

import (
	"context"
	"encoding/json"

	"github.com/jackc/pgx/v5"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/derrors"
	"github.com/offsite/offsite/internal/enforce"
)

// DrawStore is the store of the draw command (enforce.Draws).
type DrawStore struct{ s *EnforceService }

var _ enforce.DrawStore = (*DrawStore)(nil)

// NewDrawStore returns the draw store of s's database and audit chain.
func NewDrawStore(s *EnforceService) *DrawStore { return &DrawStore{s: s} }

// InTx runs fn in a transaction with the audit chain's locks.
func (st *DrawStore) InTx(ctx context.Context, fn func(enforce.DrawTx) error) (err error) {
	defer derrors.Wrap(&err, "DrawStore.InTx")
	return formatError(st.s.inTx(ctx, func(tx pgx.Tx) error { return fn(&enforceTx{s: st.s, tx: tx}) }))
}

func (t *enforceTx) DrawPool(ctx context.Context, agency int64) ([]enforce.Candidate, error) {
	var w sqlFilter
	if agency != 0 {
		w.add("e.agency_id IN (SELECT id FROM agencies WHERE $? = ANY(path))", agency)
	}
	rows, err := t.tx.Query(ctx, "SELECT e.uscc, COALESCE(l.eff, '') = 'listed', e.special_supervision FROM enterprises e "+currentEntryJoin+w.where(), w.args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (enforce.Candidate, error) {
		var c enforce.Candidate
		err := r.Scan(&c.USCC, &c.Listed, &c.SpecialSupervision)
		return c, err
	})
}

func (t *enforceTx) LastDrawn(ctx context.Context) (map[string][]string, error) {
	rows, err := t.tx.Query(ctx, `WITH latest AS (
			SELECT DISTINCT ON (t->>'uscc') t->>'uscc' AS uscc, t->'inspectors' AS ins
			FROM draws d, jsonb_array_elements(d.result->'targets') t
			ORDER BY t->>'uscc', d.id DESC)
		SELECT uscc, jsonb_array_elements_text(ins) FROM latest`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	last := map[string][]string{} // inspector → enterprises
	for rows.Next() {
		var uscc, ins string
		if err := rows.Scan(&uscc, &ins); err != nil {
			return nil, err
		}
		last[ins] = append(last[ins], uscc)
	}
	return last, rows.Err()
}

func (t *enforceTx) CreateDraw(ctx context.Context, d *enforce.StoredDraw) error {
	doc, err := marshalDoc(d.Result)
	if err != nil {
		return err
	}
	return t.tx.QueryRow(ctx, "INSERT INTO draws (seed, result, created_by) VALUES ($1, $2, $3) RETURNING id, created_at",
		d.Result.Seed, doc, d.CreatedBy).Scan(&d.ID, &d.CreatedAt)
}

func scanDraw(row pgx.Row, extra ...any) (*enforce.StoredDraw, error) {
	d := &enforce.StoredDraw{}
	var doc []byte
	if err := row.Scan(append([]any{&d.ID, &doc, &d.CreatedBy, &d.CreatedAt}, extra...)...); err != nil {
		return nil, err
	}
	d.Result = &enforce.DrawResult{}
	return d, json.Unmarshal(doc, d.Result)
}

// FindDrawByID returns one draw.
func (s *EnforceService) FindDrawByID(ctx context.Context, id int64) (_ *enforce.StoredDraw, err error) {
	defer derrors.Wrap(&err, "FindDrawByID(%d)", id)
	d, err := scanDraw(s.db.Pool.QueryRow(ctx, "SELECT id, result, created_by, created_at FROM draws WHERE id = $1", id))
	if err == pgx.ErrNoRows {
		return nil, offsite.NotFound("draw %d", id)
	}
	return d, formatError(err)
}

// drawsUnder is the condition that the draw was run by a user of the agency $1 or of one
// under it: a draw belongs to its creator's agency, whose pool it drew from. A draw of no
// user's (the fixed token table) belongs to none and is seen only unscoped.
const drawsUnder = "created_by IN (SELECT u.name FROM users u JOIN agencies ag ON ag.id = u.agency_id WHERE $1 = ANY(ag.path))"

// FindDraws returns draws, newest first.
func (s *EnforceService) FindDraws(ctx context.Context, agency int64, offset, limit int) (_ []*enforce.StoredDraw, _ int, err error) {
	defer derrors.Wrap(&err, "FindDraws(%d)", agency)
	rows, err := s.db.Pool.Query(ctx, "SELECT id, result, created_by, created_at, count(*) OVER () FROM draws WHERE $1 = 0 OR "+drawsUnder+" ORDER BY id DESC"+pageSQL(offset, limit), agency)
	if err != nil {
		return nil, 0, formatError(err)
	}
	defer rows.Close()
	var out []*enforce.StoredDraw
	total := 0
	for rows.Next() {
		d, err := scanDraw(rows, &total)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, d)
	}
	return out, total, formatError(rows.Err())
}
