// Package httpapi is Offsite's HTTP interface: the JSON API, its OpenAPI document and health
// checks. It never processes pixels.
package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/account"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/metrics"
	"github.com/offsite/offsite/internal/monitoring"
	"github.com/offsite/offsite/internal/msgs"
	"github.com/offsite/offsite/internal/verify"
)

// Enqueuer puts tasks on the queue.
type Enqueuer interface {
	EnqueueContext(ctx context.Context, task *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

// ObjectStore is the part of object storage the API uses.
type ObjectStore interface {
	offsite.CaptureStore
	offsite.EvidenceStore
	offsite.ProofStore
	// HashObject returns the SHA-256 (hex) of an object of bucket, "" for the evidence
	// bucket.
	HashObject(ctx context.Context, bucket, key string) (string, error)
}

// Check is one dependency health check.
type Check struct {
	Name string
	Ping func(ctx context.Context) error
}

// Server serves the API. Set the fields, then use Handler.
type Server struct {
	Parcels  offsite.ParcelService
	Captures offsite.CaptureService
	Clips    offsite.ClipService
	Findings offsite.FindingService
	Surveys  offsite.SurveyService
	Zones    offsite.ZoneService    // named zones, for /api/v1/zones and surveys by zone_id or zone_name
	Nightly  offsite.NightlyService // nightly runs, for /api/v1/nightly-runs
	// SurveyBatchSize is the most parcels of one capture a survey part runs, unless the
	// request says otherwise; 0 means DefaultSurveyBatchSize.
	SurveyBatchSize int
	// KnownPipeline reports whether a pipeline name exists; nil accepts any.
	KnownPipeline  func(name string) bool
	Artifacts      verify.Source // recorded artifacts, for /api/v1/evidence/verify
	Queue          Enqueuer
	Inspector      *asynq.Inspector // queue state for admins
	Metrics        *metrics.Metrics // request metrics, served at /metrics
	Store          ObjectStore
	CapturesBucket string
	// SidecarPrefix is where the nightly sweep reads STAC sidecars in the captures bucket;
	// only admins upload there. "" means s3.DefaultSidecarPrefix.
	SidecarPrefix string
	Checks        []Check
	Logger        *slog.Logger
	// MaxBodyBytes limits request bodies; default 32 MiB.
	MaxBodyBytes int64
	// Enforce stores the enforcement records (issue 6).
	Enforce enforce.Service
	// EnforceConfig is the province's configuration; zero fields take enforce's defaults.
	EnforceConfig enforce.Config
	// EnterpriseStore, InspectionStore, ListStore and DrawStore are the stores of the
	// enterprise, inspection, positive-list and draw commands.
	EnterpriseStore enforce.EnterpriseStore
	InspectionStore enforce.InspectionStore
	ListStore       enforce.ListStore
	DrawStore       enforce.DrawStore
	// Monitoring reads the monitoring registry, values and findings, and MonitoringStore runs
	// the registry's commands (issue 15); nil: no monitoring routes.
	Monitoring      MonitoringService
	MonitoringStore monitoring.Store
	// Work reads the inbox, intake matters and incidents (inbox.go); Notify stores in-app
	// messages, preferences and webhook subscriptions (notifications.go). Their routes fail
	// when they are nil.
	Work   WorkReader
	Notify NotifyStore
	// WebhookHosts are the hosts (host or host:port) webhook subscriptions may name; none
	// refuses every subscription.
	WebhookHosts []string
	// Accounts signs users in and authenticates sessions and API tokens (accounts.go); nil
	// admits no session or account token.
	Accounts *account.Accounts
	// Agencies finds the agency of the record a route addresses, for the agency scope
	// (auth.go); nil scopes nothing.
	Agencies AgencyResolver
	// SecureCookie marks the session cookie Secure even on plain HTTP (behind a proxy that
	// ends TLS); a request over TLS gets it regardless.
	SecureCookie bool
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is believed when they are
	// a request's peer: failed sign-ins are then counted against the client's address, not
	// the proxy's (clientAddr). None: the peer's address counts.
	TrustedProxies []netip.Prefix
	// Tokens is a fixed table of tokens, accepted besides Accounts' with no agency scope; for
	// tests and tools. cmd/api does not set it: it seeds accounts from the token file.
	Tokens *Tokens
	// Now is the clock of the enforcement rules; default time.Now.
	Now func() time.Time
	// UI serves the web interface under /ui/ (internal/webui); nil serves none.
	UI http.Handler
	// ReadTimeout bounds reading the body of an ordinary route; default DefaultReadTimeout.
	ReadTimeout time.Duration
	// HandlerTimeout bounds an ordinary route from its start to its answer (the body
	// included); past it the client gets 503. Default DefaultHandlerTimeout.
	HandlerTimeout time.Duration
	// StreamTimeout bounds reading and writing on the streaming routes (bounds.go); default
	// DefaultStreamTimeout.
	StreamTimeout time.Duration
	// CaseFiles renders and stores the case files (reports.go); nil answers their routes
	// with 404.
	CaseFiles *CaseFiles
	// GIS reads extents, parcel owners and pages of captures and clips for the GIS exports,
	// the OGC collections and the STAC API (exports.go, stac.go); nil reports the whole
	// world as extents and leaves the STAC API empty.
	GIS offsite.GISService
	// CaptureDownloads presigns reads of captures, for the data assets of the STAC API's
	// capture Items (stac.go); nil leaves those assets out.
	CaptureDownloads CapturePresigner
	// CORSOrigins may call the API from a browser's scripts: origins as ParseCORSOrigins reads
	// them, "*" for any. Default none: no CORS headers, preflights refused.
	CORSOrigins []string

	routes      []route
	enterprises *enforce.Enterprises // the enterprise commands, built by Handler
	inspections *enforce.Inspections // the inspection commands, built by Handler
	list        *enforce.List        // the positive-list commands, built by Handler
	draws       *enforce.Draws       // the draw command, built by Handler
}

// route is one registered route; the OpenAPI document is generated from these.
type route struct {
	method, path string
	op           operation
}

// handle registers h for method and path (Go ServeMux pattern syntax) and documents it.
func (s *Server) handle(mux *http.ServeMux, method, path string, op operation, h http.HandlerFunc) {
	s.routes = append(s.routes, route{method: method, path: path, op: op})
	pattern := method + " " + path
	if t := op.bodyType(); t != nil {
		h = withBodyType(t, h)
	}
	mux.Handle(pattern, s.bound(pattern, s.authorize(path, op, s.checkText(path, h))))
}

type bodyTypeKey struct{}

// withBodyType tells decodeJSON and readJSONBody the Go type the route documents as its JSON
// request body (operation.Body), so that a handler decoding anything else fails loudly.
func withBodyType(t reflect.Type, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h(w, r.WithContext(context.WithValue(r.Context(), bodyTypeKey{}, t)))
	}
}

// checkBodyType returns an internal error unless v (a pointer) points at the type the route
// documents as its JSON request body: the OpenAPI document describes what is decoded.
func checkBodyType(r *http.Request, v any) error {
	got := reflect.TypeOf(v)
	for got != nil && got.Kind() == reflect.Pointer {
		got = got.Elem()
	}
	want, _ := r.Context().Value(bodyTypeKey{}).(reflect.Type)
	if want != got {
		return fmt.Errorf("httpapi: %s %s decodes its body into %v but documents %v", r.Method, r.URL.Path, got, want)
	}
	return nil
}

// Handler returns the HTTP handler with every route registered.
func (s *Server) Handler() http.Handler {
	if s.MaxBodyBytes == 0 {
		s.MaxBodyBytes = 32 << 20
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	for _, d := range []struct {
		field *time.Duration
		def   time.Duration
	}{{&s.ReadTimeout, DefaultReadTimeout}, {&s.HandlerTimeout, DefaultHandlerTimeout}, {&s.StreamTimeout, DefaultStreamTimeout}} {
		if *d.field == 0 {
			*d.field = d.def
		}
	}
	s.EnforceConfig.WithDefaults()
	s.enterprises = &enforce.Enterprises{Store: s.EnterpriseStore, Now: s.Now}
	s.inspections = &enforce.Inspections{Store: s.InspectionStore, Config: s.EnforceConfig, Now: s.Now}
	s.list = &enforce.List{Store: s.ListStore, Config: s.EnforceConfig, Now: s.Now}
	s.draws = &enforce.Draws{Store: s.DrawStore, Config: s.EnforceConfig.Draw}
	mux := http.NewServeMux()
	s.routes = nil
	s.registerSystemRoutes(mux)
	s.registerParcelRoutes(mux)
	s.registerCaptureRoutes(mux)
	s.registerEvidenceRoutes(mux)
	s.registerFindingRoutes(mux)
	s.registerSurveyRoutes(mux)
	s.registerZoneRoutes(mux)
	s.registerRunRoutes(mux)
	s.registerNightlyRoutes(mux)
	s.registerAdminRoutes(mux)
	s.registerEnterpriseRoutes(mux)
	s.registerListRoutes(mux)
	s.registerInspectionRoutes(mux)
	s.registerDrawRoutes(mux)
	s.registerMonitoringRoutes(mux)
	s.registerInboxRoutes(mux)
	s.registerNotificationRoutes(mux)
	s.registerEnterpriseSideRoutes(mux)
	s.registerIntakeRoutes(mux)
	s.registerPublicRoutes(mux)
	s.registerAuditRoutes(mux)
	s.registerOGCRoutes(mux)
	s.registerReportRoutes(mux)
	s.registerExportRoutes(mux)
	s.registerSTACRoutes(mux)
	s.registerUIRoutes(mux)
	s.registerAccountRoutes(mux)
	sort.Slice(s.routes, func(i, j int) bool {
		if s.routes[i].path != s.routes[j].path {
			return s.routes[i].path < s.routes[j].path
		}
		return s.routes[i].method < s.routes[j].method
	})
	return s.logRequests(s.cors(mux, s.routed(mux)))
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (deadlines, flushes).
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// StatusClientClosed is the status recorded (nginx's 499) for a request whose client went away
// before its answer: not a server error.
const StatusClientClosed = 499

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		if r.Context().Err() != nil && rec.status != http.StatusRequestTimeout {
			rec.status = StatusClientClosed // gone before its answer: nobody read it
		}
		route := r.Pattern // set by the ServeMux; "" when nothing matched
		if route == "" {
			route = "unmatched"
		}
		s.Metrics.ObserveRequest(route, r.Method, rec.status, time.Since(start))
		if !s.Logger.Enabled(r.Context(), slog.LevelInfo) {
			return // the arguments below cost allocations even when the line is not written
		}
		msg := "http request"
		if rec.status == StatusClientClosed {
			msg = "client closed request"
		}
		s.Logger.InfoContext(r.Context(), msg, "method", r.Method, "path", r.URL.Path,
			"status", rec.status, "duration_ms", time.Since(start).Milliseconds())
	})
}

func (s *Server) registerSystemRoutes(mux *http.ServeMux) {
	s.handle(mux, "GET", "/healthz", operation{
		Summary:   "Check Redis, PostgreSQL and object storage",
		Response:  healthAnswer{},
		Roles:     rolesPublic,
		Responses: map[string]string{"200": "all dependencies answer", "503": "a dependency is down"},
	}, s.handleHealth)
	s.handle(mux, "GET", "/openapi.json", operation{
		Response:  schemaValue{"type": "object", "description": "this OpenAPI 3.1 document", "required": []string{"openapi", "paths"}},
		Summary:   "This OpenAPI document",
		Roles:     rolesPublic,
		Responses: map[string]string{"200": "OpenAPI 3.1 document"},
	}, s.handleOpenAPI)
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	HealthHandler(s.Logger, s.Checks)(w, r)
}

// healthAnswer is the answer of /healthz.
type healthAnswer struct {
	Status string        `json:"status"`
	Checks []healthCheck `json:"checks"`
}

type healthCheck struct {
	Name string `json:"name"`
	OK   bool   `json:"ok"`
}

// HealthHandler answers a public /healthz: 200 with every check ok, 503 naming the checks
// that failed. It says which dependency is down, never why (errors name internal
// addresses); the reason goes to logger.
func HealthHandler(logger *slog.Logger, checks []Check) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		out := healthAnswer{Status: "ok"}
		code := http.StatusOK
		for _, c := range checks {
			start := time.Now()
			err := c.Ping(ctx)
			if err != nil {
				out.Status = "unavailable"
				code = http.StatusServiceUnavailable
				logger.WarnContext(ctx, "health check failed", "check", c.Name, "err", err, "ms", time.Since(start).Milliseconds())
			}
			out.Checks = append(out.Checks, healthCheck{Name: c.Name, OK: err == nil})
		}
		writeJSON(w, code, out)
	}
}

// errorBody is the JSON body of every error response.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Field   string `json:"field,omitempty"`
		Message string `json:"message"`
	} `json:"error"`
}

// statuses maps error categories to HTTP status codes.
var statuses = []struct {
	err    error
	code   string
	status int
}{
	{offsite.ErrInvalid, "invalid", http.StatusBadRequest},
	{offsite.ErrNotFound, "not_found", http.StatusNotFound},
	{offsite.ErrConflict, "conflict", http.StatusConflict},
	{offsite.ErrUnauthorized, "unauthorized", http.StatusUnauthorized},
	{offsite.ErrForbidden, "forbidden", http.StatusForbidden},
	{offsite.ErrRateLimited, "rate_limited", http.StatusTooManyRequests},
}

// Error writes err as an RFC 7807 problem (conventions.go): categorised errors with their message, anything
// else as "internal error" (logged in full).
func (s *Server) Error(w http.ResponseWriter, r *http.Request, err error) {
	var body errorBody
	status := http.StatusInternalServerError
	body.Error.Code = "internal"
	m := msgs.New(msgs.Internal)
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		status = http.StatusRequestEntityTooLarge
		body.Error.Code = "too_large"
		m = msgs.New(msgs.TooLarge, "limit", strconv.FormatInt(mbe.Limit, 10))
	case errors.Is(err, os.ErrDeadlineExceeded):
		status = http.StatusRequestTimeout
		body.Error.Code = "request_timeout"
		m = msgs.New(msgs.BodyTimeout, "timeout", s.ReadTimeout.String())
	case r.Context().Err() == context.Canceled || errors.Is(err, errClientGone):
		// The client went away (or cut its body short): nobody reads this answer.
		status = StatusClientClosed
		body.Error.Code = "client_closed"
		m = msgs.New(msgs.ClientClosed)
	case errors.Is(err, context.DeadlineExceeded):
		status = http.StatusServiceUnavailable
		body.Error.Code = "timeout"
		m = msgs.New(msgs.Timeout)
	}
	message := &m
	body.Error.Message = m.Text(msgs.EN)
	if status == http.StatusInternalServerError {
		for _, st := range statuses {
			if errors.Is(err, st.err) {
				// The error's own words, in English unless it has a code (below).
				status, body.Error.Code, body.Error.Message, message = st.status, st.code, err.Error(), nil
				break
			}
		}
	}
	var fe *offsite.FieldError
	if errors.As(err, &fe) {
		body.Error.Field = fe.Field
		if fe.Code != "" {
			fm := msgs.Message{Code: msgs.Code(fe.Code), Args: fe.Args}.With("field", fe.Field)
			message = &fm
		}
	}
	switch status {
	case http.StatusInternalServerError:
		s.Logger.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	case http.StatusServiceUnavailable, http.StatusRequestTimeout:
		s.Logger.WarnContext(r.Context(), "request stopped", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeProblem(w, newProblem(r, status, body.Error.Code, body.Error.Field, body.Error.Message, message))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	notePage(w, v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// decodeJSON decodes a JSON body into v, rejecting unknown fields, trailing data and bodies
// over the size limit. Errors name the field where the decoder knows it.
// v must be of the type the route documents (operation.Body): anything else is an internal
// error, so the OpenAPI document cannot drift from what the handler decodes.
func (s *Server) decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	if err := checkBodyType(r, v); err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.MaxBodyBytes)
	return decodeStrict(r.Body, v)
}

// decodeStrict decodes one JSON value from body into v, refusing unknown fields, trailing
// data and strings holding NUL (naming the field): every JSON body goes through it.
func decodeStrict(body io.Reader, v any) error {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return &offsite.FieldError{Field: "body", Problem: "unexpected data after the JSON value", Code: string(msgs.FieldTrailingData)}
	}
	if field := nulField(reflect.ValueOf(v), ""); field != "" {
		return offsite.Invalid(field, "contains a NUL character (\\u0000)")
	}
	return nil
}

func jsonError(err error) error {
	var mbe *http.MaxBytesError
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe), errors.Is(err, offsite.ErrInvalid), errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, errClientGone):
		return err // the body, not its JSON: too large, not UTF-8, too slow, cut short
	case errors.As(err, &se):
		return &offsite.FieldError{Field: "body", Problem: fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, se),
			Code: string(msgs.FieldMalformed), Args: map[string]string{"offset": strconv.FormatInt(se.Offset, 10)}}
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		}
		return &offsite.FieldError{Field: field, Problem: fmt.Sprintf("must be %s, not JSON %s", te.Type, te.Value),
			Code: string(msgs.FieldWrongType), Args: map[string]string{"want": te.Type.String()}}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return &offsite.FieldError{Field: strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), Problem: "is not a known field", Code: string(msgs.FieldUnknown)}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &offsite.FieldError{Field: "body", Problem: "the JSON ends before its value is complete", Code: string(msgs.FieldTruncated)}
	case errors.Is(err, io.EOF):
		return &offsite.FieldError{Field: "body", Problem: "is empty; a JSON object is required", Code: string(msgs.FieldEmptyBody)}
	}
	return offsite.Invalid("body", "%v", err)
}
