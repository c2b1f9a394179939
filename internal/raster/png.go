package raster

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"sync"
)

// zlibWriters reuses zlib writers (their allocation dominates small PNGs).
var zlibWriters sync.Pool

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
	zw, _ := zlibWriters.Get().(*zlib.Writer)
	if zw == nil {
		var err error
		if zw, err = zlib.NewWriterLevel(&idat, zlib.BestSpeed); err != nil {
			return nil, err
		}
	} else {
		zw.Reset(&idat)
	}
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
