package raster

import (
	"math"
	"sort"
	"strconv"
	"strings"
)

// defaultQuantification is Sentinel-2 L2A's BOA_QUANTIFICATION_VALUE.
const defaultQuantification = 10000

// maxInferredReflectance is the 99th percentile below which a floating-point
// band without scale metadata is taken as reflectance already: reflectance
// stays under 1 (specular roofs and snow a little above), digital numbers of
// any product lie in the hundreds or thousands.
const maxInferredReflectance = 2

// calibration reads how band b (0-based) of g becomes physical values: the
// band's GDAL scale and offset when they are set, else Sentinel-2 L2A's
// BOA_ADD_OFFSET and BOA_QUANTIFICATION_VALUE on the band or the dataset. When
// the scene says nothing, a floating-point band whose values (data, as read)
// stay within reflectance's range takes scale 1 (CalibrationInferred): a
// float band holds physical values, which a pipeline's scale for digital
// numbers would shrink ten-thousandfold. Otherwise the zero Calibration.
func (g *gridSource) calibration(b int, data []float32) Calibration {
	c := g.metadataCalibration(b)
	if c.Source == "" && g.m.pt.isFloat() && reflectanceRange(data) {
		c = Calibration{Scale: 1, Source: CalibrationInferred}
	}
	return c
}

// reflectanceRange reports whether the 99th percentile of the finite values of
// data (a regular sample) is at most maxInferredReflectance.
func reflectanceRange(data []float32) bool {
	step := max(1, len(data)/65536)
	vals := make([]float64, 0, len(data)/step+1)
	for i := 0; i < len(data); i += step {
		if v := float64(data[i]); !math.IsNaN(v) && !math.IsInf(v, 0) {
			vals = append(vals, math.Abs(v))
		}
	}
	if len(vals) == 0 {
		return false
	}
	sort.Float64s(vals)
	return vals[int(0.99*float64(len(vals)-1))] <= maxInferredReflectance
}

// metadataCalibration is calibration from the scene's metadata alone.
func (g *gridSource) metadataCalibration(b int) Calibration {
	band := g.s.ds.Bands()[b]
	st := band.Structure()
	if st.Scale != 0 && (st.Scale != 1 || st.Offset != 0) {
		return Calibration{Scale: st.Scale, Offset: st.Offset, Source: CalibrationGDAL}
	}
	bandMD := band.Metadatas(g.s.log)
	dsMD := g.s.ds.Metadatas(g.s.log)
	item := func(keys ...string) (float64, bool) {
		for _, md := range []map[string]string{bandMD, dsMD} {
			for _, k := range keys {
				if k == "" {
					continue
				}
				if v, err := strconv.ParseFloat(strings.TrimSpace(md[k]), 64); err == nil && !math.IsNaN(v) && !math.IsInf(v, 0) {
					return v, true
				}
			}
		}
		return 0, false
	}
	desc := strings.TrimSpace(g.m.descs[b])
	perBand := func(key string) string {
		if desc == "" {
			return ""
		}
		return key + "_" + desc
	}
	offset, ok := item("BOA_ADD_OFFSET", perBand("BOA_ADD_OFFSET"))
	if !ok {
		return Calibration{}
	}
	q, ok := item("BOA_QUANTIFICATION_VALUE", "QUANTIFICATION_VALUE")
	if !ok || q <= 0 {
		q = defaultQuantification
	}
	return Calibration{Scale: 1 / q, Offset: offset / q, Source: CalibrationBOA}
}
