// Package monitoring is the domain of automatic monitoring (issue 15): the registry of
// monitoring points (an HJ 212 data logger's MN on a permit outlet of an enterprise) and the
// permit's limits, the vocabulary of pollutants that the factor codes of HJ 212-2017 and
// HJ/T 212-2005 map to, the validity of hourly and daily values (HJ 75-2017 for flue gas,
// HJ 355-2019 and HJ 356-2019 for waste water), and the rules that turn a series into events:
// exceedances of the permit's limits and patterns of poor data quality or falsification.
//
// It does no I/O: the rules take series and return events; storage is internal/postgres and
// the task that runs the rules is internal/worker.
package monitoring

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"regexp"
	"strings"
	"time"

	"github.com/offsite/offsite"
)

// Medium is what an outlet discharges: flue gas (permit outlet codes DA...) or waste water (DW...).
type Medium string

// Media.
const (
	Gas   Medium = "gas"
	Water Medium = "water"
)

var (
	mnRE     = regexp.MustCompile(`^[0-9A-Za-z]{1,24}$`)
	outletRE = regexp.MustCompile(`^D[AW][0-9]{3}$`)
)

// CheckMN checks a data logger's MN: HJ 212-2017 6.3.2 gives it up to 24 characters; letters
// and digits only here, as every logger we know sends.
func CheckMN(mn string) error {
	if !mnRE.MatchString(mn) {
		return offsite.Invalid("mn", "must be 1 to 24 letters or digits (HJ 212-2017 MN), got %q", mn)
	}
	return nil
}

// CheckOutlet checks a permit outlet code (HJ 608-2017 / HJ 1033: DA001 for a flue gas outlet,
// DW001 for a waste water outlet).
func CheckOutlet(outlet string) error {
	if !outletRE.MatchString(outlet) {
		return offsite.Invalid("outlet", "must be a permit outlet code such as DA001 (flue gas) or DW001 (waste water), got %q", outlet)
	}
	return nil
}

// OutletMedium is the medium of a permit outlet code: DA flue gas, DW waste water.
func OutletMedium(outlet string) Medium {
	if strings.HasPrefix(outlet, "DW") {
		return Water
	}
	return Gas
}

// Point is a monitoring point: a data logger (MN) on an outlet of an enterprise's permit.
type Point struct {
	MN     string `json:"mn"`
	USCC   string `json:"uscc"`
	Outlet string `json:"outlet"`
	Name   string `json:"name,omitempty"`
	Medium Medium `json:"medium"`
	// Lon and Lat locate the outlet (WGS84); monitoring findings are placed there.
	Lon float64 `json:"lon"`
	Lat float64 `json:"lat"`
	// PasswordHash is the HJ 212 access password (PW), salted and hashed (HashPassword);
	// never sent to clients.
	PasswordHash string    `json:"-"`
	Version      int       `json:"version"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Validate checks a point's fields.
func (p *Point) Validate() error {
	if err := CheckMN(p.MN); err != nil {
		return err
	}
	if err := CheckOutlet(p.Outlet); err != nil {
		return err
	}
	if len(p.Name) > 200 {
		return offsite.Invalid("name", "is longer than 200 characters")
	}
	if !(p.Lon >= -180 && p.Lon <= 180) || !(p.Lat >= -90 && p.Lat <= 90) || p.Lon == 0 && p.Lat == 0 {
		return offsite.Invalid("location", "must be [lon, lat] in WGS84, got [%g, %g]", p.Lon, p.Lat)
	}
	p.Medium = OutletMedium(p.Outlet)
	return nil
}

// CheckPassword checks an HJ 212 access password as a new one: HJ 212-2017 6.3.2 gives PW 6
// characters; loggers send up to 9 in practice. Printable ASCII without the frame's
// separators.
func CheckPassword(pw string) error {
	if len(pw) < 6 || len(pw) > 32 {
		return offsite.Invalid("password", "must be 6 to 32 characters (HJ 212 PW)")
	}
	for _, r := range pw {
		if r < 0x21 || r > 0x7e || strings.ContainsRune(";,=&", r) {
			return offsite.Invalid("password", "must be printable ASCII without ; , = &")
		}
	}
	return nil
}

// HashPassword returns "sha256$<salt>$<SHA-256 of salt and pw>", with a random 16-byte salt.
// A salted fast hash, not a slow one: the receiver checks PW on every frame at thousands of
// frames per second, and a 6-character PW would not resist a slow hash's attacker either; the
// salt stops precomputed tables and equal passwords showing as equal hashes.
func HashPassword(pw string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	return hashWithSalt(salt, pw), nil
}

func hashWithSalt(salt []byte, pw string) string {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(pw))
	return "sha256$" + hex.EncodeToString(salt) + "$" + hex.EncodeToString(h.Sum(nil))
}

// VerifyPassword reports whether pw matches hash (from HashPassword), in constant time.
func VerifyPassword(hash, pw string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 3 || parts[0] != "sha256" {
		return false
	}
	salt, err := hex.DecodeString(parts[1])
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(hashWithSalt(salt, pw)), []byte(hash)) == 1
}

// Limit is a permit limit of one pollutant at one outlet. Concentration limits apply to valid
// hourly and daily values, converted to O2Ref where the standard gives a reference oxygen
// (flue gas of combustion sources); LoadKgDay limits the daily load.
type Limit struct {
	USCC      string   `json:"uscc"`
	Outlet    string   `json:"outlet"`
	Pollutant string   `json:"pollutant"`
	Hourly    *float64 `json:"hourly,omitempty"`
	Daily     *float64 `json:"daily,omitempty"`
	O2Ref     *float64 `json:"o2_ref,omitempty"`
	LoadKgDay *float64 `json:"load_kg_day,omitempty"`
	// Basis names the standard or permit clause, e.g. "GB 13223-2011 表1".
	Basis     string    `json:"basis,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Validate checks a limit's fields.
func (l *Limit) Validate() error {
	if err := CheckOutlet(l.Outlet); err != nil {
		return err
	}
	p, ok := Pollutants[l.Pollutant]
	if !ok {
		return offsite.Invalid("pollutant", "%q is not one of %s", l.Pollutant, strings.Join(PollutantIDs(), ", "))
	}
	if p.Medium != OutletMedium(l.Outlet) {
		return offsite.Invalid("pollutant", "%s is measured in %s, but outlet %s discharges %s", p.ID, p.Medium, l.Outlet, OutletMedium(l.Outlet))
	}
	if !p.Limitable {
		return offsite.Invalid("pollutant", "%s is a reference parameter, not a pollutant with a limit", p.ID)
	}
	for name, v := range map[string]*float64{"hourly": l.Hourly, "daily": l.Daily, "load_kg_day": l.LoadKgDay} {
		if v != nil && !(*v > 0 && *v < 1e9) {
			return offsite.Invalid(name, "must be positive, got %g", *v)
		}
	}
	if l.Hourly == nil && l.Daily == nil && l.LoadKgDay == nil {
		return offsite.Invalid("hourly", "give at least one of hourly, daily and load_kg_day")
	}
	if l.O2Ref != nil {
		if p.Medium != Gas {
			return offsite.Invalid("o2_ref", "applies only to flue gas")
		}
		if !(*l.O2Ref >= 0 && *l.O2Ref < 21) {
			return offsite.Invalid("o2_ref", "must be in [0, 21), got %g", *l.O2Ref)
		}
	}
	if len(l.Basis) > 500 {
		return offsite.Invalid("basis", "is longer than 500 characters")
	}
	return nil
}

// SelfReport is an enterprise's own report of an exceedance (四.10), for one point and
// pollutant ("" : all of the point's) from Start to End (nil: still going on).
type SelfReport struct {
	ID         int64      `json:"id"`
	USCC       string     `json:"uscc"`
	MN         string     `json:"mn"`
	Pollutant  string     `json:"pollutant,omitempty"`
	Start      time.Time  `json:"started_at"`
	End        *time.Time `json:"ended_at,omitempty"`
	Text       string     `json:"text"`
	ReportedBy string     `json:"reported_by"`
	ReportedAt time.Time  `json:"reported_at"`
}

// Validate checks a report's fields.
func (r *SelfReport) Validate() error {
	if err := CheckMN(r.MN); err != nil {
		return err
	}
	if r.Pollutant != "" {
		if _, ok := Pollutants[r.Pollutant]; !ok {
			return offsite.Invalid("pollutant", "%q is not one of %s", r.Pollutant, strings.Join(PollutantIDs(), ", "))
		}
	}
	if r.Start.IsZero() {
		return offsite.Required("started_at", "is required")
	}
	if r.End != nil && r.End.Before(r.Start) {
		return offsite.Invalid("ended_at", "is before started_at")
	}
	if t := strings.TrimSpace(r.Text); t == "" || len(r.Text) > 10000 {
		return offsite.Required("text", "is required, at most 10000 characters: what exceeded, why, what was done")
	}
	return nil
}

// Exceedance report statuses: whether the enterprise reported an exceedance itself in time.
const (
	ReportPending    = "pending"    // the time to report has not run out
	ReportReported   = "reported"   // a self-report covering it came in time
	ReportUnreported = "unreported" // none came in time: 四.10
)

// Exceedance is an exceedance finding with whether the enterprise reported it itself.
type Exceedance struct {
	FindingID string     `json:"finding_id"`
	USCC      string     `json:"uscc"`
	MN        string     `json:"mn"`
	Pollutant string     `json:"pollutant"`
	Start     time.Time  `json:"started_at"`
	End       time.Time  `json:"ended_at"`
	ReportDue time.Time  `json:"report_due"`
	Status    string     `json:"status"`
	ReportID  *int64     `json:"report_id,omitempty"`
	DecidedAt *time.Time `json:"decided_at,omitempty"`
}

// ExceedanceFilter selects exceedances; zero fields do not filter.
type ExceedanceFilter struct {
	USCC       string
	FindingIDs []string
}

// Covers reports whether report r covers exceedance e: same point, the pollutant or all, its
// period overlapping, filed by the report deadline.
func (r *SelfReport) Covers(e *Exceedance) bool {
	if r.MN != e.MN || r.Pollutant != "" && r.Pollutant != e.Pollutant {
		return false
	}
	if r.ReportedAt.After(e.ReportDue) {
		return false
	}
	if r.Start.After(e.End) {
		return false
	}
	return r.End == nil || !r.End.Before(e.Start)
}

// Config is the monitoring part of a province's configuration.
type Config struct {
	// ReportHours is how long an enterprise has, from the start of an exceedance, to report
	// it itself (四.10). Default 12 hours.
	ReportHours int `json:"report_hours"`
}

// WithDefaults fills zero fields with their defaults.
func (c *Config) WithDefaults() {
	if c.ReportHours <= 0 {
		c.ReportHours = 12
	}
}
