package enforce

import (
	"errors"
	"testing"
	"time"

	"github.com/offsite/offsite"
)

// listed returns an entry listed at t0, with its admission awaiting filing.
func listed(t *testing.T, cfg Config, t0 time.Time) *ListEntry {
	t.Helper()
	ent := &Enterprise{USCC: "91110000600037341L"}
	e, err := Propose(ent, Evaluate(cfg.Admission, goodFacts()), t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.StartNotice(cfg, t0, t0.Add(days(cfg.NoticeMinDays)), t0); err != nil {
		t.Fatal(err)
	}
	if err := e.List(cfg, t0.Add(days(cfg.NoticeMinDays)), t0.Add(days(cfg.NoticeMinDays))); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestFiling(t *testing.T) {
	cfg := DefaultConfig()
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	e := listed(t, cfg, t0)
	if e.ToFile != ChangeAdmission || e.FiledAt != nil {
		t.Fatalf("listed: to_file %q, filed_at %v", e.ToFile, e.FiledAt)
	}
	if _, err := e.ReceiveFiling("R-1", "province", t0); !errors.Is(err, offsite.ErrConflict) {
		t.Errorf("receipt before a filing: %v", err)
	}
	if _, err := e.SubmitFiling("city", t0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.SubmitFiling("city", t0); !errors.Is(err, offsite.ErrConflict) {
		t.Errorf("second filing while one awaits receipt: %v", err)
	}
	if _, err := e.ReceiveFiling(" ", "province", t0); !errors.Is(err, offsite.ErrInvalid) {
		t.Errorf("receipt without a number: %v", err)
	}
	at := t0.Add(days(2))
	if _, err := e.ReceiveFiling("R-1", "province", at); err != nil || e.FiledAt == nil || !e.FiledAt.Equal(at) || e.ToFile != "" {
		t.Fatalf("receipt: %v, filed_at %v, to_file %q", err, e.FiledAt, e.ToFile)
	}
	if _, err := e.SubmitFiling("city", at); !errors.Is(err, offsite.ErrConflict) {
		t.Errorf("filing with nothing to file: %v", err)
	}
}

func TestAdjustmentsGoThroughNotice(t *testing.T) {
	cfg := DefaultConfig()
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	ent := &Enterprise{USCC: "91110000600037341L"}
	now := t0.Add(days(400))
	notice := func(kind string) Adjustment {
		ev := Evaluate(cfg.Admission, goodFacts())
		return Adjustment{Kind: kind, Evaluation: &ev, Category: RemovalFalsifiedRecords, Reason: "ledger", NoticeStart: now, NoticeEnd: now.Add(days(cfg.NoticeMinDays))}
	}
	for _, tc := range []struct {
		name    string
		adj     func() Adjustment
		wantErr error
	}{
		{"unknown kind", func() Adjustment { a := notice("promotion"); return a }, offsite.ErrInvalid},
		{"back-dated", func() Adjustment { a := notice(ChangeRemoval); a.NoticeStart = now.Add(-days(1)); return a }, offsite.ErrInvalid},
		{"too short", func() Adjustment { a := notice(ChangeRemoval); a.NoticeEnd = now.Add(days(1)); return a }, offsite.ErrInvalid},
		{"no reason", func() Adjustment { a := notice(ChangeRemoval); a.Reason = ""; return a }, offsite.ErrInvalid},
		{"not admitted", func() Adjustment { a := notice(ChangeRenewal); a.Evaluation = &Evaluation{}; return a }, offsite.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := listed(t, cfg, t0)
			if err := e.ProposeAdjustment(cfg, ent, tc.adj(), now); !errors.Is(err, tc.wantErr) {
				t.Errorf("ProposeAdjustment = %v, want %v", err, tc.wantErr)
			}
		})
	}

	// A removal: on notice the entry stays listed; an upheld objection drops it; a second
	// one is applied after its notice, barring the enterprise, and awaits filing.
	e := listed(t, cfg, t0)
	if err := e.ProposeAdjustment(cfg, ent, notice(ChangeRemoval), now); err != nil {
		t.Fatal(err)
	}
	if e.Status != ListListed {
		t.Errorf("status on notice %s", e.Status)
	}
	if _, err := e.Object("they fixed it", "neighbour", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := e.Resolve(1, "upheld", "records were sound", "head", now.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if e.Adjustment != nil || len(e.Adjustments) != 1 || e.Adjustments[0].Outcome != "rejected" || e.Status != ListListed {
		t.Fatalf("upheld objection: %+v %+v", e.Adjustment, e.Adjustments)
	}
	if err := e.ProposeAdjustment(cfg, ent, notice(ChangeRemoval), now); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ApplyAdjustment(cfg, ent, now.Add(days(1))); !errors.Is(err, offsite.ErrConflict) {
		t.Errorf("applied during the notice: %v", err)
	}
	barred, err := e.ApplyAdjustment(cfg, ent, now.Add(days(cfg.NoticeMinDays)))
	if err != nil || !barred || e.Status != ListRemoved || e.ToFile != ChangeRemoval || e.RemovedAt == nil {
		t.Fatalf("applied: barred %v, %v, %+v", barred, err, e)
	}

	// A renewal extends the validity once applied.
	e = listed(t, cfg, t0)
	before := *e.ValidTo
	if err := e.ProposeAdjustment(cfg, ent, notice(ChangeRenewal), now); err != nil {
		t.Fatal(err)
	}
	if err := e.ProposeAdjustment(cfg, ent, notice(ChangeRemoval), now); !errors.Is(err, offsite.ErrConflict) {
		t.Errorf("second adjustment under way: %v", err)
	}
	if _, err := e.ApplyAdjustment(cfg, ent, now.Add(days(cfg.NoticeMinDays))); err != nil || !e.ValidTo.After(before) || e.Renewals != 1 || e.ToFile != ChangeRenewal {
		t.Errorf("renewal applied: %v, valid_to %v (was %v), renewals %d, to_file %q", err, e.ValidTo, before, e.Renewals, e.ToFile)
	}
}
