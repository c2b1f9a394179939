package httpapi

import (
	"net/http/httptest"
	"testing"
)

func TestPageLinks(t *testing.T) {
	for _, tc := range []struct {
		url                  string
		total, offset, limit int
		want                 string
	}{
		{"/l?q=a", 0, 0, 10, `</l?limit=10&offset=0&q=a>; rel="first", </l?limit=10&offset=0&q=a>; rel="last"`},
		{"/l", 25, 0, 10, `</l?limit=10&offset=0>; rel="first", </l?limit=10&offset=10>; rel="next", </l?limit=10&offset=20>; rel="last"`},
		{"/l", 25, 10, 10, `</l?limit=10&offset=0>; rel="first", </l?limit=10&offset=0>; rel="prev", </l?limit=10&offset=20>; rel="next", </l?limit=10&offset=20>; rel="last"`},
		{"/l", 25, 20, 10, `</l?limit=10&offset=0>; rel="first", </l?limit=10&offset=10>; rel="prev", </l?limit=10&offset=20>; rel="last"`},
		{"/l", 20, 5, 10, `</l?limit=10&offset=0>; rel="first", </l?limit=10&offset=0>; rel="prev", </l?limit=10&offset=15>; rel="next", </l?limit=10&offset=10>; rel="last"`},
		{"/l", 3, 50, 10, `</l?limit=10&offset=0>; rel="first", </l?limit=10&offset=40>; rel="prev", </l?limit=10&offset=0>; rel="last"`},
	} {
		r := httptest.NewRequest("GET", tc.url, nil)
		if got := pageLinks(r, &listPage{total: tc.total, offset: tc.offset, limit: tc.limit}); got != tc.want {
			t.Errorf("%s total %d offset %d limit %d:\n got %s\nwant %s", tc.url, tc.total, tc.offset, tc.limit, got, tc.want)
		}
	}
}

func TestPageOf(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want *listPage
	}{
		{map[string]any{"items": []int{}, "total": 3, "offset": 0, "limit": 2}, &listPage{3, 0, 2}},
		{map[string]any{"items": []int{}, "total": int64(3)}, &listPage{3, -1, -1}},
		{map[string]any{"items": []int{}}, nil},
		{map[string]any{"total": "3"}, nil},
		{struct{ Total int }{3}, nil},
	} {
		got := pageOf(tc.v)
		if (got == nil) != (tc.want == nil) || got != nil && *got != *tc.want {
			t.Errorf("pageOf(%v) = %+v, want %+v", tc.v, got, tc.want)
		}
	}
}

func TestETagMatches(t *testing.T) {
	for _, tc := range []struct {
		inm  string
		want bool
	}{
		{`"a"`, true}, {`W/"a"`, true}, {`"b", "a"`, true}, {`*`, true}, {`"b"`, false}, {`a`, false},
	} {
		if got := etagMatches(tc.inm, `"a"`); got != tc.want {
			t.Errorf("etagMatches(%s) = %v", tc.inm, got)
		}
	}
}
