package enforce

import (
	"errors"
	"testing"
	"time"

	"github.com/offsite/offsite"
)

// proposed returns a proposed entry of an admitted enterprise.
func proposed(t *testing.T, cfg Config) *ListEntry {
	t.Helper()
	e, err := Propose(&Enterprise{USCC: validUSCC, Name: "x", Industry: "C3120"}, Evaluate(cfg.Admission, goodFacts()), t0)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestNoticeAgainstTheClock: a notice starts now or later (a few minutes of skew allowed) and
// lasts at least NoticeMinDays; a back-dated notice is refused naming notice_start.
func TestNoticeAgainstTheClock(t *testing.T) {
	cfg := DefaultConfig()
	now := t0
	for _, tc := range []struct {
		name       string
		start, end time.Time
		field      string // "" when accepted
	}{
		{"back-dated 10 days, ending in 30 s", now.Add(-days(10)), now.Add(30 * time.Second), "notice_start"},
		{"back-dated 10 days, 7 days long", now.Add(-days(10)), now.Add(-days(3)), "notice_start"},
		{"started yesterday", now.Add(-days(1)), now.Add(days(7)), "notice_start"},
		{"started just past the skew", now.Add(-NoticeStartSkew - time.Second), now.Add(days(7)), "notice_start"},
		{"started within the skew", now.Add(-NoticeStartSkew), now.Add(-NoticeStartSkew + days(7)), ""},
		{"starts now, 7 days", now, now.Add(days(7)), ""},
		{"starts now, 7 days less a second", now, now.Add(days(7) - time.Second), "notice_end"},
		{"starts in two days, 7 days", now.Add(days(2)), now.Add(days(9)), ""},
		{"ends before it starts", now.Add(days(2)), now.Add(days(1)), "notice_end"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := proposed(t, cfg)
			err := e.StartNotice(cfg, tc.start, tc.end, now)
			var ie *offsite.FieldError
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.field == "":
				if e.Status != ListNotice || !e.NoticePostedAt.Equal(now) {
					t.Errorf("status %s, posted %v; want notice posted at %v", e.Status, e.NoticePostedAt, now)
				}
			case !errors.As(err, &ie) || ie.Field != tc.field:
				t.Fatalf("err = %v, want invalid %s", err, tc.field)
			case e.Status != ListProposed:
				t.Errorf("a refused notice moved the entry to %s", e.Status)
			}
		})
	}
}

// TestListingAfterTheNoticeRan: an entry is listed only once its notice has ended and has run
// NoticeMinDays by the server's clock, counted from when it was posted or started, whichever
// is later.
func TestListingAfterTheNoticeRan(t *testing.T) {
	cfg := DefaultConfig()
	posted := t0
	skewed := posted.Add(-NoticeStartSkew)
	for _, tc := range []struct {
		name       string
		start, end time.Time
		posted     *time.Time // nil: an entry put on notice before NoticePostedAt was recorded
		at         time.Time
		listed     bool
	}{
		{"at its end", posted, posted.Add(days(7)), &posted, posted.Add(days(7)), true},
		{"a second before its end", posted, posted.Add(days(7)), &posted, posted.Add(days(7) - time.Second), false},
		{"start within the skew: at notice_end", skewed, skewed.Add(days(7)), &posted, skewed.Add(days(7)), false},
		{"start within the skew: 7 days after posting", skewed, skewed.Add(days(7)), &posted, posted.Add(days(7)), true},
		{"future start: 7 days after posting", posted.Add(days(2)), posted.Add(days(9)), &posted, posted.Add(days(7)), false},
		{"future start: at its end", posted.Add(days(2)), posted.Add(days(9)), &posted, posted.Add(days(9)), true},
		{"stored back-dated start, ends 30 s after posting", posted.Add(-days(10)), posted.Add(30 * time.Second), &posted, posted.Add(35 * time.Second), false},
		{"stored back-dated start: 7 days after posting", posted.Add(-days(10)), posted.Add(30 * time.Second), &posted, posted.Add(days(7)), true},
		{"no posting time recorded: counted from the start", posted, posted.Add(days(8)), nil, posted.Add(days(8)), true},
		{"no posting time recorded, 3-day period", posted, posted.Add(days(3)), nil, posted.Add(days(3)), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := proposed(t, cfg)
			// Set the stored notice directly: the table covers records StartNotice refuses.
			e.Status, e.NoticeStart, e.NoticeEnd, e.NoticePostedAt = ListNotice, &tc.start, &tc.end, tc.posted
			err := e.List(cfg, tc.at, tc.at)
			if tc.listed && err != nil {
				t.Fatalf("not listed at %v: %v", tc.at, err)
			}
			if !tc.listed && !errors.Is(err, offsite.ErrConflict) {
				t.Fatalf("listed at %v (%v), before the notice ran %d days", tc.at, err, cfg.NoticeMinDays)
			}
		})
	}
}
