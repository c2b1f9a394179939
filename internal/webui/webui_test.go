package webui

import (
	"io"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

func get(t *testing.T, cfg Config, path string) (int, string, map[string]string) {
	t.Helper()
	rec := httptest.NewRecorder()
	Handler(cfg).ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	b, _ := io.ReadAll(rec.Body)
	h := map[string]string{}
	for k := range rec.Header() {
		h[k] = rec.Header().Get(k)
	}
	return rec.Code, string(b), h
}

// TestHandler serves the bundle (or says it was not built), the configuration, and a
// content security policy that admits only the API's origin and the base map's.
func TestHandler(t *testing.T) {
	cfg := Config{BasemapURL: "https://tiles.example.cn/{z}/{x}/{y}.png", Pipelines: []string{"sentinel2"}, CaptureKinds: []string{"sentinel2", "landsat"}}
	code, body, h := get(t, cfg, "/ui/config.json")
	if code != 200 || !strings.Contains(body, `"basemap_url":"https://tiles.example.cn/{z}/{x}/{y}.png"`) || !strings.Contains(body, `"capture_kinds":["sentinel2","landsat"]`) {
		t.Errorf("config.json: %d %s", code, body)
	}
	if csp := h["Content-Security-Policy"]; !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "img-src 'self' blob: data: https://tiles.example.cn") {
		t.Errorf("CSP = %q", csp)
	}
	if _, _, h := get(t, Config{}, "/ui/config.json"); strings.Contains(h["Content-Security-Policy"], "https:") {
		t.Errorf("CSP without a base map admits another origin: %q", h["Content-Security-Policy"])
	}
	gcj := Config{BasemapURL: "https://webrd01.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}&style=8", BasemapCRS: "gcj02", TiandituKey: "0123abcdef"}
	code, body, h = get(t, gcj, "/ui/config.json")
	if code != 200 || !strings.Contains(body, `"basemap_crs":"gcj02"`) || !strings.Contains(body, `"tianditu_key":"0123abcdef"`) {
		t.Errorf("config.json with GCJ-02 and Tianditu: %d %s", code, body)
	}
	if csp := h["Content-Security-Policy"]; !strings.Contains(csp, "https://webrd01.is.autonavi.com https://*.tianditu.gov.cn;") {
		t.Errorf("CSP with Tianditu = %q", csp)
	}
	code, body, _ = get(t, cfg, "/ui/")
	switch {
	case Built():
		if code != 200 || !strings.Contains(body, `<div id="app"`) && !strings.Contains(body, `id="app"`) {
			t.Errorf("/ui/: %d %.200s", code, body)
		}
	case os.Getenv("CI") == "true":
		t.Fatal("the web bundle is not built (scripts/web.sh); CI must test the real interface")
	default:
		if code != 503 || !strings.Contains(body, "make build") {
			t.Errorf("/ui/ without the bundle: %d %s", code, body)
		}
	}
	if code, _, _ := get(t, cfg, "/ui/assets/nothing.js"); code != 404 && code != 503 {
		t.Errorf("missing asset: %d", code)
	}
}
