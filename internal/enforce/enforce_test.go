package enforce

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/offsite/offsite"
)

const (
	validUSCC  = "91110000600037341L"
	validUSCC2 = "91320000134780001D"
)

func TestCheckUSCC(t *testing.T) {
	for _, tc := range []struct {
		name, code string
		want       string // substring of the error; "" for valid
		checkChar  byte   // expected char of a *CheckCharError
	}{
		{"valid", validUSCC, "", 0},
		{"valid 2", "91350100M00010001T", "", 0},
		{"valid with letters", "91320500MA1MXXXX0X", "", 0},
		{"wrong check char", "91110000600037341M", "expected 'L'", 'L'},
		{"wrong check char digit", "121000004000000011", "expected '0'", '0'},
		{"short", "9111000060003734", "has 16 characters", 0},
		{"long", validUSCC + "1", "has 19 characters", 0},
		{"letter I", "91110000600037341I", "is not one of", 0},
		{"lowercase", "91110000600037341l", "is not one of", 0},
		{"division not digits", "91A10000600037341L", "division code", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckUSCC(tc.code)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("CheckUSCC(%q) = %v, want nil", tc.code, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("CheckUSCC(%q) = %v, want error containing %q", tc.code, err, tc.want)
			}
			if !errors.Is(err, offsite.ErrInvalid) {
				t.Errorf("error %v does not match ErrInvalid", err)
			}
			var ce *CheckCharError
			if got := errors.As(err, &ce); got != (tc.checkChar != 0) {
				t.Fatalf("errors.As CheckCharError = %v", got)
			}
			if ce != nil && ce.Expected != tc.checkChar {
				t.Errorf("expected char %q, want %q", ce.Expected, tc.checkChar)
			}
		})
	}
}

func TestEnterpriseValidateLegacyOverride(t *testing.T) {
	e := &Enterprise{USCC: "91110000600037341m", Name: "x", Industry: "C3120"}
	if err := e.Validate(false); err == nil {
		t.Fatal("legacy code without override accepted")
	}
	if err := e.Validate(true); err != nil {
		t.Fatal(err)
	}
	if !e.LegacyUSCC || e.USCC != "91110000600037341M" {
		t.Errorf("after override: legacy=%v uscc=%q", e.LegacyUSCC, e.USCC)
	}
	// The override covers only the check character.
	e = &Enterprise{USCC: "9111000060003734", Name: "x", Industry: "C3120"}
	if err := e.Validate(true); err == nil {
		t.Error("override admitted a code of the wrong length")
	}
}

func TestCheckPermitNo(t *testing.T) {
	for _, tc := range []struct {
		name, permit, uscc, want string
	}{
		{"own uscc", validUSCC + "001P", validUSCC, ""},
		{"second source", validUSCC + "002P", validUSCC, ""},
		{"digit check", validUSCC + "001Q", validUSCC, ""},
		{"H9 form", "H9110105" + "0000000001" + "001X", validUSCC, ""},
		{"other uscc", validUSCC2 + "001P", validUSCC, "are not the enterprise's USCC"},
		{"short", validUSCC + "01P", validUSCC, "has 21 characters"},
		{"sequence letters", validUSCC + "0A1P", validUSCC, "3-digit source sequence"},
		{"sequence zero", validUSCC + "000P", validUSCC, "sequences start at 001"},
		{"H9 with letters", "H911010500000000A1001X", validUSCC, "not all digits"},
		{"bad last", validUSCC + "001-", validUSCC, "letter or digit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckPermitNo(tc.permit, tc.uscc)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("CheckPermitNo(%q) = %v, want %q", tc.permit, err, tc.want)
			}
		})
	}
}

func TestCheckIndustry(t *testing.T) {
	for code, ok := range map[string]bool{"C": true, "C3120": true, "3120": true, "C31": true, "D441": true, "": false, "U12": false, "C31201": false, "C3x": false, "1": false} {
		if err := CheckIndustry(code); (err == nil) != ok {
			t.Errorf("CheckIndustry(%q) = %v, want ok=%v", code, err, ok)
		}
	}
}

func goodFacts() Facts {
	return Facts{"equipment_level": "advanced", "discharge_compliant": true, "total_emissions_within_permit": true,
		"monitoring_connected": true, "risk_management": true, "information_disclosed": true, "credit_rating": "A", "rectification_complete": true}
}

func TestEvaluate(t *testing.T) {
	paths := DefaultAdmission()
	for _, tc := range []struct {
		name     string
		facts    Facts
		admitted bool
		path     string
		failed   []string // "path/fact: detail" of failed conditions
	}{
		{"standard", goodFacts(), true, "standard", []string{
			"small_low_emission/annual_emissions_t: fact \"annual_emissions_t\" is missing",
			"small_low_emission/environmental_risk: fact \"environmental_risk\" is missing",
			"small_low_emission/employees: fact \"employees\" is missing"}},
		{"small firm", Facts{"discharge_compliant": true, "annual_emissions_t": 0.4, "environmental_risk": "low", "employees": 35.0}, true, "small_low_emission", nil},
		{"credit C", func() Facts { f := goodFacts(); f["credit_rating"] = "C"; return f }(), false, "", []string{
			"standard/credit_rating: credit_rating is C, must be one of A, B"}},
		{"not compliant small", Facts{"discharge_compliant": false, "annual_emissions_t": 3.0, "environmental_risk": "low", "employees": 5.0}, false, "", []string{
			"small_low_emission/discharge_compliant: discharge_compliant is false, must be true",
			"small_low_emission/annual_emissions_t: annual_emissions_t is 3, must be at most 1",
			"small_low_emission/employees: employees is 5, must be at least 20"}},
		{"wrong type", Facts{"discharge_compliant": "yes"}, false, "", []string{"small_low_emission/discharge_compliant: fact \"discharge_compliant\" is yes, not a boolean"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := Evaluate(paths, tc.facts)
			if ev.Admitted != tc.admitted || ev.Path != tc.path {
				t.Fatalf("admitted=%v path=%q, want %v %q", ev.Admitted, ev.Path, tc.admitted, tc.path)
			}
			if len(ev.Reasons) != 12 {
				t.Errorf("%d reasons, want one per condition (12)", len(ev.Reasons))
			}
			var failed []string
			for _, r := range ev.Reasons {
				if !r.Passed {
					failed = append(failed, r.Path+"/"+r.Fact+": "+r.Detail)
				}
			}
			if tc.failed != nil {
				// Compare only the listed failures (others may fail too for partial facts).
				for _, f := range tc.failed {
					found := false
					for _, g := range failed {
						found = found || g == f
					}
					if !found {
						t.Errorf("missing failure %q in %q", f, failed)
					}
				}
			}
		})
	}
}

func TestConfigDefaultsAndValidate(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.ValidityYears != 3 || c.NoticeMinDays != 7 || c.Draw.ListedMode != ModeOffsite {
		t.Errorf("defaults: %+v", c)
	}
	_, err := ReadConfig(strings.NewReader(`{"draw": {"listed_ratio": 0.5, "unlisted_ratio": 0.1}, "notice_min_days": 400}`))
	if err == nil || !strings.Contains(err.Error(), "listed_ratio 0.5 must not exceed") || !strings.Contains(err.Error(), "notice_min_days 400") {
		t.Errorf("ReadConfig = %v", err)
	}
	_, err = ReadConfig(strings.NewReader(`{"admission": [{"name": "x", "conditions": [{"fact": "a", "op": "gte", "value": "3"}]}]}`))
	if err == nil || !strings.Contains(err.Error(), "needs a number value") {
		t.Errorf("ReadConfig = %v", err)
	}
	_, err = ReadConfig(strings.NewReader(`{"noticedays": 3}`))
	if err == nil || !strings.Contains(err.Error(), "unknown field") {
		t.Errorf("ReadConfig = %v", err)
	}
}

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

func TestListLifecycle(t *testing.T) {
	cfg := DefaultConfig()
	ent := &Enterprise{USCC: validUSCC, Name: "x", Industry: "C3120"}
	e, err := Propose(ent, Evaluate(cfg.Admission, goodFacts()), t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Object("too early", "p", t0); !errors.Is(err, offsite.ErrConflict) {
		t.Errorf("objection before notice: %v", err)
	}
	if err := e.StartNotice(cfg, t0, t0.Add(days(6)), t0); err == nil || !strings.Contains(err.Error(), "minimum is 7 days") {
		t.Fatalf("6-day notice: %v", err)
	}
	if err := e.StartNotice(cfg, t0, t0.Add(days(7)), t0); err != nil {
		t.Fatal(err)
	}
	o, err := e.Object("they dump at night", "citizen", t0.Add(days(1)))
	if err != nil || o.ID != 1 {
		t.Fatal(o, err)
	}
	if err := e.List(cfg, t0.Add(days(8)), t0.Add(days(8))); err == nil || !strings.Contains(err.Error(), "objection 1 is not resolved") {
		t.Fatalf("listing with open objection: %v", err)
	}
	if err := e.Resolve(1, "dismissed", "night patrol found nothing", "officer", t0.Add(days(2))); err != nil {
		t.Fatal(err)
	}
	if err := e.List(cfg, t0.Add(days(3)), t0.Add(days(3))); err == nil || !strings.Contains(err.Error(), "notice runs until") {
		t.Fatalf("listing during notice: %v", err)
	}
	from := t0.Add(days(8))
	if err := e.List(cfg, from, from); err != nil {
		t.Fatal(err)
	}
	if !e.ValidTo.Equal(from.AddDate(3, 0, 0)) {
		t.Errorf("valid_to %v, want 3 years after %v", e.ValidTo, from)
	}
	if got := e.EffectiveStatus(from.AddDate(3, 0, 1)); got != ListExpired {
		t.Errorf("status after validity = %s", got)
	}
	later := from.AddDate(2, 11, 0)
	if err := e.Renew(cfg, ent, Evaluate(cfg.Admission, goodFacts()), later); err != nil {
		t.Fatal(err)
	}
	if !e.ValidTo.Equal(from.AddDate(6, 0, 0)) || e.Renewals != 1 {
		t.Errorf("after renewal valid_to=%v renewals=%d", e.ValidTo, e.Renewals)
	}
	barred, err := e.Remove(RemovalFalsifiedRecords, "ledger rewritten", later.Add(days(1)))
	if err != nil || !barred {
		t.Fatalf("remove: barred=%v err=%v", barred, err)
	}
	ent.Barred, ent.BarredReason = true, RemovalFalsifiedRecords
	if _, err := Propose(ent, Evaluate(cfg.Admission, goodFacts()), later.Add(days(400))); !errors.Is(err, offsite.ErrConflict) {
		t.Errorf("re-admission of a barred enterprise: %v", err)
	}
	if _, err := e.Remove(RemovalNoLongerQualifies, "x", later.Add(days(2))); !errors.Is(err, offsite.ErrConflict) {
		t.Errorf("second removal: %v", err)
	}
}

func TestListUpheldObjectionRejects(t *testing.T) {
	cfg := DefaultConfig()
	e, err := Propose(&Enterprise{USCC: validUSCC}, Evaluate(cfg.Admission, goodFacts()), t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.StartNotice(cfg, t0, t0.Add(days(10)), t0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Object("x", "y", t0.Add(days(1))); err != nil {
		t.Fatal(err)
	}
	if err := e.Resolve(1, "upheld", "confirmed", "o", t0.Add(days(2))); err != nil {
		t.Fatal(err)
	}
	if e.Status != ListRejected {
		t.Errorf("status %s, want rejected", e.Status)
	}
	if _, err := Propose(&Enterprise{USCC: validUSCC}, Evaluate(cfg.Admission, Facts{}), t0); !errors.Is(err, offsite.ErrInvalid) || !strings.Contains(err.Error(), "no admission path is met") {
		t.Errorf("propose without facts: %v", err)
	}
}

func TestBarring(t *testing.T) {
	for _, c := range RemovalCategories {
		want := c == RemovalMaliciousDischarge || c == RemovalFalsifiedRecords || c == RemovalEvadingSupervision
		if Barring(c) != want {
			t.Errorf("Barring(%s) = %v", c, !want)
		}
	}
}

func TestHealthCheckStatus(t *testing.T) {
	cfg := DefaultConfig()
	from, to := t0, t0.AddDate(3, 0, 0)
	e := &ListEntry{ValidFrom: &from, ValidTo: &to}
	for _, tc := range []struct {
		name   string
		visits []time.Time
		now    time.Time
		want   string
	}{
		{"pending", nil, t0.AddDate(1, 0, 0), HealthPending},
		{"due", nil, to.Add(-days(100)), HealthDue},
		{"overdue", nil, to.Add(days(1)), HealthOverdue},
		{"done", []time.Time{t0.AddDate(1, 0, 0)}, to.Add(days(1)), HealthDone},
		{"visit before validity", []time.Time{t0.Add(-days(1))}, to.Add(-days(10)), HealthDue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := HealthCheckStatus(cfg, e, tc.visits, tc.now); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
	if got := HealthCheckStatus(cfg, &ListEntry{}, nil, t0); got != "" {
		t.Errorf("never listed: %q", got)
	}
}

func TestInspectionWorkflow(t *testing.T) {
	cfg := DefaultConfig()
	open := func(listed bool) *Inspection {
		return &Inspection{ID: 1, USCC: validUSCC, Level: "city", Status: InspOpen, Listed: listed, OpenedAt: t0}
	}
	t.Run("self-check then close", func(t *testing.T) {
		in := open(true)
		if err := in.SubmitReport("x", nil, "ent", t0); !errors.Is(err, offsite.ErrConflict) {
			t.Errorf("report before request: %v", err)
		}
		if err := in.RequestSelfCheck(t0.Add(days(15)), t0); err != nil {
			t.Fatal(err)
		}
		if err := in.SubmitReport("all fine", []string{"reports/a.pdf"}, "ent", t0.Add(days(16))); err != nil {
			t.Fatal(err)
		}
		if !in.Report.Late {
			t.Error("report after the deadline not marked late")
		}
		if err := in.Review(ReviewClose, "report convincing", "insp", t0.Add(days(17))); err != nil {
			t.Fatal(err)
		}
		if in.Status != InspClosed {
			t.Errorf("status %s", in.Status)
		}
	})
	t.Run("listed site visit needs trigger and approval by another approver", func(t *testing.T) {
		in := open(true)
		if err := in.RequestSiteVisit(TriggerRoutine, "just looking", "insp", t0); !errors.Is(err, offsite.ErrInvalid) {
			t.Errorf("routine trigger on a listed enterprise: %v", err)
		}
		if err := in.RequestSiteVisit("", "x", "insp", t0); err == nil || !strings.Contains(err.Error(), "trigger: is required") {
			t.Errorf("no trigger: %v", err)
		}
		if err := in.RequestSiteVisit(TriggerOffsiteAnomaly, "x", "insp", t0); err == nil || !strings.Contains(err.Error(), "self-check") {
			t.Errorf("off-site anomaly before self-check: %v", err)
		}
		if err := in.RequestSiteVisit(TriggerComplaint, "residents report odour", "insp", t0); err != nil {
			t.Fatal(err)
		}
		if err := in.RecordSiteVisit(cfg, nil, "insp", t0); err == nil || !strings.Contains(err.Error(), "not been approved") {
			t.Errorf("visit without approval: %v", err)
		}
		if err := in.ApproveSiteVisit("insp", true, t0); !errors.Is(err, offsite.ErrConflict) {
			t.Errorf("self-approval: %v", err)
		}
		if err := in.ApproveSiteVisit("boss", false, t0); !errors.Is(err, offsite.ErrForbidden) {
			t.Errorf("approval by a non-approver: %v", err)
		}
		if err := in.ApproveSiteVisit("boss", true, t0); err != nil {
			t.Fatal(err)
		}
		items := make([]ChecklistItem, 0, len(cfg.SiteChecklist))
		for _, c := range cfg.SiteChecklist[1:] {
			items = append(items, ChecklistItem{Item: c, Result: "compliant"})
		}
		if err := in.RecordSiteVisit(cfg, items, "insp", t0); err == nil || !strings.Contains(err.Error(), "is not answered") {
			t.Errorf("incomplete checklist: %v", err)
		}
		items = append(items, ChecklistItem{Item: cfg.SiteChecklist[0], Result: "non_compliant", Note: "permit expired"})
		if err := in.RecordSiteVisit(cfg, items, "insp", t0); err != nil {
			t.Fatal(err)
		}
		d, err := Decide(true, Violation{FirstViolation: true, Minor: true, PromptlyCorrected: true}, "boss", t0)
		if err != nil {
			t.Fatal(err)
		}
		if err := in.Close("permit renewed on the spot", d, t0); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("off-site anomaly after review", func(t *testing.T) {
		in := open(true)
		_ = in.RequestSelfCheck(t0.Add(days(15)), t0)
		_ = in.SubmitReport("we fixed the valve", nil, "ent", t0.Add(days(3)))
		if err := in.Review(ReviewSiteVisit, "readings still high", "insp", t0.Add(days(4))); err != nil {
			t.Fatal(err)
		}
		if in.Status != InspSiteVisitRequested || in.SiteVisit.Trigger != TriggerOffsiteAnomaly {
			t.Errorf("status %s trigger %+v", in.Status, in.SiteVisit)
		}
	})
	t.Run("unlisted routine visit needs no approval", func(t *testing.T) {
		in := open(false)
		if err := in.RequestSiteVisit(TriggerRoutine, "annual plan", "insp", t0); err != nil {
			t.Fatal(err)
		}
		if in.Status != InspSiteVisitApproved {
			t.Errorf("status %s", in.Status)
		}
	})
}

func TestDecide(t *testing.T) {
	for _, tc := range []struct {
		name   string
		listed bool
		v      Violation
		want   Disposition
	}{
		{"first minor listed", true, Violation{FirstViolation: true, Minor: true, PromptlyCorrected: true},
			Disposition{Rule: RuleFirstMinor, Penalty: PenaltyNone, Waived: true}},
		{"first minor not corrected", true, Violation{FirstViolation: true, Minor: true},
			Disposition{Rule: RuleStandard, Penalty: PenaltyStandard}},
		{"self reported", true, Violation{SelfReported: true, NonWilful: true, FixedInTime: true},
			Disposition{Rule: RuleSelfReported, Penalty: PenaltyNone, Waived: true}},
		{"self reported with harm", true, Violation{SelfReported: true, NonWilful: true, FixedInTime: true, Harm: true},
			Disposition{Rule: RuleStandard, Penalty: PenaltyStandard}},
		{"unreported exceedance listed", true, Violation{UnreportedExceedance: true},
			Disposition{Rule: RuleStrict, Penalty: PenaltyStrict, RemoveFromList: true, SpecialSupervision: true, PublicDisclosure: true}},
		{"malicious listed crime", true, Violation{Malicious: true, SuspectedCrime: true},
			Disposition{Rule: RuleStrict, Penalty: PenaltyStrict, RemoveFromList: true, SpecialSupervision: true, PublicDisclosure: true, PoliceReferral: true}},
		{"malicious unlisted", false, Violation{Malicious: true},
			Disposition{Rule: RuleStrictGeneral, Penalty: PenaltyStrict, SpecialSupervision: true, PublicDisclosure: true}},
		{"first minor unlisted", false, Violation{FirstViolation: true, Minor: true, PromptlyCorrected: true},
			Disposition{Rule: RuleStandard, Penalty: PenaltyStandard}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Decide(tc.listed, tc.v, "boss", t0)
			if err != nil {
				t.Fatal(err)
			}
			tc.want.Violation, tc.want.Listed, tc.want.DecidedBy, tc.want.DecidedAt = tc.v, tc.listed, "boss", t0
			if diff := cmp.Diff(&tc.want, d); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := Decide(true, Violation{Malicious: true, NonWilful: true}, "b", t0); !errors.Is(err, offsite.ErrInvalid) {
		t.Errorf("contradiction: %v", err)
	}
}

func TestDispositionBars(t *testing.T) {
	for _, tc := range []struct {
		name   string
		listed bool
		v      Violation
		want   bool
	}{
		{"malicious listed", true, Violation{Malicious: true}, true},
		{"unreported exceedance listed", true, Violation{UnreportedExceedance: true}, false},
		{"malicious unlisted", false, Violation{Malicious: true}, false},
		{"standard", true, Violation{Harm: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Decide(tc.listed, tc.v, "boss", t0)
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Bars(); got != tc.want {
				t.Errorf("Bars() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSplitMix64ReferenceVector(t *testing.T) {
	// Outputs of Vigna's splitmix64.c seeded with 1234567.
	want := []uint64{6457827717110365317, 3203168211198807973, 9817491932198370423, 4593380528125082431, 16408922859458223821}
	r := NewSplitMix64(1234567)
	for i, w := range want {
		if got := r.Next(); got != w {
			t.Fatalf("output %d = %d, want %d", i, got, w)
		}
	}
}

func TestSeed(t *testing.T) {
	s, err := ParseSeed("00000000deadbeef")
	if err != nil || s != 0xdeadbeef || FormatSeed(s) != "00000000deadbeef" {
		t.Fatal(s, err)
	}
	for _, bad := range []string{"", "xyz", "00000000deadbeeg", "0000000deadbeef"} {
		if _, err := ParseSeed(bad); err == nil {
			t.Errorf("ParseSeed(%q) accepted", bad)
		}
	}
}

func TestDraw(t *testing.T) {
	cfg := DefaultConfig().Draw
	var pool []Candidate
	for i := 0; i < 200; i++ {
		c := Candidate{USCC: fmt.Sprintf("U%03d", i), Listed: i%4 == 0, SpecialSupervision: i%50 == 7}
		pool = append(pool, c)
	}
	ins := []Inspector{{ID: "a"}, {ID: "b"}, {ID: "c", Conflicts: []string{"U007"}}, {ID: "d"}}
	r1, err := Draw(cfg, 42, pool, ins)
	if err != nil {
		t.Fatal(err)
	}
	// Same seed, pool in another order: same draw.
	rev := append([]Candidate(nil), pool...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	r2, err := Draw(cfg, 42, rev, []Inspector{ins[3], ins[2], ins[1], ins[0]})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r1, r2); diff != "" {
		t.Fatalf("draw not reproducible (-first +second):\n%s", diff)
	}
	r3, _ := Draw(cfg, 43, pool, ins)
	if cmp.Equal(r1.Targets, r3.Targets) {
		t.Error("another seed gave the same draw")
	}
	want := []Group{{"special", 4, 0.5, 2}, {"ordinary", 146, 0.10, 15}, {"listed", 50, 0.03, 2}}
	if diff := cmp.Diff(want, r1.Groups); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	seen := map[string]bool{}
	for _, tg := range r1.Targets {
		if seen[tg.USCC] {
			t.Errorf("%s drawn twice", tg.USCC)
		}
		seen[tg.USCC] = true
		if tg.Group == "listed" && tg.Mode != ModeOffsite {
			t.Errorf("listed target %s mode %s", tg.USCC, tg.Mode)
		}
		if len(tg.Inspectors) != 2 || tg.Inspectors[0] == tg.Inspectors[1] {
			t.Errorf("target %s inspectors %v", tg.USCC, tg.Inspectors)
		}
		for _, id := range tg.Inspectors {
			if id == "c" && tg.USCC == "U007" {
				t.Error("conflicted inspector assigned")
			}
		}
	}
	if _, err := Draw(DrawConfig{UnlistedRatio: 1, InspectorsPerTarget: 2}, 1, pool[:3], ins[:1]); err == nil {
		t.Error("draw with too few inspectors succeeded")
	}
}
