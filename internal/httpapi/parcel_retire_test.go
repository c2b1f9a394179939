package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/postgres"
)

// TestParcelRetire retires a parcel of an enterprise: it leaves the parcel lists, the OGC
// collection, the GIS export and the parcels clipping reads, and stays in the evidence made
// on it, marked retired; the step is audited, only the staff who write parcels may take it,
// and storing the parcel again brings it back.
func TestParcelRetire(t *testing.T) {
	e := newEnforceServer(t)
	ctx := context.Background()
	e.must(t, 201, analyst, "POST", "/api/v1/enterprises", enterpriseBody(entUSCC, 120.1, 30.2), nil)
	e.must(t, 201, analyst, "POST", "/api/v1/enterprises", enterpriseBody(otherUSCC, 120.3, 30.3), nil)
	square := func(x float64) orb.Polygon {
		return orb.Polygon{{{x, 30.2}, {x + 0.01, 30.2}, {x + 0.01, 30.21}, {x, 30.21}, {x, 30.2}}}
	}
	fc := func(ids ...string) string {
		var fs []string
		for i, id := range ids {
			g, _ := json.Marshal(map[string]any{"type": "Polygon", "coordinates": square(120.1 + 0.02*float64(i))})
			fs = append(fs, fmt.Sprintf(`{"type":"Feature","properties":{"parcel_id":%q},"geometry":%s}`, id, g))
		}
		return `{"type":"FeatureCollection","features":[` + strings.Join(fs, ",") + `]}`
	}
	e.must(t, 200, analyst, "PUT", "/api/v1/enterprises/"+entUSCC+"/parcels", fc("p1", "p2"), nil)
	// A finding on p1: evidence made on it.
	const fid = "00112233445566778899aabbccddeeff"
	if err := postgres.NewFindingService(e.db).RecordFindings(ctx, []*offsite.Finding{{ID: fid, ParcelID: "p1", CaptureIDs: []int64{1},
		Kind: "change", Class: "new_structure", Score: 0.8, Geometry: square(120.1), Pipeline: "sentinel2", PipelineHash: "h",
		DetectedAt: time.Now(), Provenance: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}

	retire := func(uscc, id string) string { return "/api/v1/enterprises/" + uscc + "/parcels/" + id + "/retire" }
	e.must(t, 403, inspector, "POST", retire(entUSCC, "p1"), map[string]any{}, nil)
	e.must(t, 404, analyst, "POST", retire(otherUSCC, "p1"), map[string]any{}, nil) // not that enterprise's
	e.must(t, 404, analyst, "POST", retire(entUSCC, "p9"), map[string]any{}, nil)
	var got struct {
		ParcelID  string     `json:"parcel_id"`
		RetiredAt *time.Time `json:"retired_at"`
	}
	e.must(t, 200, analyst, "POST", retire(entUSCC, "p1"), map[string]any{}, &got)
	if got.ParcelID != "p1" || got.RetiredAt == nil {
		t.Fatalf("retire p1: %+v", got)
	}
	e.must(t, 404, analyst, "POST", retire(entUSCC, "p1"), map[string]any{}, nil) // retired already

	// ids reads the parcel ids of a FeatureCollection answer.
	ids := func(path string) []string {
		t.Helper()
		var c struct {
			Features []struct {
				ID         any            `json:"id"`
				Properties map[string]any `json:"properties"`
			} `json:"features"`
		}
		e.must(t, 200, inspector, "GET", path, nil, &c)
		var out []string
		for _, f := range c.Features {
			id, _ := f.Properties["parcel_id"].(string)
			if id == "" {
				id = fmt.Sprint(f.ID)
			}
			out = append(out, id)
		}
		sort.Strings(out)
		return out
	}
	for _, path := range []string{
		"/api/v1/parcels?bbox=120,30,121,31",
		"/api/v1/enterprises/" + entUSCC + "/parcels",
		"/ogc/collections/parcels/items?f=json",
	} {
		if got := ids(path); fmt.Sprint(got) != "[p2]" {
			t.Errorf("GET %s: parcels %v, want [p2]", path, got)
		}
	}
	if csv := string(e.must(t, 200, inspector, "GET", "/api/v1/exports/parcels.csv", nil, nil)); !strings.Contains(csv, "p2") || strings.Contains(csv, "p1") {
		t.Errorf("GIS export of parcels:\n%s\nwant p2 only", csv)
	}
	// Clipping reads the parcels under a capture's footprint: p1 is not among them.
	under, _, err := postgres.NewParcelService(e.db).FindParcels(ctx, offsite.ParcelFilter{Intersects: orb.Bound{Min: orb.Point{120, 30}, Max: orb.Point{121, 31}}.ToPolygon()})
	if err != nil || len(under) != 1 || under[0].ID != "p2" {
		t.Errorf("parcels under a footprint: %v %v, want p2", under, err)
	}

	// The evidence keeps p1 with its finding, marked retired; the parcel itself still reads.
	var ev struct {
		Parcels []struct {
			ParcelID  string     `json:"parcel_id"`
			RetiredAt *time.Time `json:"retired_at"`
			Findings  []struct {
				ID string `json:"id"`
			} `json:"findings"`
		} `json:"parcels"`
	}
	e.must(t, 200, inspector, "GET", "/api/v1/enterprises/"+entUSCC+"/evidence", nil, &ev)
	if len(ev.Parcels) != 2 || ev.Parcels[0].ParcelID != "p1" || ev.Parcels[0].RetiredAt == nil || len(ev.Parcels[0].Findings) != 1 ||
		ev.Parcels[1].RetiredAt != nil {
		t.Errorf("evidence after retiring p1: %+v", ev.Parcels)
	}
	e.must(t, 200, inspector, "GET", "/api/v1/parcels/p1", nil, nil)

	var audit struct {
		Entries []struct {
			Action, Actor, Detail string
		} `json:"entries"`
	}
	e.must(t, 200, approver, "GET", "/api/v1/audit?subject=enterprise/"+entUSCC, nil, &audit)
	retired := 0
	for _, a := range audit.Entries {
		if a.Action == "enterprise.parcel_retire" {
			retired++
			if a.Detail != `{"parcel_id":"p1"}` || a.Actor != "test-analyst" {
				t.Errorf("audit of the retirement: %+v", a)
			}
		}
	}
	if retired != 1 {
		t.Errorf("%d retirements audited, want 1: %+v", retired, audit.Entries)
	}

	// Stored again, p1 is back.
	e.must(t, 200, analyst, "PUT", "/api/v1/enterprises/"+entUSCC+"/parcels", fc("p1"), nil)
	if got := ids("/api/v1/enterprises/" + entUSCC + "/parcels"); fmt.Sprint(got) != "[p1 p2]" {
		t.Errorf("after storing p1 again: %v", got)
	}
}
