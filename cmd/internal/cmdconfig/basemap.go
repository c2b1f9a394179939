package cmdconfig

import (
	"errors"
	"net/url"
	"os"
	"regexp"
	"strings"
)

// Web interface variables.
const (
	// EnvBasemapURL is an XYZ tile URL template for the web interface's base map.
	EnvBasemapURL = "OFFSITE_BASEMAP_URL"
	// EnvBasemapAttribution is the base map's attribution, shown on the map.
	EnvBasemapAttribution = "OFFSITE_BASEMAP_ATTRIBUTION"
	// EnvBasemapCRS is the datum of the base map's tiles: wgs84 or gcj02.
	EnvBasemapCRS = "OFFSITE_BASEMAP_CRS"
	// EnvTiandituKey is the Tianditu (天地图) key that turns on its vector and imagery presets.
	EnvTiandituKey = "OFFSITE_TIANDITU_KEY"
)

// Basemap configures the web interface's optional base map.
type Basemap struct {
	// URL is an http(s) XYZ template with {z}, {x} and {y}, e.g.
	// "https://tiles.example.gov.cn/{z}/{x}/{y}.png". OFFSITE_BASEMAP_URL, default "": no base
	// map; the map shows only Offsite's own vectors and images, so nothing is fetched from
	// elsewhere.
	URL string
	// Attribution is shown on the map with the base map. OFFSITE_BASEMAP_ATTRIBUTION,
	// default "".
	Attribution string
	// CRS is the datum of URL's tiles: "wgs84" (web Mercator on WGS84, the default) or
	// "gcj02" (web Mercator on China's GCJ-02, e.g. AutoNavi/Gaode), which the interface
	// warps to lie under Offsite's WGS84 data. OFFSITE_BASEMAP_CRS.
	CRS string
	// TiandituKey is a Tianditu key; set, the map offers Tianditu's vector and imagery
	// layers (WGS84 / CGCS2000, web Mercator) with their label layers. OFFSITE_TIANDITU_KEY,
	// default "": no Tianditu.
	TiandituKey string
}

// tiandituKey is what a Tianditu key looks like (32 hex digits today); it goes into tile URLs.
var tiandituKey = regexp.MustCompile(`^[A-Za-z0-9]{1,64}$`)

// BasemapFromEnv reads the base map from the process environment.
func BasemapFromEnv() (Basemap, error) { return ParseBasemap(os.LookupEnv) }

// ParseBasemap reads the base map through lookup; a problem names its variable.
func ParseBasemap(lookup func(string) (string, bool)) (Basemap, error) {
	p := parser{lookup: lookup}
	b := Basemap{URL: p.str(EnvBasemapURL, ""), Attribution: p.str(EnvBasemapAttribution, ""),
		CRS: strings.ToLower(p.str(EnvBasemapCRS, "wgs84")), TiandituKey: p.str(EnvTiandituKey, "")}
	if b.CRS != "wgs84" && b.CRS != "gcj02" {
		p.fail(EnvBasemapCRS, "%q is neither wgs84 nor gcj02", b.CRS)
	}
	if b.TiandituKey != "" && !tiandituKey.MatchString(b.TiandituKey) {
		p.fail(EnvTiandituKey, "is not a Tianditu key (1 to 64 letters and digits)")
	}
	if b.URL != "" {
		for _, v := range []string{"{z}", "{x}", "{y}"} {
			if !strings.Contains(b.URL, v) {
				p.fail(EnvBasemapURL, "%q lacks %s (an XYZ template needs {z}, {x} and {y})", b.URL, v)
			}
		}
		u, err := url.Parse(b.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.fail(EnvBasemapURL, "%q is not an http or https URL", b.URL)
		}
	}
	return b, errors.Join(p.errs...)
}
