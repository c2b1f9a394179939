package raster

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airbusgeo/godal"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

func TestCheckSource(t *testing.T) {
	env := Env{AllowedBuckets: []string{"captures"}}
	local := Env{AllowLocalFiles: true}
	for _, tc := range []struct {
		name string
		env  Env
		src  Source
		ok   bool
	}{
		{"plain key", env, S3Source("captures", "2026/s2/a.tif"), true},
		{"key with spaces and unicode", env, S3Source("captures", "uploads/厂区 1.tif"), true},
		{"other bucket", env, S3Source("evidence", "a.tif"), false},
		{"empty key", env, S3Source("captures", ""), false},
		{"empty bucket", env, S3Source("", "a.tif"), false},
		{"dot dot", env, S3Source("captures", "a/../../etc/passwd"), false},
		{"dot dot inside name", env, S3Source("captures", "a..b.tif"), false},
		{"leading slash", env, S3Source("captures", "/a.tif"), false},
		{"backslash", env, S3Source("captures", `a\b.tif`), false},
		{"control char", env, S3Source("captures", "a\nb.tif"), false},
		{"nul", env, S3Source("captures", "a\x00.tif"), false},
		{"vsi", env, S3Source("captures", "x/vsicurl/http://evil/a.tif"), false},
		{"vsi upper", env, S3Source("captures", "x/VSIMEM/a.tif"), false},
		{"url scheme", env, S3Source("captures", "http://evil/a.tif"), false},
		{"scheme without slashes", env, S3Source("captures", "vsicurl:a.tif"), false},
		{"dot segment", env, S3Source("captures", "a/./b.tif"), false},
		{"local path not allowed", env, FileSource("/data/a.tif"), false},
		{"local path", local, FileSource("/data/a.tif"), true},
		{"local relative", local, FileSource("scene.tif"), true},
		{"local vsi", local, FileSource("/vsicurl/http://x/a.tif"), false},
		{"local url", local, FileSource("https://x/a.tif"), false},
		{"local dot dot", local, FileSource("../a.tif"), false},
		{"both path and key", Env{AllowLocalFiles: true, AllowedBuckets: []string{"captures"}}, Source{Bucket: "captures", Key: "a.tif", Path: "/a.tif"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.env.CheckSource(tc.src)
			if tc.ok && err != nil {
				t.Errorf("CheckSource(%+v) = %v, want nil", tc.src, err)
			}
			if !tc.ok && !errors.Is(err, ErrInvalidSource) {
				t.Errorf("CheckSource(%+v) = %v, want ErrInvalidSource", tc.src, err)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "raster: ") {
				t.Errorf("error %q lacks the raster: prefix", err)
			}
		})
	}
}

// FuzzCheckSource checks that no accepted key can make GDAL open anything
// but an object of an allowed bucket.
func FuzzCheckSource(f *testing.F) {
	for _, s := range []string{"a.tif", "a/../b", "/vsicurl/x", "http://x", `a\b`, "a\x00", "x/VSIS3/y", "ok/key.tif", "."} {
		f.Add("captures", s)
	}
	env := Env{AllowedBuckets: []string{"captures"}}
	f.Fuzz(func(t *testing.T, bucket, key string) {
		if env.CheckSource(S3Source(bucket, key)) != nil {
			return
		}
		a := &access{}
		name := a.gdalName(S3Source(bucket, key))
		if bucket != "captures" || !strings.HasPrefix(name, "/vsis3/captures/") {
			t.Fatalf("accepted %q %q as %q", bucket, key, name)
		}
		rest := strings.TrimPrefix(name, "/vsis3/captures/")
		for _, bad := range []string{"..", `\`, "/vsi", "://"} {
			if strings.Contains(strings.ToLower(rest), bad) {
				t.Fatalf("accepted key %q containing %q", key, bad)
			}
		}
		for _, r := range rest {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("accepted key %q with a control character", key)
			}
		}
		if strings.HasPrefix(rest, "/") {
			t.Fatalf("accepted key %q with a leading slash", key)
		}
	})
}

// MustWritePlain writes a GeoTIFF with optional CRS and geotransform.
func MustWritePlain(tb testing.TB, path string, withCRS, withGT bool) {
	tb.Helper()
	if err := register(); err != nil {
		tb.Fatal(err)
	}
	ds, err := godal.Create(godal.GTiff, path, 1, godal.Byte, 20, 20)
	if err != nil {
		tb.Fatal(err)
	}
	if withGT {
		if err := ds.SetGeoTransform([6]float64{500000, 10, 0, 3400000, 0, -10}); err != nil {
			tb.Fatal(err)
		}
	}
	if withCRS {
		sr, err := godal.NewSpatialRefFromEPSG(32650)
		if err != nil {
			tb.Fatal(err)
		}
		defer sr.Close()
		if err := ds.SetSpatialRef(sr); err != nil {
			tb.Fatal(err)
		}
	}
	if err := ds.Close(); err != nil {
		tb.Fatal(err)
	}
}

func TestInspectUnusable(t *testing.T) {
	dir := t.TempDir()
	env := Env{AllowLocalFiles: true}
	for _, tc := range []struct {
		name          string
		withCRS, twGT bool
	}{
		{"no crs", false, true},
		{"no geotransform", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".tif")
			MustWritePlain(t, p, tc.withCRS, tc.twGT)
			_, err := Inspect(context.Background(), env, FileSource(p))
			if !errors.Is(err, ErrUnusableScene) {
				t.Fatalf("Inspect = %v, want ErrUnusableScene", err)
			}
			_, err = Ingest(context.Background(), env, FileSource(p), IngestOptions{})
			if !errors.Is(err, ErrUnusableScene) {
				t.Fatalf("Ingest = %v, want ErrUnusableScene", err)
			}
		})
	}
	t.Run("corrupt", func(t *testing.T) {
		p := filepath.Join(dir, "corrupt.tif")
		if err := os.WriteFile(p, append([]byte("II*\x00\x08\x00\x00\x00"), bytes.Repeat([]byte{0xff}, 64)...), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Clip(context.Background(), env, FileSource(p), nil, ClipOptions{}, func(ClipOutput) error { return nil })
		if !errors.Is(err, ErrUnusableScene) {
			t.Fatalf("Clip = %v, want ErrUnusableScene", err)
		}
	})
	t.Run("missing", func(t *testing.T) {
		_, err := Inspect(context.Background(), env, FileSource(filepath.Join(dir, "missing.tif")))
		if err == nil || errors.Is(err, ErrUnusableScene) {
			t.Fatalf("Inspect = %v, want a retryable error", err)
		}
	})
}

// TestClipOutputs checks what each clip carries besides its pixels: tags,
// band descriptions, nodata, COG layout, geotransform, valid pixel count,
// quick-look; and that emit errors and cancellation stop Clip.
func TestClipOutputs(t *testing.T) {
	sc := gdalwarpScenes[1] // UInt16, nodata 0, 4 bands
	path := MustWriteScene(t, t.TempDir(), sc)
	env := Env{AllowLocalFiles: true}
	var parcels []Parcel
	for i := 0; i < 12; i++ {
		cx, cy := float64(20+i*20), float64(30+i*19)
		g := pixelsToParcelCRS(t, sc, orb.Polygon{{{cx, cy}, {cx + 17.3, cy + 2.1}, {cx + 9.2, cy + 15.7}, {cx, cy}}})
		parcels = append(parcels, Parcel{ID: "p" + itoa(i), Geometry: g})
	}
	var outs []ClipOutput
	st, err := Clip(context.Background(), env, FileSource(path), parcels,
		ClipOptions{Tags: map[string]string{"parcel_id": "x", "capture": "cap-1"}, QuickLookBands: []int{4, 3, 2}},
		func(o ClipOutput) error { outs = append(outs, o); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if st.Clipped != 12 || st.Missed != 0 || st.BlocksRead == 0 || st.BytesRead == 0 || st.BlockBytes == 0 {
		t.Fatalf("stats %+v", st)
	}
	// Every block under a parcel window is decoded exactly once, however
	// many parcels share it.
	distinct := map[[2]int]bool{}
	for _, o := range outs {
		x0 := int(math.Round((o.GeoTransform[0] - sc.gt[0]) / sc.gt[1]))
		y0 := int(math.Round((o.GeoTransform[3] - sc.gt[3]) / sc.gt[5]))
		for by := max(0, y0) / 64; by <= min(sc.h-1, y0+o.Height-1)/64; by++ {
			for bx := max(0, x0) / 64; bx <= min(sc.w-1, x0+o.Width-1)/64; bx++ {
				distinct[[2]int{bx, by}] = true
			}
		}
	}
	if st.BlocksRead != len(distinct) {
		t.Errorf("decoded %d blocks, parcels touch %d", st.BlocksRead, len(distinct))
	}
	for _, o := range outs {
		f, err := os.CreateTemp(t.TempDir(), "*.tif")
		if err != nil {
			t.Fatal(err)
		}
		f.Write(o.COG)
		f.Close()
		ds, err := godal.Open(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		if got := ds.Metadata("LAYOUT", godal.Domain("IMAGE_STRUCTURE")); got != "COG" {
			t.Errorf("%s: LAYOUT=%q, want COG", o.ParcelID, got)
		}
		if got := ds.Metadata("capture"); got != "cap-1" {
			t.Errorf("%s: capture tag %q", o.ParcelID, got)
		}
		if got := ds.Metadata("parcel_id"); got != o.ParcelID {
			t.Errorf("%s: parcel_id tag %q", o.ParcelID, got)
		}
		gt, _ := ds.GeoTransform()
		if gt != o.GeoTransform {
			t.Errorf("%s: geotransform %v, output says %v", o.ParcelID, gt, o.GeoTransform)
		}
		var valid int64
		vals := make([]uint16, o.Width*o.Height)
		for i, b := range ds.Bands() {
			if b.Description() != "B"+itoa(i+1) {
				t.Errorf("%s: band %d description %q", o.ParcelID, i+1, b.Description())
			}
			if nd, ok := b.NoData(); !ok || nd != 0 {
				t.Errorf("%s: band %d nodata %v %v", o.ParcelID, i+1, nd, ok)
			}
			if i == 0 {
				if err := b.Read(0, 0, vals, o.Width, o.Height); err != nil {
					t.Fatal(err)
				}
			}
		}
		// Band 1 nodata pixels may be valid in other bands, so count
		// pixels valid in band 1 as a lower bound.
		for _, v := range vals {
			if v != 0 {
				valid++
			}
		}
		if valid == 0 || valid > o.ValidPixels || o.ValidPixels > int64(o.Width*o.Height) {
			t.Errorf("%s: ValidPixels %d, band 1 has %d", o.ParcelID, o.ValidPixels, valid)
		}
		if err := ds.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(o.QuickLook)); err != nil {
			t.Errorf("%s: quick-look: %v", o.ParcelID, err)
		}
	}

	stop := errors.New("stop")
	n := 0
	_, err = Clip(context.Background(), env, FileSource(path), parcels, ClipOptions{}, func(ClipOutput) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("emit error: err %v after %d emits, want stop after 1", err, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Clip(ctx, env, FileSource(path), parcels, ClipOptions{}, func(ClipOutput) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err %v", err)
	}
	if _, err := Clip(context.Background(), env, FileSource(path), parcels, ClipOptions{QuickLookBands: []int{9}}, func(ClipOutput) error { return nil }); err == nil {
		t.Errorf("quick-look band 9 of 4 accepted")
	}
	huge := pixelsToParcelCRS(t, sc, orb.Polygon{{{10, 10}, {90000, 10}, {10, 90000}, {10, 10}}})
	for _, bad := range []Parcel{
		{ID: "line", Geometry: orb.LineString{{0, 0}, {1, 1}}},
		{ID: "empty", Geometry: orb.Polygon{}},
		{ID: "nil"},
		{ID: "huge", Geometry: huge},
	} {
		if _, err := Clip(context.Background(), env, FileSource(path), []Parcel{bad}, ClipOptions{}, func(ClipOutput) error { return nil }); err == nil {
			t.Errorf("parcel %s accepted", bad.ID)
		}
	}
}

// TestIngest ingests a striped GTiff with a nodata border and checks the
// footprint, statistics, checksum and the COG conversion.
func TestIngest(t *testing.T) {
	dir := t.TempDir()
	sc := testScene{name: "ingest", epsg: 32650, gt: [6]float64{400000, 10, 0, 3500000, 0, -10}, w: 400, h: 300, bands: 2, dt: godal.Int16, nodata: ptr(-9999)}
	path := MustWriteScene(t, dir, sc)
	// Blank out the left half so the footprint is about half the extent.
	ds, err := godal.Open(path, godal.Update())
	if err != nil {
		t.Fatal(err)
	}
	blank := make([]int16, 200*300)
	for i := range blank {
		blank[i] = -9999
	}
	for _, b := range ds.Bands() {
		if err := b.Write(0, 0, blank, 200, 300); err != nil {
			t.Fatal(err)
		}
	}
	if err := ds.Close(); err != nil {
		t.Fatal(err)
	}
	// In strips, so that ingest converts it (a tiled scene is used as it is).
	path = mustStrips(t, path)
	cog := filepath.Join(dir, "out.tif")
	res, err := Ingest(context.Background(), Env{AllowLocalFiles: true}, FileSource(path), IngestOptions{COGPath: cog, FootprintSize: 200})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	sum := sha256.Sum256(raw)
	if res.SHA256 != hex.EncodeToString(sum[:]) || res.Size != int64(len(raw)) {
		t.Errorf("checksum %s size %d", res.SHA256, res.Size)
	}
	if res.IsCOG || !res.COGWritten {
		t.Errorf("IsCOG %v COGWritten %v", res.IsCOG, res.COGWritten)
	}
	extent := planar.Area(res.Info.Footprint)
	fp := planar.Area(res.Footprint)
	if r := fp / extent; r < 0.4 || r > 0.6 {
		t.Errorf("footprint is %.2f of the extent, want about 0.5", r)
	}
	if len(res.Stats) != 2 || res.Stats[0].ValidPixels == 0 || res.Stats[0].Min < -100 || res.Stats[0].Max > 100 {
		t.Errorf("stats %+v", res.Stats)
	}
	again, err := Ingest(context.Background(), Env{AllowLocalFiles: true}, FileSource(cog), IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !again.IsCOG || again.Info.DataType != "Int16" || again.Info.NoData == nil || *again.Info.NoData != -9999 || again.Info.BandDescriptions[1] != "B2" {
		t.Errorf("converted: %+v", again.Info)
	}
	if math.Abs(planar.Area(again.Footprint)-fp) > 0.05*fp {
		t.Errorf("converted footprint %v vs %v", planar.Area(again.Footprint), fp)
	}
	for _, tc := range []struct {
		name   string
		limits Limits
	}{
		{"too many pixels", Limits{MaxPixels: 1000}},
		{"too many bands", Limits{MaxBands: 1}},
		{"a side too long", Limits{MaxSide: 100}},
		{"too many bytes per pixel", Limits{MaxBytesPerPixel: 3}},
		{"too many bytes", Limits{MaxBytes: 1000}},
	} {
		env := Env{AllowLocalFiles: true, Limits: tc.limits}
		if _, err := Ingest(context.Background(), env, FileSource(path), IngestOptions{}); !errors.Is(err, ErrUnusableScene) {
			t.Errorf("%s: %v, want ErrUnusableScene", tc.name, err)
		}
	}
}
