package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
)

// registerDrawRoutes registers the routes of double-random draws.
func (s *Server) registerDrawRoutes(mux *http.ServeMux) {
	s.handle(mux, "POST", "/api/v1/draws", operation{
		Response:    enforce.StoredDraw{},
		Summary:     "Draw inspection targets and inspectors (双随机) from the pool with a published seed",
		Description: "Omit seed to have one generated; the result, seed and algorithm are published at /public/draws/{id}.",
		Roles:       rolesDecide,
		Body:        drawRequest{},
		Responses:   map[string]string{"201": "drawn", "400": "invalid field"},
	}, s.handleDrawCreate)
	s.handle(mux, "GET", "/api/v1/draws", operation{
		Summary: "Draws, newest first", Roles: rolesRead,
		Response:  listOf("draws", []*enforce.StoredDraw{}),
		Query:     map[string]string{"limit": "1..1000, default 100", "offset": "default 0"},
		Responses: map[string]string{"200": "draws", "400": "bad query parameter"},
	}, s.handleDrawList)
	s.handle(mux, "GET", "/api/v1/draws/{id}", operation{
		Summary: "One draw as recorded: its result with the pool, the inspectors and their conflicts, and who ran it", Roles: rolesRead,
		Response:  enforce.StoredDraw{},
		Responses: map[string]string{"200": "draw", "400": "bad id", "404": "no such draw"},
	}, recordByID(s, func(ctx context.Context, id int64) (*enforce.StoredDraw, error) {
		return s.Enforce.FindDrawByID(ctx, id)
	}))
}

type drawRequest struct {
	Seed       string              `json:"seed" doc:"16 hex digits; omitted, one is generated"`
	Inspectors []enforce.Inspector `json:"inspectors" openapi:"required"`
}

func decodeDraw(body []byte) (seed uint64, haveSeed bool, ins []enforce.Inspector, err error) {
	var in drawRequest
	if err := strictUnmarshal(body, &in); err != nil {
		return 0, false, nil, err
	}
	if in.Seed != "" {
		if seed, err = enforce.ParseSeed(in.Seed); err != nil {
			return 0, false, nil, offsite.Invalid("seed", "%v", err)
		}
		haveSeed = true
	}
	if len(in.Inspectors) == 0 {
		return 0, false, nil, offsite.Required("inspectors", "is required: the inspectors of the draw")
	}
	seen := map[string]bool{}
	for i, x := range in.Inspectors {
		if strings.TrimSpace(x.ID) == "" {
			return 0, false, nil, offsite.Required(fmt.Sprintf("inspectors[%d].id", i), "is required")
		}
		if seen[x.ID] {
			return 0, false, nil, offsite.Invalid(fmt.Sprintf("inspectors[%d].id", i), "%q is listed twice", x.ID)
		}
		seen[x.ID] = true
	}
	return seed, haveSeed, in.Inspectors, nil
}

func (s *Server) handleDrawCreate(w http.ResponseWriter, r *http.Request) {
	body, err := s.readJSONBody(w, r, (*drawRequest)(nil))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	seed, have, ins, err := decodeDraw(body)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if !have {
		seed = randomSeed()
	}
	d, err := s.draws.Create(r.Context(), PrincipalFromContext(r.Context()).Actor(), seed, ins)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, d)
}

func (s *Server) handleDrawList(w http.ResponseWriter, r *http.Request) {
	offset, limit, err := pageParams(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	ds, total, err := s.Enforce.FindDraws(r.Context(), scope(r.Context()), offset, limit)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if ds == nil {
		ds = []*enforce.StoredDraw{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"draws": ds, "total": total, "offset": offset, "limit": limit})
}
