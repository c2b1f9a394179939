package httpapi_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/postgres"
)

const pointFindingID = "beef0000beef0000beef0000beef0000"

// gisFixture is caseFixture with a second finding, a hotspot point, on the same parcel.
func gisFixture(t *testing.T, e *enfEnv) caseEvidence {
	t.Helper()
	ev := caseFixture(t, e)
	if err := postgres.NewFindingService(e.db).RecordFindings(context.Background(), []*offsite.Finding{{
		ID: pointFindingID, ParcelID: "cf-p1", CaptureIDs: []int64{2}, Kind: "hotspot", Class: "thermal_anomaly", Score: 0.5,
		Geometry: orb.Point{120.103, 30.2025}, Pipeline: "sentinel2", PipelineHash: "pipehash", DetectedAt: time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC),
		Provenance: json.RawMessage(`{"type":"Feature","links":[{"rel":"derived_from","href":"s3://offsite-captures/s2/scene-1.tif","file:checksum":"1220aa"}]}`),
	}}); err != nil {
		t.Fatal(err)
	}
	return ev
}

// ogrinfo lists every feature of the file with GDAL's ogrinfo.
func ogrinfo(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("ogrinfo", "-ro", "-al", "-q", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ogrinfo %s: %v: %s", filepath.Base(path), err, out)
	}
	return string(out)
}

func TestGISExportsWithGDAL(t *testing.T) {
	if _, err := exec.LookPath("ogrinfo"); err != nil {
		t.Fatal("ogrinfo not found: install gdal-bin (scripts/deps.sh)")
	}
	e := newEnforceServer(t)
	ev := gisFixture(t, e)
	dir := t.TempDir()
	for _, ext := range []string{".gpkg", ".shp.zip", ".kml", ".csv"} {
		t.Run(ext, func(t *testing.T) {
			resp, data := e.get(t, inspector, "/api/v1/exports/findings"+ext)
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, data)
			}
			if got := resp.Header.Get("X-Number-Matched"); got != "2" {
				t.Errorf("X-Number-Matched %q, want 2", got)
			}
			path := filepath.Join(dir, "findings"+ext)
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			var info string
			switch ext {
			case ".shp.zip":
				zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
				if err != nil {
					t.Fatal(err)
				}
				shp := filepath.Join(dir, "shp")
				if err := os.MkdirAll(shp, 0o700); err != nil {
					t.Fatal(err)
				}
				names := map[string]bool{}
				for _, f := range zr.File {
					names[f.Name] = true
					rc, err := f.Open()
					if err != nil {
						t.Fatal(err)
					}
					var buf bytes.Buffer
					_, err = buf.ReadFrom(rc)
					rc.Close()
					if err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(filepath.Join(shp, f.Name), buf.Bytes(), 0o600); err != nil {
						t.Fatal(err)
					}
					if strings.HasSuffix(f.Name, ".cpg") && strings.TrimSpace(buf.String()) != "UTF-8" {
						t.Errorf("%s says %q, want UTF-8", f.Name, buf.String())
					}
				}
				for _, n := range []string{"findings.shp", "findings.dbf", "findings.cpg", "findings.prj", "findings_point.shp", "findings_point.cpg"} {
					if !names[n] {
						t.Errorf("zip lacks %s: %v", n, names)
					}
				}
				info = ogrinfo(t, filepath.Join(shp, "findings.shp")) + ogrinfo(t, filepath.Join(shp, "findings_point.shp"))
			case ".csv":
				if !bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
					t.Error("CSV without a UTF-8 BOM (Excel reads it as GBK)")
				}
				rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))).ReadAll()
				if err != nil {
					t.Fatal(err)
				}
				if len(rows) != 3 || rows[0][0] != "WKT" || !strings.HasPrefix(rows[1][0], "POLYGON") && !strings.HasPrefix(rows[1][0], "POINT") {
					t.Errorf("CSV rows: %q", rows)
				}
				info = ogrinfo(t, path)
			default:
				info = ogrinfo(t, path)
			}
			for _, w := range []string{ev.findingID, pointFindingID, entUSCC, "江苏示例化工有限公司", "new_structure", "thermal_anomaly", "cf-p1"} {
				if !strings.Contains(info, w) {
					t.Errorf("%s lacks %q:\n%.2000s", ext, w, info)
				}
			}
			if n := strings.Count(info, "OGRFeature("); n != 2 {
				t.Errorf("%s: %d features, want 2", ext, n)
			}
		})
	}
	// Filtered like the list, parcels too.
	resp, data := e.get(t, inspector, "/api/v1/exports/findings.gpkg?kind=hotspot")
	if resp.StatusCode != 200 || resp.Header.Get("X-Number-Matched") != "1" {
		t.Errorf("kind=hotspot: %d %s", resp.StatusCode, resp.Header.Get("X-Number-Matched"))
	}
	path := filepath.Join(dir, "hot.gpkg")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if info := ogrinfo(t, path); strings.Count(info, "OGRFeature(") != 1 || !strings.Contains(info, pointFindingID) {
		t.Errorf("filtered export: %s", info)
	}
	resp, data = e.get(t, inspector, "/api/v1/exports/parcels.kml?bbox=120,30,121,31")
	if resp.StatusCode != 200 {
		t.Fatalf("parcels: %d %s", resp.StatusCode, data)
	}
	path = filepath.Join(dir, "parcels.kml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if info := ogrinfo(t, path); !strings.Contains(info, "一号厂区") || !strings.Contains(info, entUSCC) || !strings.Contains(info, "POLYGON") {
		t.Errorf("parcels KML: %s", info)
	}
	for _, c := range []struct{ path, field string }{
		{"/api/v1/exports/findings.gpkg?kind=smoke", "kind"},
		{"/api/v1/exports/findings.csv?where=1", "where"},
		{"/api/v1/exports/parcels.gpkg?kind=change", "kind"},
		{"/api/v1/exports/findings.kml?limit=0", "limit"},
		{"/api/v1/exports/findings.shp.zip?bbox=1,2,3", "bbox"},
	} {
		resp, body := e.get(t, inspector, c.path)
		if resp.StatusCode != 400 || !strings.Contains(string(body), `"`+c.field+`"`) {
			t.Errorf("%s: %d %s, want 400 naming %s", c.path, resp.StatusCode, body, c.field)
		}
	}
	var audit struct {
		Entries []struct{ Action, Detail, Actor string } `json:"entries"`
	}
	e.must(t, 200, approver, "GET", "/api/v1/audit?subject=export/findings", nil, &audit)
	if len(audit.Entries) != 5 || audit.Entries[0].Action != "evidence.export" || !strings.Contains(audit.Entries[0].Detail, `"query":"kind=hotspot"`) {
		t.Errorf("export audit: %+v", audit.Entries)
	}
	if resp, _ := e.get(t, enterprise, "/api/v1/exports/findings.csv"); resp.StatusCode != 403 {
		t.Errorf("enterprise export: %d, want 403", resp.StatusCode)
	}
}

func TestOGCExtentsParamsAndOwners(t *testing.T) {
	e := newEnforceServer(t)
	gisFixture(t, e)
	var coll struct {
		Extent struct {
			Spatial  struct{ Bbox [][]float64 }
			Temporal struct{ Interval [][]*string }
		}
	}
	e.must(t, 200, inspector, "GET", "/ogc/collections/findings", nil, &coll)
	if b := coll.Extent.Spatial.Bbox; len(b) != 1 || b[0][0] != 120.101 || b[0][1] != 30.201 || b[0][2] != 120.103 || b[0][3] != 30.2025 {
		t.Errorf("findings bbox %v", b)
	}
	if iv := coll.Extent.Temporal.Interval; len(iv) != 1 || iv[0][0] == nil || *iv[0][0] != "2026-05-01T02:30:00Z" || iv[0][1] == nil || *iv[0][1] != "2026-06-01T03:00:00Z" {
		t.Errorf("findings interval %v", iv)
	}
	e.must(t, 200, inspector, "GET", "/ogc/collections/parcels", nil, &coll)
	if b := coll.Extent.Spatial.Bbox; b[0][0] != 120.1 || b[0][3] != 30.203 {
		t.Errorf("parcels bbox %v", b)
	}
	var fc struct {
		Features []struct {
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	e.must(t, 200, inspector, "GET", "/ogc/collections/findings/items?f=json", nil, &fc)
	if len(fc.Features) != 2 {
		t.Fatalf("%d findings", len(fc.Features))
	}
	for _, f := range fc.Features {
		if f.Properties["uscc"] != entUSCC || f.Properties["enterprise_name"] != "江苏示例化工有限公司" {
			t.Errorf("finding without its enterprise: %v", f.Properties)
		}
	}
	var one struct {
		Properties map[string]any `json:"properties"`
	}
	e.must(t, 200, inspector, "GET", "/ogc/collections/findings/items/"+pointFindingID, nil, &one)
	if one.Properties["uscc"] != entUSCC {
		t.Errorf("one finding: %v", one.Properties)
	}
	for _, c := range []struct{ path, field string }{
		{"/ogc/collections/findings/items?uscc=" + entUSCC, "uscc"},
		{"/ogc/collections/parcels/items?sortby=id", "sortby"},
		{"/ogc/collections/parcels/items?f=xml", "f"},
		{"/ogc/collections/findings/items/" + pointFindingID + "?properties=uscc", "properties"},
	} {
		resp, body := e.get(t, inspector, c.path)
		if resp.StatusCode != 400 || !strings.Contains(string(body), `"`+c.field+`"`) {
			t.Errorf("%s: %d %s, want 400 naming %s", c.path, resp.StatusCode, body, c.field)
		}
	}
}

// checkSTACItem checks the structure STAC 1.0.0 requires of an Item and what Offsite
// promises of its links and assets: HTTP(S) hrefs with roles, no s3:// URL.
func checkSTACItem(t *testing.T, raw json.RawMessage, collection string) map[string]any {
	t.Helper()
	if bytes.Contains(raw, []byte("s3://")) {
		t.Errorf("item has an s3:// URL: %s", raw)
	}
	var it map[string]any
	if err := json.Unmarshal(raw, &it); err != nil {
		t.Fatal(err)
	}
	if it["type"] != "Feature" || it["stac_version"] != "1.0.0" || it["id"] == "" || it["collection"] != collection {
		t.Errorf("item head: type %v, stac_version %v, id %v, collection %v", it["type"], it["stac_version"], it["id"], it["collection"])
	}
	if _, ok := it["geometry"]; !ok {
		t.Error("item without a geometry member")
	}
	if it["geometry"] != nil {
		if b, ok := it["bbox"].([]any); !ok || len(b) != 4 {
			t.Errorf("item with a geometry has bbox %v", it["bbox"])
		}
	}
	props, _ := it["properties"].(map[string]any)
	if dt, ok := props["datetime"].(string); !ok {
		t.Errorf("properties.datetime %v", props["datetime"])
	} else if _, err := time.Parse(time.RFC3339, dt); err != nil {
		t.Errorf("datetime %q: %v", dt, err)
	}
	links, _ := it["links"].([]any)
	rels := map[string]bool{}
	for _, l := range links {
		lm := l.(map[string]any)
		rels[lm["rel"].(string)] = true
		if h, _ := lm["href"].(string); !strings.HasPrefix(h, "http://") && !strings.HasPrefix(h, "https://") {
			t.Errorf("link %v: href not HTTP", lm)
		}
	}
	if !rels["self"] || !rels["collection"] {
		t.Errorf("links %v lack self or collection", rels)
	}
	assets, ok := it["assets"].(map[string]any)
	if !ok {
		t.Fatal("item without assets")
	}
	for name, a := range assets {
		am := a.(map[string]any)
		if h, _ := am["href"].(string); !strings.HasPrefix(h, "http://") {
			t.Errorf("asset %s href %v", name, am["href"])
		}
		if roles, _ := am["roles"].([]any); len(roles) == 0 {
			t.Errorf("asset %s without roles", name)
		}
		if c, _ := am["file:checksum"].(string); collection != "captures" && !strings.HasPrefix(c, "1220") {
			t.Errorf("asset %s checksum %v", name, am["file:checksum"])
		}
	}
	return it
}

func TestSTACAPI(t *testing.T) {
	e := newEnforceServer(t)
	ev := gisFixture(t, e)
	var landing struct {
		Type, STACVersion string
		Links             []struct{ Rel, Href string }
	}
	e.must(t, 200, inspector, "GET", "/stac", nil, &landing)
	children := 0
	for _, l := range landing.Links {
		if l.Rel == "child" {
			children++
		}
	}
	if landing.Type != "Catalog" || children != 3 {
		t.Errorf("landing: %+v", landing)
	}
	var colls struct {
		Collections []struct {
			Type, ID, License string
			Extent            struct {
				Spatial  struct{ Bbox [][]float64 }
				Temporal struct{ Interval [][]*string }
			}
			Links []struct{ Rel, Href string }
		}
	}
	e.must(t, 200, inspector, "GET", "/stac/collections", nil, &colls)
	if len(colls.Collections) != 3 {
		t.Fatalf("collections: %+v", colls)
	}
	for _, c := range colls.Collections {
		if c.Type != "Collection" || c.License == "" || len(c.Extent.Spatial.Bbox) != 1 || len(c.Extent.Temporal.Interval) != 1 {
			t.Errorf("collection %+v", c)
		}
		if c.ID == "clips" && (c.Extent.Spatial.Bbox[0][0] != 120.1 || c.Extent.Temporal.Interval[0][0] == nil) {
			t.Errorf("clips extent %+v", c.Extent)
		}
	}
	want := map[string]int{"captures": 2, "clips": 2, "findings": 2}
	for coll, n := range want {
		var page struct {
			Type     string            `json:"type"`
			Features []json.RawMessage `json:"features"`
			Matched  int               `json:"numberMatched"`
		}
		e.must(t, 200, inspector, "GET", "/stac/collections/"+coll+"/items?limit=10", nil, &page)
		if page.Type != "FeatureCollection" || len(page.Features) != n || page.Matched != n {
			t.Errorf("%s: %s, %d items of %d, want %d", coll, page.Type, len(page.Features), page.Matched, n)
		}
		for _, raw := range page.Features {
			it := checkSTACItem(t, raw, coll)
			// Every Item is served at its self link.
			for _, l := range it["links"].([]any) {
				lm := l.(map[string]any)
				if lm["rel"] == "self" || lm["rel"] == "derived_from" {
					path := strings.TrimPrefix(lm["href"].(string), e.hs.URL)
					if resp, body := e.get(t, inspector, path); resp.StatusCode != 200 {
						t.Errorf("%s link %s: %d %s", lm["rel"], path, resp.StatusCode, body)
					}
				}
			}
		}
	}
	// The finding's Item: derived from the capture Items, its chart as an asset with roles.
	resp, raw := e.get(t, inspector, "/stac/collections/findings/items/"+ev.findingID)
	if resp.StatusCode != 200 {
		t.Fatalf("finding item: %d %s", resp.StatusCode, raw)
	}
	it := checkSTACItem(t, raw, "findings")
	props := it["properties"].(map[string]any)
	if props["offsite:uscc"] != entUSCC || props["offsite:enterprise_name"] != "江苏示例化工有限公司" {
		t.Errorf("finding item properties %v", props)
	}
	chart := it["assets"].(map[string]any)["chart.png"].(map[string]any)
	if chart["file:checksum"] != "1220"+ev.chartPNG || chart["type"] != "image/png" {
		t.Errorf("chart asset %v", chart)
	}
	// A capture's data: audited, redirected to a presigned URL.
	if err := e.store.PutCapture(context.Background(), "s2/scene-1.tif", strings.NewReader("tiff"), 4); err != nil {
		t.Fatal(err)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("GET", e.hs.URL+"/api/v1/captures/2/data", nil)
	req.Header.Set("Authorization", "Bearer "+inspector)
	r2, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if loc := r2.Header.Get("Location"); r2.StatusCode != 302 || !strings.Contains(loc, "X-Amz-Signature") {
		t.Errorf("capture data: %d %q", r2.StatusCode, loc)
	}
	if resp, _ := e.get(t, inspector, "/api/v1/captures/1/data"); resp.StatusCode != 404 {
		t.Errorf("capture without its object: %d, want 404", resp.StatusCode)
	}
	for _, c := range []struct {
		path string
		want int
	}{
		{"/stac/collections/findings/items?bbox=1,2,3,4", 400},
		{"/stac/collections/scenes", 404},
		{"/stac/collections/clips/items/nope", 404},
		{fmt.Sprintf("/stac/collections/clips/items/%d-cf-p1", 999), 404},
		{"/stac/collections/captures/items/0", 404},
	} {
		if resp, body := e.get(t, inspector, c.path); resp.StatusCode != c.want {
			t.Errorf("%s: %d %s, want %d", c.path, resp.StatusCode, body, c.want)
		}
	}
}
