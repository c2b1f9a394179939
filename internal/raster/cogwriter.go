package raster

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"html"
	"math"
	"slices"
	"sort"
	"strconv"

	"github.com/airbusgeo/godal"
)

// This file writes small clips as Cloud Optimized GeoTIFFs directly, at a
// tenth of the cost of a GDAL COG-driver translation per clip (which is
// dominated by fixed per-call costs, not by pixels). The CRS-dependent parts
// are not reinvented: once per scene the COG driver writes a tiny template
// with the scene's CRS, and its GeoTIFF keys and COG header ("ghost area")
// are copied verbatim. The layout is the COG driver's: header, ghost area,
// IFD, then tiles in row-major order, each with a 4-byte size leader and
// its last 4 bytes repeated as trailer. Clips larger than one tile, and
// clips that need a mask band (scenes without nodata or alpha), go through
// the COG driver.

// cogTemplate holds what a clip COG copies from a GDAL-written COG of the
// scene's CRS.
type cogTemplate struct {
	ghost   []byte   // bytes between the TIFF header and the first IFD
	geoTags []ifdTag // GeoKeyDirectory, GeoDoubleParams, GeoAsciiParams
}

// ifdTag is one TIFF directory entry with its value bytes (little-endian).
type ifdTag struct {
	tag   uint16
	typ   uint16
	count uint32
	value []byte
}

// TIFF field types.
const (
	tiffASCII  = 2
	tiffShort  = 3
	tiffLong   = 4
	tiffDouble = 12
)

// typeSize returns the size of one value of a TIFF field type.
func typeSize(typ uint16) int {
	switch typ {
	case 1, 2, 6, 7:
		return 1
	case 3, 8:
		return 2
	case 4, 9, 11:
		return 4
	case 5, 10, 12:
		return 8
	}
	return 0
}

// maxFastCOG is the largest clip side written by writeFastCOG (one tile).
const maxFastCOG = 512

// newCOGTemplate writes a 16×16 COG with the scene's CRS through the COG
// driver and extracts its ghost area and GeoTIFF keys.
func newCOGTemplate(m *meta) (*cogTemplate, error) {
	ds, err := godal.Create(godal.Memory, "", 1, godal.Byte, 16, 16, errLogger)
	if err != nil {
		return nil, fmt.Errorf("raster: cog template: %w", err)
	}
	gt := m.gt
	if err := ds.SetGeoTransform(gt, errLogger); err != nil {
		ds.Close(errLogger)
		return nil, fmt.Errorf("raster: cog template: %w", err)
	}
	if err := ds.SetProjection(m.wkt, errLogger); err != nil {
		ds.Close(errLogger)
		return nil, fmt.Errorf("raster: cog template: %w", err)
	}
	b, err := translateToBytes(context.Background(), ds, "COG", []string{"COMPRESS=NONE"})
	if cerr := ds.Close(errLogger); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("raster: cog template: %w", err)
	}
	return parseTemplate(b)
}

// parseTemplate extracts the ghost area and GeoTIFF tags of a classic
// little-endian TIFF.
func parseTemplate(b []byte) (*cogTemplate, error) {
	le := binary.LittleEndian
	if len(b) < 8 || string(b[:4]) != "II*\x00" {
		return nil, errors.New("raster: cog template: not a little-endian classic tiff")
	}
	off := int(le.Uint32(b[4:]))
	if off < 8 || off+2 > len(b) {
		return nil, errors.New("raster: cog template: bad ifd offset")
	}
	t := &cogTemplate{ghost: slices.Clone(b[8:off])}
	n := int(le.Uint16(b[off:]))
	for i := 0; i < n; i++ {
		e := off + 2 + 12*i
		if e+12 > len(b) {
			return nil, errors.New("raster: cog template: truncated ifd")
		}
		tag, typ, count := le.Uint16(b[e:]), le.Uint16(b[e+2:]), le.Uint32(b[e+4:])
		if tag < 34735 || tag > 34737 {
			continue
		}
		size := typeSize(typ) * int(count)
		var val []byte
		if size <= 4 {
			val = slices.Clone(b[e+8 : e+8+size])
		} else {
			p := int(le.Uint32(b[e+8:]))
			if p+size > len(b) {
				return nil, errors.New("raster: cog template: truncated value")
			}
			val = slices.Clone(b[p : p+size])
		}
		t.geoTags = append(t.geoTags, ifdTag{tag, typ, count, val})
	}
	if len(t.geoTags) == 0 {
		return nil, errors.New("raster: cog template: no geotiff keys")
	}
	return t, nil
}

// templateFor returns the scene's template, building it on first use.
func (m *meta) templateFor() (*cogTemplate, error) {
	m.tplOnce.Do(func() { m.tpl, m.tplErr = newCOGTemplate(m) })
	return m.tpl, m.tplErr
}

// canFastCOG reports whether writeFastCOG handles a w×h clip of m.
func (m *meta) canFastCOG(w, h int) bool {
	return max(w, h) <= maxFastCOG && (m.nodata != nil || m.alpha >= 0)
}

// writeFastCOG encodes the clip (band-sequential native-endian pixels of a
// w×h window at geotransform gt) as a single-tile COG, DEFLATE-compressed at
// best speed with horizontal differencing for integer types.
func writeFastCOG(m *meta, tpl *cogTemplate, w, h int, gt [6]float64, pix []byte, tags map[string]string) ([]byte, error) {
	le := binary.LittleEndian
	es := m.pt.size
	bands := m.bands
	tile := (max(w, h) + 15) / 16 * 16
	// Pixel-interleaved tile, padded with the fill value.
	raw := make([]byte, tile*tile*bands*es)
	fill(raw, m.pt.encode(fillValue(m)))
	n := w * h
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			d := ((y*tile + x) * bands) * es
			for b := 0; b < bands; b++ {
				copy(raw[d+b*es:d+(b+1)*es], pix[(b*n+y*w+x)*es:])
			}
		}
	}
	float := m.pt.dt == godal.Float32 || m.pt.dt == godal.Float64
	predictor := uint16(2)
	if float {
		predictor = 1
	} else {
		differentiate(raw, tile, bands, es)
	}
	var comp bytes.Buffer
	zw := getZlib(&comp)
	if _, err := zw.Write(raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	zlibWriters.Put(zw)
	data := comp.Bytes()

	short := func(v ...uint16) []byte {
		b := make([]byte, 2*len(v))
		for i, x := range v {
			le.PutUint16(b[2*i:], x)
		}
		return b
	}
	long := func(v uint32) []byte { b := make([]byte, 4); le.PutUint32(b, v); return b }
	doubles := func(v ...float64) []byte {
		b := make([]byte, 8*len(v))
		for i, x := range v {
			le.PutUint64(b[8*i:], math.Float64bits(x))
		}
		return b
	}
	ascii := func(s string) ifdTag {
		return ifdTag{typ: tiffASCII, count: uint32(len(s) + 1), value: append([]byte(s), 0)}
	}
	rep := func(v uint16) []uint16 {
		s := make([]uint16, bands)
		for i := range s {
			s[i] = v
		}
		return s
	}
	format := uint16(1)
	switch m.pt.dt {
	case godal.Int16, godal.Int32:
		format = 2
	case godal.Float32, godal.Float64:
		format = 3
	}
	photometric := uint16(1)
	if bands >= 3 && m.colours[0] == godal.CIRed && m.colours[1] == godal.CIGreen && m.colours[2] == godal.CIBlue {
		photometric = 2
	}
	var extra []uint16
	first := 1
	if photometric == 2 {
		first = 3
	}
	for b := first; b < bands; b++ {
		if b == m.alpha {
			extra = append(extra, 2) // unassociated alpha
		} else {
			extra = append(extra, 0)
		}
	}

	tagsOut := []ifdTag{
		{256, tiffLong, 1, long(uint32(w))},
		{257, tiffLong, 1, long(uint32(h))},
		{258, tiffShort, uint32(bands), short(rep(uint16(8 * es))...)},
		{259, tiffShort, 1, short(8)},
		{262, tiffShort, 1, short(photometric)},
		{277, tiffShort, 1, short(uint16(bands))},
		{284, tiffShort, 1, short(1)},
		{317, tiffShort, 1, short(predictor)},
		{322, tiffLong, 1, long(uint32(tile))},
		{323, tiffLong, 1, long(uint32(tile))},
		{324, tiffLong, 1, nil}, // tile offset, set below
		{325, tiffLong, 1, long(uint32(len(data)))},
		{339, tiffShort, uint32(bands), short(rep(format)...)},
		{33550, tiffDouble, 3, doubles(gt[1], -gt[5], 0)},
		{33922, tiffDouble, 6, doubles(0, 0, 0, gt[0], gt[3], 0)},
	}
	if len(extra) > 0 {
		tagsOut = append(tagsOut, ifdTag{338, tiffShort, uint32(len(extra)), short(extra...)})
	}
	tagsOut = append(tagsOut, tpl.geoTags...)
	if md := gdalMetadataXML(m, tags); md != "" {
		t := ascii(md)
		t.tag = 42112
		tagsOut = append(tagsOut, t)
	}
	if m.nodata != nil {
		t := ascii(formatNoData(*m.nodata))
		t.tag = 42113
		tagsOut = append(tagsOut, t)
	}
	sort.Slice(tagsOut, func(i, j int) bool { return tagsOut[i].tag < tagsOut[j].tag })

	// Layout: header, ghost area, IFD, out-of-line values, leader, tile, trailer.
	ifdOff := 8 + len(tpl.ghost)
	ifdOff += ifdOff & 1
	ifdSize := 2 + 12*len(tagsOut) + 4
	extOff := ifdOff + ifdSize
	ext := 0
	for _, t := range tagsOut {
		if t.tag == 324 {
			continue
		}
		if l := len(t.value); l > 4 {
			ext += l + l&1
		}
	}
	tileOff := extOff + ext + 4 // after the size leader
	for i := range tagsOut {
		if tagsOut[i].tag == 324 {
			tagsOut[i].value = long(uint32(tileOff))
		}
	}
	out := make([]byte, 0, tileOff+len(data)+4)
	out = append(out, 'I', 'I', 42, 0)
	out = le.AppendUint32(out, uint32(ifdOff))
	out = append(out, tpl.ghost...)
	for len(out) < ifdOff {
		out = append(out, 0)
	}
	out = le.AppendUint16(out, uint16(len(tagsOut)))
	var extBuf []byte
	for _, t := range tagsOut {
		out = le.AppendUint16(out, t.tag)
		out = le.AppendUint16(out, t.typ)
		out = le.AppendUint32(out, t.count)
		if len(t.value) <= 4 {
			v := make([]byte, 4)
			copy(v, t.value)
			out = append(out, v...)
			continue
		}
		out = le.AppendUint32(out, uint32(extOff+len(extBuf)))
		extBuf = append(extBuf, t.value...)
		if len(t.value)&1 == 1 {
			extBuf = append(extBuf, 0)
		}
	}
	out = le.AppendUint32(out, 0) // no next IFD
	out = append(out, extBuf...)
	out = le.AppendUint32(out, uint32(len(data)))
	if len(out) != tileOff {
		return nil, fmt.Errorf("raster: cog layout: tile at %d, want %d", len(out), tileOff)
	}
	out = append(out, data...)
	out = append(out, data[len(data)-4:]...)
	return out, nil
}

// differentiate applies TIFF horizontal differencing (predictor 2) in place
// to a pixel-interleaved tile of integer samples.
func differentiate(raw []byte, tile, spp, es int) {
	le := binary.LittleEndian
	row := tile * spp
	for y := 0; y < tile; y++ {
		r := raw[y*row*es : (y+1)*row*es]
		for i := row - 1; i >= spp; i-- {
			switch es {
			case 1:
				r[i] -= r[i-spp]
			case 2:
				le.PutUint16(r[2*i:], le.Uint16(r[2*i:])-le.Uint16(r[2*(i-spp):]))
			case 4:
				le.PutUint32(r[4*i:], le.Uint32(r[4*i:])-le.Uint32(r[4*(i-spp):]))
			}
		}
	}
}

// gdalMetadataXML returns the GDAL_METADATA TIFF tag for dataset tags and
// band descriptions, as GDAL writes it.
func gdalMetadataXML(m *meta, tags map[string]string) string {
	var b bytes.Buffer
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "  <Item name=\"%s\">%s</Item>\n", html.EscapeString(k), html.EscapeString(tags[k]))
	}
	for i, d := range m.descs {
		if d != "" {
			fmt.Fprintf(&b, "  <Item name=\"DESCRIPTION\" sample=\"%d\" role=\"description\">%s</Item>\n", i, html.EscapeString(d))
		}
	}
	if b.Len() == 0 {
		return ""
	}
	return "<GDALMetadata>\n" + b.String() + "</GDALMetadata>\n"
}

// formatNoData formats a nodata value for the GDAL_NODATA tag.
func formatNoData(v float64) string {
	switch {
	case math.IsNaN(v):
		return "nan"
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	}
	return strconv.FormatFloat(v, 'g', 18, 64)
}
