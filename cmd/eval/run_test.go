package main

import (
	"testing"

	"github.com/offsite/offsite/internal/evalscore"
	"github.com/offsite/offsite/internal/geo"
)

// TestSceneParcel: the parcel run over a scene, taken back from WGS84 to the grid's CRS as
// findings are, covers every pixel of the grid and nothing beyond it.
func TestSceneParcel(t *testing.T) {
	for _, tc := range []struct {
		name string
		crs  string
		gt   [6]float64
	}{
		{"UTM 50N at 10 m", "EPSG:32650", [6]float64{512000, 10, 0, 3345000, 0, -10}},
		{"WGS84 at 20 m", "EPSG:4326", [6]float64{-116.1131, 0.000179663056824, 0, 33.5817, 0, -0.000179663056824}},
		{"UTM 50N at 0.5 m", "EPSG:32650", [6]float64{400000, 0.5, 0, 3500000, 0, -0.5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := pair{name: tc.name, crs: tc.crs, grid: evalscore.Grid{Width: 37, Height: 23, GeoTransform: tc.gt}}
			g, err := sceneParcel(p)
			if err != nil {
				t.Fatal(err)
			}
			if b := g.Bound(); b.Min[0] < -180 || b.Max[0] > 180 || b.Min[1] < -90 || b.Max[1] > 90 {
				t.Fatalf("parcel bound %v is not lon/lat", b)
			}
			back := g
			if tc.crs != geo.CRSWGS84 {
				if back, err = geo.Reproject(g, geo.CRSWGS84, tc.crs); err != nil {
					t.Fatal(err)
				}
			}
			if got, want := len(p.grid.Rasterize(back)), 37*23; got != want {
				t.Errorf("the parcel covers %d pixels, want %d", got, want)
			}
		})
	}
}

func TestTargetMet(t *testing.T) {
	for _, tc := range []struct {
		t    target
		want bool
	}{
		{target{value: 0.9, goal: 0.9}, true},
		{target{value: 0.89, goal: 0.9}, false},
		{target{value: 0, goal: 0, atMost: true}, true},
		{target{value: 1, goal: 0, atMost: true}, false},
	} {
		if got := tc.t.met(); got != tc.want {
			t.Errorf("%+v met = %v, want %v", tc.t, got, tc.want)
		}
	}
}
