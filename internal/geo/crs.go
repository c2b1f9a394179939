package geo

import (
	"fmt"
	"math"
	"strings"

	"github.com/paulmach/orb"

	"github.com/offsite/offsite/internal/raster"
)

// crsKind classifies a CRS name or WKT: WGS84, CGCS2000 or other.
func crsKind(crs string, epsg int) string {
	switch epsg {
	case 4326:
		return CRSWGS84
	case 4490:
		return CRSCGCS2000
	}
	n := strings.ToUpper(strings.TrimSpace(crs))
	switch n {
	case "EPSG:4326", "URN:OGC:DEF:CRS:EPSG::4326", "URN:OGC:DEF:CRS:OGC:1.3:CRS84", "URN:OGC:DEF:CRS:OGC::CRS84",
		"OGC:CRS84", "CRS84", "WGS84", "HTTP://WWW.OPENGIS.NET/DEF/CRS/OGC/1.3/CRS84", "HTTP://WWW.OPENGIS.NET/DEF/CRS/EPSG/0/4326":
		return CRSWGS84
	case "EPSG:4490", "URN:OGC:DEF:CRS:EPSG::4490", "CGCS2000", "HTTP://WWW.OPENGIS.NET/DEF/CRS/EPSG/0/4490":
		return CRSCGCS2000
	}
	return ""
}

// toWGS84 converts every feature from crs (a name or WKT, "" for none) to
// WGS84, then removes the GCJ-02 offset if o asks, and records the source
// CRS. WGS84 and CGCS2000 need no conversion; anything else goes through
// GDAL.
func (c *Collection) toWGS84(crs string, epsg int, o options) error {
	if o.crs != "" {
		switch {
		case crs == "" && epsg == 0:
			crs = o.crs
		case crsKind(crs, epsg) != "" && crsKind(crs, epsg) == crsKind(o.crs, 0), crs == o.crs,
			epsg != 0 && strings.EqualFold(strings.TrimSpace(o.crs), fmt.Sprintf("EPSG:%d", epsg)):
		default:
			named := crs
			if named == "" {
				named = fmt.Sprintf("EPSG:%d", epsg)
			}
			return fmt.Errorf("%w: the file names its CRS (%s), which differs from the CRS given (%s): drop the given one or correct the file", ErrInvalid, shortCRS(named), o.crs)
		}
	}
	kind := crsKind(crs, epsg)
	switch {
	case crs == "" && epsg == 0:
		c.SourceCRS = ""
	case kind != "":
		c.SourceCRS = kind
	default:
		c.SourceCRS = crs
		if err := c.reproject(crs); err != nil {
			return err
		}
	}
	if o.gcj02 {
		for i := range c.Features {
			c.Features[i].Geometry = mapPoints(c.Features[i].Geometry, func(p orb.Point) orb.Point {
				lon, lat := GCJ02ToWGS84(p[0], p[1])
				return orb.Point{lon, lat}
			})
		}
		if c.SourceCRS == "" {
			c.SourceCRS = CRSGCJ02
		} else {
			c.SourceCRS += " + " + CRSGCJ02
		}
	}
	return nil
}

// reproject moves every coordinate from crs to WGS84 with one GDAL call.
func (c *Collection) reproject(crs string) error {
	var pts [][2]float64
	for _, f := range c.Features {
		mapPoints(f.Geometry, func(p orb.Point) orb.Point {
			pts = append(pts, [2]float64{p[0], p[1]})
			return p
		})
	}
	out, err := raster.TransformPoints(crs, CRSWGS84, pts)
	if err != nil {
		return fmt.Errorf("%w: reproject to wgs84: %v", ErrInvalid, err)
	}
	k := 0
	for i := range c.Features {
		c.Features[i].Geometry = mapPoints(c.Features[i].Geometry, func(orb.Point) orb.Point {
			p := orb.Point(out[k])
			k++
			return p
		})
	}
	return nil
}

// GCJ-02 ("Mars coordinates") is WGS84 plus a deterministic, nonlinear
// offset of roughly 40–700 m that Chinese web maps (AMap/Gaode, Tencent,
// and Baidu before its own BD-09 step) apply by law. The forward formula is
// public (its constants are those of the Krasovsky 1940 ellipsoid); there is
// no closed-form inverse.
const (
	gcjA  = 6378245.0              // Krasovsky 1940 semi-major axis, metres
	gcjEE = 0.00669342162296594323 // Krasovsky 1940 first eccentricity squared
)

// InChina reports whether (lon, lat) lies in the rectangle inside which the
// GCJ-02 offset is applied (72.004–137.8347°E, 0.8293–55.8271°N). Outside it
// GCJ-02 equals WGS84, as the common implementations do.
func InChina(lon, lat float64) bool {
	return lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271
}

// WGS84ToGCJ02 applies the GCJ-02 offset to a WGS84 position. Positions
// outside China (see InChina) and non-finite ones are returned unchanged.
func WGS84ToGCJ02(lon, lat float64) (float64, float64) {
	if !InChina(lon, lat) {
		return lon, lat
	}
	dLon, dLat := gcjDelta(lon, lat)
	return lon + dLon, lat + dLat
}

// gcjDelta is the GCJ-02 offset in degrees at a WGS84 position.
func gcjDelta(lon, lat float64) (dLon, dLat float64) {
	x, y := lon-105, lat-35
	dLat = gcjLat(x, y)
	dLon = gcjLon(x, y)
	rad := lat / 180 * math.Pi
	s := math.Sin(rad)
	m := 1 - gcjEE*s*s
	sm := math.Sqrt(m)
	dLat = dLat * 180 / ((gcjA * (1 - gcjEE)) / (m * sm) * math.Pi)
	dLon = dLon * 180 / (gcjA / sm * math.Cos(rad) * math.Pi)
	return dLon, dLat
}

// gcjLat is the latitude term of the public GCJ-02 formula, in metres-like
// units before scaling by the ellipsoid.
func gcjLat(x, y float64) float64 {
	r := -100 + 2*x + 3*y + 0.2*y*y + 0.1*x*y + 0.2*math.Sqrt(math.Abs(x))
	r += (20*math.Sin(6*x*math.Pi) + 20*math.Sin(2*x*math.Pi)) * 2 / 3
	r += (20*math.Sin(y*math.Pi) + 40*math.Sin(y/3*math.Pi)) * 2 / 3
	r += (160*math.Sin(y/12*math.Pi) + 320*math.Sin(y*math.Pi/30)) * 2 / 3
	return r
}

// gcjLon is the longitude term of the public GCJ-02 formula.
func gcjLon(x, y float64) float64 {
	r := 300 + x + 2*y + 0.1*x*x + 0.1*x*y + 0.1*math.Sqrt(math.Abs(x))
	r += (20*math.Sin(6*x*math.Pi) + 20*math.Sin(2*x*math.Pi)) * 2 / 3
	r += (20*math.Sin(x*math.Pi) + 40*math.Sin(x/3*math.Pi)) * 2 / 3
	r += (150*math.Sin(x/12*math.Pi) + 300*math.Sin(x/30*math.Pi)) * 2 / 3
	return r
}

// GCJ02ToWGS84 removes the GCJ-02 offset: it finds the WGS84 position whose
// forward transform is (lon, lat) by fixed-point iteration
// w ← w − (WGS84ToGCJ02(w) − g), stopping when a step is below 1e-10° (about
// 0.01 mm). The offset changes by well under 1% of a step per step, so this
// converges in 3–5 iterations; the residual error is far below 1 cm
// (TestGCJ02RoundTrip measures it over a grid across China). Positions
// outside China are returned unchanged.
func GCJ02ToWGS84(lon, lat float64) (float64, float64) {
	if !InChina(lon, lat) {
		return lon, lat
	}
	wLon, wLat := lon, lat
	for i := 0; i < 30; i++ {
		gLon, gLat := WGS84ToGCJ02(wLon, wLat)
		dLon, dLat := gLon-lon, gLat-lat
		wLon -= dLon
		wLat -= dLat
		if math.Abs(dLon) < 1e-10 && math.Abs(dLat) < 1e-10 {
			break
		}
	}
	return wLon, wLat
}

// shortCRS is a CRS's text cut for a message.
func shortCRS(crs string) string {
	if len(crs) > 80 {
		return crs[:77] + "..."
	}
	return crs
}
