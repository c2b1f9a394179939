// Package stac reads the STAC Item sidecars that accompany captures dropped into the captures
// bucket, and says which capture each describes.
package stac

import (
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/offsite/offsite"
)

// Capture is what a sidecar says about its capture.
type Capture struct {
	Kind       string
	AcquiredAt time.Time
	Sensor     string
	Key        string // the capture's object key in the same bucket
	// Bands are the raster:bands scale and offset of the capture's asset, band k at k-1; nil
	// when the asset has no raster:bands.
	Bands []BandScale
}

type item struct {
	Type       string           `json:"type"`
	ID         string           `json:"id"`
	Collection string           `json:"collection"`
	Properties map[string]any   `json:"properties"`
	Assets     map[string]asset `json:"assets"`
}

type asset struct {
	Href  string   `json:"href"`
	Type  string   `json:"type"`
	Roles []string `json:"roles"`
}

// Parse reads the STAC Item stored at sidecarKey in bucket. The capture's kind comes from
// properties "offsite:kind", else from the collection, constellation or platform
// (Sentinel-2, Landsat); its time from properties "datetime"; its object from the asset with
// role "data" (or the only GeoTIFF asset), whose href is relative to the sidecar or an
// s3://bucket/key URL in the same bucket, outside the reserved prefixes (where the
// application keeps what it writes itself). Errors say what is missing or refused.
func Parse(data []byte, bucket, sidecarKey string, reserved []string) (*Capture, error) {
	var it item
	if err := json.Unmarshal(data, &it); err != nil {
		return nil, fmt.Errorf("stac: %s: not a STAC Item: %v", sidecarKey, err)
	}
	if it.Type != "Feature" {
		return nil, fmt.Errorf("stac: %s: type %q, want a STAC Item (\"Feature\")", sidecarKey, it.Type)
	}
	c := &Capture{}
	var err error
	if c.Kind, err = kind(it); err != nil {
		return nil, fmt.Errorf("stac: %s: %v", sidecarKey, err)
	}
	dt, _ := it.Properties["datetime"].(string)
	if c.AcquiredAt, err = time.Parse(time.RFC3339, dt); err != nil {
		return nil, fmt.Errorf("stac: %s: properties.datetime %q is not an RFC 3339 time", sidecarKey, dt)
	}
	for _, k := range []string{"platform", "instruments", "constellation"} {
		switch v := it.Properties[k].(type) {
		case string:
			c.Sensor = strings.TrimSpace(c.Sensor + " " + v)
		case []any:
			for _, x := range v {
				if s, ok := x.(string); ok {
					c.Sensor = strings.TrimSpace(c.Sensor + " " + s)
				}
			}
		}
	}
	href, err := dataHref(it)
	if err != nil {
		return nil, fmt.Errorf("stac: %s: %v", sidecarKey, err)
	}
	if c.Key, err = resolve(href, bucket, sidecarKey, reserved); err != nil {
		return nil, fmt.Errorf("stac: %s: asset href %q: %v", sidecarKey, href, err)
	}
	scales, err := RasterBands(data)
	if err != nil {
		return nil, fmt.Errorf("%v (in %s)", err, sidecarKey)
	}
	c.Bands = scales[path.Base(strings.SplitN(href, "?", 2)[0])]
	return c, nil
}

func kind(it item) (string, error) {
	if k, ok := it.Properties["offsite:kind"].(string); ok {
		if !offsite.ValidCaptureKind(k) {
			return "", fmt.Errorf("properties.offsite:kind %q is not one of %s", k, strings.Join(offsite.CaptureKinds, ", "))
		}
		return k, nil
	}
	names := []string{it.Collection}
	for _, k := range []string{"constellation", "platform"} {
		if s, ok := it.Properties[k].(string); ok {
			names = append(names, s)
		}
	}
	for _, n := range names {
		n = strings.ToLower(n)
		switch {
		case strings.HasPrefix(n, "sentinel-2"), strings.HasPrefix(n, "sentinel2"):
			return offsite.KindSentinel2, nil
		case strings.HasPrefix(n, "landsat"):
			return offsite.KindLandsat, nil
		}
	}
	return "", fmt.Errorf("no properties.offsite:kind, and collection/constellation/platform %q name no known sensor", strings.Join(names, ", "))
}

func dataHref(it item) (string, error) {
	var tiffs []string
	for name, a := range it.Assets {
		for _, r := range a.Roles {
			if r == "data" {
				return a.Href, nil
			}
		}
		if name == "data" {
			return a.Href, nil
		}
		if strings.Contains(a.Type, "image/tiff") {
			tiffs = append(tiffs, a.Href)
		}
	}
	if len(tiffs) == 1 {
		return tiffs[0], nil
	}
	return "", fmt.Errorf("no asset with role \"data\" and %d GeoTIFF assets: mark the capture's asset with roles [\"data\"]", len(tiffs))
}

// resolve turns href into a key of bucket: relative to the sidecar's folder, or an
// s3://bucket/key URL naming the same bucket. Nothing else (http, other buckets, escapes,
// keys under a reserved prefix).
func resolve(href, bucket, sidecarKey string, reserved []string) (string, error) {
	var key string
	switch {
	case strings.HasPrefix(href, "s3://"):
		b, k, _ := strings.Cut(strings.TrimPrefix(href, "s3://"), "/")
		if b != bucket {
			return "", fmt.Errorf("is in bucket %q, not the captures bucket %q", b, bucket)
		}
		key = k
	case strings.Contains(href, "://") || strings.HasPrefix(href, "/"):
		return "", fmt.Errorf("must be relative to the sidecar or an s3://%s/ URL", bucket)
	default:
		if strings.Contains(href, "..") {
			return "", fmt.Errorf("must not contain \"..\"")
		}
		key = path.Join(path.Dir(sidecarKey), href)
	}
	if err := offsite.CheckObjectKey(key); err != nil {
		return "", err
	}
	for _, p := range reserved {
		if strings.HasPrefix(key, p) {
			return "", fmt.Errorf("names %s, under %s, which only the application writes", key, p)
		}
	}
	return key, nil
}
