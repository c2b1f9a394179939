// Package evalreal reads the real labelled sets of ../shared/data/real for the evaluation:
// CAL FIRE burned areas under Sentinel-2 pairs and LEVIR-CD building changes in RGB pairs,
// and derives the pipelines a user would run on them from the shipped ones.
package evalreal

import (
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/offsite/offsite/internal/evalgen"
	"github.com/offsite/offsite/internal/raster"
	"github.com/offsite/offsite/pipelines"
)

// Fire is one CAL FIRE pair: Sentinel-2 before and after (B2 B3 B4 B8 B12, reflectance
// ×10000 without offset) and the burned-area mask on the same grid.
type Fire struct {
	Name            string
	Pre, Post, Mask string // file paths
}

// CalFireBands are the band roles the CAL FIRE files supply, by their band descriptions.
var CalFireBands = map[string]string{"blue": "B2", "green": "B3", "red": "B4", "nir": "B8", "swir2": "B12"}

// CalFire lists the fires under dir (…/real/calfire), sorted by name.
func CalFire(dir string) ([]Fire, error) {
	names, err := filepath.Glob(filepath.Join(dir, "pre", "*.tif"))
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("evalreal: no fires in %s/pre", dir)
	}
	var out []Fire
	for _, pre := range names {
		name := strings.TrimSuffix(filepath.Base(pre), ".tif")
		f := Fire{Name: name, Pre: pre, Post: filepath.Join(dir, "post", name+".tif"), Mask: filepath.Join(dir, "mask", name+".tif")}
		for _, p := range []string{f.Post, f.Mask} {
			if _, err := os.Stat(p); err != nil {
				return nil, fmt.Errorf("evalreal: fire %s: %w", name, err)
			}
		}
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Mask reads a one-band mask file: true where the value is not 0.
func Mask(ctx context.Context, path string) (*raster.Bands, []bool, error) {
	b, err := raster.ReadBands(ctx, raster.Env{AllowLocalFiles: true}, []raster.Source{raster.FileSource(path)}, raster.BandsOptions{Bands: []string{"1"}})
	if err != nil {
		return nil, nil, fmt.Errorf("evalreal: mask %s: %w", path, err)
	}
	m := make([]bool, len(b.Data[0]))
	for i, v := range b.Data[0] {
		m[i] = v != 0 && b.Valid[i]
	}
	return b, m, nil
}

// LevirPair is one LEVIR-CD pair written as GeoTIFFs with an assigned georeference.
type LevirPair struct {
	Name          string
	Before, After string // GeoTIFF paths
	Width, Height int
	GeoTransform  [6]float64
	CRS           string
	Label         []bool // building appeared or vanished
}

// LevirPixel is the pixel size assigned to LEVIR-CD images, metres.
const LevirPixel = 0.5

// Levir reads the pairs under dir (…/real/levir: A, B, label PNGs) and writes each date as
// an RGB GeoTIFF into out, at 0.5 m on UTM 50N, each pair at a place of its own.
func Levir(dir, out string) ([]LevirPair, error) {
	names, err := filepath.Glob(filepath.Join(dir, "A", "*.png"))
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("evalreal: no pairs in %s/A", dir)
	}
	sort.Strings(names)
	var pairs []LevirPair
	for k, a := range names {
		name := strings.TrimSuffix(filepath.Base(a), ".png")
		p := LevirPair{Name: name, CRS: "EPSG:32650"}
		p.GeoTransform = [6]float64{400000 + 1000*float64(k), LevirPixel, 0, 3500000, 0, -LevirPixel}
		var bands [2][3][]float32
		for d, sub := range []string{"A", "B"} {
			img, err := readPNG(filepath.Join(dir, sub, name+".png"))
			if err != nil {
				return nil, err
			}
			b := img.Bounds()
			if d == 0 {
				p.Width, p.Height = b.Dx(), b.Dy()
			} else if b.Dx() != p.Width || b.Dy() != p.Height {
				return nil, fmt.Errorf("evalreal: %s: B is %d×%d, A %d×%d", name, b.Dx(), b.Dy(), p.Width, p.Height)
			}
			for c := range bands[d] {
				bands[d][c] = make([]float32, p.Width*p.Height)
			}
			for y := 0; y < p.Height; y++ {
				for x := 0; x < p.Width; x++ {
					r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
					i := y*p.Width + x
					bands[d][0][i], bands[d][1][i], bands[d][2][i] = float32(r>>8), float32(g>>8), float32(bl>>8)
				}
			}
		}
		lab, err := readPNG(filepath.Join(dir, "label", name+".png"))
		if err != nil {
			return nil, err
		}
		if lb := lab.Bounds(); lb.Dx() != p.Width || lb.Dy() != p.Height {
			return nil, fmt.Errorf("evalreal: %s: label is %d×%d, images %d×%d", name, lb.Dx(), lb.Dy(), p.Width, p.Height)
		}
		p.Label = make([]bool, p.Width*p.Height)
		for y := 0; y < p.Height; y++ {
			for x := 0; x < p.Width; x++ {
				v, _, _, _ := lab.At(lab.Bounds().Min.X+x, lab.Bounds().Min.Y+y).RGBA()
				p.Label[y*p.Width+x] = v>>8 > 127
			}
		}
		for d, path := range []*string{&p.Before, &p.After} {
			*path = filepath.Join(out, fmt.Sprintf("%s-%s.tif", name, []string{"A", "B"}[d]))
			img := evalgen.Image{CRS: p.CRS, GeoTransform: p.GeoTransform, Width: p.Width, Height: p.Height, Type: evalgen.Byte}
			for c, bn := range []string{"red", "green", "blue"} {
				img.Bands = append(img.Bands, evalgen.Band{Name: bn, Data: bands[d][c]})
			}
			if err := evalgen.WriteGeoTIFF(*path, img); err != nil {
				return nil, err
			}
		}
		pairs = append(pairs, p)
	}
	return pairs, nil
}

func readPNG(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("evalreal: %w", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("evalreal: %s: %w", path, err)
	}
	return img, nil
}

// Derive makes a pipeline from a shipped one for files that carry other bands: bands maps
// the roles the files supply to their band names (required: other roles are dropped, and so are they
// from every detector's bands list), all with the given scale and offset; detectors of the
// types in drop are removed. The result is parsed and validated like any pipeline file.
func Derive(p *pipelines.Pipeline, name string, bands map[string]string, scale, offset float64, drop ...string) (*pipelines.Pipeline, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(p.Content(), &doc); err != nil {
		return nil, fmt.Errorf("evalreal: derive from %s: %w", p.Name, err)
	}
	old, _ := doc["bands"].(map[string]any)
	nb := map[string]any{}
	for role, v := range old {
		band, ok := bands[role]
		if !ok {
			continue
		}
		m, _ := v.(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		m["band"], m["scale"], m["offset"] = band, scale, offset
		delete(m, "optional") // the files supply it: a file without it is refused, not degraded
		nb[role] = m
	}
	for role, band := range bands {
		if _, ok := nb[role]; !ok {
			nb[role] = map[string]any{"band": band, "scale": scale, "offset": offset}
		}
	}
	doc["bands"] = nb
	dets, _ := doc["detectors"].([]any)
	var keep []any
	for _, d := range dets {
		dm, _ := d.(map[string]any)
		if dm == nil || contains(drop, fmt.Sprint(dm["type"])) {
			continue
		}
		if params, ok := dm["params"].(map[string]any); ok {
			if list, ok := params["bands"].([]any); ok {
				var roles []any
				for _, r := range list {
					if _, ok := bands[fmt.Sprint(r)]; ok {
						roles = append(roles, r)
					}
				}
				params["bands"] = roles
			}
		}
		keep = append(keep, dm)
	}
	doc["detectors"] = keep
	doc["description"] = fmt.Sprintf("Derived by make eval from %s: bands %v, scale %g, offset %g, without %v.", p.Name, bands, scale, offset, drop)
	data, err := yaml.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("evalreal: derive from %s: %w", p.Name, err)
	}
	return pipelines.Parse(name+".yaml", data)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
