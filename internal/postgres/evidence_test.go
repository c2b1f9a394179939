package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
)

// TestFindEvidenceOrder: the evidence of an enterprise lists its parcels in id order, a
// retired parcel only with evidence made on it, each parcel's clips newest first (by capture,
// highest first, among clips of one time) and its findings newest first (by id among findings
// of one time); an enterprise without parcels has empty evidence, an unknown one none.
func TestFindEvidenceOrder(t *testing.T) {
	ctx := context.Background()
	s := mustEnforce(t, MustOpen(t))
	MustEnterprise(t, s, testUSCC, "north")
	MustEnterprise(t, s, testUSCC2, "north")
	var ps []*offsite.Parcel
	for _, id := range []string{"p2", "p1", "p4", "p10", "p3", "p5"} {
		ps = append(ps, &offsite.Parcel{ID: id, Name: "parcel " + id, Geometry: siteSquare})
	}
	if err := enterprises(s).SetParcels(ctx, admin, testUSCC, ps); err != nil {
		t.Fatal(err)
	}
	caps := make([]int64, 4)
	for i := range caps {
		if err := s.db.Pool.QueryRow(ctx, `INSERT INTO captures (kind, acquired_at, bucket, key) VALUES ('sentinel2', now(), 'b', $1) RETURNING id`,
			fmt.Sprintf("evidence-order/%d.tif", i)).Scan(&caps[i]); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Date(2026, 5, 1, 8, 0, 0, 123456000, time.UTC)
	t1 := t0.Add(time.Hour)
	clip := func(capture int64, parcel string, at time.Time) {
		t.Helper()
		sum := strings.Repeat(fmt.Sprintf("%x", capture%16), 64)
		key := fmt.Sprintf("%d/%s", capture, parcel)
		if _, err := s.db.Pool.Exec(ctx, `INSERT INTO clips (capture_id, parcel_id, cog_key, cog_sha256, cog_bytes, quicklook_key, quicklook_sha256,
			width, height, valid_pixels, created_at) VALUES ($1, $2, $3, $4, 10, $5, $4, 2, 2, 4, $6)`,
			capture, parcel, "cog/"+key, sum, "ql/"+key, at); err != nil {
			t.Fatal(err)
		}
	}
	// p1: two clips of the same time, a newer one and an older one, inserted out of order.
	clip(caps[0], "p1", t0)
	clip(caps[3], "p1", t1)
	clip(caps[2], "p1", t0)
	clip(caps[1], "p1", t0.Add(-time.Hour))
	clip(caps[1], "p4", t0) // p4 is retired below: its clip keeps it in the evidence
	finding := func(id, parcel string, at time.Time) {
		t.Helper()
		if err := NewFindingService(s.db).RecordFindings(ctx, []*offsite.Finding{{ID: id, ParcelID: parcel, CaptureIDs: []int64{caps[0]},
			Kind: "hotspot", Class: "thermal_anomaly", Score: 0.8, Severity: "high", Geometry: siteSquare, Pipeline: "sentinel2",
			PipelineHash: "h", DetectedAt: at, Provenance: []byte(`{"id": "` + id + `", "links": [1, 2.5]}`)}}); err != nil {
			t.Fatal(err)
		}
	}
	finding("ffff000000000001", "p2", t0)
	finding("aaaa000000000001", "p2", t0)
	finding("0000000000000009", "p2", t0.Add(-time.Minute))
	finding("bbbb000000000001", "p2", t1)
	finding("cccc000000000001", "p2", t0)
	finding("dddd000000000001", "p5", t0) // p5 is retired below: its finding keeps it
	for _, id := range []string{"p3", "p4", "p5"} {
		if _, err := enterprises(s).RetireParcel(ctx, admin, testUSCC, id); err != nil {
			t.Fatal(err)
		}
	}

	path, ev, err := NewEnterpriseStore(s).FindEvidence(ctx, testUSCC)
	if err != nil {
		t.Fatal(err)
	}
	// The enterprise's agency comes with its evidence (the first province's, by default).
	if diff := cmp.Diff([]int64{1}, path); diff != "" {
		t.Errorf("agency path (-want +got):\n%s", diff)
	}
	var got []string
	for _, e := range ev {
		line := e.Parcel.ID + ":"
		if e.Parcel.RetiredAt != nil {
			line += "retired:"
		}
		for _, c := range e.Clips {
			line += fmt.Sprintf(" c%d@%s", indexOf(caps, c.CaptureID), c.CreatedAt.UTC().Format("15:04:05.000000"))
		}
		for _, f := range e.Findings {
			line += " " + f.ID[:4] + "@" + f.DetectedAt.UTC().Format("15:04")
			if want := `{"id": "` + f.ID + `", "links": [1, 2.5]}`; string(f.Provenance) != want {
				t.Errorf("finding %s provenance %s, want %s", f.ID, f.Provenance, want)
			}
		}
		got = append(got, line)
	}
	want := []string{
		"p1: c3@09:00:00.123456 c2@08:00:00.123456 c0@08:00:00.123456 c1@07:00:00.123456",
		"p10:",
		"p2: bbbb@09:00 aaaa@08:00 cccc@08:00 ffff@08:00 0000@07:59",
		"p4:retired: c1@08:00:00.123456",
		"p5:retired: dddd@08:00",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("evidence:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	if path, ev, err := NewEnterpriseStore(s).FindEvidence(ctx, testUSCC2); err != nil || ev == nil || len(ev) != 0 || len(path) == 0 {
		t.Errorf("evidence of an enterprise without parcels: %v %v %v, want its agency and an empty list", path, ev, err)
	}
	if _, _, err := NewEnterpriseStore(s).FindEvidence(ctx, testUSCC3); !errors.Is(err, offsite.ErrNotFound) {
		t.Errorf("evidence of an unknown enterprise: %v, want not found", err)
	}
}

func indexOf(xs []int64, x int64) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

// TestAuditVocabularyPerStatement: a group commit holding one entry of an unknown action
// appends none of its entries, and the chain still verifies; the next group commits.
func TestAuditVocabularyPerStatement(t *testing.T) {
	ctx := context.Background()
	s := mustEnforce(t, MustOpen(t))
	MustEnterprise(t, s, testUSCC, "north")
	count := func() (n int) {
		t.Helper()
		if err := s.db.Pool.QueryRow(ctx, "SELECT count(*) FROM audit_log").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count()
	view := func(action enforce.AuditAction, role enforce.Role) *pendingAudit {
		return &pendingAudit{actor: enforce.Actor{Name: "viewer", Role: role}, action: action, subject: enforce.EnterpriseSubject(testUSCC)}
	}
	for _, batch := range [][]*pendingAudit{
		{view(enforce.AuditEvidenceView, "inspector"), view("evidence.peek", "inspector"), view(enforce.AuditEvidenceView, "inspector")},
		{view(enforce.AuditEvidenceView, "inspector"), view(enforce.AuditEvidenceView, "root")},
	} {
		if _, err := s.commitGroup(ctx, batch); !errors.Is(formatError(err), offsite.ErrInvalid) {
			t.Errorf("group commit with an unknown action or role: %v, want a check violation", err)
		}
	}
	if n := count(); n != before {
		t.Errorf("%d entries appended by refused group commits", n-before)
	}
	if _, err := s.commitGroup(ctx, []*pendingAudit{view(enforce.AuditEvidenceView, "inspector"), view(enforce.AuditEvidenceDownload, "analyst")}); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != before+2 {
		t.Errorf("%d entries appended, want 2", n-before)
	}
	if rep, err := s.VerifyAudit(ctx); err != nil || rep.FirstBroken != nil {
		t.Errorf("chain: %+v %v", rep, err)
	}
}
