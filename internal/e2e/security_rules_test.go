package e2e

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/sample"
)

// TestPairingPassesOverOneBandScene is the probe of issue 13 item 7: a one-band GeoTIFF
// registered as sentinel2 between the dates of a good pair used to become the "before" of
// every later capture over that area, whose survey parts then failed for good (no band B02).
// The later capture pairs with the older good scene instead and finds the new roof.
func TestPairingPassesOverOneBandScene(t *testing.T) {
	s := startSystem(t)
	ids, _ := pairSetup(t, s) // sentinel2 on March 1 and April 1, 2026
	s.putCapture(t, "s2/one-band.tif", sceneBytes(t, sample.Scene{EPSG: sceneEPSG, X0: 500000, Y0: 3500000, Pixel: 10,
		Width: 160, Height: 160, Bands: 1, Names: []string{"B04"}}))
	one := &offsite.Capture{Kind: offsite.KindSentinel2, AcquiredAt: time.Date(2026, 3, 15, 2, 30, 0, 0, time.UTC),
		Bucket: s.store.Captures, Key: "s2/one-band.tif"}
	if err := s.captures.CreateCapture(context.Background(), one); err != nil {
		t.Fatal(err)
	}

	// The window holds the later capture only; its pair is searched for before it.
	sv := s.pairSurvey(t, "2026-03-20T00:00:00Z", 1)
	done := s.waitSurvey(t, sv.ID)
	if done.Status != offsite.SurveyFinished || done.Progress.Done != 1 || done.Progress.Failed != 0 || done.Progress.Findings != 1 {
		var parts struct {
			Parts []offsite.SurveyPart `json:"parts"`
		}
		s.call(t, "GET", fmt.Sprintf("/api/v1/surveys/%d/parts", sv.ID), nil, &parts)
		t.Fatalf("survey = %s %+v, want finished with the roof's finding; parts %+v", done.Status, done.Progress, parts.Parts)
	}
	var fc struct {
		Features []struct {
			Properties struct {
				CaptureIDs []int64 `json:"capture_ids"`
			} `json:"properties"`
		} `json:"features"`
	}
	s.call(t, "GET", fmt.Sprintf("/api/v1/findings?capture_id=%d", ids[1]), nil, &fc)
	if len(fc.Features) != 1 || !slices.Equal(fc.Features[0].Properties.CaptureIDs, ids) {
		t.Errorf("findings %+v, want one from the pair %v (not the one-band capture %d)", fc.Features, ids, one.ID)
	}
	// The one-band scene was ingested to be judged, and stays a registered capture: it is not
	// failed for lacking bands another pipeline might not need.
	got, err := s.captures.FindCaptureByID(context.Background(), one.ID)
	if err != nil || got.Bands != 1 || got.Status == offsite.CaptureFailed {
		t.Errorf("one-band capture after the survey: %+v, %v", got, err)
	}
}
