package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/offsite/offsite/internal/httpapi"
	"github.com/offsite/offsite/internal/msgs"
)

// TestProblemLanguage: a problem answer is English unless the request asks for Chinese
// (?lang=zh or Accept-Language); then its title, and its detail where the error has a fixed
// form (the catalog's message, which every answer names by code), are Chinese. error.message
// stays English for the clients written before.
func TestProblemLanguage(t *testing.T) {
	e := newEnforceServer(t)
	han := regexp.MustCompile(`\p{Han}`)
	for _, tc := range []struct {
		name, method, path, body, accept string
		status                           int
		code                             msgs.Code
		zh                               bool
		want                             string // in the detail
	}{
		{"no route in English", "GET", "/api/v1/no-such-thing", "", "", 404, msgs.NoRoute, false, "no route for /api/v1/no-such-thing"},
		{"no route, lang=zh", "GET", "/api/v1/no-such-thing?lang=zh", "", "", 404, msgs.NoRoute, true, "/api/v1/no-such-thing"},
		{"method, Accept-Language zh", "DELETE", "/healthz", "", "zh-CN,zh;q=0.9", 405, msgs.MethodNotAllowed, true, "DELETE"},
		{"method, Accept-Language en first", "DELETE", "/healthz", "", "en-GB,zh;q=0.5", 405, msgs.MethodNotAllowed, false, "DELETE is not allowed"},
		{"required field", "POST", "/api/v1/positive-list/evaluate", `{}`, "zh-CN", 400, msgs.FieldRequired, true, "“facts”"},
		{"unknown field", "POST", "/api/v1/draws", `{"zz":1}`, "zh", 400, msgs.FieldUnknown, true, "“zz”"},
		{"malformed JSON", "POST", "/api/v1/draws", `{"inspectors" 1}`, "zh", 400, msgs.FieldMalformed, true, "JSON"},
		{"truncated JSON", "POST", "/api/v1/draws", `{"inspectors":`, "zh", 400, msgs.FieldTruncated, true, "JSON"},
		{"wrong type", "POST", "/api/v1/draws", `{"seed":5}`, "zh", 400, msgs.FieldWrongType, true, "“seed”"},
		{"English refusal stays English", "POST", "/api/v1/draws", `{"seed":"zz","inspectors":[{"id":"a"}]}`, "zh", 400, "", false, "seed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, e.hs.URL+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+tokenOf[httpapi.RoleAdmin])
			if tc.accept != "" {
				req.Header.Set("Accept-Language", tc.accept)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			var p struct {
				Title   string        `json:"title"`
				Detail  string        `json:"detail"`
				Message *msgs.Message `json:"message"`
				Error   struct {
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal(b, &p); err != nil || resp.StatusCode != tc.status {
				t.Fatalf("%d %s, want %d (%v)", resp.StatusCode, b, tc.status, err)
			}
			switch {
			case tc.code == "" && p.Message != nil:
				t.Errorf("message %+v for an error without a fixed form", p.Message)
			case tc.code != "" && (p.Message == nil || p.Message.Code != tc.code):
				t.Errorf("message %+v, want code %s: %s", p.Message, tc.code, b)
			}
			chinese := msgs.RequestLang(req) == msgs.ZH
			if han.MatchString(p.Title) != chinese || (chinese && p.Title != msgs.New(msgs.TitleOf(tc.status)).Text(msgs.ZH)) {
				t.Errorf("title %q for Accept-Language %q, path %s", p.Title, tc.accept, tc.path)
			}
			if han.MatchString(p.Detail) != tc.zh || !strings.Contains(p.Detail, tc.want) {
				t.Errorf("detail %q: want Chinese %v, containing %q", p.Detail, tc.zh, tc.want)
			}
			if han.MatchString(p.Error.Message) {
				t.Errorf("error.message %q is not English", p.Error.Message)
			}
		})
	}
}
