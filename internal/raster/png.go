package raster

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"io"
	"sync"

	"github.com/klauspost/compress/zlib"
)

// zlibWriters reuses zlib writers at best speed (their allocation dominates
// small outputs: PNG quick-looks and single-tile COGs). klauspost's encoder
// builds its Huffman tables several times faster than compress/flate's,
// which is most of the cost for clip-sized inputs.
var zlibWriters sync.Pool

// getZlib returns a best-speed zlib writer onto w; give it back with
// zlibWriters.Put after Close.
func getZlib(w io.Writer) *zlib.Writer {
	if zw, ok := zlibWriters.Get().(*zlib.Writer); ok {
		zw.Reset(w)
		return zw
	}
	zw, err := zlib.NewWriterLevel(w, zlib.BestSpeed)
	if err != nil {
		panic(err) // only for an invalid level
	}
	return zw
}

// encodePNG writes img as an 8-bit RGBA PNG. Quick-looks are enlarged by
// pixel replication, so instead of the standard encoder's adaptive filter
// search each row is stored with filter Up when it repeats the previous row
// (all zeros after filtering) and with no filter otherwise; zlib at best
// speed then does the rest. This is several times faster than image/png.
func encodePNG(img *image.NRGBA) ([]byte, error) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		var hdr [8]byte
		binary.BigEndian.PutUint32(hdr[:4], uint32(len(data)))
		copy(hdr[4:], typ)
		out.Write(hdr[:])
		out.Write(data)
		crc := crc32.NewIEEE()
		crc.Write(hdr[4:])
		crc.Write(data)
		var c [4]byte
		binary.BigEndian.PutUint32(c[:], crc.Sum32())
		out.Write(c[:])
	}
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8] = 8 // bit depth
	ihdr[9] = 6 // colour type RGBA
	chunk("IHDR", ihdr[:])

	var idat bytes.Buffer
	zw := getZlib(&idat)
	defer zlibWriters.Put(zw)
	zeros := make([]byte, w*4)
	for y := 0; y < h; y++ {
		row := img.Pix[y*img.Stride : y*img.Stride+w*4]
		if y > 0 && bytes.Equal(row, img.Pix[(y-1)*img.Stride:(y-1)*img.Stride+w*4]) {
			if _, err := zw.Write([]byte{2}); err != nil {
				return nil, err
			}
			if _, err := zw.Write(zeros); err != nil {
				return nil, err
			}
			continue
		}
		if _, err := zw.Write([]byte{0}); err != nil {
			return nil, err
		}
		if _, err := zw.Write(row); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	chunk("IDAT", idat.Bytes())
	chunk("IEND", nil)
	return out.Bytes(), nil
}
