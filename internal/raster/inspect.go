package raster

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"github.com/airbusgeo/godal"
	"github.com/paulmach/orb"
)

// SceneInfo describes a scene.
type SceneInfo struct {
	CRS                     string // WKT, or "EPSG:n" when the CRS is an EPSG code
	EPSG                    int    // 0 if unknown
	Width, Height, Bands    int
	GeoTransform            [6]float64
	DataType                string // GDAL name: Byte, UInt16, Int16, Float32, ...
	NoData                  *float64
	BandDescriptions        []string
	BlockWidth, BlockHeight int
	// Footprint is the scene extent in WGS84 lon/lat (edges densified so that
	// the polygon follows the curved outline of a projected extent).
	Footprint orb.Polygon
}

// meta is what the package needs to know about an open scene.
type meta struct {
	grid
	wkt     string
	epsg    int
	bands   int
	pt      pixelType
	nodata  *float64
	descs   []string
	blockW  int
	blockH  int
	colours []godal.ColorInterp
	// alpha is the 0-based index of a last band interpreted as alpha, or -1.
	// Like gdalwarp, an alpha band is the validity mask: pixels with alpha 0
	// are invalid, and any nodata value is ignored.
	alpha int

	tplOnce sync.Once // builds tpl, the clip COG template, on first use
	tpl     *cogTemplate
	tplErr  error
}

// readMeta checks that the open scene is usable and within its limits, from
// the header only, and describes it.
func readMeta(s *scene) (*meta, error) {
	st := s.ds.Structure()
	if st.NBands == 0 {
		return nil, fmt.Errorf("raster: %s: %w: no bands", s.name, ErrUnusableScene)
	}
	if err := s.limits.check(st.SizeX, st.SizeY, st.NBands, st.DataType); err != nil {
		return nil, fmt.Errorf("raster: %s: %w", s.name, err)
	}
	wkt := s.ds.Projection()
	if wkt == "" {
		return nil, fmt.Errorf("raster: %s: %w: no coordinate reference system", s.name, ErrUnusableScene)
	}
	gt, err := s.ds.GeoTransform(s.log)
	if err != nil || gt == [6]float64{0, 1, 0, 0, 0, 1} {
		return nil, fmt.Errorf("raster: %s: %w: no geotransform", s.name, ErrUnusableScene)
	}
	g, err := newGrid(st.SizeX, st.SizeY, gt)
	if err != nil {
		return nil, fmt.Errorf("raster: %s: %w", s.name, err)
	}
	m := &meta{grid: g, wkt: wkt, bands: st.NBands, blockW: st.BlockSizeX, blockH: st.BlockSizeY, alpha: -1}
	bands := s.ds.Bands()
	if n := len(bands); n > 1 && bands[n-1].ColorInterp() == godal.CIAlpha {
		m.alpha = n - 1
	}
	for i, b := range bands {
		bs := b.Structure()
		if bs.DataType != st.DataType {
			return nil, fmt.Errorf("raster: %s: %w: band %d is %s, band 1 is %s", s.name, ErrUnusableScene, i+1, bs.DataType, st.DataType)
		}
		m.descs = append(m.descs, b.Description())
		m.colours = append(m.colours, b.ColorInterp())
		if i == m.alpha {
			continue
		}
		nd, ok := b.NoData()
		if i == 0 && ok {
			m.nodata = &nd
		}
		if (m.nodata != nil) != ok || ok && nd != *m.nodata && !(nd != nd && *m.nodata != *m.nodata) {
			return nil, fmt.Errorf("raster: %s: %w: bands have different nodata values", s.name, ErrUnusableScene)
		}
	}
	if m.pt, err = supportedType(st.DataType); err != nil {
		return nil, fmt.Errorf("raster: %s: %w", s.name, err)
	}
	// GDAL ignores a nodata value the data type cannot hold (e.g. -10000 on
	// Byte), and an alpha band supersedes nodata.
	if m.nodata != nil && (m.alpha >= 0 || !m.pt.representable(*m.nodata)) {
		m.nodata = nil
	}
	m.epsg = epsgOf(wkt)
	return m, nil
}

// epsgOf returns the EPSG code of a WKT CRS, or 0.
func epsgOf(wkt string) int {
	sr, err := godal.NewSpatialRefFromWKT(wkt, errLogger)
	if err != nil {
		return 0
	}
	defer sr.Close()
	if sr.AuthorityName("") != "EPSG" {
		if err := sr.AutoIdentifyEPSG(); err != nil {
			return 0
		}
	}
	if sr.AuthorityName("") != "EPSG" {
		return 0
	}
	code, err := strconv.Atoi(sr.AuthorityCode(""))
	if err != nil {
		return 0
	}
	return code
}

// Inspect opens a scene and describes it. A scene without CRS or
// geotransform gives an error wrapping ErrUnusableScene.
func Inspect(ctx context.Context, env Env, src Source) (info *SceneInfo, err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	a, err := env.connect(ctx, src)
	if err != nil {
		return nil, err
	}
	defer a.close()
	s, err := a.openScene(src)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := s.close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	m, err := readMeta(s)
	if err != nil {
		return nil, err
	}
	fp, err := m.extentFootprint()
	if err != nil {
		return nil, fmt.Errorf("raster: %s: footprint: %w", s.name, err)
	}
	return m.info(fp), nil
}

// info returns the public description of m.
func (m *meta) info(footprint orb.Polygon) *SceneInfo {
	info := &SceneInfo{
		CRS: m.wkt, EPSG: m.epsg,
		Width: m.width, Height: m.height, Bands: m.bands,
		GeoTransform: m.gt, DataType: m.pt.dt.String(),
		BandDescriptions: append([]string(nil), m.descs...),
		BlockWidth:       m.blockW, BlockHeight: m.blockH,
		Footprint: footprint,
	}
	if m.epsg != 0 {
		info.CRS = "EPSG:" + strconv.Itoa(m.epsg)
	}
	if m.nodata != nil {
		nd := *m.nodata
		info.NoData = &nd
	}
	return info
}

// extentFootprint returns the scene's extent as a WGS84 polygon, each edge
// densified to 16 segments.
func (m *meta) extentFootprint() (orb.Polygon, error) {
	const n = 16
	var px, py []float64
	edge := func(x0, y0, x1, y1 float64) {
		for i := 0; i < n; i++ {
			t := float64(i) / n
			px = append(px, x0+(x1-x0)*t)
			py = append(py, y0+(y1-y0)*t)
		}
	}
	w, h := float64(m.width), float64(m.height)
	edge(0, 0, 0, h)
	edge(0, h, w, h)
	edge(w, h, w, 0)
	edge(w, 0, 0, 0)
	return m.pixelsToWGS84(px, py)
}

// pixelsToWGS84 converts pixel/line coordinates to a closed WGS84 ring.
func (m *meta) pixelsToWGS84(px, py []float64) (orb.Polygon, error) {
	xs := make([]float64, len(px))
	ys := make([]float64, len(py))
	for i := range px {
		xs[i] = m.gt[0] + px[i]*m.gt[1] + py[i]*m.gt[2]
		ys[i] = m.gt[3] + px[i]*m.gt[4] + py[i]*m.gt[5]
	}
	src, err := godal.NewSpatialRefFromWKT(m.wkt, errLogger)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	wgs84, err := godal.NewSpatialRefFromEPSG(4326, errLogger)
	if err != nil {
		return nil, err
	}
	defer wgs84.Close()
	if !src.IsSame(wgs84) {
		trn, err := godal.NewTransform(src, wgs84, errLogger)
		if err != nil {
			return nil, err
		}
		defer trn.Close()
		ok := make([]bool, len(xs))
		if err := trn.TransformEx(xs, ys, nil, ok); err != nil {
			return nil, err
		}
	}
	ring := make(orb.Ring, 0, len(xs)+1)
	for i := range xs {
		ring = append(ring, orb.Point{xs[i], ys[i]})
	}
	if len(ring) > 0 {
		ring = append(ring, ring[0])
	}
	// Make the outer ring counter-clockwise, as RFC 7946 asks.
	if ring.Orientation() == orb.CW {
		ring.Reverse()
	}
	return orb.Polygon{ring}, nil
}
