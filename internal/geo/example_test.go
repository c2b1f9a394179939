package geo_test

import (
	"fmt"
	"strings"

	"github.com/paulmach/orb"

	"github.com/offsite/offsite/internal/geo"
)

// Read parcels, check them and find those within a scene's bounds, with their 100 m
// surroundings.
func Example() {
	src := `{"type":"FeatureCollection","features":[
	{"type":"Feature","properties":{"parcel_id":"p1","name":"某某化工有限公司"},"geometry":{"type":"Polygon","coordinates":[[[116.390,39.900],[116.392,39.900],[116.392,39.902],[116.390,39.902],[116.390,39.900]]]}},
	{"type":"Feature","properties":{"parcel_id":"p2"},"geometry":{"type":"Polygon","coordinates":[[[116.500,39.900],[116.502,39.900],[116.502,39.902],[116.500,39.900]]]}}]}`
	c, err := geo.ReadGeoJSON(strings.NewReader(src))
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, err := geo.Validate(c.Features)
	if err != nil || rep.Err() != nil {
		fmt.Println(err, rep.Err())
		return
	}
	scene := orb.Bound{Min: orb.Point{116.3, 39.8}, Max: orb.Point{116.45, 40.0}}
	for _, f := range c.Features {
		if !scene.Intersects(f.Geometry.Bound()) {
			continue
		}
		surroundings, err := geo.Buffer(f.Geometry, 100)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s %s: %.0f m², with 100 m around it %.0f m²\n", f.ParcelID, f.Name, geo.Area(f.Geometry), geo.Area(surroundings))
	}
	// Output:
	// p1 某某化工有限公司: 37981 m², with 100 m around it 147966 m²
}

// Validation problems name the feature, parcel, ring and point.
func ExampleValidate() {
	fs := []geo.Feature{
		{Index: 0, ParcelID: "A-1", Geometry: orb.Polygon{{{0, 0}, {2, 2}, {2, 0}, {0, 2}, {0, 0}}}},
		{Index: 1, ParcelID: "A-1", Geometry: orb.Polygon{{{0, 0}, {1, 0}, {1, 1}, {0, 1}}}},
	}
	rep, _ := geo.Validate(fs)
	for _, p := range rep.Problems {
		fmt.Println(p)
	}
	rep, _ = geo.Validate(fs, geo.WithRepair())
	fmt.Println(rep.Repaired(), rep.Err() != nil)
	// Output:
	// feature 0 (parcel "A-1"): polygon 0 ring 0 point 0: self_intersection: the edge from position 0 and the edge from position 2 meet near (1.0000000, 1.0000000); redraw the outline so that it does not cross itself, or import with repair
	// feature 1 (parcel "A-1"): duplicate_id: parcel id is also used by feature 0; parcel ids must be unique
	// feature 1 (parcel "A-1"): polygon 0 ring 0 point 3: unclosed_ring: the ring ends at (0, 1) instead of its first position (0, 0); repeat the first position at the end
	// [0 1] true
}

// Parcels drawn on AMap/Gaode or Tencent maps are in GCJ-02.
func ExampleGCJ02ToWGS84() {
	lon, lat := geo.GCJ02ToWGS84(116.38404722455657, 39.91334545536069)
	fmt.Printf("%.7f %.7f\n", lon, lat)
	// Output:
	// 116.3778170 39.9119540
}
