package geo

import "fmt"

// Size limits on parcels and zones, so that one request cannot hold a
// geometry whose reading and validation run for minutes. Real parcels have
// tens to a few thousand positions; a detailed river section a few tens of
// thousands.
const (
	MaxVertices      = 200_000   // positions in one feature's geometry
	MaxParts         = 1_000     // polygons in one feature's multipolygon
	MaxRings         = 1_000     // rings (exterior and holes) of one polygon
	MaxTotalVertices = 1_000_000 // positions in all the features of one collection
)

// CheckLimits refuses features over the size limits, before validation.
// The error is a *FeatureError naming the feature and its geometry, or,
// when only the total is over, one with Index -1 and Field "features".
func CheckLimits(features []Feature) error {
	total := 0
	for _, f := range features {
		polys, err := polygons(f.Geometry)
		if err != nil {
			continue // Validate reports the geometry type
		}
		if len(polys) > MaxParts {
			return featureErr(f.Index, "geometry", "feature %d (parcel %q): the multipolygon has %d polygons, more than the limit of %d; split it into several features",
				f.Index, f.ParcelID, len(polys), MaxParts)
		}
		n := 0
		for pi, p := range polys {
			if len(p) > MaxRings {
				return featureErr(f.Index, "geometry", "feature %d (parcel %q): polygon %d has %d rings, more than the limit of %d",
					f.Index, f.ParcelID, pi, len(p), MaxRings)
			}
			for _, r := range p {
				n += len(r)
			}
		}
		if n > MaxVertices {
			return featureErr(f.Index, "geometry", "feature %d (parcel %q): the geometry has %d positions, more than the limit of %d; simplify it",
				f.Index, f.ParcelID, n, MaxVertices)
		}
		total += n
	}
	if total > MaxTotalVertices {
		return &FeatureError{Index: -1, Field: "features", Msg: fmt.Sprintf("the features hold %d positions, more than the limit of %d in one collection; send them in several", total, MaxTotalVertices)}
	}
	return nil
}
