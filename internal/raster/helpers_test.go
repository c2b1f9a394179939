package raster

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/airbusgeo/godal"
	"github.com/paulmach/orb"
)

// testScene describes a generated scene.
type testScene struct {
	name   string
	epsg   int
	gt     [6]float64
	w, h   int
	bands  int
	dt     godal.DataType
	nodata *float64
	block  int
	// parcelEPSG is the geographic CRS parcels are drawn in (0: WGS84).
	parcelEPSG int
}

func ptr(f float64) *float64 { return &f }

// MustWriteScene writes sc as a tiled GeoTIFF in dir and returns its path.
// Pixel values vary across the scene and bands; when sc has nodata, a few
// rectangles are nodata.
func MustWriteScene(tb testing.TB, dir string, sc testScene) string {
	tb.Helper()
	if err := register(); err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(dir, sc.name+".tif")
	block := sc.block
	if block == 0 {
		block = 64
	}
	ds, err := godal.Create(godal.GTiff, path, sc.bands, sc.dt, sc.w, sc.h,
		godal.CreationOption("TILED=YES", "BLOCKXSIZE="+itoa(block), "BLOCKYSIZE="+itoa(block), "COMPRESS=DEFLATE"))
	if err != nil {
		tb.Fatal(err)
	}
	if err := ds.SetGeoTransform(sc.gt); err != nil {
		tb.Fatal(err)
	}
	sr, err := godal.NewSpatialRefFromEPSG(sc.epsg)
	if err != nil {
		tb.Fatal(err)
	}
	defer sr.Close()
	if err := ds.SetSpatialRef(sr); err != nil {
		tb.Fatal(err)
	}
	pt, err := supportedType(sc.dt)
	if err != nil {
		tb.Fatal(err)
	}
	buf := make([]byte, sc.w*sc.h*pt.size)
	for bi, b := range ds.Bands() {
		for y := 0; y < sc.h; y++ {
			for x := 0; x < sc.w; x++ {
				v := float64((x*3+y*5+bi*17)%200 + 1)
				if sc.dt == godal.Int16 {
					v -= 100
				}
				if sc.dt == godal.Float32 {
					v = v/7 - 3
				}
				if sc.nodata != nil && (x/23+y/31+bi)%7 == 0 {
					v = *sc.nodata
				}
				copy(buf[(y*sc.w+x)*pt.size:], pt.encode(v))
			}
		}
		if err := b.Write(0, 0, pt.view(buf), sc.w, sc.h); err != nil {
			tb.Fatal(err)
		}
		if sc.nodata != nil {
			if err := b.SetNoData(*sc.nodata); err != nil {
				tb.Fatal(err)
			}
		}
		if err := b.SetDescription("B" + itoa(bi+1)); err != nil {
			tb.Fatal(err)
		}
	}
	if err := ds.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

func itoa(i int) string { return strconv.Itoa(i) }

// randomParcel draws a polygon, a polygon with a hole or a multipolygon in
// the pixel space of sc around (cx, cy) with radius r pixels, and returns
// it in the parcel CRS (lon/lat).
func randomParcel(tb testing.TB, rng *rand.Rand, sc testScene, kind int, cx, cy, r float64) orb.Geometry {
	tb.Helper()
	star := func(cx, cy, r float64, ccw bool) orb.Ring {
		n := 5 + rng.IntN(10)
		ring := make(orb.Ring, 0, n+1)
		a0 := rng.Float64() * 2 * math.Pi
		for i := 0; i < n; i++ {
			a := a0 + 2*math.Pi*(float64(i)+0.8*rng.Float64())/float64(n)
			if !ccw {
				a = -a
			}
			rr := r * (0.55 + 0.45*rng.Float64())
			ring = append(ring, orb.Point{cx + rr*math.Cos(a), cy + rr*math.Sin(a)})
		}
		return append(ring, ring[0])
	}
	var g orb.Geometry
	switch kind % 3 {
	case 0:
		g = orb.Polygon{star(cx, cy, r, true)}
	case 1:
		g = orb.Polygon{star(cx, cy, r, true), star(cx, cy, r*0.3, false)}
	default:
		g = orb.MultiPolygon{
			{star(cx-r*0.7, cy, r*0.5, true)},
			{star(cx+r*0.9, cy+r*0.4, r*0.45, true), star(cx+r*0.9, cy+r*0.4, r*0.1, false)},
		}
	}
	return pixelsToParcelCRS(tb, sc, g)
}

// pixelsToParcelCRS converts pixel-space geometry of sc to the parcel CRS.
func pixelsToParcelCRS(tb testing.TB, sc testScene, g orb.Geometry) orb.Geometry {
	tb.Helper()
	src, err := godal.NewSpatialRefFromEPSG(sc.epsg)
	if err != nil {
		tb.Fatal(err)
	}
	defer src.Close()
	pe := sc.parcelEPSG
	if pe == 0 {
		pe = 4326
	}
	dst, err := godal.NewSpatialRefFromEPSG(pe)
	if err != nil {
		tb.Fatal(err)
	}
	defer dst.Close()
	var trn *godal.Transform
	if !src.IsSame(dst) {
		if trn, err = godal.NewTransform(src, dst); err != nil {
			tb.Fatal(err)
		}
		defer trn.Close()
	}
	conv := func(r orb.Ring) orb.Ring {
		xs := make([]float64, len(r))
		ys := make([]float64, len(r))
		for i, p := range r {
			xs[i] = sc.gt[0] + p[0]*sc.gt[1]
			ys[i] = sc.gt[3] + p[1]*sc.gt[5]
		}
		if trn != nil {
			if err := trn.TransformEx(xs, ys, nil, nil); err != nil {
				tb.Fatal(err)
			}
		}
		out := make(orb.Ring, len(r))
		for i := range r {
			out[i] = orb.Point{xs[i], ys[i]}
		}
		return out
	}
	convPoly := func(p orb.Polygon) orb.Polygon {
		out := make(orb.Polygon, len(p))
		for i, r := range p {
			out[i] = conv(r)
		}
		return out
	}
	switch g := g.(type) {
	case orb.Polygon:
		return convPoly(g)
	case orb.MultiPolygon:
		out := make(orb.MultiPolygon, len(g))
		for i, p := range g {
			out[i] = convPoly(p)
		}
		return out
	}
	tb.Fatalf("unexpected geometry %T", g)
	return nil
}

// MustWriteCutline writes g as a one-feature GeoJSON file in the parcel CRS.
func MustWriteCutline(tb testing.TB, path string, g orb.Geometry, epsg int) {
	tb.Helper()
	fc := map[string]any{
		"type": "FeatureCollection",
		"features": []any{map[string]any{
			"type": "Feature", "properties": map[string]any{"id": 1},
			"geometry": map[string]any{"type": g.GeoJSONType(), "coordinates": g},
		}},
	}
	if epsg != 0 && epsg != 4326 {
		fc["crs"] = map[string]any{"type": "name", "properties": map[string]any{"name": "urn:ogc:def:crs:EPSG::" + itoa(epsg)}}
	}
	b, err := json.Marshal(fc)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		tb.Fatal(err)
	}
}

// toCOG converts a scene into a tiled COG with overviews at the local path
// dst (DEFLATE with predictor, 512-pixel tiles), keeping data type, nodata,
// band descriptions and georeferencing: the conversion Ingest makes, on its own.
func toCOG(ctx context.Context, env Env, src Source, dst string) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	a, err := env.connect(ctx, src)
	if err != nil {
		return err
	}
	defer a.close()
	s, err := a.openScene(src)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := s.close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	if _, err := readMeta(s); err != nil {
		return err
	}
	return writeCOG(ctx, s, dst)
}
