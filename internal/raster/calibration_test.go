package raster

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airbusgeo/godal"

	"github.com/offsite/offsite/internal/testenv"
)

// MustWriteBands writes a 20 × 20 UInt16 GeoTIFF of len(values) bands (UTM 50N, 10 m), band
// i filled with values[i] and described by descs[i]; set may change the dataset before it is
// closed. createOpts are GTiff creation options.
func MustWriteBands(tb testing.TB, path string, values []float64, descs []string, createOpts []string, set func(*godal.Dataset)) {
	tb.Helper()
	mustWriteBandsAs(tb, path, godal.UInt16, values, descs, createOpts, set)
}

// mustWriteBandsAs is MustWriteBands with bands of data type dt.
func mustWriteBandsAs(tb testing.TB, path string, dt godal.DataType, values []float64, descs []string, createOpts []string, set func(*godal.Dataset)) {
	tb.Helper()
	if err := register(); err != nil {
		tb.Fatal(err)
	}
	ds, err := godal.Create(godal.GTiff, path, len(values), dt, 20, 20, godal.CreationOption(createOpts...), errLogger)
	if err != nil {
		tb.Fatal(err)
	}
	if err := ds.SetGeoTransform([6]float64{500000, 10, 0, 3000200, 0, -10}, errLogger); err != nil {
		tb.Fatal(err)
	}
	sr, err := godal.NewSpatialRefFromEPSG(32650, errLogger)
	if err != nil {
		tb.Fatal(err)
	}
	defer sr.Close()
	if err := ds.SetSpatialRef(sr, errLogger); err != nil {
		tb.Fatal(err)
	}
	for i, b := range ds.Bands() {
		if err := b.Fill(values[i], 0, errLogger); err != nil {
			tb.Fatal(err)
		}
		if err := b.SetDescription(descs[i], errLogger); err != nil {
			tb.Fatal(err)
		}
	}
	if set != nil {
		set(ds)
	}
	if err := ds.Close(errLogger); err != nil {
		tb.Fatal(err)
	}
}

// TestReadBandsGDALWarning reads a 5-band TIFF written as PHOTOMETRIC=RGB whose ExtraSamples
// tag counts one sample too few: GDAL warns but reads it, so ReadBands reads every band and
// reports the warning, and Ingest converts it, where the strict handler refuses the file.
func TestReadBandsGDALWarning(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rgb5.tif")
	values := []float64{1100, 1200, 1300, 2400, 1700}
	descs := []string{"B02", "B03", "B04", "B08", "B12"}
	MustWriteBands(t, path, values, descs, []string{"PHOTOMETRIC=RGB", "INTERLEAVE=PIXEL"}, nil)
	testenv.MustDropExtraSamples(t, path)

	// The strict handler (warnings are errors) refuses the file: the warning is real.
	ds, err := godal.Open(path, godal.RasterOnly(), godal.Drivers(readDrivers...), errLogger)
	if err == nil {
		ds.Close()
		t.Fatal("the strict handler opened the file: GDAL raised no warning")
	}
	if !strings.Contains(err.Error(), "Sum of Photometric type-related color channels and ExtraSamples doesn't match SamplesPerPixel") {
		t.Fatalf("strict open: %v, want the ExtraSamples warning", err)
	}

	b, err := ReadBands(context.Background(), Env{AllowLocalFiles: true}, []Source{FileSource(path)}, BandsOptions{Bands: descs})
	if err != nil {
		t.Fatalf("ReadBands: %v", err)
	}
	for i, name := range descs {
		for p, v := range b.Get(name) {
			if !b.Valid[p] || v != float32(values[i]) {
				t.Fatalf("band %s pixel %d = %v (valid %v), want %v", name, p, v, b.Valid[p], values[i])
			}
		}
	}
	if len(b.Warnings) == 0 || !strings.HasPrefix(b.Warnings[0], "rgb5.tif: ") || !strings.Contains(b.Warnings[0], "ExtraSamples doesn't match SamplesPerPixel") {
		t.Errorf("warnings %q, want the ExtraSamples warning prefixed with the file", b.Warnings)
	}

	// Ingest (the workers' first step) takes it too, says why, and its COG reads cleanly.
	cog := filepath.Join(t.TempDir(), "cog.tif")
	res, err := Ingest(context.Background(), Env{AllowLocalFiles: true}, FileSource(path), IngestOptions{COGPath: cog})
	if err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	if !res.COGWritten || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "ExtraSamples doesn't match SamplesPerPixel") {
		t.Errorf("ingest: COG written %v, warnings %q; want the COG and the ExtraSamples warning", res.COGWritten, res.Warnings)
	}
	c, err := ReadBands(context.Background(), Env{AllowLocalFiles: true}, []Source{FileSource(cog)}, BandsOptions{Bands: descs})
	if err != nil {
		t.Fatalf("ReadBands of the COG: %v", err)
	}
	if len(c.Warnings) != 0 || c.Get("B12")[0] != float32(values[4]) {
		t.Errorf("COG: warnings %q, B12 %v; want none and %v", c.Warnings, c.Get("B12")[0], values[4])
	}

	// A failure is still an error: the same file cut short.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	short := filepath.Join(t.TempDir(), "short.tif")
	if err := os.WriteFile(short, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = ReadBands(context.Background(), Env{AllowLocalFiles: true}, []Source{FileSource(short)}, BandsOptions{Bands: descs})
	if !errors.Is(err, ErrUnusableScene) {
		t.Errorf("truncated file: %v, want ErrUnusableScene", err)
	}
}

// TestReadBandsOptionalAndCalibration reads optional bands a scene lacks, and the scale and
// offset its metadata gives: GDAL band scale/offset, Sentinel-2 BOA_ADD_OFFSET on the dataset
// (with and without BOA_QUANTIFICATION_VALUE), or nothing.
func TestReadBandsOptionalAndCalibration(t *testing.T) {
	dir := t.TempDir()
	descs := []string{"B02", "B04"}
	values := []float64{1100, 1300}
	cases := []struct {
		name string
		set  func(*godal.Dataset)
		want Calibration
	}{
		{"none", nil, Calibration{}},
		{"gdal scale offset", func(ds *godal.Dataset) {
			for _, b := range ds.Bands() {
				if err := b.SetScaleOffset(0.0001, -0.1, errLogger); err != nil {
					t.Fatal(err)
				}
			}
		}, Calibration{Scale: 0.0001, Offset: -0.1, Source: CalibrationGDAL}},
		{"BOA_ADD_OFFSET", func(ds *godal.Dataset) {
			if err := ds.SetMetadata("BOA_ADD_OFFSET", "-1000", errLogger); err != nil {
				t.Fatal(err)
			}
		}, Calibration{Scale: 0.0001, Offset: -0.1, Source: CalibrationBOA}},
		{"BOA_ADD_OFFSET per band, quantification 1000", func(ds *godal.Dataset) {
			for _, kv := range [][2]string{{"BOA_ADD_OFFSET_B02", "-100"}, {"BOA_ADD_OFFSET_B04", "-100"}, {"BOA_QUANTIFICATION_VALUE", "1000"}} {
				if err := ds.SetMetadata(kv[0], kv[1], errLogger); err != nil {
					t.Fatal(err)
				}
			}
		}, Calibration{Scale: 0.001, Offset: -0.1, Source: CalibrationBOA}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".tif")
			MustWriteBands(t, path, values, descs, nil, tc.set)
			// The COG the workers ingest keeps the metadata: read both.
			cog := strings.TrimSuffix(path, ".tif") + ".cog.tif"
			if _, err := Ingest(context.Background(), Env{AllowLocalFiles: true}, FileSource(path), IngestOptions{COGPath: cog}); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{path, cog} {
				checkCalibration(t, p, tc.want)
			}
		})
	}
	// Without metadata, a Float32 band whose values are reflectance takes scale 1, inferred
	// from the data; one holding digital numbers, or an integer band of small values, does not.
	for _, tc := range []struct {
		name   string
		dt     godal.DataType
		values []float64
		want   Calibration
	}{
		{"float reflectance", godal.Float32, []float64{0.11, 0.13}, Calibration{Scale: 1, Source: CalibrationInferred}},
		{"float digital numbers", godal.Float32, values, Calibration{}},
		{"integer small values", godal.UInt16, []float64{1, 2}, Calibration{}},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".tif")
		mustWriteBandsAs(t, path, tc.dt, tc.values, descs, nil, nil)
		checkCalibration(t, path, tc.want)
	}
	// A float band with scale metadata keeps it, whatever its values.
	path := filepath.Join(dir, "float_scaled.tif")
	mustWriteBandsAs(t, path, godal.Float32, []float64{0.11, 0.13}, descs, nil, func(ds *godal.Dataset) {
		for _, b := range ds.Bands() {
			if err := b.SetScaleOffset(2, 0, errLogger); err != nil {
				t.Fatal(err)
			}
		}
	})
	checkCalibration(t, path, Calibration{Scale: 2, Source: CalibrationGDAL})

	// A band that is not optional is still required.
	path = filepath.Join(dir, "none.tif")
	_, err := ReadBands(context.Background(), Env{AllowLocalFiles: true}, []Source{FileSource(path)},
		BandsOptions{Bands: []string{"B02", "B11"}, Optional: []string{"SCL"}})
	if !errors.Is(err, ErrUnusableScene) || !strings.Contains(err.Error(), `no band "B11"`) {
		t.Errorf("required band missing: %v, want ErrUnusableScene naming B11", err)
	}
}

// checkCalibration reads B02, B04 and the optional B8A and SCL of path (which has only B02
// and B04) and checks that both bands' calibration is want.
func checkCalibration(t *testing.T, path string, want Calibration) {
	t.Helper()
	b, err := ReadBands(context.Background(), Env{AllowLocalFiles: true}, []Source{FileSource(path)},
		BandsOptions{Bands: []string{"B02", "B8A", "B04", "SCL"}, Optional: []string{"b8a", "SCL"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(b.Names, ","); got != "B02,B04" {
		t.Errorf("%s: names %s, want B02,B04", path, got)
	}
	if got := strings.Join(b.Missing, ","); got != "B8A,SCL" {
		t.Errorf("%s: missing %s, want B8A,SCL", path, got)
	}
	if len(b.Calibration) != 2 {
		t.Fatalf("%s: %d calibrations, want 2", path, len(b.Calibration))
	}
	for i, c := range b.Calibration {
		if !near(c.Scale, want.Scale) || !near(c.Offset, want.Offset) || c.Source != want.Source {
			t.Errorf("%s: band %s calibration %+v, want %+v", path, b.Names[i], c, want)
		}
	}
}

func near(a, b float64) bool { d := a - b; return d < 1e-12 && d > -1e-12 }
