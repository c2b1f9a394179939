package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/paulmach/orb"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/postgres"
	"github.com/offsite/offsite/internal/s3"
	"github.com/offsite/offsite/internal/testenv"
)

// TestVerifyCommand stores three clips' artifacts, tampers with two, and checks that
// `worker verify` names exactly those.
func TestVerifyCommand(t *testing.T) {
	ctx := context.Background()
	dbURL := testenv.PostgresURL(t)
	cfg := testenv.S3Config(t)
	for k, v := range map[string]string{
		"OFFSITE_DATABASE_URL": dbURL, "OFFSITE_S3_ENDPOINT": cfg.Endpoint,
		"OFFSITE_S3_ACCESS_KEY": cfg.AccessKey, "OFFSITE_S3_SECRET_KEY": cfg.SecretKey,
		"OFFSITE_S3_BUCKET_CAPTURES": cfg.CapturesBucket, "OFFSITE_S3_BUCKET_EVIDENCE": cfg.EvidenceBucket,
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

	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"verify"}, &out, &errOut); err != nil {
		t.Fatalf("verify of untouched evidence: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "6 artifacts checked, 6 ok, 0 problems") {
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
	if err == nil || !strings.Contains(err.Error(), "2 of 6 artifacts failed") {
		t.Fatalf("verify after tampering: err = %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 ||
		!strings.HasPrefix(lines[0], "mismatch\t"+clips[1].COGKey+"\tcapture 1 parcel b cog") ||
		!strings.HasPrefix(lines[1], "missing\t"+clips[2].QuickLookKey+"\tcapture 1 parcel c quicklook") {
		t.Errorf("verify output:\n%s", out.String())
	}
}
