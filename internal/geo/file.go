package geo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/paulmach/orb"

	"github.com/offsite/offsite/internal/raster"
)

// ReadFile reads parcels from a local file, choosing the reader by
// extension: .geojson and .json with ReadGeoJSON; .shp (Shapefile, its .cpg
// code page honoured, see WithEncoding), .gpkg (GeoPackage) and .kml through
// GDAL (raster.ReadVectorFile). Layers in another CRS are reprojected to
// WGS84 (CGCS2000 is taken as is and recorded); WithGCJ02 then removes the
// GCJ-02 offset. Errors about content wrap ErrInvalid and name the feature.
//
// path must be a file named by the operator (local mode or tests), never
// user input from the API.
func ReadFile(ctx context.Context, path string, opts ...Option) (*Collection, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".geojson", ".json":
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("geo: %w", err)
		}
		defer f.Close()
		c, err := ReadGeoJSON(f, opts...)
		if err != nil {
			return nil, fmt.Errorf("geo: %s: %w", path, err)
		}
		return c, nil
	case ".shp", ".gpkg", ".kml":
		return readVector(ctx, path, newOptions(opts))
	default:
		return nil, fmt.Errorf("%w: %s: unsupported file type %q (want .geojson, .json, .shp, .gpkg or .kml)", ErrInvalid, path, ext)
	}
}

// readVector reads a file through GDAL's vector drivers.
func readVector(ctx context.Context, path string, o options) (*Collection, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("geo: %w", err)
	}
	enc, cpg := o.encoding, ""
	if strings.EqualFold(filepath.Ext(path), ".shp") && enc == "" {
		cpg, enc = shapeCodePage(path)
	}
	layer, err := raster.ReadVectorFile(ctx, path, raster.VectorOptions{Encoding: enc})
	if err != nil {
		if errors.Is(err, raster.ErrUnusableVector) || errors.Is(err, raster.ErrInvalidSource) {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		return nil, fmt.Errorf("geo: %w", err)
	}
	c := &Collection{Features: make([]Feature, 0, len(layer.Features))}
	var errs []error
	for i, vf := range layer.Features {
		f := Feature{Index: i}
		err := f.setProperties(vf.Fields, o.idProperty, true)
		if err == nil {
			f.Geometry, err = vectorGeometry(vf.Geometry)
			if err != nil {
				err = fmt.Errorf("%w: feature %d (parcel %q): %v", ErrInvalid, i, f.ParcelID, err)
			}
		}
		if err != nil {
			errs = append(errs, err)
			if len(errs) == maxReportedErrors {
				errs = append(errs, errors.New("geo: further errors not reported"))
				break
			}
			continue
		}
		c.Features = append(c.Features, f)
	}
	if len(errs) > 0 {
		err := errors.Join(errs...)
		if strings.EqualFold(filepath.Ext(path), ".shp") && o.encoding == "" && strings.Contains(err.Error(), notText) {
			hint := "the Shapefile has no .cpg naming the code page of its .dbf, and its text is not UTF-8: add a .cpg holding the code page (GBK for most Chinese files) or give the encoding"
			if cpg != "" {
				hint = fmt.Sprintf("its .cpg says %q, but the .dbf's text is not in that code page: correct the .cpg or give the encoding", cpg)
			}
			err = fmt.Errorf("%w: %s\n%w", ErrInvalid, hint, err)
		}
		return nil, fmt.Errorf("geo: %s: %w", path, err)
	}
	if err := c.toWGS84(layer.CRS, layer.EPSG, o); err != nil {
		return nil, fmt.Errorf("geo: %s: %w", path, err)
	}
	return c, nil
}

// vectorGeometry accepts polygons and multipolygons from GDAL, and a
// collection holding only polygons (as KML multi-geometries come).
func vectorGeometry(g orb.Geometry) (orb.Geometry, error) {
	switch g := g.(type) {
	case nil, orb.Polygon, orb.MultiPolygon:
		return g, nil
	case orb.Collection:
		var mp orb.MultiPolygon
		for _, sub := range g {
			ps, err := polygons(sub)
			if err != nil {
				return nil, fmt.Errorf("collection member: %v", err)
			}
			mp = append(mp, ps...)
		}
		return mp, nil
	default:
		return nil, fmt.Errorf("geometry is a %s, want Polygon or MultiPolygon", g.GeoJSONType())
	}
}

// shapeCodePage reads the .cpg beside a Shapefile: its content ("" when there is none), and
// the code page to ask GDAL for when GDAL would not understand the .cpg itself (Windows code
// page numbers as some tools write them, "ANSI 936"); "" leaves the .cpg to GDAL. Without a
// .cpg GDAL reads the code page from the .dbf header, and when that names none it does not
// recode at all: bytes that are not UTF-8 are then refused (setProperties), never guessed.
func shapeCodePage(shp string) (cpg, enc string) {
	b, err := os.ReadFile(strings.TrimSuffix(shp, filepath.Ext(shp)) + ".cpg")
	if err != nil {
		return "", ""
	}
	cpg = strings.TrimSpace(string(b))
	name := strings.ToUpper(strings.TrimPrefix(strings.ToUpper(cpg), "ANSI"))
	name = strings.TrimSpace(strings.TrimPrefix(name, "CP"))
	switch name {
	case "936", "GBK", "GB2312":
		return cpg, "CP936"
	case "54936", "GB18030":
		return cpg, "GB18030"
	case "950", "BIG5":
		return cpg, "CP950"
	case "65001", "UTF-8", "UTF8":
		return cpg, "UTF-8"
	}
	return cpg, ""
}
