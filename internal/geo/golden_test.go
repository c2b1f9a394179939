package geo

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

var update = flag.Bool("update", false, "rewrite the golden x_out.geojson files under testdata/golden")

// goldenOps maps a golden file's name prefix to the operation under test.
var goldenOps = map[string]func(t *testing.T, c *Collection) []Feature{
	// repair_: Validate WithRepair; every problem must have been repaired.
	"repair_": func(t *testing.T, c *Collection) []Feature {
		rep, err := Validate(c.Features, WithRepair())
		if err != nil {
			t.Fatal(err)
		}
		if err := rep.Err(); err != nil {
			t.Fatalf("not all repaired: %v", err)
		}
		if len(rep.Repaired()) == 0 {
			t.Fatal("nothing was repaired: the input is not a repair case")
		}
		return rep.Features
	},
	// buffer50_: Buffer by 50 m.
	"buffer50_": func(t *testing.T, c *Collection) []Feature {
		out := append([]Feature(nil), c.Features...)
		for i := range out {
			g, err := Buffer(out[i].Geometry, 50)
			if err != nil {
				t.Fatal(err)
			}
			out[i].Geometry = g
		}
		return out
	},
	// gcj02_: the input is read as GCJ-02 and converted to WGS84.
	"gcj02_": nil,
}

// goldenTol is the coordinate tolerance in degrees (about 1 cm): GEOS
// versions may differ in the last bits of buffer vertices.
const goldenTol = 1e-7

// TestGolden runs each testdata/golden/<op><name>.geojson through its
// operation and compares the result with <op><name>_out.geojson within
// goldenTol. Run with -update to rewrite the _out files.
func TestGolden(t *testing.T) {
	ins, err := filepath.Glob(filepath.Join("testdata", "golden", "*.geojson"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, in := range ins {
		if strings.HasSuffix(in, "_out.geojson") {
			continue
		}
		base := filepath.Base(in)
		var prefix string
		for p := range goldenOps {
			if strings.HasPrefix(base, p) {
				prefix = p
			}
		}
		if prefix == "" {
			t.Errorf("%s: no operation for this name", in)
			continue
		}
		n++
		t.Run(strings.TrimSuffix(base, ".geojson"), func(t *testing.T) {
			var opts []Option
			if prefix == "gcj02_" {
				opts = append(opts, WithGCJ02())
			}
			c, err := ReadFile(t.Context(), in, opts...)
			if err != nil {
				t.Fatal(err)
			}
			got := c.Features
			if op := goldenOps[prefix]; op != nil {
				got = op(t, c)
			}
			outPath := strings.TrimSuffix(in, ".geojson") + "_out.geojson"
			if *update {
				var buf bytes.Buffer
				if err := writeGeoJSON(&buf, got); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(outPath, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := ReadFile(t.Context(), outPath)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if len(want.Features) != len(got) {
				t.Fatalf("%d features, golden has %d", len(got), len(want.Features))
			}
			for i := range got {
				if got[i].ParcelID != want.Features[i].ParcelID {
					t.Errorf("feature %d: parcel %q, golden %q", i, got[i].ParcelID, want.Features[i].ParcelID)
				}
				if err := geometryClose(want.Features[i].Geometry, got[i].Geometry, goldenTol); err != nil {
					t.Errorf("feature %d (parcel %q): %v", i, got[i].ParcelID, err)
				}
			}
		})
	}
	if n < 3 {
		t.Errorf("only %d golden cases found", n)
	}
}

// geometryClose reports how want and got differ beyond tol degrees.
func geometryClose(want, got orb.Geometry, tol float64) error {
	wp, err := polygons(want)
	if err != nil {
		return err
	}
	gp, err := polygons(got)
	if err != nil {
		return err
	}
	if len(wp) != len(gp) {
		return fmt.Errorf("%d polygons, want %d", len(gp), len(wp))
	}
	for i := range wp {
		if len(wp[i]) != len(gp[i]) {
			return fmt.Errorf("polygon %d: %d rings, want %d", i, len(gp[i]), len(wp[i]))
		}
		for j := range wp[i] {
			if len(wp[i][j]) != len(gp[i][j]) {
				return fmt.Errorf("polygon %d ring %d: %d points, want %d", i, j, len(gp[i][j]), len(wp[i][j]))
			}
			for k := range wp[i][j] {
				w, g := wp[i][j][k], gp[i][j][k]
				if math.Abs(w[0]-g[0]) > tol || math.Abs(w[1]-g[1]) > tol {
					return fmt.Errorf("polygon %d ring %d point %d: %v, want %v", i, j, k, g, w)
				}
			}
		}
	}
	return nil
}

// writeGeoJSON writes features as an RFC 7946 FeatureCollection with
// properties parcel_id, uscc and name (when set) and the other properties.
func writeGeoJSON(w io.Writer, features []Feature) error {
	fc := geojson.NewFeatureCollection()
	for _, f := range features {
		gf := geojson.NewFeature(f.Geometry)
		for k, v := range f.Properties {
			gf.Properties[k] = v
		}
		gf.Properties["parcel_id"] = f.ParcelID
		if f.USCC != "" {
			gf.Properties["uscc"] = f.USCC
		}
		if f.Name != "" {
			gf.Properties["name"] = f.Name
		}
		fc.Append(gf)
	}
	b, err := json.MarshalIndent(fc, "", " ")
	if err != nil {
		return fmt.Errorf("geo: write geojson: %w", err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("geo: write geojson: %w", err)
	}
	return nil
}
