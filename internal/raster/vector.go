package raster

// Vector operations that internal/geo needs from GDAL: reading parcel files
// through OGR's vector drivers, repairing geometries with GEOS MakeValid,
// buffering and reprojecting coordinates. Results are plain Go values (orb
// geometries, attribute maps), never GDAL handles.

/*
#cgo pkg-config: gdal
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "cpl_error.h"
#include "ogr_api.h"

// offsiteMakeValid parses wkb, runs OGR_G_MakeValid on it and returns the
// result as ISO WKB (malloc'ed, *outLen bytes). On failure it returns NULL
// and copies GDAL's last error message into errBuf. GDAL messages go to a
// quiet handler; the error state is thread-local and this function runs on
// one thread from start to end.
static unsigned char *offsiteMakeValid(const unsigned char *wkb, int n, int *outLen, char *errBuf, int errLen) {
	OGRGeometryH in = NULL, out = NULL;
	unsigned char *buf = NULL;
	int sz = 0;
	*outLen = 0;
	errBuf[0] = 0;
	CPLPushErrorHandler(CPLQuietErrorHandler);
	CPLErrorReset();
	if (OGR_G_CreateFromWkb(wkb, NULL, &in, n) != OGRERR_NONE || in == NULL) {
		snprintf(errBuf, errLen, "cannot parse WKB: %s", CPLGetLastErrorMsg());
		goto done;
	}
	out = OGR_G_MakeValid(in);
	if (out == NULL) {
		snprintf(errBuf, errLen, "MakeValid failed: %s", CPLGetLastErrorMsg());
		goto done;
	}
	sz = OGR_G_WkbSize(out);
	buf = malloc(sz > 0 ? sz : 1);
	if (OGR_G_ExportToIsoWkb(out, wkbNDR, buf) != OGRERR_NONE) {
		snprintf(errBuf, errLen, "cannot export WKB: %s", CPLGetLastErrorMsg());
		free(buf);
		buf = NULL;
		goto done;
	}
	*outLen = sz;
done:
	if (in != NULL) OGR_G_DestroyGeometry(in);
	if (out != NULL) OGR_G_DestroyGeometry(out);
	CPLPopErrorHandler();
	return buf;
}
*/
import "C"

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"unsafe"

	"github.com/airbusgeo/godal"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// ErrUnusableVector reports a vector file GDAL cannot open or decode, or one
// whose content cannot be used (no layer, an unsupported geometry type).
// Retrying cannot help.
var ErrUnusableVector = errors.New("raster: unusable vector file")

// VectorOptions tunes ReadVectorFile.
type VectorOptions struct {
	// Layer names the layer to read. Default: the file's first layer.
	Layer string

	// Encoding is the code page of a Shapefile's attribute table (for
	// example "GBK" or "CP936") when the file has no .cpg (or a wrong one).
	// Default: the .cpg file's code page, else GDAL's default (ISO-8859-1).
	// Attributes always come back as UTF-8. Ignored for other formats.
	Encoding string
}

// VectorFeature is one feature of a vector layer, in reading order.
type VectorFeature struct {
	// Fields maps field names to values: string, int64, float64,
	// time.Time, []int64, []float64, []string or []byte; nil when the
	// field is unset. godal v0.0.18 does not expose OGR_F_IsFieldNull, so
	// a field that is set to null reads as its type's zero value ("", 0).
	Fields map[string]any

	// Geometry is the feature's geometry in the layer CRS, flattened to 2D;
	// nil when the feature has none.
	Geometry orb.Geometry
}

// VectorLayer is the content of one layer of a vector file.
type VectorLayer struct {
	Name   string
	Driver string // GDAL driver that read the file, e.g. "ESRI Shapefile"

	// CRS is the layer's coordinate reference system as WKT, "" when the
	// file declares none (KML is always WGS84 and reports it).
	CRS string
	// EPSG is the EPSG code GDAL identifies for CRS, 0 when none.
	EPSG int

	Features []VectorFeature
}

// vectorDrivers maps file extensions to the only GDAL drivers allowed to
// open them.
var vectorDrivers = map[string][]string{
	".shp":     {"ESRI Shapefile"},
	".gpkg":    {"GPKG"},
	".kml":     {"LIBKML"}, // or KML without libkml, see ReadVectorFile
	".geojson": {"GeoJSON"},
	".json":    {"GeoJSON"},
}

var (
	vectorRegisterOnce sync.Once
	vectorRegisterErr  error
	vectorHaveLIBKML   bool
)

// registerVector registers the vector drivers ReadVectorFile may use.
// LIBKML is optional: GDAL builds without it read KML with the KML driver.
func registerVector() error {
	vectorRegisterOnce.Do(func() {
		vectorRegisterErr = godal.RegisterVector(godal.Shapefile, godal.GeoPackage, "KML", godal.GeoJSON)
		if vectorRegisterErr != nil {
			vectorRegisterErr = fmt.Errorf("raster: register vector drivers: %w", vectorRegisterErr)
			return
		}
		vectorHaveLIBKML = godal.RegisterVector("LIBKML") == nil
	})
	return vectorRegisterErr
}

// objectNullTolerant is an error handler that lets a NULL-object error pass
// (GDAL's answer when asked about an absent geometry or CRS) and otherwise
// behaves like gdalErrors.
func objectNullTolerant(ec godal.ErrorCategory, code int, msg string) error {
	const cpleObjectNull = 10
	if code == cpleObjectNull {
		return nil
	}
	return gdalErrors(ec, code, msg)
}

// ReadVectorFile reads every feature of one layer of a local vector file:
// Shapefile (.shp, with its .cpg code page), GeoPackage (.gpkg), KML (.kml)
// or GeoJSON (.geojson, .json). The extension picks the only driver allowed
// to open the file. path must be a plain local path (no "..", no /vsi
// prefix, no URL). Geometries stay in the layer CRS, reported in CRS and
// EPSG; TransformPoints converts them.
func ReadVectorFile(ctx context.Context, path string, opts VectorOptions) (layer *VectorLayer, err error) {
	if err := checkName(path); err != nil {
		return nil, fmt.Errorf("%w: path %q: %v", ErrInvalidSource, path, err)
	}
	ext := strings.ToLower(filepath.Ext(path))
	drivers, ok := vectorDrivers[ext]
	if !ok {
		return nil, fmt.Errorf("%w: %s: unsupported extension %q", ErrUnusableVector, path, ext)
	}
	if err := registerVector(); err != nil {
		return nil, err
	}
	if ext == ".kml" {
		// GDAL tries allowed drivers in registration order; the KML
		// driver ignores typed ExtendedData (SchemaData), so it is only
		// the fallback when GDAL was built without libkml.
		drivers = []string{"KML"}
		if vectorHaveLIBKML {
			drivers = []string{"LIBKML"}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	openOpts := []godal.OpenOption{godal.VectorOnly(), godal.Drivers(drivers...), errLogger,
		godal.ConfigOption("GDAL_PAM_ENABLED=NO", "OGR_GEOJSON_MAX_OBJ_SIZE=0")}
	if ext == ".shp" && opts.Encoding != "" {
		openOpts = append(openOpts, godal.DriverOpenOption("ENCODING="+opts.Encoding))
	}
	ds, err := godal.Open(filepath.Clean(path), openOpts...)
	if err != nil {
		return nil, fmt.Errorf("%w: open %s: %v", ErrUnusableVector, path, err)
	}
	defer func() {
		if cerr := ds.Close(errLogger); cerr != nil && err == nil {
			err = fmt.Errorf("raster: close %s: %w", path, cerr)
		}
	}()
	layers := ds.Layers()
	if len(layers) == 0 {
		return nil, fmt.Errorf("%w: %s has no layer", ErrUnusableVector, path)
	}
	l := layers[0]
	if opts.Layer != "" {
		found := false
		for _, cand := range layers {
			if cand.Name() == opts.Layer {
				l, found = cand, true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("%w: %s has no layer %q", ErrUnusableVector, path, opts.Layer)
		}
	}
	out := &VectorLayer{Name: l.Name(), Driver: ds.Driver().ShortName()}
	out.CRS, out.EPSG, err = layerCRS(l)
	if err != nil {
		return nil, fmt.Errorf("raster: %s: layer crs: %w", path, err)
	}
	l.ResetReading()
	for i := 0; ; i++ {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		f := l.NextFeature()
		if f == nil {
			break
		}
		vf, err := vectorFeature(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%w: %s: feature %d: %v", ErrUnusableVector, path, i, err)
		}
		out.Features = append(out.Features, vf)
	}
	return out, nil
}

// layerCRS returns the WKT and EPSG code of the layer's CRS ("" and 0 when
// it has none).
func layerCRS(l godal.Layer) (string, int, error) {
	sr := l.SpatialRef()
	wkt, err := sr.WKT(godal.ErrLogger(objectNullTolerant))
	if err != nil || wkt == "" {
		return "", 0, err
	}
	// A fresh copy: godal creates it with the traditional GIS axis order,
	// and identifying its EPSG code must not modify the layer's object.
	own, err := godal.NewSpatialRefFromWKT(wkt, errLogger)
	if err != nil {
		return "", 0, err
	}
	defer own.Close()
	code := own.AuthorityCode("")
	if code == "" && own.AutoIdentifyEPSG() == nil {
		code = own.AuthorityCode("")
	}
	epsg := 0
	if own.AuthorityName("") == "EPSG" {
		fmt.Sscanf(code, "%d", &epsg)
	}
	return wkt, epsg, nil
}

// vectorFeature converts f's fields and geometry.
func vectorFeature(f *godal.Feature) (VectorFeature, error) {
	vf := VectorFeature{Fields: map[string]any{}}
	for name, fld := range f.Fields() {
		vf.Fields[name] = fieldValue(fld)
	}
	b, err := f.Geometry().WKB(godal.ErrLogger(objectNullTolerant))
	if err != nil {
		return vf, fmt.Errorf("geometry: %v", err)
	}
	if len(b) == 0 {
		return vf, nil
	}
	vf.Geometry, err = decodeWKB(b)
	if err != nil {
		return vf, err
	}
	return vf, nil
}

// fieldValue converts a godal field to a plain Go value.
func fieldValue(fld godal.Field) any {
	if !fld.IsSet() {
		return nil
	}
	switch fld.Type() {
	case godal.FTInt, godal.FTInt64:
		return fld.Int()
	case godal.FTReal:
		return fld.Float()
	case godal.FTString:
		return fld.String()
	case godal.FTDate, godal.FTTime, godal.FTDateTime:
		if t := fld.DateTime(); t != nil {
			return *t
		}
		return nil
	case godal.FTIntList, godal.FTInt64List:
		return fld.IntList()
	case godal.FTRealList:
		return fld.FloatList()
	case godal.FTStringList:
		return fld.StringList()
	case godal.FTBinary:
		return fld.Bytes()
	default:
		return fld.String()
	}
}

// TransformPoints converts lon/lat or x/y coordinates from the CRS src to
// the CRS dst. Both are anything GDAL's OSRSetFromUserInput accepts (WKT,
// "EPSG:4326", a PROJ string). Geographic CRSs keep the traditional GIS
// order (longitude first) whatever the authority says. It fails if any point
// cannot be transformed.
func TransformPoints(src, dst string, pts [][2]float64) ([][2]float64, error) {
	out := make([][2]float64, len(pts))
	copy(out, pts)
	if len(pts) == 0 {
		return out, nil
	}
	s, err := godal.NewSpatialRef(src, errLogger)
	if err != nil {
		return nil, fmt.Errorf("raster: source crs: %w", err)
	}
	defer s.Close()
	d, err := godal.NewSpatialRef(dst, errLogger)
	if err != nil {
		return nil, fmt.Errorf("raster: target crs: %w", err)
	}
	defer d.Close()
	if s.IsSame(d) {
		return out, nil
	}
	trn, err := godal.NewTransform(s, d, errLogger)
	if err != nil {
		return nil, fmt.Errorf("raster: transform: %w", err)
	}
	defer trn.Close()
	xs, ys := make([]float64, len(pts)), make([]float64, len(pts))
	for i, p := range pts {
		xs[i], ys[i] = p[0], p[1]
	}
	ok := make([]bool, len(pts))
	if err := trn.TransformEx(xs, ys, nil, ok); err != nil {
		return nil, fmt.Errorf("raster: transform: %w", err)
	}
	for i := range pts {
		if !ok[i] || math.IsNaN(xs[i]) || math.IsNaN(ys[i]) || math.IsInf(xs[i], 0) || math.IsInf(ys[i], 0) {
			return nil, fmt.Errorf("raster: transform: point %d (%g, %g) is outside the domain of the target crs", i, pts[i][0], pts[i][1])
		}
		out[i] = [2]float64{xs[i], ys[i]}
	}
	return out, nil
}

// MakeValid repairs g with GDAL's OGR_G_MakeValid (GEOS): self-intersecting
// rings are split, overlapping parts merged, so that the result is valid in
// the OGC sense. The result may be a Polygon, MultiPolygon or a Collection
// that also holds lower-dimensional leftovers; callers pick what they need.
func MakeValid(g orb.Geometry) (orb.Geometry, error) {
	in, err := wkb.Marshal(g)
	if err != nil {
		return nil, fmt.Errorf("raster: make valid: %w", err)
	}
	var n C.int
	errBuf := (*C.char)(C.malloc(512))
	defer C.free(unsafe.Pointer(errBuf))
	cin := C.CBytes(in)
	defer C.free(cin)
	res := C.offsiteMakeValid((*C.uchar)(cin), C.int(len(in)), &n, errBuf, 512)
	if res == nil {
		return nil, fmt.Errorf("raster: make valid: %s", strings.TrimSpace(C.GoString(errBuf)))
	}
	out := C.GoBytes(unsafe.Pointer(res), n)
	C.free(unsafe.Pointer(res))
	return decodeWKB(out)
}

// Buffer returns g buffered by distance (negative shrinks) in g's own
// units, with quadSegs segments per quarter circle (GDAL's OGR_G_Buffer,
// i.e. GEOS). Buffer a projected geometry: in degrees the result is
// meaningless.
func Buffer(g orb.Geometry, distance float64, quadSegs int) (orb.Geometry, error) {
	geom, err := toOGR(g)
	if err != nil {
		return nil, fmt.Errorf("raster: buffer: %w", err)
	}
	defer geom.Close()
	buf, err := geom.Buffer(distance, quadSegs, errLogger)
	if err != nil {
		return nil, fmt.Errorf("raster: buffer: %w", err)
	}
	defer buf.Close()
	out, err := buf.WKB(errLogger)
	if err != nil {
		return nil, fmt.Errorf("raster: buffer: %w", err)
	}
	return decodeWKB(out)
}

// Union returns the union of a and b (GDAL's OGR_G_Union, i.e. GEOS).
// Both must be valid.
func Union(a, b orb.Geometry) (orb.Geometry, error) {
	ga, err := toOGR(a)
	if err != nil {
		return nil, fmt.Errorf("raster: union: %w", err)
	}
	defer ga.Close()
	gb, err := toOGR(b)
	if err != nil {
		return nil, fmt.Errorf("raster: union: %w", err)
	}
	defer gb.Close()
	u, err := ga.Union(gb, errLogger)
	if err != nil {
		return nil, fmt.Errorf("raster: union: %w", err)
	}
	defer u.Close()
	out, err := u.WKB(errLogger)
	if err != nil {
		return nil, fmt.Errorf("raster: union: %w", err)
	}
	return decodeWKB(out)
}

// toOGR converts an orb geometry to a GDAL geometry; the caller closes it.
func toOGR(g orb.Geometry) (*godal.Geometry, error) {
	b, err := wkb.Marshal(g)
	if err != nil {
		return nil, err
	}
	return godal.NewGeometryFromWKB(b, nil, errLogger)
}

// decodeWKB decodes ISO or extended WKB into a 2D orb geometry, dropping Z
// and M. It accepts points, line strings, polygons, their multi forms and
// collections.
func decodeWKB(b []byte) (orb.Geometry, error) {
	r := &wkbReader{b: b}
	g, err := r.geometry(0)
	if err != nil {
		return nil, fmt.Errorf("wkb: %v", err)
	}
	return g, nil
}

// wkbReader walks a WKB buffer.
type wkbReader struct {
	b     []byte
	order binary.ByteOrder
}

var errShortWKB = errors.New("truncated")

func (r *wkbReader) u32() (uint32, error) {
	if len(r.b) < 4 {
		return 0, errShortWKB
	}
	v := r.order.Uint32(r.b)
	r.b = r.b[4:]
	return v, nil
}

func (r *wkbReader) f64() (float64, error) {
	if len(r.b) < 8 {
		return 0, errShortWKB
	}
	v := math.Float64frombits(r.order.Uint64(r.b))
	r.b = r.b[8:]
	return v, nil
}

// count reads an element count and checks it against the bytes left, each
// element taking at least min bytes.
func (r *wkbReader) count(min int) (int, error) {
	n, err := r.u32()
	if err != nil {
		return 0, err
	}
	if int64(n)*int64(min) > int64(len(r.b)) {
		return 0, errShortWKB
	}
	return int(n), nil
}

func (r *wkbReader) point(dims int) (orb.Point, error) {
	var p orb.Point
	for i := 0; i < dims; i++ {
		v, err := r.f64()
		if err != nil {
			return p, err
		}
		if i < 2 {
			p[i] = v
		}
	}
	return p, nil
}

func (r *wkbReader) points(dims int) ([]orb.Point, error) {
	n, err := r.count(8 * dims)
	if err != nil {
		return nil, err
	}
	pts := make([]orb.Point, n)
	for i := range pts {
		if pts[i], err = r.point(dims); err != nil {
			return nil, err
		}
	}
	return pts, nil
}

func (r *wkbReader) polygon(dims int) (orb.Polygon, error) {
	n, err := r.count(4)
	if err != nil {
		return nil, err
	}
	p := make(orb.Polygon, n)
	for i := range p {
		pts, err := r.points(dims)
		if err != nil {
			return nil, err
		}
		p[i] = orb.Ring(pts)
	}
	return p, nil
}

// geometry reads one geometry with its header; depth limits nesting.
func (r *wkbReader) geometry(depth int) (orb.Geometry, error) {
	if depth > 32 {
		return nil, errors.New("collections nested too deeply")
	}
	if len(r.b) < 5 {
		return nil, errShortWKB
	}
	switch r.b[0] {
	case 0:
		r.order = binary.BigEndian
	case 1:
		r.order = binary.LittleEndian
	default:
		return nil, fmt.Errorf("bad byte order %d", r.b[0])
	}
	r.b = r.b[1:]
	typ, err := r.u32()
	if err != nil {
		return nil, err
	}
	dims := 2
	if typ&0x80000000 != 0 { // EWKB Z
		dims++
	}
	if typ&0x40000000 != 0 { // EWKB M
		dims++
	}
	if typ&0x20000000 != 0 { // EWKB SRID
		if _, err := r.u32(); err != nil {
			return nil, err
		}
	}
	typ &= 0x0fffffff
	switch typ / 1000 {
	case 1, 2: // ISO Z or M
		dims++
	case 3: // ISO ZM
		dims += 2
	case 0:
	default:
		return nil, fmt.Errorf("unsupported geometry type %d", typ)
	}
	switch typ % 1000 {
	case 1:
		return r.point(dims)
	case 2:
		pts, err := r.points(dims)
		return orb.LineString(pts), err
	case 3:
		return r.polygon(dims)
	case 4, 5, 6, 7:
		n, err := r.count(5)
		if err != nil {
			return nil, err
		}
		var mp orb.MultiPoint
		var ml orb.MultiLineString
		var mpoly orb.MultiPolygon
		var coll orb.Collection
		for i := 0; i < n; i++ {
			sub := &wkbReader{b: r.b}
			g, err := sub.geometry(depth + 1)
			if err != nil {
				return nil, err
			}
			r.b = sub.b
			switch typ % 1000 {
			case 4:
				p, ok := g.(orb.Point)
				if !ok {
					return nil, errors.New("multipoint member is not a point")
				}
				mp = append(mp, p)
			case 5:
				l, ok := g.(orb.LineString)
				if !ok {
					return nil, errors.New("multilinestring member is not a linestring")
				}
				ml = append(ml, l)
			case 6:
				p, ok := g.(orb.Polygon)
				if !ok {
					return nil, errors.New("multipolygon member is not a polygon")
				}
				mpoly = append(mpoly, p)
			default:
				coll = append(coll, g)
			}
		}
		switch typ % 1000 {
		case 4:
			return mp, nil
		case 5:
			return ml, nil
		case 6:
			return mpoly, nil
		default:
			return coll, nil
		}
	default:
		return nil, fmt.Errorf("unsupported geometry type %d (curves and surfaces other than polygons are not supported)", typ)
	}
}
