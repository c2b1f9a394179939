package httpapi

import (
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/verify"
)

// registerUIRoutes registers the routes the web interface needs beyond the JSON API, and
// mounts the interface itself (s.UI) at /ui/ when it is set.
func (s *Server) registerUIRoutes(mux *http.ServeMux) {
	s.handle(mux, "GET", "/api/v1/me", operation{
		Response:    me{},
		Summary:     "The caller: name, role, enterprise, and the operations its role may call",
		Description: "The web interface shows only the actions listed in operations.",
		Roles:       rolesOwnRead,
		Responses:   map[string]string{"200": "principal and operations"},
	}, s.handleMe)
	s.handle(mux, "GET", "/api/v1/ui/enterprises", operation{
		Response:    listOf("enterprises", []uiEnterprise{}),
		Summary:     "Search enterprises with their open off-site inspections and warnings",
		Description: "The filters of GET /api/v1/enterprises plus open_warnings.",
		Roles:       rolesRead,
		Query: map[string]string{"q": "name substring or USCC prefix", "zone": "zone", "industry": "industry code prefix",
			"list_status": "proposed, notice, listed, removed, expired, rejected or none", "bbox": "minLon,minLat,maxLon,maxLat", "open_warnings": "true: only enterprises with an open inspection; false: only those without",
			"limit": "1..1000, default 100", "offset": "default 0"},
		Responses: map[string]string{"200": "enterprises with open_inspections and open_warnings", "400": "bad query parameter"},
	}, s.handleUIEnterprises)
	s.handle(mux, "GET", "/api/v1/ui/evidence/{key...}", operation{
		ResponseType: "application/octet-stream",
		Summary:      "The bytes of an evidence object (quick-look, clip, artifact) through the API",
		Description:  "For the web interface, which cannot follow a redirect to object storage with its token. download=true names the file and is audited like /api/v1/evidence-objects.",
		Roles:        rolesRead,
		Query:        map[string]string{"download": "true to download (audited)"},
		Responses:    map[string]string{"200": "the object", "400": "invalid key", "404": "no such object"},
	}, s.handleUIEvidence)
	s.handle(mux, "PUT", "/api/v1/ui/inspections/{id}/proofs/{name}", operation{
		Response: verify.ProofUpload{},
		Summary:  "Upload a proof document of the enterprise's self-check through the API",
		Description: "For the web interface, which cannot PUT to object storage from its origin. The body is the file itself: a PDF, PNG, JPEG or TIFF " +
			"(by name and by content) of at most the API's body limit, sent with its Content-Length. It is stored as selfcheck/{uscc}/{id}/{name} in the proofs bucket, as " +
			"through POST /api/v1/inspections/{id}/proof-uploads, and never overwritten; its size and SHA-256 join the inspection's audited steps. " +
			"List the returned key in the report's proof_keys.",
		Roles: []enforce.Role{RoleEnterprise, RoleAdmin},
		Responses: map[string]string{"201": "stored: name, bucket, key, size, sha256, media_type", "400": "invalid name, empty, no Content-Length, or not a PDF or image",
			"403": "another enterprise's inspection", "404": "no such inspection", "409": "no self-check requested, or a proof of that name exists",
			"413": "larger than the body limit"},
	}, s.handleProofPut)
	s.handle(mux, "GET", "/api/v1/ui/inspections/{id}/proofs/{name}", operation{
		ResponseType: "application/octet-stream",
		Summary:      "Download a proof document of an inspection's self-check; audited",
		Description:  "Streams selfcheck/{uscc}/{id}/{name} from the proofs bucket; an enterprise token reaches only its own.",
		Roles:        rolesOwnRead,
		Responses:    map[string]string{"200": "the document", "400": "invalid name", "403": "another enterprise's inspection", "404": "no such inspection or document"},
	}, s.handleProofGet)
	if s.UI != nil {
		mux.Handle("GET /ui/", s.UI)
		mux.Handle("GET /{$}", http.RedirectHandler("/ui/", http.StatusFound))
	}
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	p := PrincipalFromContext(r.Context())
	m := s.meOf(p)
	if p.UserID != 0 && s.Accounts != nil {
		if u, err := s.Accounts.Store.FindUserByID(r.Context(), p.UserID); err == nil {
			m.DisplayName = u.DisplayName
		}
	}
	writeJSON(w, http.StatusOK, m)
}

// uiEnterprise is an enterprise with its open off-site work.
type uiEnterprise struct {
	*enforce.Enterprise
	OpenInspections int `json:"open_inspections"`
	OpenWarnings    int `json:"open_warnings"`
}

func (s *Server) handleUIEnterprises(w http.ResponseWriter, r *http.Request) {
	f, err := enterpriseFilter(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	offset, limit := f.Offset, f.Limit
	var onlyOpen *bool
	if v := r.URL.Query().Get("open_warnings"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			s.Error(w, r, offsite.Invalid("open_warnings", "must be true or false, got %q", v))
			return
		}
		onlyOpen = &b
	}
	ctx := r.Context()
	type open struct{ inspections, warnings int }
	opens := map[string]open{}
	for _, st := range enforce.OpenInspectionStatuses {
		for off := 0; ; off += 1000 {
			ins, total, err := s.Enforce.FindInspections(ctx, enforce.InspectionFilter{Status: st, Agency: scope(ctx), Offset: off, Limit: 1000})
			if err != nil {
				s.Error(w, r, err)
				return
			}
			for _, in := range ins {
				o := opens[in.USCC]
				o.inspections++
				o.warnings += len(in.Warnings)
				opens[in.USCC] = o
			}
			if off+1000 >= total {
				break
			}
		}
	}
	out := []uiEnterprise{}
	total := 0
	if onlyOpen == nil {
		// Without the open_warnings filter the database pages.
		f.Offset, f.Limit = offset, limit
		es, n, err := s.Enforce.FindEnterprises(ctx, f)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		for _, e := range es {
			o := opens[e.USCC]
			out = append(out, uiEnterprise{Enterprise: e, OpenInspections: o.inspections, OpenWarnings: o.warnings})
		}
		total = n
	} else {
		// With it, every match is read and filtered here, then paged.
		for off := 0; ; off += 1000 {
			f.Offset, f.Limit = off, 1000
			es, n, err := s.Enforce.FindEnterprises(ctx, f)
			if err != nil {
				s.Error(w, r, err)
				return
			}
			for _, e := range es {
				o, has := opens[e.USCC]
				if has != *onlyOpen {
					continue
				}
				if total >= offset && len(out) < limit {
					out = append(out, uiEnterprise{Enterprise: e, OpenInspections: o.inspections, OpenWarnings: o.warnings})
				}
				total++
			}
			if off+1000 >= n {
				break
			}
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"enterprises": out, "total": total, "offset": offset, "limit": limit})
}

// evidenceMediaTypes names the media type of an evidence object by its extension.
var evidenceMediaTypes = map[string]string{
	".png": "image/png", ".tif": "image/tiff; application=geotiff; profile=cloud-optimized",
	".geojson": "application/geo+json", ".json": "application/json", ".csv": "text/csv",
}

func (s *Server) handleUIEvidence(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	if err := offsite.CheckObjectKey(key); err != nil {
		s.Error(w, r, offsite.Invalid("key", "%v", err))
		return
	}
	download, err := boolParam(r, "download")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	ctx := r.Context()
	obj, info, err := s.Store.OpenEvidence(ctx, key)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	defer obj.Close()
	if download {
		if err := s.Enforce.Audit(ctx, PrincipalFromContext(ctx).Actor(), enforce.AuditEvidenceDownload, "evidence/"+key, map[string]any{"key": key}); err != nil {
			s.Error(w, r, err)
			return
		}
	}
	ext := strings.ToLower(path.Ext(key))
	ct, ok := evidenceMediaTypes[ext]
	if !ok {
		ct = "application/octet-stream"
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("X-Content-Type-Options", "nosniff")
	// Keys are content hashes: an object never changes.
	h.Set("Cache-Control", "private, max-age=31536000, immutable")
	if info.ETag != "" {
		h.Set("ETag", strconv.Quote(info.ETag))
	}
	if download {
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": path.Base(key)}))
	}
	// ServeContent answers If-None-Match and If-Modified-Since with 304 before reading, sets
	// Content-Length from the stat, and serves Range requests by seeking.
	http.ServeContent(w, r, "", info.LastModified, obj)
}
