package raster

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/airbusgeo/godal"
)

// gdalwarpScenes are the generated scenes the clips are checked on.
var gdalwarpScenes = []testScene{
	{name: "utm50-byte", epsg: 32650, gt: [6]float64{400000, 10, 0, 3500000, 0, -10}, w: 300, h: 260, bands: 3, dt: godal.Byte},
	{name: "utm50-uint16-nd0", epsg: 32650, gt: [6]float64{402000, 10, 0, 3502000, 0, -10}, w: 280, h: 300, bands: 4, dt: godal.UInt16, nodata: ptr(0)},
	{name: "utm51-int16", epsg: 32651, gt: [6]float64{300010, 20, 0, 3000000, 0, -20}, w: 200, h: 220, bands: 2, dt: godal.Int16, nodata: ptr(-9999), block: 32},
	{name: "utm49-float32-nan", epsg: 32649, gt: [6]float64{700000, 30, 0, 2500000, 0, -30}, w: 150, h: 160, bands: 1, dt: godal.Float32, nodata: ptr(math.NaN())},
	{name: "wgs84-float32", epsg: 4326, gt: [6]float64{116.3, 0.0001, 0, 40.0, 0, -0.0001}, w: 300, h: 240, bands: 1, dt: godal.Float32, nodata: ptr(-9999)},
	{name: "utm50-uint16-cgcs2000", epsg: 32650, gt: [6]float64{402000, 10, 0, 3502000, 0, -10}, w: 280, h: 300, bands: 4, dt: godal.UInt16, nodata: ptr(0), parcelEPSG: 4490},
}

// parcelsPerScene × len(gdalwarpScenes) parcels are compared with gdalwarp,
// each with the pixel-centre rule and with all-touched.
const parcelsPerScene = 10

func requireGDALWarp(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("gdalwarp"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("gdalwarp not found")
		}
		t.Skip("gdalwarp not found")
	}
}

// TestClipMatchesGDALWarp clips generated scenes and compares every output
// with gdalwarp -cutline -crop_to_cutline (and CUTLINE_ALL_TOUCHED) pixel
// for pixel: size, geotransform, nodata, data type and values.
func TestClipMatchesGDALWarp(t *testing.T) {
	requireGDALWarp(t)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	for _, sc := range gdalwarpScenes {
		t.Run(sc.name, func(t *testing.T) {
			scenePath := MustWriteScene(t, dir, sc)
			var parcels []Parcel
			for i := 0; i < parcelsPerScene; i++ {
				// Mostly inside, some across the scene edge, one outside.
				cx := rng.Float64() * float64(sc.w)
				cy := rng.Float64() * float64(sc.h)
				switch i {
				case 3:
					cx = -3
				case 4:
					cy = float64(sc.h) + 2
				case 5:
					cx, cy = float64(sc.w)+200, float64(sc.h)+200
				}
				r := 2 + rng.Float64()*30
				g := randomParcel(t, rng, sc, i, cx, cy, r)
				parcels = append(parcels, Parcel{ID: fmt.Sprintf("%s-%02d", sc.name, i), Geometry: g})
			}
			for _, allTouched := range []bool{false, true} {
				t.Run(fmt.Sprintf("allTouched=%v", allTouched), func(t *testing.T) {
					compareWithGDALWarp(t, dir, sc, scenePath, parcels, allTouched)
				})
			}
		})
	}
}

// compareWithGDALWarp runs Clip and gdalwarp on every parcel and compares.
func compareWithGDALWarp(t *testing.T, dir string, sc testScene, scenePath string, parcels []Parcel, allTouched bool) {
	got := map[string]ClipOutput{}
	env := Env{AllowLocalFiles: true}
	st, err := Clip(context.Background(), env, FileSource(scenePath), parcels,
		ClipOptions{AllTouched: allTouched, ParcelEPSG: sc.parcelEPSG},
		func(o ClipOutput) error {
			if _, dup := got[o.ParcelID]; dup {
				return fmt.Errorf("parcel %s emitted twice", o.ParcelID)
			}
			got[o.ParcelID] = o
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if st.Clipped+st.Missed != len(parcels) {
		t.Errorf("stats %+v do not add up to %d parcels", st, len(parcels))
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for _, p := range parcels {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			suffix := "c"
			if allTouched {
				suffix = "t"
			}
			cut := filepath.Join(dir, p.ID+".geojson")
			MustWriteCutline(t, cut, p.Geometry, sc.parcelEPSG)
			want := filepath.Join(dir, p.ID+"-gdalwarp-"+suffix+".tif")
			args := []string{"-q", "-overwrite", "-of", "GTiff", "-cutline", cut, "-crop_to_cutline"}
			if allTouched {
				args = append(args, "-wo", "CUTLINE_ALL_TOUCHED=TRUE")
			}
			args = append(args, scenePath, want)
			out, werr := exec.Command("gdalwarp", args...).CombinedOutput()
			o, ok := got[p.ID]
			if werr != nil {
				if ok {
					t.Errorf("%s: gdalwarp failed (%v: %s) but Clip emitted %dx%d", p.ID, werr, strings.TrimSpace(string(out)), o.Width, o.Height)
				}
				return
			}
			if !ok {
				// Clip skips parcels that miss the scene; gdalwarp writes
				// an empty raster for them.
				if err := checkAllNoData(want, sc.nodata); err != nil {
					t.Errorf("%s: Clip skipped the parcel but gdalwarp's clip has data: %v", p.ID, err)
				}
				return
			}
			gotPath := filepath.Join(dir, p.ID+"-clip-"+suffix+".tif")
			if err := os.WriteFile(gotPath, o.COG, 0o644); err != nil {
				t.Error(err)
				return
			}
			if err := compareRasters(want, gotPath, sc.nodata); err != nil {
				t.Errorf("%s: %v", p.ID, err)
			}
		}()
	}
	wg.Wait()
}

// compareRasters compares the gdalwarp output want with our clip got.
func compareRasters(want, got string, nodata *float64) error {
	a, err := godal.Open(want)
	if err != nil {
		return err
	}
	defer a.Close()
	b, err := godal.Open(got)
	if err != nil {
		return err
	}
	defer b.Close()
	sa, sb := a.Structure(), b.Structure()
	if sa.SizeX != sb.SizeX || sa.SizeY != sb.SizeY || sa.NBands != sb.NBands || sa.DataType != sb.DataType {
		return fmt.Errorf("size/bands/type: gdalwarp %dx%dx%d %s, clip %dx%dx%d %s",
			sa.SizeX, sa.SizeY, sa.NBands, sa.DataType, sb.SizeX, sb.SizeY, sb.NBands, sb.DataType)
	}
	ga, err := a.GeoTransform()
	if err != nil {
		return err
	}
	gb, err := b.GeoTransform()
	if err != nil {
		return err
	}
	for i := range ga {
		if math.Abs(ga[i]-gb[i]) > 1e-9*math.Abs(ga[1]) {
			return fmt.Errorf("geotransform: gdalwarp %v, clip %v", ga, gb)
		}
	}
	n := sa.SizeX * sa.SizeY
	va := make([]float64, n)
	vb := make([]float64, n)
	for i := 0; i < sa.NBands; i++ {
		ba, bb := a.Bands()[i], b.Bands()[i]
		nda, oka := ba.NoData()
		ndb, okb := bb.NoData()
		if oka != okb || oka && !(nda == ndb || math.IsNaN(nda) && math.IsNaN(ndb)) {
			return fmt.Errorf("band %d nodata: gdalwarp %v/%v, clip %v/%v", i+1, nda, oka, ndb, okb)
		}
		if err := ba.Read(0, 0, va, sa.SizeX, sa.SizeY); err != nil {
			return err
		}
		if err := bb.Read(0, 0, vb, sa.SizeX, sa.SizeY); err != nil {
			return err
		}
		diffs := 0
		first := ""
		for k := range va {
			if va[k] != vb[k] && !(math.IsNaN(va[k]) && math.IsNaN(vb[k])) {
				if diffs == 0 {
					first = fmt.Sprintf("(%d,%d) gdalwarp %v clip %v", k%sa.SizeX, k/sa.SizeX, va[k], vb[k])
				}
				diffs++
			}
		}
		if diffs > 0 {
			return fmt.Errorf("band %d: %d of %d pixels differ, first at %s", i+1, diffs, n, first)
		}
	}
	return nil
}

// checkAllNoData checks that every pixel of path is nodata (0 without nodata).
func checkAllNoData(path string, nodata *float64) error {
	ds, err := godal.Open(path)
	if err != nil {
		return err
	}
	defer ds.Close()
	st := ds.Structure()
	v := make([]float64, st.SizeX*st.SizeY)
	for i, b := range ds.Bands() {
		if err := b.Read(0, 0, v, st.SizeX, st.SizeY); err != nil {
			return err
		}
		for k, x := range v {
			switch {
			case nodata == nil && x == 0, nodata != nil && (x == *nodata || math.IsNaN(x) && math.IsNaN(*nodata)):
			default:
				return fmt.Errorf("band %d pixel %d is %v", i+1, k, x)
			}
		}
	}
	return nil
}
