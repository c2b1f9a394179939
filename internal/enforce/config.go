package enforce

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
)

// Config is a province's enforcement configuration: the parts of the procedure the guidance
// leaves to the provincial department (二.1). Zero fields take the documented defaults in
// WithDefaults.
type Config struct {
	// Province names the province, for exports. Default "".
	Province string `json:"province"`
	// Level is the level of the enforcement body this deployment serves: the warnings it
	// opens, the pipeline's included, open inspections at this level (二.5). Default "city".
	Level Level `json:"level"`
	// NoticeMinDays is the minimum public notice period before the list is published or
	// changed (二.3), in calendar days. Default 7.
	NoticeMinDays int `json:"notice_min_days"`
	// ValidityYears is the validity of a listing (二.4). Default 3.
	ValidityYears int `json:"validity_years"`
	// HealthCheckDueDays: a listed enterprise's health-check visit shows as "due" from this
	// many days before the end of its validity ("pending" before that). Default 180.
	HealthCheckDueDays int `json:"health_check_due_days"`
	// SelfCheckDays is the default deadline of a self-check request, in days. Default 15.
	SelfCheckDays int `json:"self_check_days"`
	// MonitoringReportHours is how long an enterprise has, from the start of an exceedance in
	// its automatic monitoring data, to report it itself; one it did not report in that time
	// is offered to the disposition as unreported (四.10). Default 12.
	MonitoringReportHours int `json:"monitoring_report_hours"`
	// Admission lists the admission paths (二.2); an enterprise is admitted when every
	// condition of at least one path holds. Default DefaultAdmission().
	Admission []AdmissionPath `json:"admission"`
	// SiteChecklist is the checklist of a site visit (三.7). Default DefaultChecklist.
	SiteChecklist []string `json:"site_checklist"`
	// Draw configures the double-random draw (二.5).
	Draw DrawConfig `json:"draw"`
}

// DrawConfig holds the sampling ratios of the double-random draw.
type DrawConfig struct {
	// UnlistedRatio is the share of ordinary enterprises drawn. Default 0.10.
	UnlistedRatio float64 `json:"unlisted_ratio"`
	// ListedRatio is the (lower) share of listed enterprises drawn. Default 0.03.
	ListedRatio float64 `json:"listed_ratio"`
	// SpecialRatio is the share of special supervision targets drawn (四.10). Default 0.5.
	SpecialRatio float64 `json:"special_ratio"`
	// ListedMode is how drawn listed enterprises are inspected: "offsite" (三.6, default) or
	// "site".
	ListedMode string `json:"listed_mode"`
	// InspectorsPerTarget is the number of inspectors assigned to each target. Default 2.
	InspectorsPerTarget int `json:"inspectors_per_target"`
}

// DefaultChecklist is the default site-visit checklist.
var DefaultChecklist = []string{
	"discharge permit held and displayed",
	"pollution control facilities running",
	"automatic monitoring operating and connected",
	"environmental ledgers complete and consistent",
	"outfalls standardised and signposted",
	"hazardous waste stored and transferred as required",
}

// DefaultConfig returns the configuration with every default.
func DefaultConfig() Config {
	var c Config
	c.WithDefaults()
	return c
}

// WithDefaults fills zero fields with their defaults.
func (c *Config) WithDefaults() {
	if c.Level == "" {
		c.Level = LevelCity
	}
	if c.NoticeMinDays == 0 {
		c.NoticeMinDays = 7
	}
	if c.ValidityYears == 0 {
		c.ValidityYears = 3
	}
	if c.HealthCheckDueDays == 0 {
		c.HealthCheckDueDays = 180
	}
	if c.SelfCheckDays == 0 {
		c.SelfCheckDays = 15
	}
	if c.MonitoringReportHours == 0 {
		c.MonitoringReportHours = 12
	}
	if c.Admission == nil {
		c.Admission = DefaultAdmission()
	}
	if c.SiteChecklist == nil {
		c.SiteChecklist = append([]string(nil), DefaultChecklist...)
	}
	if c.Draw.UnlistedRatio == 0 {
		c.Draw.UnlistedRatio = 0.10
	}
	if c.Draw.ListedRatio == 0 {
		c.Draw.ListedRatio = 0.03
	}
	if c.Draw.SpecialRatio == 0 {
		c.Draw.SpecialRatio = 0.5
	}
	if c.Draw.ListedMode == "" {
		c.Draw.ListedMode = ModeOffsite
	}
	if c.Draw.InspectorsPerTarget == 0 {
		c.Draw.InspectorsPerTarget = 2
	}
}

// Validate reports every problem of the configuration together.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("config: "+format, args...)) }
	if err := CheckLevel(c.Level); err != nil {
		bad("level %q is not one of county, city, province, national", c.Level)
	}
	if c.NoticeMinDays < 1 || c.NoticeMinDays > 365 {
		bad("notice_min_days %d is not in 1..365", c.NoticeMinDays)
	}
	if c.ValidityYears < 1 || c.ValidityYears > 10 {
		bad("validity_years %d is not in 1..10", c.ValidityYears)
	}
	if c.HealthCheckDueDays < 1 {
		bad("health_check_due_days %d is not positive", c.HealthCheckDueDays)
	}
	if c.SelfCheckDays < 1 || c.SelfCheckDays > 180 {
		bad("self_check_days %d is not in 1..180", c.SelfCheckDays)
	}
	if c.MonitoringReportHours < 1 || c.MonitoringReportHours > 720 {
		bad("monitoring_report_hours %d is not in 1..720", c.MonitoringReportHours)
	}
	if len(c.Admission) == 0 {
		bad("admission has no path")
	}
	for i, p := range c.Admission {
		if err := p.validate(); err != nil {
			bad("admission[%d]: %v", i, err)
		}
	}
	if len(c.SiteChecklist) == 0 {
		bad("site_checklist is empty")
	}
	for name, r := range map[string]float64{"unlisted_ratio": c.Draw.UnlistedRatio, "listed_ratio": c.Draw.ListedRatio, "special_ratio": c.Draw.SpecialRatio} {
		if math.IsNaN(r) || r < 0 || r > 1 {
			bad("draw.%s %g is not in 0..1", name, r)
		}
	}
	if c.Draw.ListedRatio > c.Draw.UnlistedRatio {
		bad("draw.listed_ratio %g must not exceed draw.unlisted_ratio %g: listed enterprises are drawn at a lower ratio", c.Draw.ListedRatio, c.Draw.UnlistedRatio)
	}
	if c.Draw.ListedMode != ModeOffsite && c.Draw.ListedMode != ModeSite {
		bad("draw.listed_mode %q is not %q or %q", c.Draw.ListedMode, ModeOffsite, ModeSite)
	}
	if c.Draw.InspectorsPerTarget < 1 || c.Draw.InspectorsPerTarget > 10 {
		bad("draw.inspectors_per_target %d is not in 1..10", c.Draw.InspectorsPerTarget)
	}
	return errors.Join(errs...)
}

// ReadConfig reads a JSON configuration, rejecting unknown fields, fills defaults and
// validates it.
func ReadConfig(r io.Reader) (Config, error) {
	var c Config
	b, err := io.ReadAll(r)
	if err != nil {
		return c, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("config: %w", err)
	}
	c.WithDefaults()
	return c, c.Validate()
}
