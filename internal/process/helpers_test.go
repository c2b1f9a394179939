package process

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/offsite/offsite/internal/geo"
	"github.com/offsite/offsite/internal/raster"
)

// RequireGDALTools skips the test when the GDAL command-line tools are absent (fails in CI).
func RequireGDALTools(tb testing.TB) {
	tb.Helper()
	if _, err := exec.LookPath("gdal_translate"); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatal("gdal_translate not found")
		}
		tb.Skip("gdal_translate not found")
	}
}

// testGrid is a synthetic UTM grid.
type testGrid struct {
	EPSG          int
	X0, Y0, Pixel float64
	Width, Height int
}

// s2Bands are the bands of synthetic Sentinel-2 scenes, as the built-in pipeline names them.
var s2Bands = []string{"B02", "B03", "B04", "B08", "B8A", "B11", "B12", "SCL"}

// MustWriteScene writes a UInt16 GeoTIFF (nodata 0) whose band b (0-based) has the value
// value(b, row, col) and the description names[b], through an ENVI file and gdal_translate.
func MustWriteScene(tb testing.TB, dir, name string, g testGrid, names []string, value func(b, row, col int) uint16) string {
	tb.Helper()
	stem := strings.TrimSuffix(name, filepath.Ext(name))
	raw := filepath.Join(dir, stem+".raw")
	var buf bytes.Buffer
	for b := range names {
		for r := 0; r < g.Height; r++ {
			for c := 0; c < g.Width; c++ {
				_ = binary.Write(&buf, binary.LittleEndian, value(b, r, c))
			}
		}
	}
	if err := os.WriteFile(raw, buf.Bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
	hdr := fmt.Sprintf("ENVI\nsamples = %d\nlines = %d\nbands = %d\nheader offset = 0\nfile type = ENVI Standard\ndata type = 12\ninterleave = bsq\nbyte order = 0\nband names = {%s}\n",
		g.Width, g.Height, len(names), strings.Join(names, ", "))
	if err := os.WriteFile(filepath.Join(dir, stem+".hdr"), []byte(hdr), 0o644); err != nil {
		tb.Fatal(err)
	}
	out := filepath.Join(dir, name)
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	cmd := exec.Command("gdal_translate", "-q", "-of", "GTiff", "-co", "TILED=YES", "-co", "COMPRESS=DEFLATE",
		"-a_srs", "EPSG:"+strconv.Itoa(g.EPSG), "-a_ullr", f(g.X0), f(g.Y0), f(g.X0+g.Pixel*float64(g.Width)), f(g.Y0-g.Pixel*float64(g.Height)),
		"-a_nodata", "0", raw, out)
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("gdal_translate %s: %v: %s", out, err, b)
	}
	os.Remove(raw)
	os.Remove(filepath.Join(dir, stem+".hdr"))
	return out
}

// noise is a deterministic pseudo-random value in [-1, 1).
func noise(seed, b, r, c int) float64 {
	h := uint64(seed)*0x9E3779B97F4A7C15 ^ uint64(b)*0xBF58476D1CE4E5B9 ^ uint64(r)*0x94D049BB133111EB ^ uint64(c)*0x2545F4914F6CDD1D
	h ^= h >> 31
	h *= 0xD6E8FEB86659FD93
	h ^= h >> 29
	return float64(h%20000)/10000 - 1
}

// s2Value is textured vegetated land (Sentinel-2 DN, L2A offset included) seen on date seed;
// SCL is 4 (vegetation).
func s2Value(seed, b, r, c int) float64 {
	base := []float64{1800, 2000, 1900, 4000, 3900, 3000, 2200}
	if b == 7 {
		return 4
	}
	tex := 250*math.Sin(float64(c)/9+float64(b)) + 180*math.Sin(float64(r)/13-float64(b)/2) + 80*math.Sin(float64(r+c)/4)
	return base[b] + tex*(1+0.15*float64(b)) + 25*noise(seed, b, r, c)
}

// roof is the DN spectrum of a new bright roof.
var roof = []float64{3200, 3400, 3500, 3700, 3700, 4000, 3300}

// MustParcels writes parcels (rectangles in pixel coordinates of g: col, row, width,
// height) as a GeoJSON FeatureCollection and reads them back with geo.ReadFile.
func MustParcels(tb testing.TB, dir string, g testGrid, rects map[string][4]int) (string, []geo.Feature) {
	tb.Helper()
	var feats []map[string]any
	for _, id := range sortedIDs(rects) {
		r := rects[id]
		x0, y1 := g.X0+float64(r[0])*g.Pixel, g.Y0-float64(r[1])*g.Pixel
		x1, y0 := x0+float64(r[2])*g.Pixel, y1-float64(r[3])*g.Pixel
		poly := orb.Polygon{{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}}
		ll, err := geo.Reproject(poly, "EPSG:"+strconv.Itoa(g.EPSG), geo.CRSWGS84)
		if err != nil {
			tb.Fatal(err)
		}
		feats = append(feats, map[string]any{"type": "Feature",
			"properties": map[string]any{"parcel_id": id, "name": "Enterprise " + id},
			"geometry":   geojson.NewGeometry(ll)})
	}
	data, err := json.Marshal(map[string]any{"type": "FeatureCollection", "features": feats})
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(dir, "parcels.geojson")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	coll, err := geo.ReadFile(context.Background(), path)
	if err != nil {
		tb.Fatal(err)
	}
	return path, coll.Features
}

func sortedIDs(m map[string][4]int) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// findingsFile is the decoded findings.geojson.
type findingsFile struct {
	Type     string `json:"type"`
	Features []struct {
		Geometry   json.RawMessage `json:"geometry"`
		Properties map[string]any  `json:"properties"`
	} `json:"features"`
}

// MustReadFindings decodes DIR/findings.geojson.
func MustReadFindings(tb testing.TB, dir string) findingsFile {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(dir, FindingsName))
	if err != nil {
		tb.Fatal(err)
	}
	var fc findingsFile
	if err := json.Unmarshal(b, &fc); err != nil {
		tb.Fatal(err)
	}
	return fc
}

// MustVerifyManifest checks that DIR/manifest.json lists every file of DIR but itself, with
// the right SHA-256 and size, and returns it.
func MustVerifyManifest(tb testing.TB, dir string) Manifest {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		tb.Fatal(err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatal(err)
	}
	listed := map[string]bool{}
	for _, a := range m.Artifacts {
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(a.Path)))
		if err != nil {
			tb.Errorf("manifest artifact %s: %v", a.Path, err)
			continue
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != a.SHA256 || int64(len(data)) != a.Size {
			tb.Errorf("artifact %s: sha256 %s size %d, manifest says %s %d", a.Path, got, len(data), a.SHA256, a.Size)
		}
		if a.MediaType == "" {
			tb.Errorf("artifact %s has no media type", a.Path)
		}
		listed[a.Path] = true
	}
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if rel != ManifestName && !listed[rel] {
			tb.Errorf("file %s is not in the manifest", rel)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	for _, in := range m.Inputs {
		if len(in.SHA256) != 64 {
			tb.Errorf("input %s: sha256 %q", in.Path, in.SHA256)
		}
	}
	return m
}

// outlineColour is the colour findings are outlined in on quick-looks.
var outlineColour = raster.MarkColour
