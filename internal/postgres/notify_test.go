package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
)

// outboxEvents returns the outbox as "event subject" lines, in order.
func outboxEvents(t *testing.T, db *DB) []string {
	t.Helper()
	rows, err := db.Pool.Query(context.Background(), `SELECT event || ' ' || subject FROM outbox ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// TestOutboxOfSurveysAndNightlyRuns: the end of a survey (finished or failed) and of a nightly
// run (finished or failed) is written to the outbox with the end itself.
func TestOutboxOfSurveysAndNightlyRuns(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	at := time.Date(2026, 5, 3, 0, 0, 0, 0, time.UTC)
	caps := NewCaptureService(db)
	c := &offsite.Capture{Kind: offsite.KindSentinel2, AcquiredAt: at, Bucket: "b", Key: "a.tif"}
	if err := caps.CreateCapture(ctx, c); err != nil {
		t.Fatal(err)
	}
	s := NewSurveyService(db)
	empty := &offsite.Survey{Zone: square(0, 0, 1), WindowStart: at.Add(-time.Hour), WindowEnd: at.Add(time.Hour), Kinds: []string{offsite.KindLandsat}, Pipeline: "landsat"}
	if _, err := s.CreateSurvey(ctx, empty); err != nil {
		t.Fatal(err)
	}
	failing := &offsite.Survey{Zone: square(120, 31, 1), WindowStart: at.Add(-time.Hour), WindowEnd: at.Add(time.Hour), Kinds: []string{offsite.KindSentinel2}, Pipeline: "sentinel2"}
	parts, err := s.CreateSurvey(ctx, failing)
	if err != nil || len(parts) != 1 {
		t.Fatalf("CreateSurvey: %d parts, %v", len(parts), err)
	}
	if got := outboxEvents(t, db); len(got) != 1 {
		t.Errorf("a survey under way is notified: %v", got)
	}
	if err := s.EndPart(ctx, failing.ID, c.ID, 0, 0, 0, "corrupt"); err != nil {
		t.Fatal(err)
	}
	// A re-delivered end changes nothing and tells nobody again.
	if err := s.EndPart(ctx, failing.ID, c.ID, 0, 0, 0, "corrupt"); err != nil {
		t.Fatal(err)
	}
	nightly := NewNightlyService(db)
	for _, e := range []string{"", "redis down"} {
		r, _, err := nightly.StartRun(ctx)
		if err != nil {
			t.Fatal(err)
		}
		r.Error = e
		if err := nightly.FinishRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		fmt.Sprintf("survey.finished survey/%d", empty.ID),
		fmt.Sprintf("survey.failed survey/%d", failing.ID),
		"nightly.finished nightly-run/1",
		"nightly.failed nightly-run/2",
	}
	if diff := cmp.Diff(want, outboxEvents(t, db)); diff != "" {
		t.Errorf("outbox (-want +got):\n%s", diff)
	}
}

// TestInAppMessages: a message reaches the roles of its event (an enterprise only
// its own) and what each user chose; reads are per user.
func TestInAppMessages(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	enf := NewEnforceService(db, AuditConfig{})
	n := NewNotifyService(enf)
	const a, b = "91110000600037341L", "91320000134780001D"
	write := func(nt *enforce.Notification) {
		err := enf.inTx(ctx, func(tx pgx.Tx) error { return insertOutbox(ctx, tx, nt, "") })
		if err != nil {
			t.Fatal(err)
		}
		if err := n.DeliverInApp(ctx, nt); err != nil {
			t.Fatal(err)
		}
		if err := n.DeliverInApp(ctx, nt); err != nil { // a retried delivery adds nothing
			t.Fatal(err)
		}
	}
	write(&enforce.Notification{Event: enforce.EventSelfCheckRequested, Subject: "inspection/1", USCC: a, Title: "to a"})
	write(&enforce.Notification{Event: enforce.EventSelfCheckRequested, Subject: "inspection/2", USCC: b, Title: "to b"})
	write(&enforce.Notification{Event: enforce.EventWarningNew, Subject: "inspection/1", USCC: a, Title: "warning"})
	write(&enforce.Notification{Event: enforce.EventIncidentReported, Subject: "inspection/1", USCC: a, Title: "incident"})
	titles := func(act enforce.Actor) []string {
		ms, total, unread, err := n.FindMessages(ctx, act, false, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range ms {
			out = append(out, m.Title)
		}
		if total != len(ms) || unread > total {
			t.Errorf("%s: total %d unread %d of %d", act.Name, total, unread, len(ms))
		}
		return out
	}
	entA := enforce.Actor{Name: "ehs-a", Role: enforce.RoleEnterprise, USCC: a}
	officer := enforce.Actor{Name: "li", Role: enforce.RoleInspector}
	for _, tc := range []struct {
		act  enforce.Actor
		want []string
	}{
		{entA, []string{"to a"}},
		{enforce.Actor{Name: "ehs-b", Role: enforce.RoleEnterprise, USCC: b}, []string{"to b"}},
		{officer, []string{"incident", "warning"}},
		{enforce.Actor{Name: "wang", Role: enforce.RoleApprover}, nil},
	} {
		if diff := cmp.Diff(tc.want, titles(tc.act)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.act.Name, diff)
		}
	}
	// Agencies: an officer of the city of enterprise a sees its messages, as does the
	// province above it; an officer of another city does not.
	MustEnterprise(t, mustEnforce(t, db), a, "Z1")
	var cityA, cityB int64
	for _, id := range []*int64{&cityA, &cityB} {
		if err := db.Pool.QueryRow(ctx, `WITH n AS (SELECT nextval(pg_get_serial_sequence('agencies', 'id')) AS id)
			INSERT INTO agencies (id, name, level, parent_id, path) SELECT id, 'City ' || id, 'city', 1, ARRAY[1, id] FROM n RETURNING id`).Scan(id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE enterprises SET agency_id = $1 WHERE uscc = $2`, cityA, a); err != nil {
		t.Fatal(err)
	}
	for agency, want := range map[int64][]string{1: {"incident", "warning"}, cityA: {"incident", "warning"}, cityB: nil} {
		act := enforce.Actor{Name: fmt.Sprintf("officer-%d", agency), Role: enforce.RoleInspector, Agency: agency}
		if diff := cmp.Diff(want, titles(act)); diff != "" {
			t.Errorf("officer of agency %d (-want +got):\n%s", agency, diff)
		}
	}
	if err := n.SavePrefs(ctx, officer, &enforce.NotificationPrefs{InAppEvents: []enforce.Event{enforce.EventIncidentReported}}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"incident"}, titles(officer)); diff != "" {
		t.Errorf("officer after choosing (-want +got):\n%s", diff)
	}
	// Reading: only one's own messages, once, and per user.
	if m, err := n.MarkRead(ctx, entA, nil); err != nil || m != 1 {
		t.Errorf("MarkRead all: %d, %v", m, err)
	}
	if m, err := n.MarkRead(ctx, entA, nil); err != nil || m != 0 {
		t.Errorf("MarkRead again: %d, %v", m, err)
	}
	if _, _, unread, _ := n.FindMessages(ctx, enforce.Actor{Name: "ehs-a2", Role: enforce.RoleEnterprise, USCC: a}, true, 0, 10); unread != 1 {
		t.Errorf("another user of the same enterprise: %d unread, want 1", unread)
	}
	if _, err := db.Pool.Exec(ctx, `DELETE FROM notification_messages`); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("the application deletes in-app messages: %v", err)
	}
}
