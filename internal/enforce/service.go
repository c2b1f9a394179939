package enforce

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/paulmach/orb"

	"github.com/offsite/offsite"
)

// Actor is who performs an action, as recorded in the audit log.
type Actor struct {
	Name string
	Role Role
	// USCC is, for RoleEnterprise, the enterprise the actor speaks for: it acts only on its
	// own records. Not recorded in the audit log.
	USCC string
	// Agency is the agency the actor works for: it reaches the enterprises of that agency
	// and of those under it. 0 reaches every agency (the workers, the system). Not recorded
	// in the audit log.
	Agency int64
}

// Reaches reports whether the actor reaches a record of the agency whose path is path: the
// agency is the actor's or lies under it, or the actor reaches every agency (Agency 0).
func (a Actor) Reaches(path []int64) bool {
	return a.Agency == 0 || slices.Contains(path, a.Agency)
}

// Reach refuses the actor an enterprise outside its agency, and an enterprise's user any
// enterprise but its own.
func (a Actor) Reach(e *Enterprise) error {
	if a.Role == RoleEnterprise && a.USCC != e.USCC {
		return fmt.Errorf("an enterprise's account reaches only its own records: %w", offsite.ErrForbidden)
	}
	if !a.Reaches(e.AgencyPath) {
		return fmt.Errorf("enterprise %s belongs to an agency outside %s's: %w", e.USCC, a.Name, offsite.ErrForbidden)
	}
	return nil
}

// EnterpriseFilter selects enterprises. Zero fields do not filter.
type EnterpriseFilter struct {
	IDs        []string // USCCs of enterprises; feature ids of findings and parcels (OGC items by id)
	Query      string   // substring of name or USCC prefix
	Zone       string
	Industry   string     // prefix
	ListStatus ListStatus // effective status of the current entry; "none" for never proposed
	Bbox       *orb.Bound
	// UpdatedFrom and UpdatedTo bound updated_at (OGC datetime); nil is open.
	UpdatedFrom, UpdatedTo *time.Time
	// Agency keeps the enterprises of that agency and of those under it; 0 keeps all.
	Agency        int64
	Offset, Limit int
}

// ListFilter selects list entries.
type ListFilter struct {
	USCC   string
	Status ListStatus // effective status
	Agency int64      // the enterprises of that agency and under it; 0: all
	Offset int
	Limit  int
}

// InspectionFilter selects inspections.
type InspectionFilter struct {
	USCC   string
	Status InspectionStatus
	Agency int64 // the enterprises of that agency and under it; 0: all
	Offset int
	Limit  int
}

// HealthVisit is a health-check on-site assistance visit (二.4).
type HealthVisit struct {
	ID        int64     `json:"id"`
	USCC      string    `json:"uscc"`
	VisitedAt time.Time `json:"visited_at"`
	Inspector string    `json:"inspector"`
	Notes     string    `json:"notes"`
	CreatedAt time.Time `json:"created_at"`
}

// StoredDraw is a stored double-random draw.
type StoredDraw struct {
	ID        int64       `json:"id"`
	Result    *DrawResult `json:"result"`
	CreatedBy string      `json:"created_by"`
	CreatedAt time.Time   `json:"created_at"`
}

// ImportRowError reports one bad row of a bulk import.
type ImportRowError struct {
	Row     int    `json:"row"` // 1-based data row (the header is row 0)
	USCC    string `json:"uscc,omitempty"`
	Field   string `json:"field"`
	Problem string `json:"problem"`
}

// EvidenceParcel is a parcel of an enterprise with its clips and findings, newest first.
type EvidenceParcel struct {
	Parcel   *offsite.Parcel    `json:"parcel"`
	Clips    []*offsite.Clip    `json:"clips"`
	Findings []*offsite.Finding `json:"findings"`
}

// Stats are the supervisors' statistics over a period (issue 6 item 10).
type Stats struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// ListedSiteInspections counts site visits to enterprises that were listed when their
	// inspection opened.
	ListedSiteInspections int `json:"listed_site_inspections"`
	// WaivedPenalties counts dispositions that waived a penalty under 四.9.
	WaivedPenalties int `json:"waived_penalties"`
	// Warnings by zone and month.
	Warnings []ZoneMonthCount `json:"warnings"`
	// Findings by zone and month of detection.
	Findings []ZoneMonthCount `json:"findings"`
	// SelfCheck response times: requests answered, their median and 90th percentile hours,
	// and requests still unanswered past their deadline.
	SelfCheck SelfCheckStats `json:"self_check"`
	// ListStatus counts list entries by effective status.
	ListStatus map[ListStatus]int `json:"list_status"`
}

// AgencyMonth is what the enterprises of one agency (and of those under it) gave rise to in
// one month ("2026-03", China Standard Time): warnings opened, findings detected, self-checks
// requested, site visits made, penalties waived (四.9).
type AgencyMonth struct {
	AgencyID   int64  `json:"agency_id"`
	Agency     string `json:"agency"`
	Level      string `json:"level"`
	Month      string `json:"month"`
	Warnings   int    `json:"warnings"`
	Findings   int    `json:"findings"`
	SelfChecks int    `json:"self_checks"`
	SiteVisits int    `json:"site_visits"`
	Waived     int    `json:"waived"`
}

// ZoneMonthCount is a count for one zone and month ("2026-03").
type ZoneMonthCount struct {
	Zone  string `json:"zone"`
	Month string `json:"month"`
	Count int    `json:"count"`
}

// SelfCheckStats summarises response times to self-check requests.
type SelfCheckStats struct {
	Requested   int     `json:"requested"`
	Answered    int     `json:"answered"`
	Late        int     `json:"late"`
	Overdue     int     `json:"overdue"` // unanswered past the deadline
	MedianHours float64 `json:"median_hours"`
	P90Hours    float64 `json:"p90_hours"`
}

// Service reads the enforcement records; the changes are commands (Enterprises, List,
// Inspections, Draws) over their narrow stores. Its methods that append to the audit log do
// so in the same transaction as what they record.
type Service interface {
	FindEnterpriseByUSCC(ctx context.Context, uscc string) (*Enterprise, error)
	FindEnterprises(ctx context.Context, f EnterpriseFilter) ([]*Enterprise, int, error)
	// FindFindingFeatures returns findings for OGC API Features: intersecting bbox, detected
	// in [UpdatedFrom, UpdatedTo], ordered by id, with the total count.
	FindFindingFeatures(ctx context.Context, f EnterpriseFilter) ([]*offsite.Finding, int, error)
	// FindParcelFeatures returns parcels for OGC API Features: within bbox, updated in
	// [UpdatedFrom, UpdatedTo], ordered by id, with the total count.
	FindParcelFeatures(ctx context.Context, f EnterpriseFilter) ([]*offsite.Parcel, int, error)

	// FindListEntryByID and FindListEntries return entries with their effective status and
	// health-check status at now.
	FindListEntryByID(ctx context.Context, cfg Config, now time.Time, id int64) (*ListEntry, error)
	FindListEntries(ctx context.Context, cfg Config, now time.Time, f ListFilter) ([]*ListEntry, int, error)
	// PublicList returns the published list ordered by USCC, a page of it when limit > 0,
	// and the number of listed enterprises.
	PublicList(ctx context.Context, now time.Time, offset, limit int) ([]Publication, int, error)

	FindHealthVisits(ctx context.Context, uscc string) ([]*HealthVisit, error)

	FindInspectionByID(ctx context.Context, id int64) (*Inspection, error)
	FindInspections(ctx context.Context, f InspectionFilter) ([]*Inspection, int, error)

	FindDrawByID(ctx context.Context, id int64) (*StoredDraw, error)
	// FindDraws returns the draws run by the users of agency and of those under it (0: all).
	FindDraws(ctx context.Context, agency int64, offset, limit int) ([]*StoredDraw, int, error)
	// PublicDraw returns the public view of a draw, with the drawn enterprises' names.
	PublicDraw(ctx context.Context, id int64) (*PublicDraw, error)

	// PublicNotices returns the entries on public notice at now (二.3), by notice end.
	PublicNotices(ctx context.Context, now time.Time) ([]Notice, error)
	// PublicRemovals returns the removals of listed enterprises from the list, newest first,
	// a page of them when limit > 0, and their number.
	PublicRemovals(ctx context.Context, offset, limit int) ([]Removal, int, error)
	// PublicDisclosures returns the dispositions disclosed to the public (四.10), newest first.
	PublicDisclosures(ctx context.Context, offset, limit int) ([]Disclosure, int, error)

	Audit(ctx context.Context, a Actor, action AuditAction, subject string, detail any) error
	FindAudit(ctx context.Context, subject string, offset, limit int) ([]*AuditEntry, int, error)
	// FindAuditIn is FindAudit leaving out the entries whose subject (an enterprise, list
	// entry, inspection, parcel, intake matter or incident) belongs to an enterprise outside
	// agency and those under it; 0 leaves out none.
	FindAuditIn(ctx context.Context, agency int64, subject string, offset, limit int) ([]*AuditEntry, int, error)
	// VerifyAudit recomputes the whole chain and checks it against its latest checkpoint.
	VerifyAudit(ctx context.Context) (*AuditReport, error)

	// Stats counts the enterprises of agency and of those under it (0: all).
	Stats(ctx context.Context, agency int64, from, to time.Time) (*Stats, error)
	// AgencyStats counts, by month, the events of the enterprises of agency and of those
	// under it, each under the agency's child it lies in (or agency itself for its own
	// enterprises; the provinces for 0).
	AgencyStats(ctx context.Context, agency int64, from, to time.Time) ([]AgencyMonth, error)
}

// Notice is a proposed list entry on public notice: what the public sees and may object to.
type Notice struct {
	EntryID          int64     `json:"entry_id"`
	Name             string    `json:"name"`
	Address          string    `json:"address"`
	USCC             string    `json:"uscc"`
	Industry         string    `json:"industry"`
	PermitNo         string    `json:"permit_no"`
	AdmissionPath    string    `json:"admission_path"`
	NoticeStart      time.Time `json:"notice_start"`
	NoticeEnd        time.Time `json:"notice_end"`
	ComplaintChannel string    `json:"complaint_channel"`
}

// Disclosure is a disposition published under 四.10: who, what rule, what follows.
type Disclosure struct {
	InspectionID       int64     `json:"inspection_id"`
	USCC               string    `json:"uscc"`
	Name               string    `json:"name"`
	Rule               string    `json:"rule"`
	Penalty            string    `json:"penalty"`
	RemovedFromList    bool      `json:"removed_from_list"`
	SpecialSupervision bool      `json:"special_supervision"`
	PoliceReferral     bool      `json:"police_referral"`
	DecidedAt          time.Time `json:"decided_at"`
}

// Outcomes of OpenWarning.
const (
	WarningOpened = "opened" // a new inspection
	WarningJoined = "joined" // added to the enterprise's open inspection
	WarningLinked = "linked" // another level's inspection of the same matter is recognised
	// WarningConfirmed: the finding is the same as one already warned of in the open
	// inspection (same parcel, kind and class, overlapping, from another capture): that
	// warning's confidence is raised instead of a second warning being added.
	WarningConfirmed = "confirmed"
	// WarningKnown: the finding is already recorded in the open inspection (a re-delivered
	// task); nothing changes.
	WarningKnown = "known"
)

// ImportError reports every bad row of a bulk import; nothing was imported. It matches
// offsite.ErrInvalid.
type ImportError struct {
	Rows []ImportRowError `json:"rows"`
}

func (e *ImportError) Error() string {
	if len(e.Rows) == 0 {
		return "import: no rows"
	}
	r := e.Rows[0]
	return fmt.Sprintf("import: %d bad rows, nothing imported; first: row %d %s: %s", len(e.Rows), r.Row, r.Field, r.Problem)
}

// Unwrap makes errors.Is(err, offsite.ErrInvalid) true.
func (e *ImportError) Unwrap() error { return offsite.ErrInvalid }
