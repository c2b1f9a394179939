package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/paulmach/orb"

	"github.com/jackc/pgx/v5"
	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/postgres"
	"github.com/offsite/offsite/internal/s3"
	"github.com/offsite/offsite/internal/testenv"
	"github.com/offsite/offsite/internal/verify"
)

// TestVerifyCommand stores three clips' artifacts, an ingested capture's source and COG and
// a recorded self-check proof, tampers with two artifacts, then replaces the source and the
// COG and removes the proof as only someone holding the bucket credentials can, and checks
// that `worker verify` names exactly those.
func TestVerifyCommand(t *testing.T) {
	ctx := context.Background()
	pg := testenv.Postgres(t)
	dbURL := pg.URL
	cfg := testenv.S3Config(t)
	keyEnv, keys := testenv.AuditKey(t)
	for k, v := range map[string]string{
		"OFFSITE_AUDIT_KEY": keyEnv, "OFFSITE_DATABASE_URL": dbURL, "OFFSITE_S3_ENDPOINT": cfg.Endpoint,
		"OFFSITE_S3_ACCESS_KEY": cfg.AccessKey, "OFFSITE_S3_SECRET_KEY": cfg.SecretKey,
		"OFFSITE_S3_BUCKET_CAPTURES": cfg.CapturesBucket, "OFFSITE_S3_BUCKET_EVIDENCE": cfg.EvidenceBucket,
		"OFFSITE_S3_BUCKET_PROOFS": cfg.ProofsBucket,
	} {
		t.Setenv(k, v)
	}
	db, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store, err := s3.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sq := orb.Polygon{{{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}}
	var parcels []*offsite.Parcel
	for _, id := range []string{"a", "b", "c"} {
		parcels = append(parcels, &offsite.Parcel{ID: id, Geometry: sq})
	}
	if err := postgres.NewParcelService(db).UpsertParcels(ctx, parcels); err != nil {
		t.Fatal(err)
	}
	captures := postgres.NewCaptureService(db)
	c := &offsite.Capture{Kind: offsite.KindSentinel2, AcquiredAt: time.Now(), Bucket: cfg.CapturesBucket, Key: "x.tif"}
	if err := captures.CreateCapture(ctx, c); err != nil {
		t.Fatal(err)
	}
	var clips []*offsite.Clip
	for _, p := range parcels {
		cogKey, cogSum, err := store.PutEvidence(ctx, []byte("cog of "+p.ID), ".tif", "image/tiff")
		if err != nil {
			t.Fatal(err)
		}
		pngKey, pngSum, err := store.PutEvidence(ctx, []byte("png of "+p.ID), ".png", "image/png")
		if err != nil {
			t.Fatal(err)
		}
		clips = append(clips, &offsite.Clip{CaptureID: c.ID, ParcelID: p.ID, COGKey: cogKey, COGSHA256: cogSum,
			QuickLookKey: pngKey, QuickLookSHA256: pngSum, Width: 1, Height: 1})
	}
	if err := captures.RecordClips(ctx, clips); err != nil {
		t.Fatal(err)
	}
	// The capture's source and the COG ingest made of it, each hashed.
	source, cog := []byte("scene x"), []byte("cog of scene x")
	if err := store.PutCapture(ctx, c.Key, bytes.NewReader(source), int64(len(source))); err != nil {
		t.Fatal(err)
	}
	cogKey := "cog/" + sha(cog) + ".tif"
	if err := store.PutNewCapture(ctx, cogKey, bytes.NewReader(cog), int64(len(cog))); err != nil {
		t.Fatal(err)
	}
	srcSum := sha(source)
	if _, err := captures.UpdateCapture(ctx, c.ID, offsite.CaptureUpdate{Checksum: &srcSum, COGKey: &cogKey, Ingested: true}); err != nil {
		t.Fatal(err)
	}
	// A recorded proof, as the API records one.
	doc := []byte("%PDF-1.4 proof")
	proofKey := "selfcheck/91110000600037341L/7/report.pdf"
	if err := store.PutProof(ctx, proofKey, bytes.NewReader(doc), int64(len(doc)), "application/pdf"); err != nil {
		t.Fatal(err)
	}
	rec := verify.ProofUpload{Name: "report.pdf", Bucket: cfg.ProofsBucket, Key: proofKey, Size: int64(len(doc)), SHA256: sha(doc), MediaType: "application/pdf"}
	if err := postgres.NewEnforceService(db, postgres.AuditConfig{Keys: keys}).Audit(ctx, enforce.Actor{Name: "ent", Role: "enterprise"}, verify.ActionProofUpload, "inspection/7", rec); err != nil {
		t.Fatal(err)
	}

	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"verify"}, &out, &errOut); err != nil {
		t.Fatalf("verify of untouched evidence: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "9 objects checked, 9 ok, 0 problems") || !strings.Contains(out.String(), "audit chain ok, 1 entries checked") {
		t.Errorf("verify output = %q", out.String())
	}

	// Overwrite b's COG in place and delete c's quick-look.
	tampered := []byte("not the cog of b")
	if _, err := store.Client.PutObject(ctx, cfg.EvidenceBucket, clips[1].COGKey, bytes.NewReader(tampered), int64(len(tampered)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := store.Client.RemoveObject(ctx, cfg.EvidenceBucket, clips[2].QuickLookKey, minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err = run(ctx, []string{"verify"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "2 of 9 objects failed") || exitStatus(err, io.Discard) != 4 {
		t.Fatalf("verify after tampering: err = %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	ev := cfg.EvidenceBucket + "/"
	if len(lines) != 4 ||
		!strings.HasPrefix(lines[0], "mismatch\t"+ev+clips[1].COGKey+"\tcapture 1 parcel b cog") ||
		!strings.HasPrefix(lines[1], "missing\t"+ev+clips[2].QuickLookKey+"\tcapture 1 parcel c quicklook") {
		t.Errorf("verify output:\n%s", out.String())
	}

	// Replace the source and the COG, remove the proof.
	if err := store.PutCapture(ctx, c.Key, bytes.NewReader([]byte("forged")), 6); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Client.PutObject(ctx, cfg.CapturesBucket, cogKey, bytes.NewReader([]byte("forged cog")), 10, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := store.RemoveProof(ctx, proofKey); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err = run(ctx, []string{"verify"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "5 of 9 objects failed") {
		t.Fatalf("verify after replacing inputs: err = %v\n%s", err, out.String())
	}
	caps := cfg.CapturesBucket + "/"
	for _, want := range []string{
		"mismatch\t" + caps + "x.tif\tcapture 1 source\trecorded " + srcSum + "\tstored " + sha([]byte("forged")),
		"mismatch\t" + caps + cogKey + "\tcapture 1 cog\trecorded " + sha(cog) + "\tstored " + sha([]byte("forged cog")),
		"missing\t" + cfg.ProofsBucket + "/" + proofKey + "\tinspection/7 proof report.pdf",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("verify output lacks %q:\n%s", want, out.String())
		}
	}

	// Rewrite the proof's audit entry as the schema's owner (the app's role cannot): verify
	// names the broken entry.
	conn, err := pgx.Connect(ctx, pg.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range []string{
		"GRANT UPDATE ON audit_log TO CURRENT_USER",
		"ALTER TABLE audit_log DISABLE TRIGGER USER",
		"UPDATE audit_log SET actor = 'someone else' WHERE seq = 1",
		"ALTER TABLE audit_log ENABLE TRIGGER USER",
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	out.Reset()
	err = run(ctx, []string{"verify"}, &out, &errOut)
	if err == nil || !strings.Contains(out.String(), "audit chain BROKEN at entry 1") {
		t.Errorf("verify after rewriting the audit log: err = %v\n%s", err, out.String())
	}
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
