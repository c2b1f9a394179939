// Package webui serves Offsite's web interface: the bundle that Vite builds from web/ into
// dist/app, embedded into the api binary. Everything it shows comes from the API; it loads
// nothing from the internet, except base map tiles when a base map is configured.
package webui

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
)

//go:embed dist
var dist embed.FS

// Config configures the interface.
type Config struct {
	// BasemapURL is an XYZ tile URL template ({z}, {x}, {y}) of a base map under Offsite's
	// layers; empty: no base map, the map shows only Offsite's vectors and images.
	BasemapURL string
	// BasemapAttribution is shown on the map with the base map.
	BasemapAttribution string
	// BasemapCRS is the datum of BasemapURL's tiles: "wgs84" (or empty) or "gcj02"; the
	// interface warps GCJ-02 tiles to lie under Offsite's WGS84 data.
	BasemapCRS string
	// TiandituKey, when set, offers Tianditu's vector and imagery layers with their labels.
	TiandituKey string
	// Pipelines are the pipeline names a survey may run.
	Pipelines []string
	// CaptureKinds are the capture kinds a survey may take.
	CaptureKinds []string
}

// Built reports whether the bundle was built into the binary.
func Built() bool {
	_, err := fs.Stat(dist, "dist/app/index.html")
	return err == nil
}

// Handler serves the interface under /ui/: the bundle's files, and /ui/config.json.
func Handler(cfg Config) http.Handler {
	app, err := fs.Sub(dist, "dist/app")
	if err != nil {
		panic(err) // "dist/app" is a valid path
	}
	files := http.StripPrefix("/ui/", http.FileServerFS(app))
	config, err := json.Marshal(map[string]any{
		"basemap_url": cfg.BasemapURL, "basemap_attribution": cfg.BasemapAttribution,
		"basemap_crs": cfg.BasemapCRS, "tianditu_key": cfg.TiandituKey,
		"pipelines": nonNil(cfg.Pipelines), "capture_kinds": nonNil(cfg.CaptureKinds),
	})
	if err != nil {
		panic(err) // strings only
	}
	csp := contentSecurityPolicy(cfg.BasemapURL, cfg.TiandituKey != "")
	built := Built()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		switch {
		case r.URL.Path == "/ui/config.json":
			h.Set("Content-Type", "application/json")
			h.Set("Cache-Control", "no-cache")
			_, _ = w.Write(config)
		case !built:
			h.Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("Offsite web interface: the bundle was not built into this binary.\n" +
				"Run `make build` (or `make web` before `go build`), which builds web/ with npm and Vite.\n" +
				"网页界面未编译进此程序：请运行 make build。\n"))
		default:
			if strings.HasPrefix(r.URL.Path, "/ui/assets/") {
				// Vite names assets by their content hash.
				h.Set("Cache-Control", "public, max-age=31536000, immutable")
			} else {
				h.Set("Cache-Control", "no-cache")
			}
			files.ServeHTTP(w, r)
		}
	})
}

// contentSecurityPolicy allows only the API's own origin, plus the base map's (and
// Tianditu's tile servers when its key is configured) for images.
func contentSecurityPolicy(basemap string, tianditu bool) string {
	img := "'self' blob: data:"
	if u, err := url.Parse(strings.NewReplacer("{", "", "}", "").Replace(basemap)); err == nil && u.Scheme != "" && u.Host != "" {
		img += " " + u.Scheme + "://" + u.Host
	}
	if tianditu {
		img += " https://*.tianditu.gov.cn"
	}
	return "default-src 'self'; img-src " + img + "; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
