// Package sample makes small, realistic-looking inputs with the GDAL command-line tools:
// multiband UTM scenes and parcels around them. The demo and the end-to-end tests use it.
package sample

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Scene is a north-up scene on a UTM grid.
type Scene struct {
	EPSG          int     // e.g. 32651, UTM 51N
	X0, Y0        float64 // upper-left corner, metres
	Pixel         float64 // pixel size, metres
	Width, Height int
	Bands         int
	// Names are the band descriptions (default B1, B2, ...).
	Names []string
	// Values, when set, gives the UInt16 value of band b (1-based) at (row, col) instead of
	// Value.
	Values func(b, row, col int) uint16
	// Metadata are dataset metadata items written into the file (gdal_translate -mo).
	Metadata map[string]string
}

// Value is the UInt16 value of band b (1-based) at (row, col): smooth land cover with texture
// and a few bright rectangular "buildings", never 0 (0 is nodata).
func (s Scene) Value(b, row, col int) uint16 {
	x, y := float64(col), float64(row)
	v := 1200 + 300*float64(b) +
		250*math.Sin(x/23+float64(b)) + 200*math.Cos(y/31-float64(b)) +
		60*math.Sin((x+y)/5)
	if (row/40+col/40)%5 == 0 && row%40 > 8 && col%40 > 8 {
		v += 900 // bright roofs
	}
	return uint16(math.Max(1, v))
}

// Write makes the scene as a tiled, DEFLATE-compressed GeoTIFF at dir/name and returns its
// path. The pixels go through an ENVI raw file and gdal_translate.
func (s Scene) Write(dir, name string) (string, error) {
	raw := filepath.Join(dir, strings.TrimSuffix(name, filepath.Ext(name))+".raw")
	if err := s.writeRaw(raw); err != nil {
		return "", err
	}
	defer os.Remove(raw)
	hdr := strings.TrimSuffix(raw, ".raw") + ".hdr"
	names := s.Names
	if len(names) != s.Bands {
		names = make([]string, s.Bands)
		for i := range names {
			names[i] = fmt.Sprintf("B%d", i+1)
		}
	}
	h := fmt.Sprintf("ENVI\nsamples = %d\nlines = %d\nbands = %d\nheader offset = 0\n"+
		"file type = ENVI Standard\ndata type = 12\ninterleave = bsq\nbyte order = 0\nband names = {%s}\n",
		s.Width, s.Height, s.Bands, strings.Join(names, ", "))
	if err := os.WriteFile(hdr, []byte(h), 0o644); err != nil {
		return "", err
	}
	defer os.Remove(hdr)
	out := filepath.Join(dir, name)
	x1 := s.X0 + s.Pixel*float64(s.Width)
	y1 := s.Y0 - s.Pixel*float64(s.Height)
	args := []string{"-q", "-of", "GTiff", "-co", "TILED=YES", "-co", "COMPRESS=DEFLATE",
		"-a_srs", "EPSG:" + strconv.Itoa(s.EPSG), "-a_ullr", ftoa(s.X0), ftoa(s.Y0), ftoa(x1), ftoa(y1),
		"-a_nodata", "0"}
	keys := make([]string, 0, len(s.Metadata))
	for k := range s.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "-mo", k+"="+s.Metadata[k])
	}
	cmd := exec.Command("gdal_translate", append(args, raw, out)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("sample: gdal_translate %s: %v: %s", out, err, b)
	}
	return out, nil
}

// writeRaw writes the pixels band after band (ENVI BSQ, little-endian UInt16) to path,
// computing rows on every core and streaming them to the file: a Sentinel-2 tile of 10980²
// × 10 bands takes minutes, not an hour, and no more memory than a few rows.
func (s Scene) writeRaw(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 4<<20)
	const chunk = 64 // rows computed at once
	buf := make([]byte, 2*s.Width*chunk)
	for b := 1; b <= s.Bands; b++ {
		for r0 := 0; r0 < s.Height; r0 += chunk {
			n := min(chunk, s.Height-r0)
			var wg sync.WaitGroup
			for k := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					row := buf[2*s.Width*k : 2*s.Width*(k+1)]
					for c := 0; c < s.Width; c++ {
						v := s.Value(b, r0+k, c)
						if s.Values != nil {
							v = s.Values(b, r0+k, c)
						}
						binary.LittleEndian.PutUint16(row[2*c:], v)
					}
				}()
			}
			wg.Wait()
			if _, err := w.Write(buf[:2*s.Width*n]); err != nil {
				f.Close()
				return err
			}
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// ToLonLat converts points from EPSG:epsg to WGS84 longitude/latitude with gdaltransform.
func ToLonLat(epsg int, pts [][2]float64) ([][2]float64, error) {
	var in strings.Builder
	for _, p := range pts {
		fmt.Fprintf(&in, "%.6f %.6f\n", p[0], p[1])
	}
	// +proj=longlat keeps longitude first whatever the GDAL axis-order defaults.
	cmd := exec.Command("gdaltransform", "-s_srs", "EPSG:"+strconv.Itoa(epsg), "-t_srs", "+proj=longlat +datum=WGS84 +no_defs", "-output_xy")
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("sample: gdaltransform: %w", err)
	}
	var res [][2]float64
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			return nil, fmt.Errorf("sample: gdaltransform printed %q", line)
		}
		lon, err1 := strconv.ParseFloat(f[0], 64)
		lat, err2 := strconv.ParseFloat(f[1], 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("sample: gdaltransform printed %q", line)
		}
		res = append(res, [2]float64{lon, lat})
	}
	if len(res) != len(pts) {
		return nil, fmt.Errorf("sample: gdaltransform returned %d points for %d", len(res), len(pts))
	}
	return res, nil
}

// Feature is a GeoJSON feature, marshalled as RFC 7946.
type Feature struct {
	Type       string         `json:"type"`
	Properties map[string]any `json:"properties"`
	Geometry   struct {
		Type        string         `json:"type"`
		Coordinates [][][2]float64 `json:"coordinates"`
	} `json:"geometry"`
}

// RectParcel returns a parcel feature for the rectangle with lower-left corner (x, y) and the
// given size in the scene's CRS, as a WGS84 polygon.
func RectParcel(epsg int, id, name string, x, y, w, h float64) (Feature, error) {
	ll, err := ToLonLat(epsg, [][2]float64{{x, y}, {x + w, y}, {x + w, y + h}, {x, y + h}})
	if err != nil {
		return Feature{}, err
	}
	f := Feature{Type: "Feature", Properties: map[string]any{"parcel_id": id}}
	if name != "" {
		f.Properties["name"] = name
	}
	f.Geometry.Type = "Polygon"
	f.Geometry.Coordinates = [][][2]float64{append(ll, ll[0])}
	return f, nil
}

// FeatureCollection marshals features as a GeoJSON FeatureCollection.
func FeatureCollection(fs []Feature) ([]byte, error) {
	return json.MarshalIndent(map[string]any{"type": "FeatureCollection", "features": fs}, "", " ")
}

// Sentinel2Bands are the bands of a Sentinel2 scene, as the sentinel2 pipeline names them.
var Sentinel2Bands = []string{"B02", "B03", "B04", "B08", "B8A", "B11", "B12", "SCL"}

// Rect is a rectangle of pixels: rows R0..R1-1, columns C0..C1-1.
type Rect struct{ R0, C0, R1, C1 int }

func (r Rect) has(row, col int) bool { return row >= r.R0 && row < r.R1 && col >= r.C0 && col < r.C1 }

// Sentinel2 returns a 10 m Sentinel-2 L2A-like scene of vegetation with texture, as
// processing baseline 04.00 and later store it: digital numbers as reflectance × 10000 +
// 1000, which its BOA_ADD_OFFSET (-1000) and BOA_QUANTIFICATION_VALUE (10000) metadata say;
// SCL all vegetation. A later date (after) differs by a gain and offset, as two dates do,
// and has a bright new roof on each of roofs.
func Sentinel2(epsg int, x0, y0 float64, width, height int, after bool, roofs []Rect) Scene {
	s := Sentinel2NoOffset(epsg, x0, y0, width, height, after, roofs)
	values := s.Values
	s.Values = func(b, r, c int) uint16 {
		if b == len(Sentinel2Bands) {
			return values(b, r, c)
		}
		return values(b, r, c) + 1000
	}
	s.Metadata = map[string]string{"BOA_ADD_OFFSET": "-1000", "BOA_QUANTIFICATION_VALUE": "10000"}
	return s
}

// Sentinel2NoOffset is Sentinel2 as processing baselines before 04.00 (and most reprocessed
// archives) store it: reflectance × 10000, without offset or metadata saying so.
func Sentinel2NoOffset(epsg int, x0, y0 float64, width, height int, after bool, roofs []Rect) Scene {
	veg := []float64{0.04, 0.07, 0.05, 0.35, 0.36, 0.20, 0.10}
	roof := []float64{0.25, 0.27, 0.30, 0.32, 0.33, 0.38, 0.34}
	// The roofs on each row, so that a pixel looks at a few, not all (a Sentinel-2 tile with
	// 1,000 roofs would otherwise test each of its 1.2 billion samples against all of them).
	byRow := make([][]Rect, height)
	for _, rf := range roofs {
		for r := max(0, rf.R0); r < min(height, rf.R1); r++ {
			byRow[r] = append(byRow[r], rf)
		}
	}
	return Scene{EPSG: epsg, X0: x0, Y0: y0, Pixel: 10, Width: width, Height: height,
		Bands: len(Sentinel2Bands), Names: Sentinel2Bands,
		Values: func(b, r, c int) uint16 {
			if b == len(Sentinel2Bands) {
				return 4 // SCL: vegetation
			}
			x, y := float64(c), float64(r)
			v := veg[b-1] * (1 + 0.25*math.Sin(x/7+float64(b)) + 0.2*math.Cos(y/5) + 0.1*math.Sin((x*y)/37))
			if after {
				v = v*1.08 + 0.01
				for _, rf := range byRow[r] {
					if rf.has(r, c) {
						v = roof[b-1]
					}
				}
			}
			return uint16(math.Round(v / 0.0001))
		}}
}

// VehicleTrackCSV is a survey vehicle's track in the vehicle-track pipeline's columns: 21
// points 100 m apart driving east through (lon0, lat) every 10 s from 2026-05-01T08:00:00Z,
// a steady 3 m/s north wind, and a VOC peak of some 1,800 µg/m³ at (lon0, lat) over a
// background of 300.
func VehicleTrackCSV(lon0, lat float64) string {
	var b strings.Builder
	b.WriteString("time,lon,lat,wind_speed,wind_dir,tvoc,pm25,pm10,so2,no2\n")
	t0 := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	kx := 1 / 111195.0 / math.Cos(lat*math.Pi/180)
	for i := 0; i < 21; i++ {
		x := -1000 + 100*float64(i)
		v := 300 + 10*math.Sin(float64(i)) + 1500*math.Exp(-x*x/(2*80*80))
		fmt.Fprintf(&b, "%s,%.7f,%.5f,3.0,0,%.1f,35,60,5,20\n", t0.Add(time.Duration(i)*10*time.Second).Format(time.RFC3339), lon0+x*kx, lat, v)
	}
	return b.String()
}

// SquareLonLat is the ring of a 100 m square centred dy metres north of (lon, lat).
func SquareLonLat(lon, lat, dy float64) [][2]float64 {
	m := 1 / 111195.0
	kx := m / math.Cos(lat*math.Pi/180)
	cy := lat + dy*m
	return [][2]float64{{lon - 50*kx, cy - 50*m}, {lon + 50*kx, cy - 50*m}, {lon + 50*kx, cy + 50*m}, {lon - 50*kx, cy + 50*m}, {lon - 50*kx, cy - 50*m}}
}
