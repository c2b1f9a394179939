package httpapi

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/geo"
)

// Role sets of the enforcement routes.
var (
	rolesStaffWrite = []enforce.Role{RoleAdmin, RoleAnalyst}
	rolesDecide     = []enforce.Role{RoleAdmin, RoleApprover}
	rolesInspect    = []enforce.Role{RoleAdmin, RoleInspector}
	rolesSupervise  = []enforce.Role{RoleAdmin, RoleApprover, RoleAnalyst}
	rolesOwnRead    = []enforce.Role{RoleAdmin, RoleAnalyst, RoleInspector, RoleApprover, RoleEnterprise}
)

func obj(required []string, props map[string]any) map[string]any {
	return map[string]any{"type": "object", "required": required, "properties": props}
}

var (
	str      = map[string]any{"type": "string"}
	boolean  = map[string]any{"type": "boolean"}
	dateTime = map[string]any{"type": "string", "format": "date-time"}
	version  = map[string]any{"type": "integer", "description": "the version read; a stale version is refused with 409"}
)

var enterpriseSchema = obj([]string{"uscc", "name", "industry"}, map[string]any{
	"uscc": str, "name": str, "industry": map[string]any{"type": "string", "description": "GB/T 4754 code, e.g. C3120"},
	"permit_no":      map[string]any{"type": "string", "description": "HJ 608-2017 permit or registration number; its first 18 characters must be the USCC"},
	"key_discharger": boolean, "address": str, "zone": str,
	"location":          map[string]any{"type": "array", "items": map[string]any{"type": "number"}, "minItems": 2, "maxItems": 2, "description": "[lon, lat]"},
	"location_gcj02":    map[string]any{"type": "boolean", "description": "location is in GCJ-02 (web map) and is converted to WGS84"},
	"complaint_channel": str,
	"legacy_override":   map[string]any{"type": "boolean", "description": "admit a known legacy USCC whose check character fails; audited"},
	"version":           version,
})

func (s *Server) registerEnforceRoutes(mux *http.ServeMux) {
	// Enterprises.
	s.handle(mux, "POST", "/api/v1/enterprises", operation{
		Summary: "Create an enterprise", Request: enterpriseSchema, Roles: rolesStaffWrite,
		Responses: map[string]string{"201": "created", "400": "invalid field (a wrong USCC check character names the expected one)", "409": "exists"},
	}, s.handleEnterpriseCreate)
	s.handle(mux, "GET", "/api/v1/enterprises", operation{
		Summary: "Search enterprises", Roles: rolesRead,
		Query:     map[string]string{"q": "name substring or USCC prefix", "zone": "zone", "industry": "industry code prefix", "list_status": "proposed, notice, listed, removed, expired, rejected or none", "bbox": "minLon,minLat,maxLon,maxLat", "limit": "1..1000, default 100", "offset": "default 0"},
		Responses: map[string]string{"200": "enterprises", "400": "bad query parameter"},
	}, s.handleEnterpriseList)
	s.handle(mux, "POST", "/api/v1/enterprises/import", operation{
		Summary:     "Bulk import enterprises from CSV",
		Description: "Header: uscc,name,industry,permit_no,key_discharger,address,zone,lon,lat,complaint_channel[,legacy_override]. All rows are imported or none; every bad row is reported.",
		Roles:       rolesStaffWrite,
		Responses:   map[string]string{"200": "imported", "400": "per-row error report in rows", "413": "body too large"},
	}, s.handleEnterpriseImport)
	s.handle(mux, "GET", "/api/v1/enterprises/{uscc}", operation{
		Summary: "One enterprise", Roles: rolesOwnRead,
		Responses: map[string]string{"200": "enterprise", "403": "another enterprise's record", "404": "no such enterprise"},
	}, s.handleEnterpriseGet)
	s.handle(mux, "PUT", "/api/v1/enterprises/{uscc}", operation{
		Summary: "Update an enterprise", Request: enterpriseSchema, Roles: rolesStaffWrite,
		Responses: map[string]string{"200": "updated", "400": "invalid field", "404": "no such enterprise", "409": "stale version"},
	}, s.handleEnterpriseUpdate)
	s.handle(mux, "PUT", "/api/v1/enterprises/{uscc}/parcels", operation{
		Summary: "Store the enterprise's parcels (GeoJSON FeatureCollection)", Request: featureCollectionSchema, Roles: rolesStaffWrite,
		Query:     map[string]string{"gcj02": "true when the coordinates are GCJ-02 (web map); converted to WGS84", "repair": "true to repair invalid geometries"},
		Responses: map[string]string{"200": "stored", "400": "invalid collection", "404": "no such enterprise"},
	}, s.handleEnterpriseParcels)
	s.handle(mux, "GET", "/api/v1/enterprises/{uscc}/parcels", operation{
		Summary: "The enterprise's parcels as a FeatureCollection", Roles: rolesOwnRead,
		Responses: map[string]string{"200": "FeatureCollection", "403": "another enterprise's record", "404": "no such enterprise"},
	}, s.handleEnterpriseParcelsGet)
	s.handle(mux, "GET", "/api/v1/enterprises/{uscc}/evidence", operation{
		Summary: "The enterprise's evidence: parcels with their findings (provenance, artifacts) and clips with download links; the view is audited", Roles: rolesRead,
		Responses: map[string]string{"200": "evidence", "404": "no such enterprise"},
	}, s.handleEnterpriseEvidence)
	s.handle(mux, "GET", "/api/v1/evidence-objects/{key...}", operation{
		Summary: "Download an evidence object (clip COG, quick-look, artifact): a redirect to a presigned URL; audited", Roles: rolesRead,
		Responses: map[string]string{"302": "to a presigned URL valid 15 minutes", "400": "invalid key", "404": "no such object (not audited)"},
	}, s.handleEvidenceObject)
	s.handle(mux, "GET", "/api/v1/enterprises/{uscc}/health-visits", operation{
		Summary: "Health-check visits of an enterprise", Roles: rolesOwnRead,
		Responses: map[string]string{"200": "visits", "403": "another enterprise's record"},
	}, s.handleHealthVisitList)
	s.handle(mux, "POST", "/api/v1/enterprises/{uscc}/health-visits", operation{
		Summary: "Record a health-check (体检式) on-site assistance visit", Roles: rolesInspect,
		Request:   obj([]string{"visited_at"}, map[string]any{"visited_at": dateTime, "notes": str}),
		Responses: map[string]string{"201": "recorded", "400": "invalid field", "404": "no such enterprise"},
	}, s.handleHealthVisitCreate)

	// Positive list.
	s.handle(mux, "GET", "/api/v1/config", operation{
		Summary: "The province's enforcement configuration: admission conditions, notice period, validity, draw ratios, checklist", Roles: rolesRead,
		Responses: map[string]string{"200": "configuration"},
	}, s.handleConfig)
	s.handle(mux, "POST", "/api/v1/positive-list/evaluate", operation{
		Summary: "Evaluate admission conditions on facts, with reasons, without proposing", Roles: rolesRead,
		Request:   obj([]string{"facts"}, map[string]any{"facts": map[string]any{"type": "object"}}),
		Responses: map[string]string{"200": "evaluation", "400": "invalid field"},
	}, s.handleListEvaluate)
	s.handle(mux, "POST", "/api/v1/positive-list", operation{
		Summary: "Propose an enterprise for the positive list; admission is evaluated with reasons", Roles: rolesStaffWrite,
		Request:   obj([]string{"uscc", "facts"}, map[string]any{"uscc": str, "facts": map[string]any{"type": "object"}}),
		Responses: map[string]string{"201": "proposed", "400": "no admission path met (reasons given)", "404": "no such enterprise", "409": "barred or already on the list"},
	}, s.handleListPropose)
	s.handle(mux, "GET", "/api/v1/positive-list", operation{
		Summary: "List entries with their effective status and health-check status", Roles: rolesRead,
		Query:     map[string]string{"status": "effective status", "uscc": "one enterprise", "limit": "1..1000, default 100", "offset": "default 0"},
		Responses: map[string]string{"200": "entries", "400": "bad query parameter"},
	}, s.handleListList)
	s.handle(mux, "GET", "/api/v1/positive-list/export", operation{
		Summary: "Export the list for filing with the province (CSV, or JSON with format=json); audited", Roles: rolesSupervise,
		Query:     map[string]string{"format": "csv (default) or json"},
		Responses: map[string]string{"200": "export", "400": "bad format"},
	}, s.handleListExport)
	s.handle(mux, "POST", "/api/v1/positive-list/expire", operation{
		Summary: "Mark listed entries past their validity as expired (also computed on every read)", Roles: []enforce.Role{RoleAdmin},
		Responses: map[string]string{"200": "number expired"},
	}, s.handleListExpire)
	s.handle(mux, "GET", "/api/v1/positive-list/{id}", operation{
		Summary: "One list entry", Roles: rolesRead,
		Responses: map[string]string{"200": "entry", "400": "bad id", "404": "no such entry"},
	}, s.handleListGet)
	s.handle(mux, "POST", "/api/v1/positive-list/{id}/notice", operation{
		Summary:     "Put a proposed entry on public notice (at least notice_min_days)",
		Description: "The notice starts now or later (a few minutes of clock difference allowed; today's date means now) and cannot be back-dated; the entry can be listed once notice_end has passed and the notice has run notice_min_days by the server's clock.",
		Roles:       rolesStaffWrite,
		Request:     obj([]string{"version", "notice_start", "notice_end"}, map[string]any{"version": version, "notice_start": dateTime, "notice_end": dateTime}),
		Responses:   map[string]string{"200": "on notice", "400": "invalid field", "404": "no such entry", "409": "wrong state or stale version"},
	}, listCommand(s, func(ctx context.Context, a enforce.Actor, id int64, in *listActionRequest) (*enforce.ListEntry, error) {
		start, err := parseTime("notice_start", in.NoticeStart)
		if err != nil {
			return nil, err
		}
		end, err := parseTime("notice_end", in.NoticeEnd)
		if err != nil {
			return nil, err
		}
		_, derr := time.Parse(time.DateOnly, in.NoticeStart)
		return s.list.Notice(ctx, a, id, in.Version, start, derr == nil, end)
	}))
	s.handle(mux, "POST", "/api/v1/positive-list/{id}/objections", operation{
		Summary: "Record an objection received during the notice", Roles: rolesStaffWrite,
		Request:   obj([]string{"version", "text"}, map[string]any{"version": version, "text": str, "raised_by": str}),
		Responses: map[string]string{"200": "recorded", "400": "invalid field", "404": "no such entry", "409": "not on notice or stale version"},
	}, listCommand(s, func(ctx context.Context, a enforce.Actor, id int64, in *listActionRequest) (*enforce.ListEntry, error) {
		return s.list.Object(ctx, a, id, in.Version, in.Text, in.RaisedBy)
	}))
	s.handle(mux, "POST", "/api/v1/positive-list/{id}/objections/{n}/resolve", operation{
		Summary: "Resolve an objection: upheld (the entry is rejected) or dismissed", Roles: rolesDecide,
		Request:   obj([]string{"version", "outcome", "resolution"}, map[string]any{"version": version, "outcome": map[string]any{"enum": []string{"upheld", "dismissed"}}, "resolution": str}),
		Responses: map[string]string{"200": "resolved", "400": "invalid field", "404": "no such entry or objection", "409": "wrong state or stale version"},
	}, versionedAction(s, func(r *http.Request, id int64, in *listActionRequest) (any, error) {
		n, err := strconv.Atoi(r.PathValue("n"))
		if err != nil {
			return nil, offsite.Invalid("n", "must be an objection number, got %q", r.PathValue("n"))
		}
		return s.list.Resolve(r.Context(), PrincipalFromContext(r.Context()).Actor(), id, in.Version, n, in.Outcome, in.Resolution)
	}))
	s.handle(mux, "POST", "/api/v1/positive-list/{id}/list", operation{
		Summary: "Publish the entry after its notice (every objection resolved)", Roles: rolesDecide,
		Request:   obj([]string{"version"}, map[string]any{"version": version, "valid_from": dateTime}),
		Responses: map[string]string{"200": "listed", "400": "invalid field", "404": "no such entry", "409": "notice not over, objection open, or stale version"},
	}, listCommand(s, func(ctx context.Context, a enforce.Actor, id int64, in *listActionRequest) (*enforce.ListEntry, error) {
		var from *time.Time
		if in.ValidFrom != "" {
			t, err := parseTime("valid_from", in.ValidFrom)
			if err != nil {
				return nil, err
			}
			from = &t
		}
		return s.list.Publish(ctx, a, id, in.Version, from)
	}))
	s.handle(mux, "POST", "/api/v1/positive-list/{id}/renew", operation{
		Summary: "Renew a listed or expired entry after re-evaluating admission", Roles: rolesDecide,
		Request:   obj([]string{"version", "facts"}, map[string]any{"version": version, "facts": map[string]any{"type": "object"}}),
		Responses: map[string]string{"200": "renewed", "400": "admission not met", "404": "no such entry", "409": "wrong state, barred or stale version"},
	}, listCommand(s, func(ctx context.Context, a enforce.Actor, id int64, in *listActionRequest) (*enforce.ListEntry, error) {
		return s.list.Renew(ctx, a, id, in.Version, in.Facts)
	}))
	s.handle(mux, "POST", "/api/v1/positive-list/{id}/remove", operation{
		Summary:     "Remove an entry with a reason",
		Description: "malicious_discharge, falsified_records and evading_supervision bar the enterprise from the list for good.",
		Roles:       rolesDecide,
		Request:     obj([]string{"version", "category", "reason"}, map[string]any{"version": version, "category": map[string]any{"enum": enforce.RemovalCategories}, "reason": str}),
		Responses:   map[string]string{"200": "removed", "400": "invalid field", "404": "no such entry", "409": "wrong state or stale version"},
	}, listCommand(s, func(ctx context.Context, a enforce.Actor, id int64, in *listActionRequest) (*enforce.ListEntry, error) {
		return s.list.Remove(ctx, a, id, in.Version, in.Category, in.Reason)
	}))
	s.handle(mux, "GET", "/public/positive-list", operation{
		Summary:     "The published positive list (no login): name, location, USCC, industry, permit number, validity, complaint channel",
		Description: "JSON by default; CSV with format=csv or Accept: text/csv.",
		Roles:       rolesPublic,
		Query:       map[string]string{"format": "json (default) or csv", "limit": "JSON only: 1..1000, default 100", "offset": "JSON only: default 0"},
		Responses:   map[string]string{"200": "list", "400": "bad query parameter"},
	}, s.handlePublicList)

	// Inspections.
	s.handle(mux, "POST", "/api/v1/warnings", operation{
		Summary:     "Record an early warning from a finding or monitoring data",
		Description: "Joins the enterprise's open off-site inspection, or opens one; a matter already inspected by another level is linked to that inspection instead of being repeated. For source finding, ref is the finding id and uscc, severity and message default to the finding's.",
		Roles:       []enforce.Role{RoleAdmin, RoleAnalyst, RoleInspector},
		Request: obj([]string{"uscc", "source", "ref", "message"}, map[string]any{"uscc": str, "level": map[string]any{"enum": enforce.Levels},
			"source": map[string]any{"enum": []string{enforce.WarningFinding, enforce.WarningMonitoring}}, "ref": str, "severity": str, "message": str}),
		Responses: map[string]string{"201": "inspection opened", "200": "joined or linked", "400": "invalid field", "404": "no such enterprise"},
	}, s.handleWarningCreate)
	s.handle(mux, "GET", "/api/v1/inspections", operation{
		Summary: "Off-site inspections; an enterprise token sees only its own", Roles: rolesOwnRead,
		Query:     map[string]string{"uscc": "one enterprise", "status": "status", "limit": "1..1000, default 100", "offset": "default 0"},
		Responses: map[string]string{"200": "inspections", "400": "bad query parameter"},
	}, s.handleInspectionList)
	s.handle(mux, "GET", "/api/v1/inspections/{id}", operation{
		Summary: "One inspection with its warnings, report, site visit and disposition", Roles: rolesOwnRead,
		Responses: map[string]string{"200": "inspection", "403": "another enterprise's inspection", "404": "no such inspection"},
	}, s.handleInspectionGet)
	s.handle(mux, "GET", "/api/v1/inspections/{id}/timeline", operation{
		Summary: "The inspection's audited steps, oldest first: who did what, when, by which rule", Roles: rolesOwnRead,
		Responses: map[string]string{"200": "timeline", "403": "another enterprise's inspection", "404": "no such inspection"},
	}, s.handleInspectionTimeline)
	s.handle(mux, "POST", "/api/v1/inspections/{id}/self-check", operation{
		Summary: "Ask the enterprise to check itself and report by a deadline", Roles: rolesInspect,
		Request:   obj([]string{"version"}, map[string]any{"version": version, "deadline": dateTime}),
		Responses: map[string]string{"200": "requested", "400": "invalid field", "404": "no such inspection", "409": "wrong state or stale version"},
	}, inspectionCommand(s, func(ctx context.Context, a enforce.Actor, id int64, in *inspectionRequest) (*enforce.Inspection, error) {
		var deadline *time.Time
		if in.Deadline != "" {
			t, err := parseTime("deadline", in.Deadline)
			if err != nil {
				return nil, err
			}
			deadline = &t
		}
		return s.inspections.RequestSelfCheck(ctx, a, id, in.Version, deadline)
	}))
	s.handle(mux, "POST", "/api/v1/inspections/{id}/proof-uploads", operation{
		Summary: "A presigned URL for the enterprise to upload a proof document of its self-check",
		Description: "The document goes to selfcheck/{uscc}/{inspection id}/{name} in the proofs bucket, which no pipeline reads. " +
			"Its media type (from the name: PDF, PNG, JPEG or TIFF), its size (at most the API's body limit) and If-None-Match: * are signed into the URL: " +
			"send the returned headers with the PUT, within 15 minutes; a proof is never replaced. Then POST to the returned record path " +
			"(/api/v1/inspections/{id}/proofs/{name}) to have its content checked and its size and SHA-256 recorded, and list the key in the report.",
		Roles: []enforce.Role{RoleEnterprise, RoleAdmin},
		Request: obj([]string{"name", "size"}, map[string]any{
			"name":         map[string]any{"type": "string", "description": "file name, e.g. report.pdf"},
			"size":         map[string]any{"type": "integer", "description": "the document's size in bytes"},
			"content_type": map[string]any{"type": "string", "description": "optional; must be the media type the name's extension gives"},
		}),
		Responses: map[string]string{"200": "upload URL and the headers to send with it", "400": "invalid name, size or content type", "403": "another enterprise's inspection",
			"404": "no such inspection", "409": "no self-check requested, or a proof of that name exists", "413": "larger than the body limit"},
	}, s.handleProofUpload)
	s.handle(mux, "POST", "/api/v1/inspections/{id}/proofs/{name}", operation{
		Summary: "Record a proof document uploaded through proof-uploads: its content is checked, its size and SHA-256 join the inspection's audited steps",
		Description: "A document whose content is not of the type its name says is removed (upload it again). A proof already recorded is answered with its record (200). " +
			"worker verify re-hashes recorded proofs.",
		Roles: []enforce.Role{RoleEnterprise, RoleAdmin},
		Responses: map[string]string{"201": "recorded: name, bucket, key, size, sha256, media_type", "200": "recorded before", "400": "invalid name, or not a PDF or image",
			"403": "another enterprise's inspection", "404": "no such inspection, or nothing uploaded under that name"},
	}, s.handleProofRecord)
	s.handle(mux, "POST", "/api/v1/inspections/{id}/report", operation{
		Summary: "The enterprise submits its written self-check report and proof", Roles: []enforce.Role{RoleEnterprise, RoleAdmin},
		Request:   obj([]string{"version", "text"}, map[string]any{"version": version, "text": str, "proof_keys": map[string]any{"type": "array", "items": str}}),
		Responses: map[string]string{"200": "submitted", "400": "invalid field", "403": "another enterprise's inspection", "404": "no such inspection", "409": "no self-check requested or stale version"},
	}, inspectionCommand(s, func(ctx context.Context, a enforce.Actor, id int64, in *inspectionRequest) (*enforce.Inspection, error) {
		return s.inspections.SubmitReport(ctx, a, id, in.Version, in.Text, in.ProofKeys)
	}))
	s.handle(mux, "POST", "/api/v1/inspections/{id}/review", operation{
		Summary: "Review the self-check report: close, or request a site visit on the off-site anomaly", Roles: rolesInspect,
		Request:   obj([]string{"version", "outcome", "notes"}, map[string]any{"version": version, "outcome": map[string]any{"enum": []string{enforce.ReviewClose, enforce.ReviewSiteVisit}}, "notes": str}),
		Responses: map[string]string{"200": "reviewed", "400": "invalid field", "404": "no such inspection", "409": "no report or stale version"},
	}, inspectionCommand(s, func(ctx context.Context, a enforce.Actor, id int64, in *inspectionRequest) (*enforce.Inspection, error) {
		return s.inspections.Review(ctx, a, id, in.Version, in.Outcome, in.Notes)
	}))
	s.handle(mux, "POST", "/api/v1/inspections/{id}/site-visit", operation{
		Summary:     "Request a site visit with a typed trigger",
		Description: "For a listed enterprise: complaint, media_report or referral, or offsite_anomaly after the self-check; approval by another user with the approver role follows. Without both it is refused.",
		Roles:       rolesInspect,
		Request:     obj([]string{"version", "trigger", "reason"}, map[string]any{"version": version, "trigger": map[string]any{"enum": enforce.Triggers}, "reason": str}),
		Responses:   map[string]string{"200": "requested", "400": "missing or inadmissible trigger", "404": "no such inspection", "409": "wrong state or stale version"},
	}, inspectionCommand(s, func(ctx context.Context, a enforce.Actor, id int64, in *inspectionRequest) (*enforce.Inspection, error) {
		return s.inspections.RequestSiteVisit(ctx, a, id, in.Version, in.Trigger, in.Reason)
	}))
	s.handle(mux, "POST", "/api/v1/inspections/{id}/approve", operation{
		Summary: "Approve the requested site visit (head of the enforcement body; not the requester)", Roles: []enforce.Role{RoleApprover},
		Request:   obj([]string{"version"}, map[string]any{"version": version}),
		Responses: map[string]string{"200": "approved", "404": "no such inspection", "409": "nothing to approve, self-approval, or stale version"},
	}, inspectionCommand(s, func(ctx context.Context, a enforce.Actor, id int64, in *inspectionRequest) (*enforce.Inspection, error) {
		return s.inspections.ApproveSiteVisit(ctx, a, id, in.Version)
	}))
	s.handle(mux, "POST", "/api/v1/inspections/{id}/site-visit/record", operation{
		Summary: "Record the approved site visit with every checklist item answered", Roles: []enforce.Role{RoleInspector},
		Request: obj([]string{"version", "checklist"}, map[string]any{"version": version, "checklist": map[string]any{"type": "array", "items": obj([]string{"item", "result"}, map[string]any{
			"item": str, "result": map[string]any{"enum": []string{"compliant", "non_compliant", "not_applicable"}}, "note": str})}}),
		Responses: map[string]string{"200": "recorded", "400": "checklist incomplete", "404": "no such inspection", "409": "not approved or stale version"},
	}, inspectionCommand(s, func(ctx context.Context, a enforce.Actor, id int64, in *inspectionRequest) (*enforce.Inspection, error) {
		return s.inspections.RecordSiteVisit(ctx, a, id, in.Version, in.Checklist)
	}))
	s.handle(mux, "POST", "/api/v1/inspections/{id}/close", operation{
		Summary:     "Close the inspection, with a disposition when a violation was found",
		Description: "The rule applied is recorded: no penalty for a listed enterprise's first, minor, promptly corrected violation or a self-reported non-wilful one fixed without harm; for its unreported exceedance or a malicious violation, strict penalty, removal from the list, special supervision and public disclosure together.",
		Roles:       rolesDecide,
		Request: obj([]string{"version", "note"}, map[string]any{"version": version, "note": str, "violation": obj(nil, map[string]any{
			"first_violation": boolean, "minor": boolean, "promptly_corrected": boolean, "self_reported": boolean, "non_wilful": boolean,
			"fixed_in_time": boolean, "harm": boolean, "unreported_exceedance": boolean, "malicious": boolean, "suspected_crime": boolean})}),
		Responses: map[string]string{"200": "closed", "400": "invalid field", "404": "no such inspection", "409": "wrong state or stale version"},
	}, inspectionCommand(s, func(ctx context.Context, a enforce.Actor, id int64, in *inspectionRequest) (*enforce.Inspection, error) {
		return s.inspections.Close(ctx, a, id, in.Version, in.Note, in.Violation)
	}))

	// Double random, one public.
	s.handle(mux, "POST", "/api/v1/draws", operation{
		Summary:     "Draw inspection targets and inspectors (双随机) from the pool with a published seed",
		Description: "Omit seed to have one generated; the result, seed and algorithm are published at /public/draws/{id}.",
		Roles:       rolesDecide,
		Request: obj([]string{"inspectors"}, map[string]any{"seed": map[string]any{"type": "string", "description": "16 hex digits"},
			"inspectors": map[string]any{"type": "array", "items": obj([]string{"id"}, map[string]any{"id": str, "conflicts": map[string]any{"type": "array", "items": str}})}}),
		Responses: map[string]string{"201": "drawn", "400": "invalid field"},
	}, s.handleDrawCreate)
	s.handle(mux, "GET", "/api/v1/draws", operation{
		Summary: "Draws, newest first", Roles: rolesRead,
		Query:     map[string]string{"limit": "1..1000, default 100", "offset": "default 0"},
		Responses: map[string]string{"200": "draws", "400": "bad query parameter"},
	}, s.handleDrawList)
	s.handle(mux, "GET", "/api/v1/draws/{id}", operation{
		Summary: "One draw as recorded: its result with the pool, the inspectors and their conflicts, and who ran it", Roles: rolesRead,
		Responses: map[string]string{"200": "draw", "400": "bad id", "404": "no such draw"},
	}, recordByID(s, func(ctx context.Context, id int64) (*enforce.StoredDraw, error) {
		return s.Enforce.FindDrawByID(ctx, id)
	}))
	s.handle(mux, "GET", "/public/draws/{id}", operation{
		Summary:     "A published draw (no login): date, seed, algorithm, ratios, pool size and the drawn enterprises (name, USCC, mode, inspectors)",
		Description: "Not the pool, its groups or the inspectors' conflicts: inputs_sha256 is the SHA-256 of those inputs as recorded: the compact JSON {\"pool\":…,\"inspectors\":…} of result.pool and result.inspectors of GET /api/v1/draws/{id}.",
		Roles:       rolesPublic,
		Responses:   map[string]string{"200": "draw", "400": "bad id", "404": "no such draw"},
	}, recordByID(s, func(ctx context.Context, id int64) (*enforce.PublicDraw, error) { return s.Enforce.PublicDraw(ctx, id) }))

	s.handle(mux, "GET", "/public/notices", operation{
		Summary: "Enterprises on public notice before listing (no login), with the notice period and where to object", Roles: rolesPublic,
		Responses: map[string]string{"200": "notices"},
	}, s.handlePublicNotices)
	s.handle(mux, "GET", "/public/disclosures", operation{
		Summary: "Published dispositions (no login): strict penalties with public disclosure under 四.10", Roles: rolesPublic,
		Query:     map[string]string{"limit": "1..1000, default 100", "offset": "default 0"},
		Responses: map[string]string{"200": "disclosures", "400": "bad query parameter"},
	}, s.handlePublicDisclosures)

	// Audit and statistics.
	s.handle(mux, "GET", "/api/v1/audit", operation{
		Summary: "Audit log entries, newest first", Roles: rolesDecide,
		Query:     map[string]string{"subject": "subject prefix, e.g. enterprise/9111 or inspection/3", "limit": "1..1000, default 100", "offset": "default 0"},
		Responses: map[string]string{"200": "entries", "400": "bad query parameter"},
	}, s.handleAuditList)
	s.handle(mux, "GET", "/api/v1/audit/verify", operation{
		Summary: "Recompute the audit hash chain and name the first broken entry", Roles: rolesDecide,
		Description: "Every entry's HMAC under the audit keys, the links between entries, the anchor after the entries written before keys, " +
			"and the latest signed checkpoint in the evidence bucket: an edited entry, a chain recomputed without the key and entries deleted " +
			"up to the last checkpoint are all reported; entries deleted after it (at most OFFSITE_AUDIT_CHECKPOINT_EVERY, and those since the nightly checkpoint) are not.",
		Responses: map[string]string{"200": "intact (ok true) or broken (ok false, first_broken); checked, legacy_until, checkpoint (seq, hash, at of the latest head)"},
	}, s.handleAuditVerify)
	s.handle(mux, "GET", "/api/v1/stats", operation{
		Summary:     "Statistics for supervisors",
		Description: "Site inspections of listed enterprises, waived penalties, warnings by zone and month, response times to self-check requests, list entries by status.",
		Roles:       rolesSupervise,
		Query:       map[string]string{"from": "RFC 3339 or YYYY-MM-DD, default a year ago", "to": "default now"},
		Responses:   map[string]string{"200": "statistics", "400": "bad query parameter"},
	}, s.handleStats)
}

// writeJSONCompact writes v as unindented JSON, for the routes under load.
func writeJSONCompact(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
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
		return time.Time{}, offsite.Invalid(field, "is required (RFC 3339 time or YYYY-MM-DD)")
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

// ---------------------------------------------------------------- enterprises

type enterpriseRequest struct {
	USCC             string      `json:"uscc"`
	Name             string      `json:"name"`
	Industry         string      `json:"industry"`
	PermitNo         string      `json:"permit_no"`
	KeyDischarger    bool        `json:"key_discharger"`
	Address          string      `json:"address"`
	Zone             string      `json:"zone"`
	Location         *[2]float64 `json:"location"`
	LocationGCJ02    bool        `json:"location_gcj02"`
	ComplaintChannel string      `json:"complaint_channel"`
	LegacyOverride   bool        `json:"legacy_override"`
	Version          int         `json:"version"`
}

// enterprise validates the request and returns the enterprise it describes.
func (in *enterpriseRequest) enterprise() (*enforce.Enterprise, error) {
	e := &enforce.Enterprise{USCC: in.USCC, Name: in.Name, Industry: in.Industry, PermitNo: in.PermitNo,
		KeyDischarger: in.KeyDischarger, Address: in.Address, Zone: in.Zone, ComplaintChannel: in.ComplaintChannel, Version: in.Version}
	if in.Location != nil {
		lon, lat := in.Location[0], in.Location[1]
		if in.LocationGCJ02 {
			lon, lat = geo.GCJ02ToWGS84(lon, lat)
		}
		e.Location = &orb.Point{lon, lat}
	}
	return e, e.Validate(in.LegacyOverride)
}

// decodeEnterprise decodes and validates an enterprise request body.
func decodeEnterprise(body []byte) (*enforce.Enterprise, error) {
	var in enterpriseRequest
	if err := strictUnmarshal(body, &in); err != nil {
		return nil, err
	}
	return in.enterprise()
}

// strictUnmarshal decodes one JSON value, rejecting unknown fields and trailing data.
func strictUnmarshal(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return offsite.Invalid("body", "unexpected data after the JSON value")
	}
	return nil
}

func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return io.ReadAll(http.MaxBytesReader(w, r.Body, s.MaxBodyBytes))
}

func (s *Server) handleEnterpriseCreate(w http.ResponseWriter, r *http.Request) {
	body, err := s.readBody(w, r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	e, err := decodeEnterprise(body)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.Enforce.CreateEnterprise(r.Context(), PrincipalFromContext(r.Context()).Actor(), e); err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, e)
}

func (s *Server) handleEnterpriseUpdate(w http.ResponseWriter, r *http.Request) {
	body, err := s.readBody(w, r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	e, err := decodeEnterprise(body)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if e.USCC != r.PathValue("uscc") {
		s.Error(w, r, offsite.Invalid("uscc", "%q differs from the path's %q", e.USCC, r.PathValue("uscc")))
		return
	}
	if e.Version < 1 {
		s.Error(w, r, offsite.Invalid("version", "is required: the version read"))
		return
	}
	if err := s.Enforce.UpdateEnterprise(r.Context(), PrincipalFromContext(r.Context()).Actor(), e); err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

func (s *Server) handleEnterpriseGet(w http.ResponseWriter, r *http.Request) {
	uscc := r.PathValue("uscc")
	if err := checkOwn(r.Context(), uscc); err != nil {
		s.Error(w, r, err)
		return
	}
	e, err := s.Enforce.FindEnterpriseByUSCC(r.Context(), uscc)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

// enterpriseFilter reads the enterprise search parameters: q, zone, industry, list_status,
// bbox, limit and offset.
func enterpriseFilter(r *http.Request) (enforce.EnterpriseFilter, error) {
	offset, limit, err := pageParams(r)
	if err != nil {
		return enforce.EnterpriseFilter{}, err
	}
	q := r.URL.Query()
	f := enforce.EnterpriseFilter{Query: q.Get("q"), Zone: q.Get("zone"), Industry: q.Get("industry"), ListStatus: enforce.ListStatus(q.Get("list_status")), Offset: offset, Limit: limit}
	if f.ListStatus != "" && f.ListStatus != "none" && !slices.Contains(enforce.ListStatuses, f.ListStatus) {
		return f, offsite.Invalid("list_status", "must be one of %s or none, got %q", strings.Join(enforce.Names(enforce.ListStatuses), ", "), f.ListStatus)
	}
	bbox, err := bboxParam(r)
	if err != nil {
		return f, err
	}
	if bbox != nil {
		b := bbox.Bound()
		f.Bbox = &b
	}
	return f, nil
}

func (s *Server) handleEnterpriseList(w http.ResponseWriter, r *http.Request) {
	f, err := enterpriseFilter(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	es, total, err := s.Enforce.FindEnterprises(r.Context(), f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if es == nil {
		es = []*enforce.Enterprise{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"enterprises": es, "total": total, "offset": f.Offset, "limit": f.Limit})
}

// importColumns is the CSV header of a bulk import; legacy_override is optional.
var importColumns = []string{"uscc", "name", "industry", "permit_no", "key_discharger", "address", "zone", "lon", "lat", "complaint_channel"}

// parseEnterpriseCSV reads and validates every row; it returns all row errors together.
func parseEnterpriseCSV(body []byte) ([]*enforce.Enterprise, []enforce.ImportRowError, error) {
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")) // Excel's UTF-8 BOM
	cr := csv.NewReader(bytes.NewReader(body))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err == io.EOF {
		return nil, nil, offsite.Invalid("body", "is empty; a CSV with the header %s is required", strings.Join(importColumns, ","))
	}
	if err != nil {
		return nil, nil, offsite.Invalid("body", "header: %v", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	for _, c := range importColumns {
		if _, ok := col[c]; !ok {
			return nil, nil, offsite.Invalid("header", "column %q is missing; the header is %s[,legacy_override]", c, strings.Join(importColumns, ","))
		}
	}
	var out []*enforce.Enterprise
	var bad []enforce.ImportRowError
	seen := map[string]int{}
	for row := 1; ; row++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			bad = append(bad, enforce.ImportRowError{Row: row, Field: "row", Problem: err.Error()})
			var pe *csv.ParseError
			if errors.As(err, &pe) && pe.Err != csv.ErrFieldCount {
				break // the rest of the file cannot be trusted
			}
			continue
		}
		get := func(c string) string {
			if i, ok := col[c]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		in := enterpriseRequest{USCC: get("uscc"), Name: get("name"), Industry: get("industry"), PermitNo: get("permit_no"),
			Address: get("address"), Zone: get("zone"), ComplaintChannel: get("complaint_channel")}
		rowErr := func(field, format string, args ...any) {
			bad = append(bad, enforce.ImportRowError{Row: row, USCC: in.USCC, Field: field, Problem: fmt.Sprintf(format, args...)})
		}
		okRow := true
		for _, c := range []string{"key_discharger", "legacy_override"} {
			v := get(c)
			if v == "" {
				continue
			}
			b, err := strconv.ParseBool(v)
			if err != nil {
				rowErr(c, "%q is not true or false", v)
				okRow = false
			}
			if c == "key_discharger" {
				in.KeyDischarger = b
			} else {
				in.LegacyOverride = b
			}
		}
		if lon, lat := get("lon"), get("lat"); lon != "" || lat != "" {
			x, err1 := strconv.ParseFloat(lon, 64)
			y, err2 := strconv.ParseFloat(lat, 64)
			if err1 != nil || err2 != nil {
				rowErr("lon", "lon %q and lat %q must both be numbers", lon, lat)
				okRow = false
			} else {
				in.Location = &[2]float64{x, y}
			}
		}
		if !okRow {
			continue
		}
		e, err := in.enterprise()
		if err != nil {
			var fe *offsite.FieldError
			if errors.As(err, &fe) {
				rowErr(fe.Field, "%s", fe.Problem)
			} else {
				rowErr("uscc", "%s", strings.TrimPrefix(err.Error(), "uscc: "))
			}
			continue
		}
		if prev, dup := seen[e.USCC]; dup {
			rowErr("uscc", "%s is also on row %d", e.USCC, prev)
			continue
		}
		seen[e.USCC] = row
		out = append(out, e)
	}
	if len(out) == 0 && len(bad) == 0 {
		return nil, nil, offsite.Invalid("body", "has a header but no rows")
	}
	return out, bad, nil
}

func (s *Server) writeImportErrors(w http.ResponseWriter, rows []enforce.ImportRowError) {
	var body errorBody
	body.Error.Code = "invalid"
	body.Error.Field = "rows"
	body.Error.Message = (&enforce.ImportError{Rows: rows}).Error()
	writeJSON(w, http.StatusBadRequest, map[string]any{"error": body.Error, "rows": rows})
}

func (s *Server) handleEnterpriseImport(w http.ResponseWriter, r *http.Request) {
	body, err := s.readBody(w, r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	es, bad, err := parseEnterpriseCSV(body)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if len(bad) > 0 {
		s.writeImportErrors(w, bad)
		return
	}
	err = s.Enforce.ImportEnterprises(r.Context(), PrincipalFromContext(r.Context()).Actor(), es)
	var ie *enforce.ImportError
	if errors.As(err, &ie) {
		s.writeImportErrors(w, ie.Rows)
		return
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"imported": len(es)})
}

func (s *Server) handleEnterpriseParcels(w http.ResponseWriter, r *http.Request) {
	body, err := s.readBody(w, r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	var opts []geo.Option
	for name, opt := range map[string]geo.Option{"gcj02": geo.WithGCJ02(), "repair": geo.WithRepair()} {
		on, err := boolParam(r, name)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		if on {
			opts = append(opts, opt)
		}
	}
	parcels, err := parseParcels(body, opts...)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	uscc := r.PathValue("uscc")
	if err := s.Enforce.SetEnterpriseParcels(r.Context(), PrincipalFromContext(r.Context()).Actor(), uscc, parcels); err != nil {
		s.Error(w, r, err)
		return
	}
	ids := make([]string, len(parcels))
	for i, p := range parcels {
		ids[i] = p.ID
	}
	writeJSON(w, http.StatusOK, map[string]any{"stored": len(parcels), "parcel_ids": ids})
}

func (s *Server) handleEnterpriseParcelsGet(w http.ResponseWriter, r *http.Request) {
	uscc := r.PathValue("uscc")
	if err := checkOwn(r.Context(), uscc); err != nil {
		s.Error(w, r, err)
		return
	}
	ev, err := s.Enforce.EnterpriseEvidence(r.Context(), PrincipalFromContext(r.Context()).Actor(), uscc)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	fc := geojson.NewFeatureCollection()
	for _, e := range ev {
		fc.Append(parcelFeature(e.Parcel))
	}
	writeGeoJSON(w, fc)
}

// evidenceFinding is a finding with its geometry as GeoJSON.
type evidenceFinding struct {
	*offsite.Finding
	Geometry json.RawMessage `json:"geometry"`
}

// evidenceObjectPath prefixes an evidence object key to make its download link.
const evidenceObjectPath = "/api/v1/evidence-objects/"

func (s *Server) handleEvidenceObject(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	if err := offsite.CheckObjectKey(key); err != nil {
		s.Error(w, r, offsite.Invalid("key", "%v", err))
		return
	}
	ctx := r.Context()
	// Only what exists is audited as downloaded, and presigned.
	if _, err := s.Store.StatEvidence(ctx, key); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.Enforce.Audit(ctx, PrincipalFromContext(ctx).Actor(), enforce.AuditEvidenceDownload, "evidence/"+key, map[string]any{"key": key}); err != nil {
		s.Error(w, r, err)
		return
	}
	u, err := s.Store.PresignEvidenceDownload(ctx, key, 15*time.Minute)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	http.Redirect(w, r, u.String(), http.StatusFound)
}

type evidenceClip struct {
	*offsite.Clip
	COGURL       string `json:"cog_url,omitempty"`
	QuickLookURL string `json:"quicklook_url,omitempty"`
}

func (s *Server) handleEnterpriseEvidence(w http.ResponseWriter, r *http.Request) {
	uscc := r.PathValue("uscc")
	ev, err := s.Enforce.EnterpriseEvidence(r.Context(), PrincipalFromContext(r.Context()).Actor(), uscc)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	type parcelOut struct {
		ParcelID string            `json:"parcel_id"`
		Name     string            `json:"name,omitempty"`
		Geometry json.RawMessage   `json:"geometry"`
		Findings []evidenceFinding `json:"findings"`
		Clips    []evidenceClip    `json:"clips"`
	}
	out := make([]parcelOut, 0, len(ev))
	for _, e := range ev {
		g, err := geojsonGeometry(e.Parcel.Geometry).MarshalJSON()
		if err != nil {
			s.Error(w, r, err)
			return
		}
		po := parcelOut{ParcelID: e.Parcel.ID, Name: e.Parcel.Name, Geometry: g, Clips: make([]evidenceClip, 0, len(e.Clips)),
			Findings: make([]evidenceFinding, 0, len(e.Findings))}
		for _, f := range e.Findings {
			fg, err := geojsonGeometry(f.Geometry).MarshalJSON()
			if err != nil {
				s.Error(w, r, err)
				return
			}
			po.Findings = append(po.Findings, evidenceFinding{Finding: f, Geometry: fg})
		}
		for _, c := range e.Clips {
			// Links through the API, presigned when followed: signing twenty URLs per view
			// cost more than the rest of the request.
			po.Clips = append(po.Clips, evidenceClip{Clip: c, COGURL: evidenceObjectPath + c.COGKey, QuickLookURL: evidenceObjectPath + c.QuickLookKey})
		}
		out = append(out, po)
	}
	writeJSONCompact(w, http.StatusOK, map[string]any{"uscc": uscc, "parcels": out})
}

func (s *Server) handleHealthVisitList(w http.ResponseWriter, r *http.Request) {
	uscc := r.PathValue("uscc")
	if err := checkOwn(r.Context(), uscc); err != nil {
		s.Error(w, r, err)
		return
	}
	vs, err := s.Enforce.FindHealthVisits(r.Context(), uscc)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"uscc": uscc, "visits": vs})
}

func (s *Server) handleHealthVisitCreate(w http.ResponseWriter, r *http.Request) {
	var in struct {
		VisitedAt string `json:"visited_at"`
		Notes     string `json:"notes"`
	}
	if err := s.decodeJSON(w, r, &in); err != nil {
		s.Error(w, r, err)
		return
	}
	at, err := parseTime("visited_at", in.VisitedAt)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if at.After(s.Now().Add(time.Hour)) {
		s.Error(w, r, offsite.Invalid("visited_at", "is in the future"))
		return
	}
	p := PrincipalFromContext(r.Context())
	v := &enforce.HealthVisit{USCC: r.PathValue("uscc"), VisitedAt: at, Inspector: p.Name, Notes: in.Notes}
	if err := s.Enforce.RecordHealthVisit(r.Context(), p.Actor(), v); err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, v)
}

// ---------------------------------------------------------------- positive list

func (s *Server) handleConfig(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.EnforceConfig)
}

type evaluateRequest struct {
	USCC  string        `json:"uscc"`
	Facts enforce.Facts `json:"facts"`
}

func decodeEvaluate(body []byte, needUSCC bool) (*evaluateRequest, error) {
	var in evaluateRequest
	if err := strictUnmarshal(body, &in); err != nil {
		return nil, err
	}
	if needUSCC && in.USCC == "" {
		return nil, offsite.Invalid("uscc", "is required")
	}
	if in.Facts == nil {
		return nil, offsite.Invalid("facts", "is required: an object of fact name to value")
	}
	for k, v := range in.Facts {
		switch v.(type) {
		case bool, float64, string:
		default:
			return nil, offsite.Invalid("facts."+k, "must be a boolean, number or string")
		}
	}
	return &in, nil
}

func (s *Server) handleListEvaluate(w http.ResponseWriter, r *http.Request) {
	body, err := s.readBody(w, r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	in, err := decodeEvaluate(body, false)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, enforce.Evaluate(s.EnforceConfig.Admission, in.Facts))
}

func (s *Server) handleListPropose(w http.ResponseWriter, r *http.Request) {
	body, err := s.readBody(w, r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	in, err := decodeEvaluate(body, true)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	e, err := s.list.Propose(r.Context(), PrincipalFromContext(r.Context()).Actor(), in.USCC, in.Facts)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, e)
}

func (s *Server) handleListList(w http.ResponseWriter, r *http.Request) {
	offset, limit, err := pageParams(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	st := enforce.ListStatus(r.URL.Query().Get("status"))
	if st != "" && !slices.Contains(enforce.ListStatuses, st) {
		s.Error(w, r, offsite.Invalid("status", "must be one of %s, got %q", strings.Join(enforce.Names(enforce.ListStatuses), ", "), st))
		return
	}
	es, total, err := s.Enforce.FindListEntries(r.Context(), s.EnforceConfig, enforce.ListFilter{USCC: r.URL.Query().Get("uscc"), Status: st, Offset: offset, Limit: limit})
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if es == nil {
		es = []*enforce.ListEntry{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": es, "total": total, "offset": offset, "limit": limit})
}

func (s *Server) handleListGet(w http.ResponseWriter, r *http.Request) {
	id, err := idParam(r, "id")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	e, err := s.Enforce.FindListEntryByID(r.Context(), s.EnforceConfig, id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

// listActionRequest is the body of every list entry transition; each uses its own fields.
type listActionRequest struct {
	Version     int           `json:"version"`
	NoticeStart string        `json:"notice_start"`
	NoticeEnd   string        `json:"notice_end"`
	Text        string        `json:"text"`
	RaisedBy    string        `json:"raised_by"`
	Outcome     string        `json:"outcome"`
	Resolution  string        `json:"resolution"`
	ValidFrom   string        `json:"valid_from"`
	Facts       enforce.Facts `json:"facts"`
	Category    string        `json:"category"`
	Reason      string        `json:"reason"`
}

// versionedBody is the body of a transition: it carries the version of the record as read.
type versionedBody interface{ readVersion() int }

func (in *listActionRequest) readVersion() int { return in.Version }
func (in *inspectionRequest) readVersion() int { return in.Version }

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
		return nil, offsite.Invalid("version", "is required: the version of the record as read (optimistic concurrency)")
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
		body, err := s.readBody(w, r)
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

// listCommand makes the handler of a list entry transition: decode the body, run the command
// as the request's principal, answer with the entry.
func listCommand(s *Server, run func(ctx context.Context, a enforce.Actor, id int64, in *listActionRequest) (*enforce.ListEntry, error)) http.HandlerFunc {
	return versionedAction(s, func(r *http.Request, id int64, in *listActionRequest) (any, error) {
		return run(r.Context(), PrincipalFromContext(r.Context()).Actor(), id, in)
	})
}

func (s *Server) handleListExpire(w http.ResponseWriter, r *http.Request) {
	n, err := s.list.Expire(r.Context(), PrincipalFromContext(r.Context()).Actor())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"expired": n})
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
		writeCSV(w, "positive-list.csv", enforce.PublicationCSVHeader, rows)
		return
	}
	writeJSONCompact(w, http.StatusOK, map[string]any{"enterprises": pub, "total": total, "offset": offset, "limit": limit,
		"complaint": "complaint channels are listed per enterprise; 12369 is the national hotline"})
}

func (s *Server) handleListExport(w http.ResponseWriter, r *http.Request) {
	asCSV, err := wantsCSV(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if r.URL.Query().Get("format") == "" {
		asCSV = true
	}
	ctx := r.Context()
	var entries []*enforce.ListEntry
	for off := 0; ; off += 1000 {
		es, total, err := s.Enforce.FindListEntries(ctx, s.EnforceConfig, enforce.ListFilter{Offset: off, Limit: 1000})
		if err != nil {
			s.Error(w, r, err)
			return
		}
		entries = append(entries, es...)
		if off+1000 >= total {
			break
		}
	}
	type row struct {
		Entry      *enforce.ListEntry  `json:"entry"`
		Enterprise *enforce.Enterprise `json:"enterprise"`
	}
	var rows []row
	for _, e := range entries {
		ent, err := s.Enforce.FindEnterpriseByUSCC(ctx, e.USCC)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		rows = append(rows, row{e, ent})
	}
	if err := s.Enforce.Audit(ctx, PrincipalFromContext(ctx).Actor(), enforce.AuditListExport, "list-entry/*", map[string]any{"entries": len(rows), "province": s.EnforceConfig.Province}); err != nil {
		s.Error(w, r, err)
		return
	}
	if !asCSV {
		writeJSON(w, http.StatusOK, map[string]any{"province": s.EnforceConfig.Province, "exported_at": s.Now(), "entries": rows})
		return
	}
	day := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.In(cst).Format("2006-01-02")
	}
	var recs [][]string
	for _, x := range rows {
		e, ent := x.Entry, x.Enterprise
		recs = append(recs, []string{strconv.FormatInt(e.ID, 10), ent.Name, ent.Address, ent.USCC, ent.Industry, ent.PermitNo, string(e.Status),
			e.Admission.Path, day(e.NoticeStart), day(e.NoticeEnd), day(e.ValidFrom), day(e.ValidTo), e.HealthCheck,
			e.RemovalCategory, e.RemovalReason, ent.ComplaintChannel})
	}
	writeCSV(w, "positive-list-filing.csv", []string{"entry_id", "name", "address", "uscc", "industry", "permit_no", "status", "admission_path",
		"notice_start", "notice_end", "valid_from", "valid_to", "health_check", "removal_category", "removal_reason", "complaint_channel"}, recs)
}

// ---------------------------------------------------------------- inspections

type warningRequest struct {
	USCC     string        `json:"uscc"`
	Level    enforce.Level `json:"level"`
	Source   string        `json:"source"`
	Ref      string        `json:"ref"`
	Severity string        `json:"severity"`
	Message  string        `json:"message"`
}

// decodeWarning decodes a warning; its level defaults to level, the configured one.
func decodeWarning(body []byte, level enforce.Level) (*warningRequest, *enforce.Warning, error) {
	var in warningRequest
	if err := strictUnmarshal(body, &in); err != nil {
		return nil, nil, err
	}
	if in.USCC == "" && in.Source != enforce.WarningFinding {
		return nil, nil, offsite.Invalid("uscc", "is required (for a finding it is taken from the finding's parcel)")
	}
	if in.Level == "" {
		in.Level = level
	}
	if err := enforce.CheckLevel(in.Level); err != nil {
		return nil, nil, err
	}
	w := &enforce.Warning{Source: in.Source, Ref: in.Ref, Severity: in.Severity, Message: in.Message}
	return &in, w, w.Validate()
}

func (s *Server) handleWarningCreate(w http.ResponseWriter, r *http.Request) {
	body, err := s.readBody(w, r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	in, warn, err := decodeWarning(body, s.EnforceConfig.Level)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	insp, outcome, err := s.inspections.OpenWarning(r.Context(), PrincipalFromContext(r.Context()).Actor(), in.USCC, in.Level, warn)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	code := http.StatusOK
	if outcome == enforce.WarningOpened {
		code = http.StatusCreated
	}
	writeJSON(w, code, map[string]any{"outcome": outcome, "inspection": insp})
}

func (s *Server) handleInspectionList(w http.ResponseWriter, r *http.Request) {
	offset, limit, err := pageParams(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	f := enforce.InspectionFilter{USCC: r.URL.Query().Get("uscc"), Status: enforce.InspectionStatus(r.URL.Query().Get("status")), Offset: offset, Limit: limit}
	if p := PrincipalFromContext(r.Context()); p.Role == RoleEnterprise {
		if f.USCC != "" && f.USCC != p.USCC {
			s.Error(w, r, checkOwn(r.Context(), f.USCC))
			return
		}
		f.USCC = p.USCC
	}
	ins, total, err := s.Enforce.FindInspections(r.Context(), f)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if ins == nil {
		ins = []*enforce.Inspection{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"inspections": ins, "total": total, "offset": offset, "limit": limit})
}

// findOwnInspection reads an inspection the principal may see.
func (s *Server) findOwnInspection(r *http.Request) (*enforce.Inspection, error) {
	id, err := idParam(r, "id")
	if err != nil {
		return nil, err
	}
	in, err := s.Enforce.FindInspectionByID(r.Context(), id)
	if err != nil {
		if errors.Is(err, offsite.ErrNotFound) && PrincipalFromContext(r.Context()).Role == RoleEnterprise {
			return nil, fmt.Errorf("an enterprise token reaches only its own inspections: %w", offsite.ErrForbidden)
		}
		return nil, err
	}
	return in, checkOwn(r.Context(), in.USCC)
}

func (s *Server) handleInspectionGet(w http.ResponseWriter, r *http.Request) {
	in, err := s.findOwnInspection(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, in)
}

func (s *Server) handleInspectionTimeline(w http.ResponseWriter, r *http.Request) {
	in, err := s.findOwnInspection(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	subject := fmt.Sprintf("inspection/%d", in.ID)
	es, _, err := s.Enforce.FindAudit(r.Context(), subject, 0, 1000)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	steps := []*enforce.AuditEntry{}
	for i := len(es) - 1; i >= 0; i-- { // FindAudit is newest first; subjects are prefixes
		if es[i].Subject == subject {
			steps = append(steps, es[i])
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"inspection": in.ID, "steps": steps})
}

// inspectionRequest is the body of every inspection transition; each uses its own fields.
type inspectionRequest struct {
	Version   int                     `json:"version"`
	Deadline  string                  `json:"deadline"`
	Text      string                  `json:"text"`
	ProofKeys []string                `json:"proof_keys"`
	Outcome   string                  `json:"outcome"`
	Notes     string                  `json:"notes"`
	Trigger   enforce.Trigger         `json:"trigger"`
	Reason    string                  `json:"reason"`
	Checklist []enforce.ChecklistItem `json:"checklist"`
	Note      string                  `json:"note"`
	Violation *enforce.Violation      `json:"violation"`
}

// inspectionCommand makes the handler of an inspection transition: decode the body, run the
// command as the request's principal, answer with the inspection.
func inspectionCommand(s *Server, run func(ctx context.Context, a enforce.Actor, id int64, in *inspectionRequest) (*enforce.Inspection, error)) http.HandlerFunc {
	return versionedAction(s, func(r *http.Request, id int64, in *inspectionRequest) (any, error) {
		return run(r.Context(), PrincipalFromContext(r.Context()).Actor(), id, in)
	})
}

// ---------------------------------------------------------------- draws

type drawRequest struct {
	Seed       string              `json:"seed"`
	Inspectors []enforce.Inspector `json:"inspectors"`
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
		return 0, false, nil, offsite.Invalid("inspectors", "is required: the inspectors of the draw")
	}
	seen := map[string]bool{}
	for i, x := range in.Inspectors {
		if strings.TrimSpace(x.ID) == "" {
			return 0, false, nil, offsite.Invalid(fmt.Sprintf("inspectors[%d].id", i), "is required")
		}
		if seen[x.ID] {
			return 0, false, nil, offsite.Invalid(fmt.Sprintf("inspectors[%d].id", i), "%q is listed twice", x.ID)
		}
		seen[x.ID] = true
	}
	return seed, haveSeed, in.Inspectors, nil
}

func (s *Server) handleDrawCreate(w http.ResponseWriter, r *http.Request) {
	body, err := s.readBody(w, r)
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
	d, err := s.Enforce.CreateDraw(r.Context(), PrincipalFromContext(r.Context()).Actor(), s.EnforceConfig.Draw, seed, ins)
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
	ds, total, err := s.Enforce.FindDraws(r.Context(), offset, limit)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if ds == nil {
		ds = []*enforce.StoredDraw{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"draws": ds, "total": total})
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

// ---------------------------------------------------------------- audit, statistics

func (s *Server) handleAuditList(w http.ResponseWriter, r *http.Request) {
	offset, limit, err := pageParams(r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	es, total, err := s.Enforce.FindAudit(r.Context(), r.URL.Query().Get("subject"), offset, limit)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if es == nil {
		es = []*enforce.AuditEntry{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": es, "total": total})
}

func (s *Server) handleAuditVerify(w http.ResponseWriter, r *http.Request) {
	rep, err := s.Enforce.VerifyAudit(r.Context())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		OK bool `json:"ok"`
		*enforce.AuditReport
	}{rep.FirstBroken == nil, rep})
}

func (s *Server) handleStats(w http.ResponseWriter, r *http.Request) {
	now := s.Now()
	from, to := now.AddDate(-1, 0, 0), now
	for name, dst := range map[string]*time.Time{"from": &from, "to": &to} {
		if v := r.URL.Query().Get(name); v != "" {
			t, err := parseTime(name, v)
			if err != nil {
				s.Error(w, r, err)
				return
			}
			*dst = t
		}
	}
	if !from.Before(to) {
		s.Error(w, r, offsite.Invalid("from", "must be before to"))
		return
	}
	st, err := s.Enforce.Stats(r.Context(), from, to)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}
