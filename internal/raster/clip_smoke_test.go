package raster

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/airbusgeo/godal"
	"github.com/paulmach/orb"
)

// MustScene writes a small UTM 50N UInt16 4-band GeoTIFF to dir and returns
// its path.
func MustScene(tb testing.TB, dir string) string {
	tb.Helper()
	if err := register(); err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(dir, "scene.tif")
	ds, err := godal.Create(godal.GTiff, path, 4, godal.UInt16, 200, 150,
		godal.CreationOption("TILED=YES", "BLOCKXSIZE=64", "BLOCKYSIZE=64"))
	if err != nil {
		tb.Fatal(err)
	}
	if err := ds.SetGeoTransform([6]float64{500000, 10, 0, 3400000, 0, -10}); err != nil {
		tb.Fatal(err)
	}
	sr, err := godal.NewSpatialRefFromEPSG(32650)
	if err != nil {
		tb.Fatal(err)
	}
	defer sr.Close()
	if err := ds.SetSpatialRef(sr); err != nil {
		tb.Fatal(err)
	}
	buf := make([]uint16, 200*150)
	for bi, b := range ds.Bands() {
		for i := range buf {
			buf[i] = uint16(i%200 + (i/200)*7 + bi*1000 + 1)
		}
		if err := b.Write(0, 0, buf, 200, 150); err != nil {
			tb.Fatal(err)
		}
	}
	if err := ds.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

func TestClipSmoke(t *testing.T) {
	path := MustScene(t, t.TempDir())
	env := Env{AllowLocalFiles: true}
	info, err := Inspect(context.Background(), env, FileSource(path))
	if err != nil {
		t.Fatal(err)
	}
	if info.EPSG != 32650 || info.Width != 200 || info.Bands != 4 {
		t.Fatalf("info = %+v", info)
	}
	// A parcel around the centre of the scene, in lon/lat.
	c := info.Footprint.Bound().Center()
	poly := orb.Polygon{{{c[0] - 0.001, c[1] - 0.001}, {c[0] + 0.001, c[1] - 0.0008}, {c[0] + 0.0005, c[1] + 0.001}, {c[0] - 0.001, c[1] - 0.001}}}
	far := orb.Polygon{{{0, 0}, {0.001, 0}, {0.001, 0.001}, {0, 0}}}
	var outs []ClipOutput
	st, err := Clip(context.Background(), env, FileSource(path), []Parcel{{ID: "a", Geometry: poly}, {ID: "far", Geometry: far}},
		ClipOptions{Tags: map[string]string{"parcel_id": "a"}}, func(o ClipOutput) error { outs = append(outs, o); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if st.Clipped != 1 || st.Missed != 1 || len(outs) != 1 {
		t.Fatalf("stats %+v", st)
	}
	o := outs[0]
	if o.ValidPixels == 0 || len(o.COG) == 0 || len(o.QuickLook) == 0 {
		t.Fatalf("output %+v", o.ValidPixels)
	}
	t.Logf("w=%d h=%d valid=%d cog=%d png=%d", o.Width, o.Height, o.ValidPixels, len(o.COG), len(o.QuickLook))
}
