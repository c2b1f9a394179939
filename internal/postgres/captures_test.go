package postgres

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/offsite/offsite"
)

// TestCaptureMetadata: a capture's sidecar band scales are stored at registration and its
// ingest warnings at update, and both read back; a capture without them has none.
func TestCaptureMetadata(t *testing.T) {
	ctx := context.Background()
	s := NewCaptureService(MustOpen(t))
	scales := []offsite.BandScale{{Scale: 0.0001, Offset: 0, Set: true}, {Scale: 1}, {Scale: 0.0001, Offset: -0.1, Set: true}}
	with := &offsite.Capture{Kind: offsite.KindSentinel2, AcquiredAt: time.Date(2026, 5, 1, 2, 30, 0, 0, time.UTC), Bucket: "b", Key: "with.tif", BandScales: scales}
	without := &offsite.Capture{Kind: offsite.KindSentinel2, AcquiredAt: time.Date(2026, 5, 1, 2, 30, 0, 0, time.UTC), Bucket: "b", Key: "without.tif"}
	for _, c := range []*offsite.Capture{with, without} {
		if err := s.CreateCapture(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	warnings := []string{"TIFFReadDirectory: Sum of Photometric type-related color channels and ExtraSamples doesn't match SamplesPerPixel"}
	if _, err := s.UpdateCapture(ctx, with.ID, offsite.CaptureUpdate{Warnings: warnings}); err != nil {
		t.Fatal(err)
	}
	got, err := s.FindCaptureByID(ctx, with.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(scales, got.BandScales); diff != "" {
		t.Errorf("band scales (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(warnings, got.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	if got, err = s.FindCaptureByID(ctx, without.ID); err != nil || got.BandScales != nil || len(got.Warnings) != 0 {
		t.Errorf("capture without metadata: %+v %v", got, err)
	}
}

// TestFindCaptures: each filter of the captures list (kind, status, an enterprise's parcels'
// clips, the acquisition window) and both orders, with the total over all pages.
func TestFindCaptures(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	s := NewCaptureService(db)
	parcels := NewParcelService(db)
	if err := parcels.UpsertParcels(ctx, []*offsite.Parcel{{ID: "p-owned", EnterpriseUSCC: "ENT-A", Geometry: square(0, 0, 1)}, {ID: "p-other", EnterpriseUSCC: "ENT-B", Geometry: square(2, 2, 1)}}); err != nil {
		t.Fatal(err)
	}
	day := func(d int) time.Time { return time.Date(2026, 5, d, 2, 30, 0, 0, time.UTC) }
	var ids []int64
	for i, c := range []*offsite.Capture{
		{Kind: offsite.KindSentinel2, AcquiredAt: day(1)}, {Kind: offsite.KindLandsat, AcquiredAt: day(2)},
		{Kind: offsite.KindSentinel2, AcquiredAt: day(3)}, {Kind: offsite.KindDroneRGB, AcquiredAt: day(4)},
	} {
		c.Bucket, c.Key = "b", "find/"+strconv.Itoa(i)+".tif"
		if err := s.CreateCapture(ctx, c); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	failed := offsite.CaptureFailed
	if _, err := s.UpdateCapture(ctx, ids[2], offsite.CaptureUpdate{Status: &failed}); err != nil {
		t.Fatal(err)
	}
	sum := strings.Repeat("0", 64)
	for _, cl := range []*offsite.Clip{{CaptureID: ids[0], ParcelID: "p-owned"}, {CaptureID: ids[1], ParcelID: "p-other"}, {CaptureID: ids[3], ParcelID: "p-owned"}} {
		cl.COGKey, cl.COGSHA256, cl.QuickLookKey, cl.QuickLookSHA256 = "cog", sum, "ql", sum
		if err := s.RecordClips(ctx, []*offsite.Clip{cl}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name      string
		filter    offsite.CaptureFilter
		want      []int64
		wantTotal int
	}{
		{"all, in the order registered", offsite.CaptureFilter{}, ids, 4},
		{"newest first, a page", offsite.CaptureFilter{NewestFirst: true, Offset: 1, Limit: 2}, []int64{ids[2], ids[1]}, 4},
		{"kind", offsite.CaptureFilter{Kind: offsite.KindSentinel2}, []int64{ids[0], ids[2]}, 2},
		{"status", offsite.CaptureFilter{Status: offsite.CaptureFailed}, []int64{ids[2]}, 1},
		{"an enterprise's clips", offsite.CaptureFilter{USCC: "ENT-A", NewestFirst: true}, []int64{ids[3], ids[0]}, 2},
		{"acquired from, to", offsite.CaptureFilter{AcquiredFrom: day(2), AcquiredTo: day(4)}, []int64{ids[1], ids[2]}, 2},
		{"past the last page", offsite.CaptureFilter{Offset: 10, Limit: 5}, nil, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs, total, err := s.FindCaptures(ctx, tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, c := range cs {
				got = append(got, c.ID)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" || total != tc.wantTotal {
				t.Errorf("ids (-want +got):\n%s; total %d, want %d", diff, total, tc.wantTotal)
			}
		})
	}
}
