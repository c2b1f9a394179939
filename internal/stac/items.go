package stac

import (
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"github.com/offsite/offsite"
)

// Collections of the Items Offsite serves (/stac) and writes beside the outputs of worker
// process.
const (
	CollectionCaptures = "captures"
	CollectionClips    = "clips"
	CollectionFindings = "findings"
)

// Hrefs say where the files and Items an Item links to are: HTTP(S) URLs in the API
// (download routes that presign), relative paths in a local catalog. Never s3:// URLs, which
// a STAC client cannot follow.
type Hrefs struct {
	// Object is the href of a stored object: an evidence key in the API, an artifact name
	// (relative to the output folder) in local mode.
	Object func(key string) string
	// Capture is the href of a capture's data; "" leaves the asset out.
	Capture func(c *offsite.Capture) string
	// Item is the href of another Item of a collection.
	Item func(collection, id string) string
}

// ClipID is the Item id of a clip: "{capture id}-{parcel id}".
func ClipID(captureID int64, parcelID string) string {
	return strconv.FormatInt(captureID, 10) + "-" + parcelID
}

// ParseClipID splits a clip Item id.
func ParseClipID(id string) (int64, string, error) {
	c, p, ok := strings.Cut(id, "-")
	n, err := strconv.ParseInt(c, 10, 64)
	if !ok || err != nil || n <= 0 || p == "" {
		return 0, "", fmt.Errorf("stac: clip id %q is not {capture id}-{parcel id}", id)
	}
	return n, p, nil
}

// rolesOf are the asset roles of a file by its media type.
func rolesOf(mediaType, name string) []string {
	switch {
	case strings.HasPrefix(mediaType, "image/tiff"):
		return []string{"data"}
	case mediaType == "image/png" && strings.Contains(name, "chart"):
		return []string{"visual"}
	case mediaType == "image/png":
		return []string{"overview", "visual"}
	case strings.Contains(mediaType, "json"):
		return []string{"metadata"}
	}
	return []string{"data"}
}

// CaptureItem is the Item of a capture: its footprint (null until ingest), acquisition time,
// sensor, and its data as an asset with the source's checksum.
func CaptureItem(c *offsite.Capture, h Hrefs) *Item {
	props := map[string]any{
		"datetime":       c.AcquiredAt.UTC().Format(time.RFC3339),
		"offsite:kind":   c.Kind,
		"offsite:status": c.Status,
	}
	if c.Sensor != "" {
		props["instruments"] = []string{c.Sensor}
	}
	if c.CRS != "" {
		props["offsite:crs"] = c.CRS
	}
	var it *Item
	if c.Footprint != nil {
		it = NewItem(strconv.FormatInt(c.ID, 10), c.Footprint, props)
	} else {
		it = &Item{Type: "Feature", STACVersion: "1.0.0", STACExtensions: Extensions, ID: strconv.FormatInt(c.ID, 10),
			Properties: props, Links: []Link{}, Assets: map[string]Asset{}}
	}
	it.Collection = CollectionCaptures
	if h.Capture != nil {
		if href := h.Capture(c); href != "" {
			a := Asset{Href: href, Type: captureMediaType(c), Roles: []string{"data"}, Title: path.Base(c.Key), Size: c.SizeBytes}
			if c.Checksum != "" {
				a.Checksum = Checksum(c.Checksum)
			}
			it.Assets["data"] = a
		}
	}
	it.selfLinks(h, CollectionCaptures)
	return it
}

func captureMediaType(c *offsite.Capture) string {
	switch c.Kind {
	case offsite.KindBoatTrack, offsite.KindVehicleTrack:
		if strings.HasSuffix(strings.ToLower(c.Key), ".csv") {
			return "text/csv"
		}
		return "application/geo+json"
	}
	return "image/tiff; application=geotiff"
}

// ClipItem is the Item of a clip of capture c (nil when unknown) to a parcel: the parcel's
// geometry, the capture's time, the COG (data) and quick-look (overview) with their
// checksums, derived from the capture's Item.
func ClipItem(cl *offsite.Clip, parcel *offsite.Parcel, c *offsite.Capture, h Hrefs) *Item {
	props := map[string]any{
		"datetime":             nil,
		"offsite:capture_id":   cl.CaptureID,
		"offsite:parcel_id":    cl.ParcelID,
		"offsite:width":        cl.Width,
		"offsite:height":       cl.Height,
		"offsite:valid_pixels": cl.ValidPixels,
		"created":              cl.CreatedAt.UTC().Format(time.RFC3339),
	}
	if c != nil {
		props["datetime"] = c.AcquiredAt.UTC().Format(time.RFC3339)
		if c.Sensor != "" {
			props["instruments"] = []string{c.Sensor}
		}
	}
	if parcel != nil && parcel.EnterpriseUSCC != "" {
		props["offsite:uscc"] = parcel.EnterpriseUSCC
	}
	var g orb.Geometry
	if parcel != nil {
		g = parcel.Geometry
	}
	id := ClipID(cl.CaptureID, cl.ParcelID)
	var it *Item
	if g != nil {
		it = NewItem(id, g, props)
	} else {
		it = &Item{Type: "Feature", STACVersion: "1.0.0", STACExtensions: Extensions, ID: id, Properties: props, Links: []Link{}, Assets: map[string]Asset{}}
	}
	it.Collection = CollectionClips
	it.Assets["cog"] = Asset{Href: h.Object(cl.COGKey), Type: "image/tiff; application=geotiff; profile=cloud-optimized", Roles: []string{"data"},
		Checksum: Checksum(cl.COGSHA256), Size: cl.COGBytes}
	if cl.QuickLookKey != "" {
		it.Assets["quicklook"] = Asset{Href: h.Object(cl.QuickLookKey), Type: "image/png", Roles: []string{"overview", "visual"}, Checksum: Checksum(cl.QuickLookSHA256)}
	}
	if h.Item != nil {
		it.Links = append(it.Links, Link{Rel: "derived_from", Href: h.Item(CollectionCaptures, strconv.FormatInt(cl.CaptureID, 10)), Type: "application/geo+json", CaptureID: cl.CaptureID})
	}
	it.selfLinks(h, CollectionClips)
	return it
}

// FindingItem is the Item of a finding: its provenance (the Item the pipeline wrote) in the
// findings collection, with its derived_from links pointing at the captures' Items (no
// s3:// URL remains), its artifacts as assets with roles and checksums, and the parcel's
// enterprise.
func FindingItem(f *offsite.Finding, owner offsite.Owner, h Hrefs) (*Item, error) {
	var it Item
	if len(f.Provenance) > 0 && string(f.Provenance) != "null" {
		if err := json.Unmarshal(f.Provenance, &it); err != nil {
			return nil, fmt.Errorf("stac: finding %s provenance: %w", f.ID, err)
		}
	}
	if it.Properties == nil {
		it.Properties = map[string]any{}
	}
	base := NewItem(f.ID, f.Geometry, it.Properties)
	base.STACExtensions = Extensions
	base.Collection = CollectionFindings
	if base.Properties["datetime"] == nil {
		base.Properties["datetime"] = f.DetectedAt.UTC().Format(time.RFC3339)
	}
	for k, v := range map[string]any{"offsite:parcel_id": f.ParcelID, "offsite:kind": f.Kind, "offsite:class": f.Class,
		"offsite:score": f.Score, "offsite:area_m2": f.AreaM2} {
		if _, ok := base.Properties[k]; !ok {
			base.Properties[k] = v
		}
	}
	if f.Severity != "" {
		base.Properties["offsite:severity"] = f.Severity
	}
	if owner.USCC != "" {
		base.Properties["offsite:uscc"] = owner.USCC
		base.Properties["offsite:enterprise_name"] = owner.Name
	}
	for _, l := range it.Links {
		if l.Rel != "derived_from" {
			continue
		}
		switch {
		case l.CaptureID != 0 && h.Item != nil:
			l.Href = h.Item(CollectionCaptures, strconv.FormatInt(l.CaptureID, 10))
		case strings.Contains(l.Href, "://") && !strings.HasPrefix(l.Href, "http://") && !strings.HasPrefix(l.Href, "https://"):
			continue // an input no client could fetch; its checksum stays in the finding's own record
		}
		base.Links = append(base.Links, l)
	}
	for _, a := range f.Artifacts {
		name := path.Base(a.Name)
		base.Assets[name] = Asset{Href: h.Object(a.Key), Type: a.MediaType, Roles: rolesOf(a.MediaType, name), Checksum: Checksum(a.SHA256), Size: a.Size}
	}
	base.selfLinks(h, CollectionFindings)
	return base, nil
}

// selfLinks adds the self, parent and collection links (when Hrefs can make them).
func (it *Item) selfLinks(h Hrefs, collection string) {
	if h.Item == nil {
		return
	}
	it.Links = append(it.Links,
		Link{Rel: "self", Href: h.Item(collection, it.ID), Type: "application/geo+json"},
		Link{Rel: "collection", Href: h.Item(collection, ""), Type: "application/json"},
		Link{Rel: "parent", Href: h.Item(collection, ""), Type: "application/json"},
	)
}
