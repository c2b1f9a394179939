package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/httpapi"
)

// TestNoticeCannotBeBackdated is the probe of a back-dated public notice (issue 13 item 6): a
// notice that started 10 days ago and ends in 30 s used to be accepted, and the entry listed
// 35 s later. The notice is checked against the server's clock, and listing waits until the
// notice has run its 7 days by that clock.
func TestNoticeCannotBeBackdated(t *testing.T) {
	e := newEnforceServer(t)
	e.must(t, 201, analyst, "POST", "/api/v1/enterprises", enterpriseBody(entUSCC, 120.1, 30.2), nil)
	var v versioned
	e.must(t, 201, analyst, "POST", "/api/v1/positive-list", map[string]any{"uscc": entUSCC, "facts": goodFacts()}, &v)
	notice := fmt.Sprintf("/api/v1/positive-list/%d/notice", v.ID)
	list := fmt.Sprintf("/api/v1/positive-list/%d/list", v.ID)
	now := e.clock.Now()
	rfc := func(t time.Time) string { return t.Format(time.RFC3339) }

	var apiErr apiError
	e.must(t, 400, analyst, "POST", notice, map[string]any{"version": v.Version,
		"notice_start": rfc(now.Add(-10 * 24 * time.Hour)), "notice_end": rfc(now.Add(30 * time.Second))}, &apiErr)
	if apiErr.Error.Field != "notice_start" || !strings.Contains(apiErr.Error.Message, "in the past") {
		t.Errorf("back-dated notice: %+v", apiErr.Error)
	}
	e.clock.Add(35 * time.Second)
	e.must(t, 409, approver, "POST", list, map[string]any{"version": v.Version}, &apiErr)
	e.must(t, 200, analyst, "GET", fmt.Sprintf("/api/v1/positive-list/%d", v.ID), nil, &v)
	if v.Status != string(enforce.ListProposed) {
		t.Fatalf("entry %s after a refused back-dated notice", v.Status)
	}

	// A notice given today by date (the web form) starts when it is posted; one dated
	// yesterday is back-dated.
	cst := time.FixedZone("CST", 8*3600)
	day := func(d int) string { return e.clock.Now().In(cst).AddDate(0, 0, d).Format(time.DateOnly) }
	e.must(t, 400, analyst, "POST", notice, map[string]any{"version": v.Version, "notice_start": day(-1), "notice_end": day(8)}, &apiErr)
	if apiErr.Error.Field != "notice_start" {
		t.Errorf("notice dated yesterday: %+v", apiErr.Error)
	}
	posted := e.clock.Now()
	var on struct {
		versioned
		NoticeStart    time.Time `json:"notice_start"`
		NoticePostedAt time.Time `json:"notice_posted_at"`
	}
	e.must(t, 200, analyst, "POST", notice, map[string]any{"version": v.Version, "notice_start": day(0), "notice_end": day(8)}, &on)
	if !on.NoticeStart.Equal(posted) || !on.NoticePostedAt.Equal(posted) {
		t.Errorf("notice from today: start %v, posted %v; want both %v", on.NoticeStart, on.NoticePostedAt, posted)
	}
	// Listing waits for notice_end (midnight, China Standard Time, 8 days on).
	end, err := time.ParseInLocation(time.DateOnly, day(8), cst)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Add(end.Sub(posted) - time.Minute)
	e.must(t, 409, approver, "POST", list, map[string]any{"version": on.Version}, &apiErr)
	if !strings.Contains(apiErr.Error.Message, "notice runs until") {
		t.Errorf("listing a minute early: %+v", apiErr.Error)
	}
	e.clock.Add(time.Minute)
	e.must(t, 200, approver, "POST", list, map[string]any{"version": on.Version}, &v)
	if v.Status != string(enforce.ListListed) {
		t.Errorf("entry %s after its notice ran", v.Status)
	}
}

// TestPublicDrawShowsNothingInternal is the probe of the public draw (issue 13 item 8): it
// showed the whole pool with every enterprise's special-supervision flag, the inspectors'
// conflicts of interest and who ran the draw. It shows the drawn enterprises by name and
// USCC, their mode and inspectors, and a digest of the inputs the recorded draw matches.
func TestPublicDrawShowsNothingInternal(t *testing.T) {
	e := newEnforceServer(t)
	for _, u := range []string{entUSCC, otherUSCC} {
		e.must(t, 201, analyst, "POST", "/api/v1/enterprises", enterpriseBody(u, 120.1, 30.2), nil)
	}
	if _, err := e.db.Pool.Exec(context.Background(), `UPDATE enterprises SET special_supervision = true WHERE uscc = $1`, otherUSCC); err != nil {
		t.Fatal(err)
	}
	ins := []map[string]any{{"id": "insp-a"}, {"id": "insp-b"}, {"id": "insp-c"}, {"id": "insp-d", "conflicts": []string{entUSCC}}}
	var d struct {
		ID int64 `json:"id"`
	}
	e.must(t, 201, approver, "POST", "/api/v1/draws", map[string]any{"seed": "00000000000000ff", "inspectors": ins}, &d)

	body := e.must(t, 200, "", "GET", fmt.Sprintf("/public/draws/%d", d.ID), nil, nil)
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"conflicts", "created_by", "special_supervision", "pool", "groups", "group", "listed"} {
		if path := findKey(doc, key, "$"); path != "" {
			t.Errorf("the public draw shows %s: %s", path, body)
		}
	}
	if strings.Contains(string(body), "test-"+string(httpapi.RoleApprover)) { // the approver's name (mustTestTokens)
		t.Errorf("the public draw names who ran it: %s", body)
	}

	var pub enforce.PublicDraw
	if err := json.Unmarshal(body, &pub); err != nil {
		t.Fatal(err)
	}
	var rec enforce.StoredDraw
	e.must(t, 200, approver, "GET", fmt.Sprintf("/api/v1/draws/%d", d.ID), nil, &rec)
	sum, err := rec.Result.InputsSHA256()
	if err != nil {
		t.Fatal(err)
	}
	if pub.Seed != "00000000000000ff" || pub.PoolSize != 2 || pub.InputsSHA256 != sum || len(pub.Targets) != 2 {
		t.Fatalf("public draw %+v, want seed, pool size 2, inputs %s and both targets", pub, sum)
	}
	for i, tg := range pub.Targets {
		if want := []string{entUSCC, otherUSCC}[i]; tg.USCC != want || tg.Name != "Enterprise "+want[:8] || len(tg.Inspectors) != 2 || tg.Mode == "" {
			t.Errorf("target %d = %+v, want %s by name with its mode and 2 inspectors, in USCC order", i, tg, want)
		}
	}
}

// findKey returns the path of the first object key named key in a decoded JSON value, or "".
func findKey(v any, key, path string) string {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if k == key {
				return path + "." + k
			}
			if p := findKey(c, key, path+"."+k); p != "" {
				return p
			}
		}
	case []any:
		for i, c := range x {
			if p := findKey(c, key, fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	}
	return ""
}
