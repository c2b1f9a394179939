package postgres

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
)

// TestDeliveriesByAgency: an event reaches, in the app, by e-mail and by webhook, only the
// agencies it concerns: an enterprise's event its agency and those above; a survey's the
// agency of the account that queued it and those above; a nightly run's the provinces. A
// token-file account (no agency) is reached as an account of the first province, a disabled
// user by none.
func TestDeliveriesByAgency(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	enf := mustEnforce(t, db)
	n := NewNotifyService(enf)
	const uscc = "91110000600037341L"
	MustEnterprise(t, enf, uscc, "Z1")

	agency := map[string]int64{"province": 1}
	for _, name := range []string{"cityA", "cityB"} {
		var id int64
		if err := db.Pool.QueryRow(ctx, `WITH n AS (SELECT nextval(pg_get_serial_sequence('agencies', 'id')) AS id)
			INSERT INTO agencies (id, name, level, parent_id, path) SELECT id, $1, 'city', 1, ARRAY[1, id] FROM n RETURNING id`, name).Scan(&id); err != nil {
			t.Fatal(err)
		}
		agency[name] = id
	}
	if _, err := db.Pool.Exec(ctx, `UPDATE enterprises SET agency_id = $1 WHERE uscc = $2`, agency["cityA"], uscc); err != nil {
		t.Fatal(err)
	}
	// Another province, with an enterprise of its own: its events reach none of the first
	// province's accounts, the token file's included.
	check, err := enforce.USCCCheckChar("91320594MA1W6K2Q3")
	if err != nil {
		t.Fatal(err)
	}
	usccOther := "91320594MA1W6K2Q3" + string(check)
	MustEnterprise(t, enf, usccOther, "Z2")
	if _, err := db.Pool.Exec(ctx, `WITH n AS (SELECT nextval(pg_get_serial_sequence('agencies', 'id')) AS id),
		p AS (INSERT INTO agencies (id, name, level, path) SELECT id, 'other province', 'province', ARRAY[id] FROM n RETURNING id)
		UPDATE enterprises SET agency_id = (SELECT id FROM p) WHERE uscc = $1`, usccOther); err != nil {
		t.Fatal(err)
	}
	// Users: name, role, agency ("" for a token-file account: preferences but no user row).
	users := []struct {
		name, role, agency string
		disabled           bool
	}{
		{"ins-p", "inspector", "province", false}, {"ins-a", "inspector", "cityA", false}, {"ins-b", "inspector", "cityB", false},
		{"ins-a-off", "inspector", "cityA", true}, {"ins-tok", "inspector", "", false},
		{"ana-p", "analyst", "province", false}, {"ana-a", "analyst", "cityA", false}, {"ana-b", "analyst", "cityB", false},
		{"adm-p", "admin", "province", false}, {"adm-a", "admin", "cityA", false},
	}
	actors := map[string]enforce.Actor{}
	for _, u := range users {
		a := enforce.Actor{Name: u.name, Role: enforce.Role(u.role), Agency: agency[u.agency]}
		actors[u.name] = a
		if u.agency != "" {
			if _, err := db.Pool.Exec(ctx, `INSERT INTO users (name, role, agency_id, disabled) VALUES ($1, $2, $3, $4)`, u.name, u.role, a.Agency, u.disabled); err != nil {
				t.Fatal(err)
			}
		}
		if err := n.SavePrefs(ctx, a, &enforce.NotificationPrefs{Email: u.name + "@epb.example.org", EmailEvents: enforce.EventsFor(a.Role)}); err != nil {
			t.Fatal(err)
		}
	}
	// A webhook subscription of each agency, made by its administrator.
	hooks := map[int64]string{}
	for _, ag := range []string{"province", "cityA", "cityB"} {
		h := &enforce.Webhook{Name: ag + " gateway", URL: "https://hooks.example.org/" + ag,
			Events: []enforce.Event{enforce.EventWarningNew, enforce.EventSurveyFinished, enforce.EventNightlyFinished}}
		if err := n.CreateWebhook(ctx, enforce.Actor{Name: "adm", Role: enforce.RoleAdmin, Agency: agency[ag]}, h); err != nil {
			t.Fatal(err)
		}
		if h.AgencyID != agency[ag] {
			t.Errorf("webhook of %s: agency %d", ag, h.AgencyID)
		}
		hooks[h.ID] = ag
	}
	// A token-file administrator's subscription belongs to the first province.
	if h := (&enforce.Webhook{Name: "t", URL: "https://hooks.example.org/t", Events: []enforce.Event{enforce.EventWarningNew}}); n.CreateWebhook(ctx, enforce.Actor{Name: "root", Role: enforce.RoleAdmin}, h) != nil || h.AgencyID != 1 {
		t.Errorf("token-file admin's webhook: agency %d", h.AgencyID)
	} else {
		hooks[h.ID] = "province"
	}
	for ag, want := range map[string]int{"province": 4, "cityA": 1, "cityB": 1} {
		if hs, err := n.FindWebhooks(ctx, agency[ag]); err != nil || len(hs) != want {
			t.Errorf("webhooks listed for %s: %d, %v; want %d", ag, len(hs), err, want)
		}
	}

	// The events: a warning on city A's enterprise, a survey queued by city B's analyst,
	// a nightly run.
	write := func(nt *enforce.Notification) *enforce.Notification {
		if err := enf.inTx(ctx, func(tx pgx.Tx) error { return insertOutbox(ctx, tx, nt, "") }); err != nil {
			t.Fatal(err)
		}
		return nt
	}
	warning := write(&enforce.Notification{Event: enforce.EventWarningNew, Subject: "inspection/1", USCC: uscc, Title: "warning"})
	elsewhere := write(&enforce.Notification{Event: enforce.EventWarningNew, Subject: "inspection/2", USCC: usccOther, Title: "warning elsewhere"})
	at := time.Date(2026, 5, 3, 0, 0, 0, 0, time.UTC)
	sv := &offsite.Survey{Zone: square(0, 0, 1), WindowStart: at.Add(-time.Hour), WindowEnd: at, Kinds: []string{offsite.KindLandsat}, Pipeline: "landsat", CreatedBy: "ana-b"}
	if _, err := NewSurveyService(db).CreateSurvey(ctx, sv); err != nil {
		t.Fatal(err)
	}
	survey := &enforce.Notification{}
	if err := db.Pool.QueryRow(ctx, `SELECT id FROM outbox WHERE subject = $1`, fmt.Sprintf("survey/%d", sv.ID)).Scan(&survey.ID); err != nil {
		t.Fatal(err)
	}
	nightly := write(&enforce.Notification{Event: enforce.EventNightlyFinished, Subject: "nightly-run/1", Title: "nightly"})

	for _, tc := range []struct {
		name  string
		id    int64
		mail  []string // users e-mailed
		hooks []string // agencies of the webhooks
	}{
		{"warning on city A's enterprise", warning.ID, []string{"adm-a", "adm-p", "ins-a", "ins-p", "ins-tok"}, []string{"cityA", "province", "province"}},
		{"survey queued by city B", survey.ID, []string{"ana-b", "ana-p"}, []string{"cityB", "province"}},
		{"nightly run", nightly.ID, []string{"adm-p", "ana-p"}, []string{"province"}},
		{"warning in another province", elsewhere.ID, nil, nil},
	} {
		nt, _, err := n.FindOutbox(ctx, tc.id)
		if err != nil {
			t.Fatal(err)
		}
		ds, err := n.PlanDeliveries(ctx, nt)
		if err != nil {
			t.Fatal(err)
		}
		var mail, hk []string
		inapp := 0
		for _, d := range ds {
			switch d.Channel {
			case enforce.ChannelEmail:
				mail = append(mail, d.Target[:len(d.Target)-len("@epb.example.org")])
			case enforce.ChannelWebhook:
				var id int64
				fmt.Sscanf(d.Target, "webhook/%d", &id)
				hk = append(hk, hooks[id])
			default:
				inapp++
			}
		}
		slices.Sort(mail)
		slices.Sort(hk)
		if diff := cmp.Diff(tc.mail, mail); diff != "" || inapp != 1 {
			t.Errorf("%s: e-mailed (-want +got):\n%s (in-app deliveries %d)", tc.name, diff, inapp)
		}
		if diff := cmp.Diff(tc.hooks, hk); diff != "" {
			t.Errorf("%s: webhooks (-want +got):\n%s", tc.name, diff)
		}
		if err := n.DeliverInApp(ctx, nt); err != nil {
			t.Fatal(err)
		}
	}

	// In the app, the same scope (preferences left at every event of the role).
	for _, u := range users {
		if err := n.SavePrefs(ctx, actors[u.name], &enforce.NotificationPrefs{}); err != nil {
			t.Fatal(err)
		}
	}
	for name, want := range map[string][]string{
		"ins-p": {"warning"}, "ins-a": {"warning"}, "ins-b": nil, "ins-tok": {"warning"},
		"ana-p": {"nightly", "survey"}, "ana-a": nil, "ana-b": {"survey"},
		"adm-p": {"nightly", "warning"}, "adm-a": {"warning"},
	} {
		ms, _, _, err := n.FindMessages(ctx, actors[name], false, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range ms {
			if m.Subject == fmt.Sprintf("survey/%d", sv.ID) {
				got = append(got, "survey")
			} else {
				got = append(got, m.Title)
			}
		}
		slices.Sort(got)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s's messages (-want +got):\n%s", name, diff)
		}
	}

	// Each e-mail address set or removed is audited (saving the same again is not), and the
	// entries are read only within the user's agency.
	if err := n.SavePrefs(ctx, actors["ins-b"], &enforce.NotificationPrefs{}); err != nil {
		t.Fatal(err)
	}
	for ag, want := range map[string]int{"province": 2, "cityA": 0, "cityB": 2} {
		es, total, err := enf.FindAuditIn(ctx, agency[ag], "notification-prefs/ins-b", 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if total != want || want > 0 && (es[0].Action != enforce.AuditNotificationEmail || es[1].Detail != `{"email":"ins-b@epb.example.org","previous":""}`) {
			t.Errorf("audit of ins-b's e-mail read by %s: %d entries, want %d: %+v", ag, total, want, es)
		}
	}
}
