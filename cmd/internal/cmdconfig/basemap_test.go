package cmdconfig

import (
	"strings"
	"testing"
)

func TestParseBasemap(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want Basemap
		err  string
	}{
		{"unset: no base map", nil, Basemap{}, ""},
		{"template", map[string]string{EnvBasemapURL: " https://t.example.cn/{z}/{x}/{y}.png ", EnvBasemapAttribution: "© 测绘"},
			Basemap{URL: "https://t.example.cn/{z}/{x}/{y}.png", Attribution: "© 测绘"}, ""},
		{"missing y", map[string]string{EnvBasemapURL: "https://t.example.cn/{z}/{x}.png"}, Basemap{}, "OFFSITE_BASEMAP_URL: \"https://t.example.cn/{z}/{x}.png\" lacks {y}"},
		{"not http", map[string]string{EnvBasemapURL: "file:///tiles/{z}/{x}/{y}.png"}, Basemap{}, "not an http or https URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseBasemap(func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}
