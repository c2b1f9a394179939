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
		{"unset: no base map", nil, Basemap{CRS: "wgs84"}, ""},
		{"template", map[string]string{EnvBasemapURL: " https://t.example.cn/{z}/{x}/{y}.png ", EnvBasemapAttribution: "© 测绘"},
			Basemap{URL: "https://t.example.cn/{z}/{x}/{y}.png", Attribution: "© 测绘", CRS: "wgs84"}, ""},
		{"gcj02 and tianditu", map[string]string{EnvBasemapURL: "https://t.example.cn/{z}/{x}/{y}.png", EnvBasemapCRS: "GCJ02", EnvTiandituKey: "0123abcdef"},
			Basemap{URL: "https://t.example.cn/{z}/{x}/{y}.png", CRS: "gcj02", TiandituKey: "0123abcdef"}, ""},
		{"unknown datum", map[string]string{EnvBasemapCRS: "bd09"}, Basemap{}, "OFFSITE_BASEMAP_CRS: \"bd09\" is neither wgs84 nor gcj02"},
		{"key with a URL in it", map[string]string{EnvTiandituKey: "abc&tk=x"}, Basemap{}, "OFFSITE_TIANDITU_KEY: is not a Tianditu key"},
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
