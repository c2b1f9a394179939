package httpapi

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// categorised tells whether err maps to a status other than 500 (Error's table).
func categorised(err error) bool {
	for _, st := range statuses {
		if errors.Is(err, st.err) {
			return true
		}
	}
	return false
}

// TestDecodeJSONChecksTheDocumentedType: a handler that decodes another type than the one
// its route documents gets an internal error, not a body decoded past the document.
func TestDecodeJSONChecksTheDocumentedType(t *testing.T) {
	s := &Server{MaxBodyBytes: 1 << 10}
	var got error
	h := withBodyType(operation{Body: loginRequest{}}.bodyType(), func(w http.ResponseWriter, r *http.Request) {
		var in passwordReset
		got = s.decodeJSON(w, r, &in)
	})
	h(httptest.NewRecorder(), httptest.NewRequest("POST", "/x", strings.NewReader(`{"password":"p"}`)))
	if got == nil || categorised(got) {
		t.Errorf("decoding passwordReset on a route documenting loginRequest: %v, want an internal error", got)
	}
	h = withBodyType(operation{Body: loginRequest{}}.bodyType(), func(w http.ResponseWriter, r *http.Request) {
		var in loginRequest
		got = s.decodeJSON(w, r, &in)
	})
	h(httptest.NewRecorder(), httptest.NewRequest("POST", "/x", strings.NewReader(`{"name":"a","password":"p"}`)))
	if got != nil {
		t.Errorf("decoding the documented type: %v", got)
	}
	var in loginRequest
	if err := s.decodeJSON(httptest.NewRecorder(), httptest.NewRequest("POST", "/x", strings.NewReader(`{}`)), &in); err == nil {
		t.Error("decoding on a route that documents no body: no error")
	}
	if bt := (operation{Body: bodyFields(inspectionRequest{}, []string{"version"})}).bodyType(); bt == nil || bt.Name() != "inspectionRequest" {
		t.Errorf("bodyType of bodyFields(inspectionRequest): %v", bt)
	}
	if bt := (operation{Body: parcelCollection{}, BodyType: geoJSONType}).bodyType(); bt != nil {
		t.Errorf("bodyType of a GeoJSON body: %v, want none (geo reads it)", bt)
	}
}
