package raster

import (
	"encoding/binary"
	"fmt"
	"math"
	"unsafe"

	"github.com/airbusgeo/godal"
)

// pixelType describes a supported GDAL data type.
type pixelType struct {
	dt   godal.DataType
	size int
}

// supportedType returns the pixelType for dt, or an error wrapping
// ErrUnusableScene for complex and unknown types.
func supportedType(dt godal.DataType) (pixelType, error) {
	switch dt {
	case godal.Byte, godal.UInt16, godal.Int16, godal.UInt32, godal.Int32, godal.Float32, godal.Float64:
		return pixelType{dt: dt, size: dt.Size()}, nil
	}
	return pixelType{}, fmt.Errorf("%w: unsupported data type %s", ErrUnusableScene, dt)
}

// isFloat reports whether pt is a floating-point type.
func (pt pixelType) isFloat() bool { return pt.dt == godal.Float32 || pt.dt == godal.Float64 }

// view returns buf as the typed slice godal expects for pt (no copy).
func (pt pixelType) view(buf []byte) any {
	n := len(buf) / pt.size
	if n == 0 {
		return buf[:0]
	}
	p := unsafe.Pointer(&buf[0])
	switch pt.dt {
	case godal.UInt16:
		return unsafe.Slice((*uint16)(p), n)
	case godal.Int16:
		return unsafe.Slice((*int16)(p), n)
	case godal.UInt32:
		return unsafe.Slice((*uint32)(p), n)
	case godal.Int32:
		return unsafe.Slice((*int32)(p), n)
	case godal.Float32:
		return unsafe.Slice((*float32)(p), n)
	case godal.Float64:
		return unsafe.Slice((*float64)(p), n)
	default:
		return buf
	}
}

// encode returns v in pt's native-endian representation.
func (pt pixelType) encode(v float64) []byte {
	b := make([]byte, pt.size)
	ne := binary.NativeEndian
	switch pt.dt {
	case godal.Byte:
		b[0] = uint8(v)
	case godal.UInt16:
		ne.PutUint16(b, uint16(v))
	case godal.Int16:
		ne.PutUint16(b, uint16(int16(v)))
	case godal.UInt32:
		ne.PutUint32(b, uint32(v))
	case godal.Int32:
		ne.PutUint32(b, uint32(int32(v)))
	case godal.Float32:
		ne.PutUint32(b, math.Float32bits(float32(v)))
	case godal.Float64:
		ne.PutUint64(b, math.Float64bits(v))
	}
	return b
}

// decode returns the value at b (pt.size bytes) as float64.
func (pt pixelType) decode(b []byte) float64 {
	ne := binary.NativeEndian
	switch pt.dt {
	case godal.Byte:
		return float64(b[0])
	case godal.UInt16:
		return float64(ne.Uint16(b))
	case godal.Int16:
		return float64(int16(ne.Uint16(b)))
	case godal.UInt32:
		return float64(ne.Uint32(b))
	case godal.Int32:
		return float64(int32(ne.Uint32(b)))
	case godal.Float32:
		return float64(math.Float32frombits(ne.Uint32(b)))
	case godal.Float64:
		return math.Float64frombits(ne.Uint64(b))
	}
	return 0
}

// noDataTest returns a function reporting whether a pixel value equals
// nodata (NaN matching NaN), or nil when there is no nodata.
func (pt pixelType) noDataTest(nodata *float64) func([]byte) bool {
	if nodata == nil {
		return nil
	}
	nd := *nodata
	if math.IsNaN(nd) {
		return func(b []byte) bool { return math.IsNaN(pt.decode(b)) }
	}
	// Compare in the pixel type so that e.g. a Float32 nodata of 1e-3
	// matches its rounded stored value.
	want := pt.decode(pt.encode(nd))
	return func(b []byte) bool { return pt.decode(b) == want }
}

// fill sets every element of buf to the element pattern v.
func fill(buf, v []byte) {
	if len(buf) == 0 {
		return
	}
	n := copy(buf, v)
	for n < len(buf) {
		n += copy(buf[n:], buf[:n])
	}
}

// representable reports whether v can be stored exactly in pt.
func (pt pixelType) representable(v float64) bool {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return pt.dt == godal.Float32 || pt.dt == godal.Float64
	}
	var lo, hi float64
	switch pt.dt {
	case godal.Byte:
		lo, hi = 0, math.MaxUint8
	case godal.UInt16:
		lo, hi = 0, math.MaxUint16
	case godal.Int16:
		lo, hi = math.MinInt16, math.MaxInt16
	case godal.UInt32:
		lo, hi = 0, math.MaxUint32
	case godal.Int32:
		lo, hi = math.MinInt32, math.MaxInt32
	case godal.Float32:
		return math.Abs(v) <= math.MaxFloat32
	default:
		return true
	}
	return v >= lo && v <= hi && v == math.Trunc(v)
}
