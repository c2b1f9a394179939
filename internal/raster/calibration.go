package raster

import (
	"math"
	"strconv"
	"strings"
)

// defaultQuantification is Sentinel-2 L2A's BOA_QUANTIFICATION_VALUE.
const defaultQuantification = 10000

// calibration reads how band b (0-based) of g becomes physical values: the
// band's GDAL scale and offset when they are set, else Sentinel-2 L2A's
// BOA_ADD_OFFSET and BOA_QUANTIFICATION_VALUE on the band or the dataset; the
// zero Calibration when the scene says nothing.
func (g *gridSource) calibration(b int) Calibration {
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
