package stac

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path"
	"sort"
	"strings"

	"github.com/offsite/offsite"
)

// BandScale is what a STAC raster:bands entry says of one band of an asset (STAC raster
// extension; Scale 1 and Offset 0 when absent).
type BandScale = offsite.BandScale

// RasterBands reads the raster:bands of a STAC Item's assets, keyed by the file name the
// asset's href ends in ("B04.tif" for ".../B04.tif"), one BandScale per band of the file, in
// order (when two assets name one file, the first by asset name). Assets without raster:bands
// are left out. Errors name the asset and band.
func RasterBands(data []byte) (map[string][]BandScale, error) {
	var it struct {
		Type   string `json:"type"`
		Assets map[string]struct {
			Href  string `json:"href"`
			Bands []struct {
				Scale  *float64 `json:"scale"`
				Offset *float64 `json:"offset"`
			} `json:"raster:bands"`
		} `json:"assets"`
	}
	if err := json.Unmarshal(data, &it); err != nil {
		return nil, fmt.Errorf("stac: not a STAC Item: %v", err)
	}
	if it.Type != "Feature" {
		return nil, errors.New(`stac: not a STAC Item ("type": "Feature")`)
	}
	out := map[string][]BandScale{}
	names := make([]string, 0, len(it.Assets))
	for name := range it.Assets {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		a := it.Assets[name]
		file := path.Base(strings.SplitN(a.Href, "?", 2)[0])
		if _, seen := out[file]; seen || len(a.Bands) == 0 || a.Href == "" {
			continue // the first asset by name speaks for a file
		}
		bands := make([]BandScale, len(a.Bands))
		for i, b := range a.Bands {
			bs := BandScale{Scale: 1}
			if b.Scale != nil {
				if v := *b.Scale; v <= 0 || math.IsInf(v, 0) {
					return nil, fmt.Errorf("stac: assets.%s.raster:bands[%d].scale %g: must be > 0", name, i, v)
				}
				bs.Scale, bs.Set = *b.Scale, true
			}
			if b.Offset != nil {
				bs.Offset, bs.Set = *b.Offset, true
			}
			bands[i] = bs
		}
		out[file] = bands
	}
	return out, nil
}
