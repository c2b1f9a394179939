package e2e

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestSecuritySweepReadsOnlyOperatorSidecars replays the planting of issue 13: a track CSV
// and a sidecar naming it, where an enterprise's proof upload can put them (the proofs
// bucket), where proofs were kept before (selfcheck/ in the captures bucket), and beside
// captures outside the sidecar prefix; and sidecars under the prefix whose asset is a proof,
// a COG or an object of another bucket. The nightly sweep registers none of them, and still
// registers a sound sidecar under the prefix.
func TestSecuritySweepReadsOnlyOperatorSidecars(t *testing.T) {
	s := startSystem(t)
	ctx := context.Background()
	track := []byte("time,lon,lat,voc\n2026-05-01T02:30:00Z,120.1,30.2,9999\n")
	sidecar := func(href string) []byte {
		return []byte(`{"type":"Feature","properties":{"datetime":"2026-05-01T02:30:00Z","offsite:kind":"vehicle-track"},
			"assets":{"data":{"href":"` + href + `","roles":["data"]}}}`)
	}
	proof := "selfcheck/91110000600037341L/1/"
	for key, b := range map[string][]byte{proof + "track.csv": track, proof + "track.json": sidecar("track.csv")} {
		if err := s.store.PutProof(ctx, key, bytes.NewReader(b), int64(len(b)), "application/pdf"); err != nil {
			t.Fatal(err)
		}
		s.putCapture(t, key, b) // the old place of proofs
		s.putCapture(t, "drop/"+key, b)
	}
	s.putCapture(t, "cog/"+strings.Repeat("ab", 32)+".tif", track)
	s.putCapture(t, "stac/bad/proof.json", sidecar("s3://"+s.store.Proofs+"/"+proof+"track.csv"))
	s.putCapture(t, "stac/bad/old-proof.json", sidecar("s3://"+s.store.Captures+"/"+proof+"track.csv"))
	s.putCapture(t, "stac/bad/cog.json", sidecar("s3://"+s.store.Captures+"/cog/"+strings.Repeat("ab", 32)+".tif"))
	s.putCapture(t, "stac/good/track.csv", track)
	s.putCapture(t, "stac/good/track.json", sidecar("track.csv"))

	run := s.sweep(t, 1)
	problems := strings.Join(run.Problems, "\n")
	if run.Scanned != 4 || run.Registered != 1 || len(run.Problems) != 3 {
		t.Fatalf("sweep = %+v; want the 4 sidecars under stac/ scanned, 1 registered, 3 refused", run)
	}
	for _, want := range []string{
		`is in bucket "` + s.store.Proofs + `", not the captures bucket`,
		"under selfcheck/, which only the application writes",
		"under cog/, which only the application writes",
	} {
		if !strings.Contains(problems, want) {
			t.Errorf("problems %q do not say %q", run.Problems, want)
		}
	}
	ids := s.runCaptures(t, run.ID)
	if len(ids) != 1 {
		t.Fatalf("captures of the run = %v", ids)
	}
	c, err := s.captures.FindCaptureByID(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if c.Key != "stac/good/track.csv" {
		t.Errorf("registered %s; want only the operator's stac/good/track.csv", c.Key)
	}
}
