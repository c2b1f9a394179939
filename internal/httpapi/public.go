package httpapi

import (
	"context"
	"net/http"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
)

// registerPublicRoutes registers the routes of what the public reads without a token: the list, notices, draws and disclosures.
func (s *Server) registerPublicRoutes(mux *http.ServeMux) {
	s.handle(mux, "GET", "/public/positive-list", operation{
		OtherTypes:  []string{csvType},
		Summary:     "The published positive list (no login): name, location, USCC, industry, permit number, validity, complaint channel",
		Response:    listOf("enterprises", []enforce.Publication{}),
		Description: "JSON by default; CSV with format=csv or Accept: text/csv, its header in Chinese unless lang=en.",
		Roles:       rolesPublic,
		Query: map[string]string{"format": "json (default) or csv", "limit": "JSON only: 1..1000, default 100", "offset": "JSON only: default 0",
			"lang": "CSV only: zh (default, Chinese header) or en (the JSON field names)"},
		Responses: map[string]string{"200": "list", "400": "bad query parameter"},
	}, s.handlePublicList)
	s.handle(mux, "GET", "/public/draws/{id}", operation{
		Response:    enforce.PublicDraw{},
		Summary:     "A published draw (no login): date, seed, algorithm, ratios, pool size and the drawn enterprises (name, USCC, mode, inspectors)",
		Description: "Not the pool, its groups or the inspectors' conflicts: inputs_sha256 is the SHA-256 of those inputs as recorded: the compact JSON {\"pool\":…,\"inspectors\":…} of result.pool and result.inspectors of GET /api/v1/draws/{id}.",
		Roles:       rolesPublic,
		Responses:   map[string]string{"200": "draw", "400": "bad id", "404": "no such draw"},
	}, recordByID(s, func(ctx context.Context, id int64) (*enforce.PublicDraw, error) { return s.Enforce.PublicDraw(ctx, id) }))
	s.handle(mux, "GET", "/public/notices", operation{
		Response: objectOf(map[string]any{"notices": []enforce.Notice{}, "objections": ""}),
		Summary:  "Enterprises on public notice before listing (no login), with the notice period and where to object", Roles: rolesPublic,
		Responses: map[string]string{"200": "notices"},
	}, s.handlePublicNotices)
	s.handle(mux, "GET", "/public/disclosures", operation{
		Response: objectOf(map[string]any{"disclosures": []enforce.Disclosure{}, "total": 0}),
		Summary:  "Published dispositions (no login): strict penalties with public disclosure under 四.10", Roles: rolesPublic,
		Query:     map[string]string{"limit": "1..1000, default 100", "offset": "default 0"},
		Responses: map[string]string{"200": "disclosures", "400": "bad query parameter"},
	}, s.handlePublicDisclosures)
	s.handle(mux, "GET", "/public/removals", operation{
		Response: objectOf(map[string]any{"removals": []enforce.Removal{}, "total": 0}), OtherTypes: []string{csvType},
		Summary:     "Published removals from the positive list (no login): name, USCC, date and reason category of every listed enterprise removed",
		Description: "JSON by default; CSV with format=csv or Accept: text/csv. The reason's text is not published, only its category.",
		Roles:       rolesPublic,
		Query:       map[string]string{"format": "json (default) or csv", "limit": "JSON only: 1..1000, default 100", "offset": "JSON only: default 0"},
		Responses:   map[string]string{"200": "removals", "400": "bad query parameter"},
	}, s.handlePublicRemovals)
}

func (s *Server) handlePublicRemovals(w http.ResponseWriter, r *http.Request) {
	asCSV, err := wantsCSV(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	offset, limit := 0, 0
	if !asCSV {
		if offset, limit, err = pageParams(r); err != nil {
			s.Error(w, r, err)
			return
		}
	}
	rs, total, err := s.Enforce.PublicRemovals(r.Context(), offset, limit)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if asCSV {
		rows := make([][]string, len(rs))
		for i, x := range rs {
			rows[i] = x.CSVRecord()
		}
		writeCSV(w, "removals.csv", enforce.RemovalCSVHeader, rows)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"removals": rs, "total": total})
}

func (s *Server) handlePublicList(w http.ResponseWriter, r *http.Request) {
	asCSV, err := wantsCSV(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	offset, limit, err := pageParams(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	header, err := publicCSVHeader(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if asCSV {
		offset, limit = 0, 0 // the whole list
	}
	pub, total, err := s.Enforce.PublicList(r.Context(), s.Now(), offset, limit)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	if asCSV {
		rows := make([][]string, len(pub))
		for i, p := range pub {
			rows[i] = p.CSVRecord()
		}
		writeCSV(w, "positive-list.csv", header, rows)
		return
	}
	writeJSONCompact(w, http.StatusOK, map[string]any{"enterprises": pub, "total": total, "offset": offset, "limit": limit,
		"complaint": "complaint channels are listed per enterprise; 12369 is the national hotline"})
}

func (s *Server) handlePublicNotices(w http.ResponseWriter, r *http.Request) {
	ns, err := s.Enforce.PublicNotices(r.Context(), s.Now())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"notices": ns, "objections": "send objections through the complaint channel of the enterprise's notice before the notice ends"})
}

func (s *Server) handlePublicDisclosures(w http.ResponseWriter, r *http.Request) {
	offset, limit, err := pageParams(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	ds, total, err := s.Enforce.PublicDisclosures(r.Context(), offset, limit)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"disclosures": ds, "total": total})
}

// publicationCSVHeaderZH is enforce.PublicationCSVHeader in Chinese, column for column.
var publicationCSVHeaderZH = map[string]string{
	"name": "企业名称", "address": "地址", "uscc": "统一社会信用代码", "industry": "行业代码",
	"permit_no": "排污许可证编号", "valid_from": "有效期起", "valid_to": "有效期止", "complaint_channel": "投诉举报渠道",
}

// publicCSVHeader is the public list CSV's header in the language of ?lang: zh (default) or en.
func publicCSVHeader(r *http.Request) ([]string, error) {
	switch lang := r.URL.Query().Get("lang"); lang {
	case "en":
		return enforce.PublicationCSVHeader, nil
	case "", "zh":
		out := make([]string, len(enforce.PublicationCSVHeader))
		for i, c := range enforce.PublicationCSVHeader {
			zh, ok := publicationCSVHeaderZH[c]
			if !ok {
				zh = c // a column added to enforce without a translation stays readable
			}
			out[i] = zh
		}
		return out, nil
	default:
		return nil, offsite.Invalid("lang", "must be zh or en, got %q", lang)
	}
}
