package cmdconfig

import (
	"errors"
	"net/url"
	"os"
	"strings"
)

// Web interface variables.
const (
	// EnvBasemapURL is an XYZ tile URL template for the web interface's base map.
	EnvBasemapURL = "OFFSITE_BASEMAP_URL"
	// EnvBasemapAttribution is the base map's attribution, shown on the map.
	EnvBasemapAttribution = "OFFSITE_BASEMAP_ATTRIBUTION"
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
}

// BasemapFromEnv reads the base map from the process environment.
func BasemapFromEnv() (Basemap, error) { return ParseBasemap(os.LookupEnv) }

// ParseBasemap reads the base map through lookup; a problem names its variable.
func ParseBasemap(lookup func(string) (string, bool)) (Basemap, error) {
	p := parser{lookup: lookup}
	b := Basemap{URL: p.str(EnvBasemapURL, ""), Attribution: p.str(EnvBasemapAttribution, "")}
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
