package httpapi

import (
	"net/http"
	"strconv"

	"github.com/paulmach/orb/geojson"

	"github.com/offsite/offsite"
)

func (s *Server) registerFindingRoutes(mux *http.ServeMux) {
	s.handle(mux, "GET", "/api/v1/findings", operation{
		Response: geoJSONFeatureCollection(), ResponseType: geoJSONType,
		Summary:     "Findings as a GeoJSON FeatureCollection, newest first",
		Description: "Each feature is one finding on one parcel, with its kind, class, score, area, severity, the captures it came from, its artifacts (key and SHA-256) and its provenance (a STAC Item).",
		Roles:       rolesRead,
		Query: map[string]string{
			"parcel_id": "only findings on this parcel", "capture_id": "only findings from this capture",
			"kind": "change, hotspot, plume, exceedance or monitoring", "bbox": "minLon,minLat,maxLon,maxLat",
			"limit": "1..1000, default 100", "offset": "default 0",
		},
		Responses: map[string]string{"200": "FeatureCollection", "400": "bad query parameter"},
	}, s.handleFindingsList)
}

func (s *Server) handleFindingsList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := offsite.FindingFilter{ParcelID: q.Get("parcel_id"), Kind: q.Get("kind"), Agency: scope(r.Context())}
	switch f.Kind {
	case "", offsite.FindingChange, offsite.FindingHotspot, offsite.FindingPlume, offsite.FindingExceedance, offsite.FindingMonitoring:
	default:
		s.Error(w, r, offsite.Invalid("kind", "must be change, hotspot, plume, exceedance or monitoring, got %q", f.Kind))
		return
	}
	if v := q.Get("capture_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			s.Error(w, r, offsite.Invalid("capture_id", "must be a positive integer, got %q", v))
			return
		}
		f.CaptureID = id
	}
	var err error
	if f.Limit, err = intParam(r, "limit", 100, 1, 1000); err != nil {
		s.Error(w, r, err)
		return
	}
	if f.Offset, err = intParam(r, "offset", 0, 0, 1<<31-1); err != nil {
		s.Error(w, r, err)
		return
	}
	if f.Intersects, err = bboxParam(r); err != nil {
		s.Error(w, r, err)
		return
	}
	fs, total, err := s.Findings.FindFindings(r.Context(), f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	fc := geojson.NewFeatureCollection()
	for _, x := range fs {
		fc.Append(findingDetail(x))
	}
	fc.ExtraMembers = geojson.Properties{"numberMatched": total, "numberReturned": len(fs)}
	writeGeoJSON(w, fc)
}

// findingDetail is the OGC feature of a finding with the evidence fields added: captures,
// artifacts with their digests, provenance and the detector's measures.
func findingDetail(x *offsite.Finding) *geojson.Feature {
	f := findingFeature(x)
	f.Properties["capture_ids"] = x.CaptureIDs
	f.Properties["pipeline_hash"] = x.PipelineHash
	f.Properties["artifacts"] = x.Artifacts
	f.Properties["provenance"] = x.Provenance
	f.Properties["created_at"] = x.CreatedAt
	if x.USCC != "" {
		f.Properties["uscc"] = x.USCC // a monitoring finding: on an enterprise, not a parcel
	}
	if len(x.Properties) > 0 {
		f.Properties["detector"] = x.Properties
	}
	return f
}
