package enforce

import (
	"time"

	"github.com/offsite/offsite"
)

// Violation describes a violation found by an inspection, as the facts the guidance's
// lenience and severity rules (四.9–10) turn on.
type Violation struct {
	FirstViolation       bool `json:"first_violation"`       // 初次环境违法
	Minor                bool `json:"minor"`                 // 危害后果轻微
	PromptlyCorrected    bool `json:"promptly_corrected"`    // 及时改正
	SelfReported         bool `json:"self_reported"`         // 主动报告
	NonWilful            bool `json:"non_wilful"`            // 非主观过错
	FixedInTime          bool `json:"fixed_in_time"`         // 采取有效措施及时消除
	Harm                 bool `json:"harm"`                  // 造成危害后果
	UnreportedExceedance bool `json:"unreported_exceedance"` // 管理不善导致超标排放且未主动报告
	Malicious            bool `json:"malicious"`             // 恶意违法 (偷排、篡改台账、逃避监管 ...)
	SuspectedCrime       bool `json:"suspected_crime"`       // 涉嫌犯罪
}

// Penalty levels.
const (
	PenaltyNone     = "none"
	PenaltyStandard = "standard"
	PenaltyStrict   = "strict"
)

// Disposition rules.
const (
	RuleFirstMinor    = "四.9 初次违法且危害后果轻微并及时改正 (first, minor, promptly corrected): no penalty"
	RuleSelfReported  = "四.9 非主观过错、主动报告、及时消除、未造成危害后果 (self-reported, non-wilful, fixed without harm): no penalty"
	RuleStrict        = "四.10 未主动报告的超标排放或恶意违法 (unreported exceedance or malicious violation): strict penalty, removal, special supervision, public disclosure"
	RuleStrictGeneral = "四.10 恶意违法或涉嫌犯罪 (malicious violation or suspected crime): strict penalty"
	RuleStandard      = "依法处罚 (penalty under the general discretion rules)"
)

// Disposition is the decision on a violation with the rule applied.
type Disposition struct {
	Violation          Violation `json:"violation"`
	Listed             bool      `json:"listed"`
	Rule               string    `json:"rule"`
	Penalty            string    `json:"penalty"`
	Waived             bool      `json:"waived"` // a penalty that would apply is waived under 四.9
	RemoveFromList     bool      `json:"remove_from_list"`
	SpecialSupervision bool      `json:"special_supervision"`
	PublicDisclosure   bool      `json:"public_disclosure"`
	PoliceReferral     bool      `json:"police_referral"`
	DecidedBy          string    `json:"decided_by"`
	DecidedAt          time.Time `json:"decided_at"`
}

// Decide applies the lenience and severity rules to a violation of an enterprise that is
// (listed) or is not on the positive list. For a listed enterprise's unreported exceedance or
// malicious violation, strict penalty, removal, special supervision and public disclosure
// come together; suspected crimes are referred to the police.
func Decide(listed bool, v Violation, by string, now time.Time) (*Disposition, error) {
	if v.Malicious && v.NonWilful {
		return nil, offsite.Invalid("violation.non_wilful", "contradicts malicious")
	}
	if v.Harm && v.Minor {
		return nil, offsite.Invalid("violation.minor", "contradicts harm: a minor violation has slight consequences; set harm for real harm")
	}
	if v.UnreportedExceedance && v.SelfReported {
		return nil, offsite.Invalid("violation.self_reported", "contradicts unreported_exceedance")
	}
	d := &Disposition{Violation: v, Listed: listed, DecidedBy: by, DecidedAt: now, PoliceReferral: v.SuspectedCrime}
	switch {
	case listed && (v.UnreportedExceedance || v.Malicious):
		d.Rule, d.Penalty = RuleStrict, PenaltyStrict
		d.RemoveFromList, d.SpecialSupervision, d.PublicDisclosure = true, true, true
	case v.Malicious || v.SuspectedCrime:
		d.Rule, d.Penalty = RuleStrictGeneral, PenaltyStrict
		d.SpecialSupervision, d.PublicDisclosure = true, true
	case listed && v.FirstViolation && v.Minor && v.PromptlyCorrected:
		d.Rule, d.Penalty, d.Waived = RuleFirstMinor, PenaltyNone, true
	case listed && v.SelfReported && v.NonWilful && v.FixedInTime && !v.Harm:
		d.Rule, d.Penalty, d.Waived = RuleSelfReported, PenaltyNone, true
	default:
		d.Rule, d.Penalty = RuleStandard, PenaltyStandard
	}
	return d, nil
}

// Bars reports whether the disposition bars the enterprise from the list for good: a listed
// enterprise removed for a malicious violation (偷排、篡改台账、逃避监管 ...) may not be
// admitted again (二.4, 四.10). An unreported exceedance without malice removes but does not bar.
func (d *Disposition) Bars() bool { return d.RemoveFromList && d.Violation.Malicious }
