package testenv

import (
	"encoding/binary"
	"os"
	"testing"
)

// MustDropExtraSamples rewrites the ExtraSamples tag (338) of the first directory of a
// little-endian classic TIFF (as GDAL writes a band-interleaved or pixel-interleaved file with
// PHOTOMETRIC=RGB and more than four bands) to one unspecified sample, so that the photometric
// channels and the extra samples no longer add up to SamplesPerPixel: GDAL then warns
// "TIFFReadDirectory: Sum of Photometric type-related color channels and ExtraSamples doesn't
// match SamplesPerPixel" and reads the file anyway.
func MustDropExtraSamples(tb testing.TB, path string) {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	le := binary.LittleEndian
	if len(b) < 8 || string(b[:2]) != "II" || le.Uint16(b[2:]) != 42 {
		tb.Fatalf("%s: not a little-endian classic TIFF", path)
	}
	ifd := int(le.Uint32(b[4:]))
	n := int(le.Uint16(b[ifd:]))
	for i := 0; i < n; i++ {
		e := ifd + 2 + 12*i
		if le.Uint16(b[e:]) == 338 {
			le.PutUint32(b[e+4:], 1) // count
			le.PutUint32(b[e+8:], 0) // the one value, inline: unspecified
			if err := os.WriteFile(path, b, 0o644); err != nil {
				tb.Fatal(err)
			}
			return
		}
	}
	tb.Fatalf("%s: no ExtraSamples tag", path)
}
