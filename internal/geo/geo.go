// Package geo handles enterprise parcels as orb geometries: it reads them
// (GeoJSON and WKT in Go; Shapefile, GeoPackage and KML through GDAL's
// vector drivers in internal/raster), validates and optionally repairs them,
// converts the coordinate systems used in China (WGS84, CGCS2000, projected
// CRSs, GCJ-02 web-map offsets) to WGS84, indexes them in an R-tree, buffers
// them in metres and measures their area.
//
// Geometry is always an orb.Polygon or orb.MultiPolygon in WGS84 longitude/
// latitude degrees once read; operations are functions, as in orb's planar
// and geo packages.
package geo

import (
	"fmt"

	"github.com/paulmach/orb"

	"github.com/offsite/offsite"
)

// ErrInvalid reports input that cannot be turned into parcels: malformed
// GeoJSON or WKT, a feature without a parcel_id, an unsupported geometry
// type, an unknown CRS, failed validation. Retrying cannot help. It matches
// offsite.ErrInvalid, so the HTTP layer answers 400.
var ErrInvalid = fmt.Errorf("geo: %w parcels", offsite.ErrInvalid)

// FeatureError is a problem with one feature of the input, found while reading it.
type FeatureError struct {
	Index int    // the feature's 0-based position
	Field string // the member at fault, relative to the feature: "geometry", "properties.parcel_id"; "" for the whole feature
	Msg   string // the problem, naming the feature
}

func (e *FeatureError) Error() string { return ErrInvalid.Error() + ": " + e.Msg }

// Unwrap makes errors.Is(err, ErrInvalid) (and offsite.ErrInvalid) true.
func (e *FeatureError) Unwrap() error { return ErrInvalid }

func featureErr(i int, field, format string, args ...any) error {
	return &FeatureError{Index: i, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Common CRS identifiers recorded in Collection.SourceCRS.
const (
	CRSWGS84    = "EPSG:4326" // WGS84 longitude/latitude
	CRSCGCS2000 = "EPSG:4490" // China Geodetic Coordinate System 2000
	CRSGCJ02    = "GCJ-02"    // WGS84 with the Chinese web-map offset applied
)

// Feature is one parcel.
type Feature struct {
	// Index is the feature's 0-based position in its source.
	Index int
	// ParcelID is properties.parcel_id (or the property WithIDProperty names).
	ParcelID string
	// USCC is the enterprise's unified social credit code, "" when absent.
	USCC string
	// Name is the parcel or enterprise name, "" when absent.
	Name string
	// Properties holds every other property of the feature.
	Properties map[string]any
	// Geometry is an orb.Polygon or orb.MultiPolygon in WGS84 lon/lat.
	Geometry orb.Geometry
}

// Parcel returns the domain parcel for f (timestamps are left to storage).
func (f Feature) Parcel() *offsite.Parcel {
	return &offsite.Parcel{ID: f.ParcelID, EnterpriseUSCC: f.USCC, Name: f.Name, Geometry: f.Geometry}
}

// Parcels returns the domain parcels of fs, in order.
func Parcels(fs []Feature) []*offsite.Parcel {
	out := make([]*offsite.Parcel, len(fs))
	for i, f := range fs {
		out[i] = f.Parcel()
	}
	return out
}

// Collection is the result of reading a parcel source.
type Collection struct {
	Features []Feature
	// SourceCRS records the coordinate system the source was in before
	// conversion to WGS84: CRSWGS84, CRSCGCS2000 (taken as coincident with
	// WGS84: the two differ by centimetres), the source's WKT for projected
	// or other CRSs (reprojected by GDAL), and with " + GCJ-02" appended
	// when WithGCJ02 removed the web-map offset. "" means the source named
	// no CRS and WGS84 was assumed.
	SourceCRS string
}

// Option tunes reading and validation.
type Option func(*options)

type options struct {
	idProperty string
	gcj02      bool
	repair     bool
	encoding   string
	crs        string
}

func newOptions(opts []Option) options {
	o := options{idProperty: "parcel_id"}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithCRS names the CRS of coordinates in a file that names none (GeoJSON without a "crs"
// member, a Shapefile without .prj): an EPSG code ("EPSG:4547"), WKT or PROJ string. A file that
// names another CRS is refused rather than guessed at.
func WithCRS(crs string) Option {
	return func(o *options) { o.crs = crs }
}

// WithIDProperty names the property holding the parcel id. Default
// "parcel_id". Its value must be a string (or, from attribute tables of
// Shapefiles and GeoPackages, an integer, which is formatted in decimal).
func WithIDProperty(name string) Option {
	return func(o *options) { o.idProperty = name }
}

// WithGCJ02 declares that the source coordinates are GCJ-02 (drawn on a
// Chinese web map such as AMap/Gaode or Tencent): every coordinate is
// converted to WGS84 with GCJ02ToWGS84 after any CRS conversion.
func WithGCJ02() Option {
	return func(o *options) { o.gcj02 = true }
}

// WithRepair makes Validate repair the geometry problems it can (closing
// rings, dropping degenerate rings, GDAL MakeValid for self-intersections)
// and report them as repaired. Without it Validate changes nothing.
func WithRepair() Option {
	return func(o *options) { o.repair = true }
}

// WithEncoding sets the code page of a Shapefile attribute table that lacks
// a correct .cpg file, e.g. "GBK". Ignored for other formats.
func WithEncoding(enc string) Option {
	return func(o *options) { o.encoding = enc }
}

// polygons returns g's polygons, or an error for other geometry types.
func polygons(g orb.Geometry) ([]orb.Polygon, error) {
	switch g := g.(type) {
	case orb.Polygon:
		return []orb.Polygon{g}, nil
	case orb.MultiPolygon:
		return g, nil
	case nil:
		return nil, nil
	default:
		return nil, fmt.Errorf("geometry is a %s, want Polygon or MultiPolygon", g.GeoJSONType())
	}
}

// mapPoints returns a copy of g with f applied to every coordinate. It
// handles every orb geometry type; a Bound becomes a Polygon.
func mapPoints(g orb.Geometry, f func(orb.Point) orb.Point) orb.Geometry {
	line := func(ps []orb.Point) []orb.Point {
		out := make([]orb.Point, len(ps))
		for i, p := range ps {
			out[i] = f(p)
		}
		return out
	}
	poly := func(p orb.Polygon) orb.Polygon {
		out := make(orb.Polygon, len(p))
		for i, r := range p {
			out[i] = line(r)
		}
		return out
	}
	switch g := g.(type) {
	case orb.Point:
		return f(g)
	case orb.MultiPoint:
		return orb.MultiPoint(line(g))
	case orb.LineString:
		return orb.LineString(line(g))
	case orb.MultiLineString:
		out := make(orb.MultiLineString, len(g))
		for i, l := range g {
			out[i] = line(l)
		}
		return out
	case orb.Ring:
		return orb.Ring(line(g))
	case orb.Bound:
		return poly(g.ToPolygon())
	case orb.Polygon:
		return poly(g)
	case orb.MultiPolygon:
		out := make(orb.MultiPolygon, len(g))
		for i, p := range g {
			out[i] = poly(p)
		}
		return out
	case orb.Collection:
		out := make(orb.Collection, len(g))
		for i, sub := range g {
			out[i] = mapPoints(sub, f)
		}
		return out
	}
	return g
}
