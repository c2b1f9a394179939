package httpapi

import (
	"errors"
	"net/http"

	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/verify"
)

func (s *Server) registerEvidenceRoutes(mux *http.ServeMux) {
	s.handle(mux, "POST", "/api/v1/evidence/verify", operation{
		Response:    verify.Report{},
		Summary:     "Re-hash every stored evidence artifact and report any mismatch",
		Description: "Reads each artifact from the evidence bucket, recomputes its SHA-256 and compares it with the digest recorded for it and with its key. Problems are listed with the capture and parcel they belong to.",
		Roles:       []enforce.Role{RoleAdmin},
		Responses:   map[string]string{"200": "verification report (problems listed; an empty list means all artifacts verified)", "401": "no token", "403": "not an admin"},
	}, s.handleEvidenceVerify)
}

func (s *Server) handleEvidenceVerify(w http.ResponseWriter, r *http.Request) {
	if s.Artifacts == nil {
		s.Error(w, r, errors.New("httpapi: evidence verification has no artifact source configured"))
		return
	}
	rep, err := verify.Run(r.Context(), s.Artifacts, s.Store)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}
