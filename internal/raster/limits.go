package raster

import (
	"fmt"

	"github.com/airbusgeo/godal"
)

// Limits bound the scenes the package works on. They are checked from the
// header, when a scene is opened and before any pixel is read or converted,
// so that a hostile file (a sparse 65536 × 65536 GeoTIFF is half a megabyte)
// is refused at once with an error wrapping ErrUnusableScene instead of
// keeping GDAL busy past the task's deadline. Zero fields take the defaults,
// which leave room for a 10980 × 10980 Sentinel-2 scene of 13 bands
// (120 million pixels, 26 bytes each) and for large drone orthomosaics.
type Limits struct {
	// MaxSide is the largest width or height of a band, in pixels. Default
	// 50000.
	MaxSide int
	// MaxPixels is the largest width × height. Default 2^30 (32768²).
	MaxPixels int64
	// MaxBands is the largest band count. Default 16.
	MaxBands int
	// MaxBytesPerPixel is the largest size of one pixel over all bands
	// (bands × bytes per sample). Default 64 (16 Float32 bands).
	MaxBytesPerPixel int
	// MaxBytes is the largest uncompressed size, width × height × bytes per
	// pixel. Default 8 GiB.
	MaxBytes int64
}

// Default limits.
const (
	DefaultMaxSide          = 50000
	DefaultMaxPixels        = 1 << 30
	DefaultMaxBands         = 16
	DefaultMaxBytesPerPixel = 64
	DefaultMaxBytes         = 8 << 30
)

// withDefaults returns l with zero fields set to the defaults.
func (l Limits) withDefaults() Limits {
	if l.MaxSide <= 0 {
		l.MaxSide = DefaultMaxSide
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultMaxPixels
	}
	if l.MaxBands <= 0 {
		l.MaxBands = DefaultMaxBands
	}
	if l.MaxBytesPerPixel <= 0 {
		l.MaxBytesPerPixel = DefaultMaxBytesPerPixel
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	return l
}

// check returns an error wrapping ErrUnusableScene when a scene of the given
// size, band count and sample type exceeds l.
func (l Limits) check(width, height, bands int, dt godal.DataType) error {
	l = l.withDefaults()
	sample := dt.Size()
	pixels := int64(width) * int64(height)
	switch {
	case width <= 0 || height <= 0:
		return fmt.Errorf("%w: %d × %d pixels", ErrUnusableScene, width, height)
	case width > l.MaxSide || height > l.MaxSide:
		return fmt.Errorf("%w: %d × %d pixels: a side exceeds the limit of %d", ErrUnusableScene, width, height, l.MaxSide)
	case pixels > l.MaxPixels:
		return fmt.Errorf("%w: %d × %d = %d pixels exceeds the limit of %d", ErrUnusableScene, width, height, pixels, l.MaxPixels)
	case bands > l.MaxBands:
		return fmt.Errorf("%w: %d bands exceeds the limit of %d", ErrUnusableScene, bands, l.MaxBands)
	case bands*sample > l.MaxBytesPerPixel:
		return fmt.Errorf("%w: %d bands of %s are %d bytes per pixel, over the limit of %d", ErrUnusableScene, bands, dt, bands*sample, l.MaxBytesPerPixel)
	case pixels*int64(bands*sample) > l.MaxBytes:
		return fmt.Errorf("%w: %d × %d pixels of %d bytes are %d bytes uncompressed, over the limit of %d", ErrUnusableScene, width, height, bands*sample, pixels*int64(bands*sample), l.MaxBytes)
	}
	return nil
}
