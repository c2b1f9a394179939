package enforce

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/msgs"
)

// Audit subjects of incidents and intake matters.
func IncidentSubject(id int64) string { return fmt.Sprintf("incident/%d", id) }
func MatterSubject(id int64) string   { return fmt.Sprintf("intake-matter/%d", id) }

// Incident is an incident the enterprise reported itself (主动报告, 四.9). It opens (or joins)
// the enterprise's inspection with a self-report warning; an inspection that began with one
// counts as self-reported when its violation is decided.
type Incident struct {
	ID           int64     `json:"id"`
	USCC         string    `json:"uscc"`
	OccurredAt   time.Time `json:"occurred_at"`
	Description  string    `json:"description"`
	Measures     string    `json:"measures"` // what was done to stop and fix it
	InspectionID int64     `json:"inspection_id"`
	ReportedBy   string    `json:"reported_by"`
	ReportedAt   time.Time `json:"reported_at"`
}

// Validate checks an incident report at now.
func (inc *Incident) Validate(now time.Time) error {
	switch {
	case strings.TrimSpace(inc.Description) == "":
		return offsite.Required("description", "is required: what happened")
	case len(inc.Description) > 10000:
		return offsite.Invalid("description", "is longer than 10000 bytes")
	case len(inc.Measures) > 10000:
		return offsite.Invalid("measures", "is longer than 10000 bytes")
	case inc.OccurredAt.IsZero():
		return offsite.Required("occurred_at", "is required")
	case inc.OccurredAt.After(now):
		return offsite.Invalid("occurred_at", "is in the future")
	}
	return nil
}

// IntakeReport is one complaint, media report or referral from above (三.7) about an
// enterprise, recorded with its source.
type IntakeReport struct {
	ID       int64   `json:"id"`
	MatterID int64   `json:"matter_id"`
	Source   Trigger `json:"source"` // complaint, media_report or referral
	// SourceRef identifies the report at its source: the complaint's number (12369 hotline,
	// letters and visits), the outlet and article, the referring authority and its document.
	SourceRef  string    `json:"source_ref"`
	Reporter   string    `json:"reporter,omitempty"`
	Summary    string    `json:"summary"`
	USCC       string    `json:"uscc"`
	ReceivedAt time.Time `json:"received_at"`
	RecordedBy string    `json:"recorded_by"`
	RecordedAt time.Time `json:"recorded_at"`
}

// Validate checks a report at now.
func (r *IntakeReport) Validate(now time.Time) error {
	switch r.Source {
	case TriggerComplaint, TriggerMediaReport, TriggerReferral:
	case "":
		return offsite.Required("source", "is required: complaint, media_report or referral")
	default:
		return offsite.Invalid("source", "%q is not one of complaint, media_report, referral", r.Source)
	}
	r.SourceRef, r.USCC = strings.TrimSpace(r.SourceRef), strings.ToUpper(strings.TrimSpace(r.USCC))
	switch {
	case r.SourceRef == "":
		return offsite.Required("source_ref", "is required: the complaint number, the outlet and article, or the referring authority and its document")
	case len(r.SourceRef) > 500:
		return offsite.Invalid("source_ref", "is longer than 500 bytes")
	case strings.TrimSpace(r.Summary) == "":
		return offsite.Required("summary", "is required: what is reported")
	case len(r.Summary) > 10000:
		return offsite.Invalid("summary", "is longer than 10000 bytes")
	case len(r.Reporter) > 500:
		return offsite.Invalid("reporter", "is longer than 500 bytes")
	case r.USCC == "":
		return offsite.Required("uscc", "is required: the enterprise reported on")
	case r.ReceivedAt.IsZero():
		return offsite.Required("received_at", "is required")
	case r.ReceivedAt.After(now):
		return offsite.Invalid("received_at", "is in the future")
	}
	return nil
}

// Matter is what one or more intake reports are about: duplicates of one matter are joined
// to it. It rides on the enterprise's inspection; it is open while that inspection is.
type Matter struct {
	ID           int64     `json:"id"`
	USCC         string    `json:"uscc"`
	Trigger      Trigger   `json:"trigger"` // the first report's source
	Summary      string    `json:"summary"`
	InspectionID int64     `json:"inspection_id"`
	OpenedBy     string    `json:"opened_by"`
	OpenedAt     time.Time `json:"opened_at"`
	// Read with the matter: its inspection's status and its reports, oldest first.
	InspectionStatus InspectionStatus `json:"inspection_status,omitempty"`
	Reports          []*IntakeReport  `json:"reports,omitempty"`
}

// Intake outcomes.
const (
	IntakeOpened = "opened" // a new matter
	IntakeJoined = "joined" // a duplicate report of an open matter
)

// ReportIncident records an incident the enterprise reports itself and opens (or joins) its
// inspection with a self-report warning. Only the enterprise itself (or an admin on its
// behalf) reports.
func (c *Inspections) ReportIncident(ctx context.Context, a Actor, inc *Incident) (*Inspection, error) {
	if err := a.mayActOn(inc.USCC); err != nil {
		return nil, err
	}
	now := c.now()
	if err := inc.Validate(now); err != nil {
		return nil, err
	}
	inc.ReportedBy, inc.ReportedAt = a.Name, now
	var out *Inspection
	err := c.Store.InTx(ctx, func(tx InspectionTx) error {
		w := &Warning{Source: WarningSelfReport, Message: "reported by the enterprise: " + inc.Description,
			Ref: fmt.Sprintf("self-report/%s/%s", inc.USCC, now.UTC().Format(time.RFC3339Nano))}
		in, _, err := c.openWarning(ctx, tx, a, inc.USCC, c.Config.Level, w)
		if err != nil {
			return err
		}
		inc.InspectionID = in.ID
		if err := tx.CreateIncident(ctx, inc); err != nil {
			return err
		}
		out = in
		if err := tx.Append(ctx, a, AuditIncidentReport, IncidentSubject(inc.ID), map[string]any{"inspection": in.ID, "warning": w.Ref,
			"occurred_at": inc.OccurredAt, "description": inc.Description, "measures": inc.Measures}); err != nil {
			return err
		}
		n := &Notification{Event: EventIncidentReported, Subject: InspectionSubject(in.ID), USCC: inc.USCC, At: now, Body: inc.Description}
		return tx.Notify(ctx, n.Say(msgs.New(msgs.NoteIncidentReported, "uscc", inc.USCC, "inspection", strconv.FormatInt(in.ID, 10))))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RecordIntake records a complaint, media report or referral: a duplicate report of a matter
// still open on the enterprise joins it (join names the matter when the caller knows it);
// otherwise a matter is opened with a warning on the enterprise's inspection, from which a
// site visit on the report's trigger may be requested and approved (三.7).
func (c *Inspections) RecordIntake(ctx context.Context, a Actor, r *IntakeReport, join int64) (m *Matter, outcome string, err error) {
	now := c.now()
	if err := r.Validate(now); err != nil {
		return nil, "", err
	}
	r.RecordedBy, r.RecordedAt = a.Name, now
	err = c.Store.InTx(ctx, func(tx InspectionTx) error {
		ent, err := tx.LockEnterprise(ctx, r.USCC)
		if err != nil {
			return err
		}
		// A report joins only a matter in the actor's reach: its enterprise is in reach.
		if err := a.Reach(ent); err != nil {
			return err
		}
		if join > 0 {
			if m, err = tx.LockMatter(ctx, join); err != nil {
				return err
			}
			if m.USCC != r.USCC {
				return offsite.Invalid("matter_id", "matter %d is about %s, not %s", join, m.USCC, r.USCC)
			}
			if m.InspectionStatus == InspClosed {
				return offsite.Conflict("matter %d is closed (its inspection %d is closed): record the report as a new matter", join, m.InspectionID)
			}
		} else if m, err = tx.LockOpenMatter(ctx, r.USCC); err != nil {
			return err
		}
		if m != nil {
			r.MatterID, outcome = m.ID, IntakeJoined
			if err := tx.AddIntakeReport(ctx, r); err != nil {
				return err
			}
			return tx.Append(ctx, a, AuditIntakeJoin, MatterSubject(m.ID), r)
		}
		w := &Warning{Source: string(r.Source), Ref: fmt.Sprintf("intake/%s/%s", r.Source, r.SourceRef),
			Message: fmt.Sprintf("%s (%s): %s", r.Source, r.SourceRef, r.Summary)}
		in, _, err := c.openWarning(ctx, tx, a, r.USCC, c.Config.Level, w)
		if err != nil {
			return err
		}
		m = &Matter{USCC: r.USCC, Trigger: r.Source, Summary: r.Summary, InspectionID: in.ID, OpenedBy: a.Name, OpenedAt: now}
		if err := tx.CreateMatter(ctx, m); err != nil {
			return err
		}
		m.InspectionStatus = in.Status
		r.MatterID, outcome = m.ID, IntakeOpened
		if err := tx.AddIntakeReport(ctx, r); err != nil {
			return err
		}
		if err := tx.Append(ctx, a, AuditIntakeRecord, MatterSubject(m.ID), r); err != nil {
			return err
		}
		return tx.Notify(ctx, &Notification{Event: EventIntakeReceived, Subject: MatterSubject(m.ID), USCC: r.USCC, At: now,
			Title: fmt.Sprintf("%s on %s (matter %d, inspection %d)", r.Source, r.USCC, m.ID, m.InspectionID), Body: r.Summary})
	})
	if err != nil {
		return nil, "", err
	}
	m.Reports = append(m.Reports, r)
	return m, outcome, nil
}

// RequestMatterSiteVisit requests a site visit on the matter's inspection with the matter's
// trigger (complaint, media_report or referral), which then needs approval (三.7).
func (c *Inspections) RequestMatterSiteVisit(ctx context.Context, a Actor, matter int64, reason string) (*Inspection, error) {
	var m *Matter
	err := c.Store.InTx(ctx, func(tx InspectionTx) (err error) {
		m, err = tx.LockMatter(ctx, matter)
		return err
	})
	if err != nil {
		return nil, err
	}
	// The matter's inspection never changes; its command runs at the version it is at.
	return c.update(ctx, a, m.InspectionID, anyVersion, AuditInspectionRequestSiteVisit, func(in *Inspection, _ *Enterprise, now time.Time) (any, error) {
		return map[string]any{"trigger": m.Trigger, "reason": reason, "matter": m.ID}, in.RequestSiteVisit(m.Trigger, reason, a.Name, now)
	})
}
