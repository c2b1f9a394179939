package evalgen

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"html"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// Sample types of written images.
const (
	Byte    = "Byte"
	UInt16  = "UInt16"
	Float32 = "Float32"
)

// Image is a north-up georeferenced image to write as a GeoTIFF.
type Image struct {
	// CRS is anything gdal_translate -a_srs accepts, e.g. "EPSG:32650".
	CRS           string
	GeoTransform  [6]float64
	Width, Height int
	Type          string // Byte, UInt16 or Float32
	// NoData, when set, is written as the nodata value of every band.
	NoData *float64
	Bands  []Band
}

// Band is one band of an Image: values already in the image's sample type range (they are
// rounded and clamped when the type is an integer).
type Band struct {
	Name string // written as the band description
	Data []float32
	// Scale and Offset, when Scale is not 0, are written as the band's scale and offset
	// metadata (physical value = raw × Scale + Offset), as GDAL and COG producers do.
	Scale, Offset float64
}

// WriteGeoTIFF writes img as a tiled, DEFLATE-compressed GeoTIFF at path. The pixels go into
// a raw file described by a VRT (band descriptions, nodata, scale and offset per band), which
// gdal_translate turns into the GeoTIFF.
func WriteGeoTIFF(path string, img Image) error {
	size := map[string]int{Byte: 1, UInt16: 2, Float32: 4}[img.Type]
	if size == 0 {
		return fmt.Errorf("evalgen: write %s: unknown sample type %q", path, img.Type)
	}
	n := img.Width * img.Height
	var buf bytes.Buffer
	buf.Grow(n * size * len(img.Bands))
	for _, b := range img.Bands {
		if len(b.Data) != n {
			return fmt.Errorf("evalgen: write %s: band %s has %d values for %d×%d", path, b.Name, len(b.Data), img.Width, img.Height)
		}
		for _, v := range b.Data {
			switch img.Type {
			case Byte:
				buf.WriteByte(uint8(clampRound(v, 0, 255)))
			case UInt16:
				_ = binary.Write(&buf, binary.LittleEndian, uint16(clampRound(v, 0, 65535)))
			case Float32:
				_ = binary.Write(&buf, binary.LittleEndian, v)
			}
		}
	}
	dir := filepath.Dir(path)
	base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	raw := filepath.Join(dir, base+".raw")
	vrt := filepath.Join(dir, base+".vrt")
	if err := os.WriteFile(raw, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("evalgen: %w", err)
	}
	defer os.Remove(raw)
	if err := os.WriteFile(vrt, []byte(img.vrt(filepath.Base(raw), size)), 0o644); err != nil {
		return fmt.Errorf("evalgen: %w", err)
	}
	defer os.Remove(vrt)
	cmd := exec.Command("gdal_translate", "-q", "-of", "GTiff", "-co", "TILED=YES", "-co", "COMPRESS=DEFLATE", vrt, path)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("evalgen: gdal_translate %s: %v: %s", path, err, out)
	}
	return nil
}

// vrt describes the raw file (band-sequential, little-endian) as a VRT.
func (img Image) vrt(raw string, size int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<VRTDataset rasterXSize=\"%d\" rasterYSize=\"%d\">\n", img.Width, img.Height)
	fmt.Fprintf(&b, "  <SRS>%s</SRS>\n", html.EscapeString(img.CRS))
	gt := make([]string, 6)
	for i, v := range img.GeoTransform {
		gt[i] = strconv.FormatFloat(v, 'g', 17, 64)
	}
	fmt.Fprintf(&b, "  <GeoTransform>%s</GeoTransform>\n", strings.Join(gt, ", "))
	for i, band := range img.Bands {
		fmt.Fprintf(&b, "  <VRTRasterBand dataType=%q band=\"%d\" subClass=\"VRTRawRasterBand\">\n", img.Type, i+1)
		fmt.Fprintf(&b, "    <Description>%s</Description>\n", html.EscapeString(band.Name))
		if img.NoData != nil {
			fmt.Fprintf(&b, "    <NoDataValue>%s</NoDataValue>\n", strconv.FormatFloat(*img.NoData, 'g', -1, 64))
		}
		if band.Scale != 0 {
			fmt.Fprintf(&b, "    <Offset>%s</Offset>\n    <Scale>%s</Scale>\n",
				strconv.FormatFloat(band.Offset, 'g', -1, 64), strconv.FormatFloat(band.Scale, 'g', -1, 64))
		}
		fmt.Fprintf(&b, "    <SourceFilename relativeToVRT=\"1\">%s</SourceFilename>\n", html.EscapeString(raw))
		fmt.Fprintf(&b, "    <ImageOffset>%d</ImageOffset>\n    <PixelOffset>%d</PixelOffset>\n    <LineOffset>%d</LineOffset>\n",
			i*img.Width*img.Height*size, size, img.Width*size)
		b.WriteString("    <ByteOrder>LSB</ByteOrder>\n  </VRTRasterBand>\n")
	}
	b.WriteString("</VRTDataset>\n")
	return b.String()
}

func clampRound(v float32, lo, hi float64) float64 {
	f := math.Round(float64(v))
	if math.IsNaN(f) {
		return lo
	}
	return math.Max(lo, math.Min(hi, f))
}
