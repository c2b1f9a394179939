package stac_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/paulmach/orb"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/stac"
)

var apiHrefs = stac.Hrefs{
	Object:  func(key string) string { return "https://api.example/api/v1/evidence-objects/" + key },
	Capture: func(c *offsite.Capture) string { return "https://api.example/api/v1/captures/1/data" },
	Item: func(coll, id string) string {
		if id == "" {
			return "https://api.example/stac/collections/" + coll
		}
		return "https://api.example/stac/collections/" + coll + "/items/" + id
	},
}

func TestParseClipID(t *testing.T) {
	for _, tc := range []struct {
		id     string
		cap    int64
		parcel string
		ok     bool
	}{
		{"12-p-1", 12, "p-1", true},
		{stac.ClipID(7, "厂区-A"), 7, "厂区-A", true},
		{"0-p", 0, "", false},
		{"x-p", 0, "", false},
		{"12-", 0, "", false},
		{"12", 0, "", false},
	} {
		c, p, err := stac.ParseClipID(tc.id)
		if (err == nil) != tc.ok || c != tc.cap || p != tc.parcel {
			t.Errorf("ParseClipID(%q) = %d, %q, %v", tc.id, c, p, err)
		}
	}
}

func TestFindingItem(t *testing.T) {
	sq := orb.Polygon{{{120, 30}, {120.01, 30}, {120.01, 30.01}, {120, 30.01}, {120, 30}}}
	prov := `{"type":"Feature","stac_version":"1.0.0","id":"f1","properties":{"datetime":"2026-05-01T02:00:00Z","offsite:detector":"irmad"},
"links":[{"rel":"derived_from","href":"s3://offsite-captures/a.tif","file:checksum":"1220aa","offsite:role":"after","offsite:capture_id":9},
{"rel":"derived_from","href":"s3://offsite-captures/b.tif","file:checksum":"1220bb","offsite:role":"before"}],
"assets":{"x":{"href":"s3://offsite-evidence/x.tif"}}}`
	f := &offsite.Finding{ID: "f1", ParcelID: "p1", Kind: "change", Class: "new_structure", Score: 0.9, Geometry: sq,
		DetectedAt: time.Date(2026, 5, 1, 2, 0, 0, 0, time.UTC), Provenance: json.RawMessage(prov),
		Artifacts: []offsite.Artifact{{Name: "after.tif", Key: "k/after.tif", SHA256: "cc", Size: 3, MediaType: "image/tiff"},
			{Name: "chart.png", Key: "k/chart.png", SHA256: "dd", MediaType: "image/png"}}}
	it, err := stac.FindingItem(f, offsite.Owner{USCC: "91320000134780001D", Name: "甲"}, apiHrefs)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(it)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "s3://") {
		t.Errorf("s3:// left in %s", data)
	}
	var from []string
	for _, l := range it.Links {
		if l.Rel == "derived_from" {
			from = append(from, l.Href)
		}
	}
	// The capture with an id links to its Item; the one without (an s3:// URL only) is left
	// out rather than linked where no client can follow.
	if diff := cmp.Diff([]string{"https://api.example/stac/collections/captures/items/9"}, from); diff != "" {
		t.Errorf("derived_from (-want +got):\n%s", diff)
	}
	want := map[string]stac.Asset{
		"after.tif": {Href: "https://api.example/api/v1/evidence-objects/k/after.tif", Type: "image/tiff", Roles: []string{"data"}, Checksum: "1220cc", Size: 3},
		"chart.png": {Href: "https://api.example/api/v1/evidence-objects/k/chart.png", Type: "image/png", Roles: []string{"visual"}, Checksum: "1220dd"},
	}
	if diff := cmp.Diff(want, it.Assets); diff != "" {
		t.Errorf("assets (-want +got):\n%s", diff)
	}
	if it.Collection != "findings" || it.Properties["offsite:uscc"] != "91320000134780001D" || it.Properties["offsite:detector"] != "irmad" || len(it.BBox) != 4 {
		t.Errorf("item %+v", it)
	}
	if _, err := stac.FindingItem(&offsite.Finding{ID: "bad", Geometry: sq, Provenance: json.RawMessage(`[1`)}, offsite.Owner{}, apiHrefs); err == nil {
		t.Error("bad provenance: no error")
	}
}

func TestCaptureAndClipItems(t *testing.T) {
	at := time.Date(2026, 5, 1, 2, 0, 0, 0, time.UTC)
	c := &offsite.Capture{ID: 1, Kind: offsite.KindSentinel2, AcquiredAt: at, Sensor: "Sentinel-2A MSI", Key: "s2/a.tif", Checksum: "ee", SizeBytes: 10}
	it := stac.CaptureItem(c, apiHrefs)
	if it.Geometry != nil || it.BBox != nil || it.Properties["datetime"] != "2026-05-01T02:00:00Z" || it.Assets["data"].Checksum != "1220ee" ||
		!strings.HasPrefix(it.Assets["data"].Href, "https://") {
		t.Errorf("capture item before ingest: %+v", it)
	}
	c.Footprint = orb.Polygon{{{120, 30}, {121, 30}, {121, 31}, {120, 30}}}
	if it := stac.CaptureItem(c, apiHrefs); it.Geometry == nil || len(it.BBox) != 4 {
		t.Errorf("capture item with a footprint: %+v", it)
	}
	cl := &offsite.Clip{CaptureID: 1, ParcelID: "p1", COGKey: "k.tif", COGSHA256: "ff", QuickLookKey: "k.png", QuickLookSHA256: "99"}
	ci := stac.ClipItem(cl, &offsite.Parcel{ID: "p1", EnterpriseUSCC: "91320000134780001D", Geometry: c.Footprint}, c, apiHrefs)
	if ci.ID != "1-p1" || ci.Assets["cog"].Roles[0] != "data" || ci.Assets["quicklook"].Roles[0] != "overview" || ci.Properties["offsite:uscc"] != "91320000134780001D" {
		t.Errorf("clip item %+v", ci)
	}
	if ci.Links[0].Rel != "derived_from" || ci.Links[0].Href != "https://api.example/stac/collections/captures/items/1" {
		t.Errorf("clip links %+v", ci.Links)
	}
}
