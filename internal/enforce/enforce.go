// Package enforce holds the rules of the enforcement procedure of the 2021 guidance of the
// Ministry of Ecology and Environment on positive-list management and differentiated
// enforcement (DESIGN.md section 6; the Chinese text is in ../shared/policy/): enterprises and
// their identifiers, the positive list and its lifecycle, health-check visits, off-site
// inspections and site visits, dispositions, the double-random draw, the audit hash chain and
// the province's configuration.
//
// Everything here is a pure function of its inputs (the time is always a parameter); storage
// lives in internal/postgres and HTTP in internal/httpapi. The package imports no adapter.
package enforce

import (
	"strings"
	"time"

	"github.com/paulmach/orb"

	"github.com/offsite/offsite"
)

// Enterprise is a regulated unit, addressed by its unified social credit code.
type Enterprise struct {
	USCC string `json:"uscc"`
	Name string `json:"name"`
	// Industry is a GB/T 4754-2017 code: a section letter, optionally followed by the 2-,
	// 3- or 4-digit division, group or class code (e.g. "C3120"), or the digits alone.
	Industry string `json:"industry"`
	// PermitNo is the discharge permit number or the discharge registration number.
	PermitNo         string     `json:"permit_no"`
	KeyDischarger    bool       `json:"key_discharger"`
	Address          string     `json:"address"`
	Zone             string     `json:"zone,omitempty"` // industrial zone or district, for statistics
	Location         *orb.Point `json:"location,omitempty"`
	ComplaintChannel string     `json:"complaint_channel"`
	// LegacyUSCC is set when the USCC fails the GB 32100 check and was admitted by an
	// explicit, audited override.
	LegacyUSCC bool `json:"legacy_uscc"`
	// Barred is set for good by a removal from the list for malicious discharge, falsified
	// records or evading supervision (二.4).
	Barred       bool   `json:"barred"`
	BarredReason string `json:"barred_reason,omitempty"`
	// SpecialSupervision marks a special supervision target of the double-random pool (四.10).
	SpecialSupervision bool `json:"special_supervision"`
	// ListStatus is the effective status of the enterprise's current list entry, or "" when
	// it has none. Computed on read.
	ListStatus ListStatus `json:"list_status,omitempty"`
	// AgencyID is the agency the enterprise belongs to (issue 16); 0 on input means the
	// actor's agency. AgencyPath is that agency's path from its province down (computed).
	AgencyID   int64     `json:"agency_id"`
	AgencyPath []int64   `json:"agency_path,omitempty"`
	Version    int       `json:"version"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// Validate checks the enterprise's fields. allowLegacy admits a USCC whose only fault is its
// check character (the caller audits the override).
func (e *Enterprise) Validate(allowLegacy bool) error {
	e.USCC = strings.ToUpper(strings.TrimSpace(e.USCC))
	err := CheckUSCC(e.USCC)
	var ce *CheckCharError
	switch {
	case err == nil:
		e.LegacyUSCC = false
	case asCheckCharError(err, &ce):
		if !allowLegacy {
			return offsite.Invalid("uscc", "%s", strings.TrimPrefix(ce.Error(), "uscc: "))
		}
		e.LegacyUSCC = true
	default:
		return err
	}
	if strings.TrimSpace(e.Name) == "" {
		return offsite.Required("name", "is required")
	}
	if len(e.Name) > 300 {
		return offsite.Invalid("name", "is longer than 300 bytes")
	}
	if err := CheckIndustry(e.Industry); err != nil {
		return offsite.Invalid("industry", "%v", err)
	}
	if e.PermitNo != "" {
		e.PermitNo = strings.ToUpper(strings.TrimSpace(e.PermitNo))
		if err := CheckPermitNo(e.PermitNo, e.USCC); err != nil {
			return offsite.Invalid("permit_no", "%v", err)
		}
	}
	if e.Location != nil {
		lon, lat := e.Location[0], e.Location[1]
		if !(lon >= -180 && lon <= 180 && lat >= -90 && lat <= 90) {
			return offsite.Invalid("location", "[%g, %g] is outside WGS84 longitude/latitude", lon, lat)
		}
	}
	for name, v := range map[string]string{"address": e.Address, "zone": e.Zone, "complaint_channel": e.ComplaintChannel} {
		if len(v) > 500 {
			return offsite.Invalid(name, "is longer than 500 bytes")
		}
	}
	return nil
}

// CheckIndustry checks a GB/T 4754-2017 code: an optional section letter A–T followed by 2
// to 4 digits, or a section letter alone.
func CheckIndustry(code string) error {
	if code == "" {
		return errString("is required (a GB/T 4754 code such as C3120)")
	}
	digits := code
	if c := code[0]; c >= 'A' && c <= 'Z' {
		if c > 'T' {
			return errString("section letter " + string(c) + " is not one of A–T")
		}
		digits = code[1:]
		if digits == "" {
			return nil
		}
	}
	if len(digits) < 2 || len(digits) > 4 {
		return errString("must be a section letter A–T and/or a 2- to 4-digit code, got " + quote(code))
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return errString("must be a section letter A–T and/or a 2- to 4-digit code, got " + quote(code))
		}
	}
	return nil
}

type errString string

func (e errString) Error() string { return string(e) }

func quote(s string) string { return `"` + s + `"` }
