package httpapi

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
)

// GIS exports: findings and parcels, filtered as their lists are, as GeoPackage, zipped
// Shapefile (UTF-8, with .cpg), KML and CSV (WKT geometry), converted by GDAL's ogr2ogr from
// a GeoJSON the server writes. Every path handed to ogr2ogr is in a temporary directory the
// server made, under a fixed name: no request value reaches GDAL as a path, a driver option or
// a layer name.

// exportFormat is one GIS export format.
type exportFormat struct {
	ext       string // of the route and the download
	mediaType string
	driver    string // ogr2ogr -f
	lco       []string
}

var exportFormats = []exportFormat{
	{".gpkg", "application/geopackage+sqlite3", "GPKG", nil},
	{".shp.zip", "application/zip", "ESRI Shapefile", []string{"ENCODING=UTF-8"}},
	{".kml", "application/vnd.google-earth.kml+xml", "KML", nil},
	{".csv", "text/csv; charset=utf-8", "CSV", []string{"GEOMETRY=AS_WKT", "WRITE_BOM=YES"}},
}

// Export limits: the most features one export holds, and its default.
const (
	DefaultExportLimit = 10000
	MaxExportLimit     = 100000
)

func (s *Server) registerExportRoutes(mux *http.ServeMux) {
	for _, f := range exportFormats {
		s.handle(mux, "GET", "/api/v1/exports/findings"+f.ext, operation{
			ResponseType: f.mediaType,
			Summary:      "Findings as " + f.driver + " (" + f.ext + ") for GIS, with the parcel's USCC and enterprise name",
			Description:  "Filtered as GET /api/v1/findings; audited (evidence.export under export/findings). Attributes: finding_id, parcel_id, uscc, ent_name, kind, class, status, score, area_m2, severity, pipeline, detected (RFC 3339), captures. WGS84. A Shapefile export holds one layer per geometry type (findings, findings_point, findings_line) with a .cpg saying UTF-8. X-Number-Matched says how many findings matched the filter.",
			Roles:        rolesRead,
			Query: map[string]string{"parcel_id": "only findings on this parcel", "capture_id": "only findings from this capture",
				"kind": "change, hotspot, plume or exceedance", "bbox": "minLon,minLat,maxLon,maxLat",
				"limit": fmt.Sprintf("1..%d, default %d", MaxExportLimit, DefaultExportLimit), "offset": "default 0"},
			Responses: map[string]string{"200": f.mediaType, "400": "bad or unknown query parameter"},
		}, s.handleExport(f, "findings"))
		s.handle(mux, "GET", "/api/v1/exports/parcels"+f.ext, operation{
			ResponseType: f.mediaType,
			Summary:      "Parcels as " + f.driver + " (" + f.ext + ") for GIS, with their USCC and enterprise name",
			Description:  "Filtered as GET /api/v1/parcels; audited (evidence.export under export/parcels). Attributes: parcel_id, name, uscc, ent_name, updated (RFC 3339). WGS84. X-Number-Matched says how many parcels matched the filter.",
			Roles:        rolesRead,
			Query: map[string]string{"bbox": "minLon,minLat,maxLon,maxLat",
				"limit": fmt.Sprintf("1..%d, default %d", MaxExportLimit, DefaultExportLimit), "offset": "default 0"},
			Responses: map[string]string{"200": f.mediaType, "400": "bad or unknown query parameter"},
		}, s.handleExport(f, "parcels"))
	}
}

func (s *Server) handleExport(f exportFormat, layer string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		feats, total, err := s.exportFeatures(r, layer)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		dir, err := os.MkdirTemp("", "offsite-export-")
		if err != nil {
			s.Error(w, r, err)
			return
		}
		defer os.RemoveAll(dir)
		files, err := convertFeatures(r.Context(), dir, layer, feats, f)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		detail := map[string]any{"format": f.driver, "query": r.URL.RawQuery, "matched": total, "returned": len(feats)}
		if err := s.Enforce.Audit(r.Context(), PrincipalFromContext(r.Context()).Actor(), enforce.AuditEvidenceExport, "export/"+layer, detail); err != nil {
			s.Error(w, r, err)
			return
		}
		name := layer + "-" + s.Now().UTC().Format("20060102T150405Z") + f.ext
		h := w.Header()
		h.Set("Content-Type", f.mediaType)
		h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
		h.Set("X-Number-Matched", strconv.Itoa(total))
		h.Set("X-Number-Returned", strconv.Itoa(len(feats)))
		if f.ext == ".shp.zip" {
			w.WriteHeader(http.StatusOK)
			if err := zipFiles(w, files); err != nil {
				s.Logger.WarnContext(r.Context(), "export: zip", "err", err)
			}
			return
		}
		out, err := os.Open(files[0])
		if err != nil {
			s.Error(w, r, err)
			return
		}
		defer out.Close()
		if st, err := out.Stat(); err == nil {
			h.Set("Content-Length", strconv.FormatInt(st.Size(), 10))
		}
		w.WriteHeader(http.StatusOK)
		if _, err := io.Copy(w, out); err != nil {
			s.Logger.WarnContext(r.Context(), "export: write", "err", err)
		}
	}
}

// exportFeatures reads the layer's features as the list routes filter them, with flat
// attributes (names of at most 10 characters, as Shapefile allows).
func (s *Server) exportFeatures(r *http.Request, layer string) ([]*geojson.Feature, int, error) {
	ctx := r.Context()
	q := r.URL.Query()
	limit, err := intParam(r, "limit", DefaultExportLimit, 1, MaxExportLimit)
	if err != nil {
		return nil, 0, err
	}
	offset, err := intParam(r, "offset", 0, 0, 1<<31-1)
	if err != nil {
		return nil, 0, err
	}
	bbox, err := bboxParam(r)
	if err != nil {
		return nil, 0, err
	}
	var out []*geojson.Feature
	switch layer {
	case "parcels":
		if err := onlyParams(r, "bbox", "limit", "offset"); err != nil {
			return nil, 0, err
		}
		ps, total, err := s.Parcels.FindParcels(ctx, offsite.ParcelFilter{Intersects: bbox, Agency: scope(ctx), Limit: limit, Offset: offset})
		if err != nil {
			return nil, 0, err
		}
		ids := make([]string, len(ps))
		for i, p := range ps {
			ids[i] = p.ID
		}
		owners, err := s.parcelOwners(ctx, ids)
		if err != nil {
			return nil, 0, err
		}
		for _, p := range ps {
			o := owners[p.ID]
			out = append(out, &geojson.Feature{Type: "Feature", Geometry: p.Geometry, Properties: geojson.Properties{
				"parcel_id": p.ID, "name": p.Name, "uscc": firstNonBlank(o.USCC, p.EnterpriseUSCC), "ent_name": o.Name,
				"updated": p.UpdatedAt.UTC().Format(time.RFC3339)}})
		}
		return out, total, nil
	}
	if err := onlyParams(r, "parcel_id", "capture_id", "kind", "bbox", "limit", "offset"); err != nil {
		return nil, 0, err
	}
	f := offsite.FindingFilter{ParcelID: q.Get("parcel_id"), Kind: q.Get("kind"), Intersects: bbox, Agency: scope(ctx), Limit: limit, Offset: offset}
	switch f.Kind {
	case "", offsite.FindingChange, offsite.FindingHotspot, offsite.FindingPlume, offsite.FindingExceedance:
	default:
		return nil, 0, offsite.Invalid("kind", "must be change, hotspot, plume or exceedance, got %q", f.Kind)
	}
	if v := q.Get("capture_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return nil, 0, offsite.Invalid("capture_id", "must be a positive integer, got %q", v)
		}
		f.CaptureID = id
	}
	fs, total, err := s.Findings.FindFindings(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	owners, err := s.findingOwners(ctx, fs)
	if err != nil {
		return nil, 0, err
	}
	for _, x := range fs {
		o := owners[x.ParcelID]
		caps := make([]string, len(x.CaptureIDs))
		for i, id := range x.CaptureIDs {
			caps[i] = strconv.FormatInt(id, 10)
		}
		out = append(out, &geojson.Feature{Type: "Feature", Geometry: x.Geometry, Properties: geojson.Properties{
			"finding_id": x.ID, "parcel_id": x.ParcelID, "uscc": o.USCC, "ent_name": o.Name, "kind": x.Kind, "class": x.Class,
			"status": x.Status, "score": x.Score, "area_m2": x.AreaM2, "severity": x.Severity, "pipeline": x.Pipeline,
			"detected": x.DetectedAt.UTC().Format(time.RFC3339), "captures": strings.Join(caps, ",")}})
	}
	return out, total, nil
}

func firstNonBlank(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// geometryFamily is "" for polygons, "point" or "line": a Shapefile holds one of them.
func geometryFamily(g orb.Geometry) string {
	switch g.(type) {
	case orb.Point, orb.MultiPoint:
		return "point"
	case orb.LineString, orb.MultiLineString:
		return "line"
	}
	return ""
}

// convertFeatures writes feats as GeoJSON in dir and converts them with ogr2ogr to format f
// under layer; it returns the files of the result (for a Shapefile, each layer's .shp, .shx,
// .dbf, .prj and .cpg).
func convertFeatures(ctx context.Context, dir, layer string, feats []*geojson.Feature, f exportFormat) ([]string, error) {
	groups := map[string][]*geojson.Feature{"": nil}
	if f.driver == "ESRI Shapefile" {
		for _, x := range feats {
			groups[geometryFamily(x.Geometry)] = append(groups[geometryFamily(x.Geometry)], x)
		}
		if len(groups[""]) == 0 && len(groups) > 1 {
			delete(groups, "")
		}
	} else {
		groups[""] = feats
	}
	out := filepath.Join(dir, "out")
	if f.driver != "ESRI Shapefile" {
		out += f.ext
	} else if err := os.Mkdir(out, 0o700); err != nil {
		return nil, err
	}
	fams := make([]string, 0, len(groups))
	for fam := range groups {
		fams = append(fams, fam)
	}
	sort.Strings(fams)
	for _, fam := range fams {
		fc := geojson.NewFeatureCollection()
		fc.Features = groups[fam]
		data, err := fc.MarshalJSON()
		if err != nil {
			return nil, err
		}
		in := filepath.Join(dir, "in-"+firstNonBlank(fam, "polygon")+".geojson")
		if err := os.WriteFile(in, data, 0o600); err != nil {
			return nil, err
		}
		name := layer
		if fam != "" {
			name += "_" + fam
		}
		args := []string{"-f", f.driver, "-nln", name}
		if fam == "" && f.driver == "ESRI Shapefile" {
			args = append(args, "-nlt", "PROMOTE_TO_MULTI")
		}
		for _, o := range f.lco {
			args = append(args, "-lco", o)
		}
		args = append(args, out, in)
		if msg, err := exec.CommandContext(ctx, "ogr2ogr", args...).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("export: ogr2ogr %s: %v: %s", f.driver, err, bytes.TrimSpace(msg))
		}
	}
	if f.driver != "ESRI Shapefile" {
		return []string{out}, nil
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		files = append(files, filepath.Join(out, e.Name()))
	}
	return files, nil
}

// zipFiles writes files into a zip stream, each under its base name.
func zipFiles(w io.Writer, files []string) error {
	zw := zip.NewWriter(w)
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		fw, err := zw.Create(filepath.Base(path))
		if err != nil {
			return err
		}
		if _, err := fw.Write(data); err != nil {
			return err
		}
	}
	return zw.Close()
}

// ogcItemsParams are the query parameters of the OGC items route; others are refused.
var ogcItemsParams = []string{"bbox", "datetime", "limit", "offset", "f"}

// checkEncoding refuses an f parameter other than json or geojson (the only encoding).
func checkEncoding(r *http.Request) error {
	switch f := r.URL.Query().Get("f"); f {
	case "", "json", "geojson":
		return nil
	default:
		return offsite.Invalid("f", "must be json or geojson, got %q", f)
	}
}

// extentDoc is the OGC (and STAC) extent of a collection: the real bounding box and time
// span of the records the caller's agency reaches, the whole world and open when there are
// none or no GIS service is set.
func (s *Server) extentDoc(ctx context.Context, collection string) (map[string]any, error) {
	bbox := []float64{-180, -90, 180, 90}
	interval := []any{nil, nil}
	if s.GIS != nil {
		ext, err := s.GIS.Extent(ctx, collection, scope(ctx))
		if err != nil {
			return nil, err
		}
		if b := ext.Bbox; b != nil {
			bbox = []float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]}
		}
		if ext.Start != nil {
			interval[0] = ext.Start.UTC().Format(time.RFC3339)
		}
		if ext.End != nil {
			interval[1] = ext.End.UTC().Format(time.RFC3339)
		}
	}
	return map[string]any{
		"spatial":  map[string]any{"bbox": [][]float64{bbox}, "crs": ogcCRS84},
		"temporal": map[string]any{"interval": [][]any{interval}, "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"},
	}, nil
}

// parcelOwners returns the enterprises of parcels (none without a GIS service).
func (s *Server) parcelOwners(ctx context.Context, ids []string) (map[string]offsite.Owner, error) {
	if s.GIS == nil {
		return map[string]offsite.Owner{}, nil
	}
	return s.GIS.ParcelOwners(ctx, ids)
}

// findingOwners returns the enterprises of the findings' parcels.
func (s *Server) findingOwners(ctx context.Context, fs []*offsite.Finding) (map[string]offsite.Owner, error) {
	var ids []string
	for _, f := range fs {
		if !slices.Contains(ids, f.ParcelID) {
			ids = append(ids, f.ParcelID)
		}
	}
	return s.parcelOwners(ctx, ids)
}

// withOwner adds the enterprise's USCC and name to a finding's feature.
func withOwner(f *geojson.Feature, o offsite.Owner) *geojson.Feature {
	f.Properties["uscc"] = o.USCC
	f.Properties["enterprise_name"] = o.Name
	return f
}
