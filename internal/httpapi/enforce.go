package httpapi

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
)

// Role sets of the enforcement routes.
var (
	rolesStaffWrite = []enforce.Role{RoleAdmin, RoleAnalyst}
	rolesDecide     = []enforce.Role{RoleAdmin, RoleApprover}
	rolesInspect    = []enforce.Role{RoleAdmin, RoleInspector}
	rolesSupervise  = []enforce.Role{RoleAdmin, RoleApprover, RoleAnalyst}
	rolesOwnRead    = []enforce.Role{RoleAdmin, RoleAnalyst, RoleInspector, RoleApprover, RoleEnterprise}
)

// version are the keywords of a transition's version, for a body type of another package.
var version = map[string]any{"type": "integer", "description": "the version read; a stale version is refused with 409"}

// writeJSONCompact writes v as unindented JSON, for the routes under load.
func writeJSONCompact(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeProblem(w, newProblem(nil, http.StatusInternalServerError, "internal", "", "internal error", nil))
		return
	}
	notePage(w, v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// parseTime reads an RFC 3339 time or a date (midnight in China Standard Time).
func parseTime(field, v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", v, cst); err == nil {
		return t, nil
	}
	if v == "" {
		return time.Time{}, offsite.Required(field, "is required (RFC 3339 time or YYYY-MM-DD)")
	}
	return time.Time{}, offsite.Invalid(field, "%q is not an RFC 3339 time or a YYYY-MM-DD date", v)
}

var cst = time.FixedZone("CST", 8*3600)

func idParam(r *http.Request, name string) (int64, error) {
	v := r.PathValue(name)
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 {
		return 0, offsite.Invalid(name, "must be a positive integer, got %q", v)
	}
	return id, nil
}

func pageParams(r *http.Request) (offset, limit int, err error) {
	if limit, err = intParam(r, "limit", 100, 1, 1000); err != nil {
		return
	}
	offset, err = intParam(r, "offset", 0, 0, 1<<31-1)
	return
}

// strictUnmarshal decodes one JSON value as decodeJSON does: unknown fields, trailing data
// and strings holding NUL are refused, naming the field.
func strictUnmarshal(body []byte, v any) error {
	return decodeStrict(bytes.NewReader(body), v)
}

// readBody reads a body that is not decoded as JSON (CSV, GeoJSON read by geo) up to the size
// limit.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return io.ReadAll(http.MaxBytesReader(w, r.Body, s.MaxBodyBytes))
}

// readJSONBody reads a JSON body that the caller decodes into a value of into's type (a
// typed nil pointer will do), which must be the type the route documents, as decodeJSON
// checks.
func (s *Server) readJSONBody(w http.ResponseWriter, r *http.Request, into any) ([]byte, error) {
	if err := checkBodyType(r, into); err != nil {
		return nil, err
	}
	return s.readBody(w, r)
}

// versionedBody is the body of a transition: it carries the version of the record as read.
type versionedBody interface{ readVersion() int }

// decodeVersioned decodes a transition's body strictly and requires its version.
func decodeVersioned[T any, P interface {
	*T
	versionedBody
}](body []byte) (P, error) {
	in := P(new(T))
	if err := strictUnmarshal(body, in); err != nil {
		return nil, err
	}
	if in.readVersion() < 1 {
		return nil, offsite.Required("version", "is required: the version of the record as read (optimistic concurrency)")
	}
	return in, nil
}

// versionedAction makes the handler of a transition on the record named by {id}: read and
// decode the body, then apply it (under the store's locks, at the version the client read)
// and answer with what apply returns.
func versionedAction[T any, P interface {
	*T
	versionedBody
}](s *Server, apply func(r *http.Request, id int64, in P) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := idParam(r, "id")
		if err != nil {
			s.Error(w, r, err)
			return
		}
		body, err := s.readJSONBody(w, r, P(nil))
		if err != nil {
			s.Error(w, r, err)
			return
		}
		in, err := decodeVersioned[T, P](body)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		out, err := apply(r, id, in)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	}
}

func wantsCSV(r *http.Request) (bool, error) {
	switch f := r.URL.Query().Get("format"); f {
	case "csv":
		return true, nil
	case "json":
		return false, nil
	case "":
		return strings.Contains(r.Header.Get("Accept"), "text/csv"), nil
	default:
		return false, offsite.Invalid("format", "must be json or csv, got %q", f)
	}
}

func writeCSV(w http.ResponseWriter, name string, header []string, rows [][]string) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	_, _ = w.Write([]byte("\xef\xbb\xbf")) // BOM, so that spreadsheet programs read UTF-8
	cw := csv.NewWriter(w)
	_ = cw.Write(header)
	_ = cw.WriteAll(rows)
}

// recordByID makes the handler of a GET of the record named by {id}.
func recordByID[T any](s *Server, find func(ctx context.Context, id int64) (T, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := idParam(r, "id")
		if err != nil {
			s.Error(w, r, err)
			return
		}
		v, err := find(r.Context(), id)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, v)
	}
}
