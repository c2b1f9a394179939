package stac

import (
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// Extensions are the STAC extensions of the Items Offsite writes.
var Extensions = []string{
	"https://stac-extensions.github.io/processing/v1.2.0/schema.json",
	"https://stac-extensions.github.io/file/v2.1.0/schema.json",
}

// Item is a STAC Item as Offsite writes a finding's provenance: derived_from links to the
// inputs with their checksums, and assets for the stored evidence.
type Item struct {
	Type           string            `json:"type"` // "Feature"
	STACVersion    string            `json:"stac_version"`
	STACExtensions []string          `json:"stac_extensions"`
	ID             string            `json:"id"`
	Collection     string            `json:"collection,omitempty"`
	Geometry       *geojson.Geometry `json:"geometry"`
	BBox           []float64         `json:"bbox"`
	Properties     map[string]any    `json:"properties"`
	Links          []Link            `json:"links"`
	Assets         map[string]Asset  `json:"assets"`
}

// Link is a link of an Item; Offsite's are derived_from links to the inputs.
type Link struct {
	Rel  string `json:"rel"`
	Href string `json:"href"`
	Type string `json:"type,omitempty"`
	// Checksum is a multihash: "1220" and the hex SHA-256.
	Checksum  string `json:"file:checksum,omitempty"`
	Size      int64  `json:"file:size,omitempty"`
	Datetime  string `json:"datetime,omitempty"`     // RFC 3339, the input's acquisition
	Role      string `json:"offsite:role,omitempty"` // "before", "after", "capture", "track"
	CaptureID int64  `json:"offsite:capture_id,omitempty"`
}

// Asset is a stored file of an Item.
type Asset struct {
	Href     string   `json:"href"`
	Type     string   `json:"type,omitempty"`
	Title    string   `json:"title,omitempty"`
	Roles    []string `json:"roles,omitempty"`
	Checksum string   `json:"file:checksum,omitempty"`
	Size     int64    `json:"file:size,omitempty"`
}

// NewItem returns an Item with id and geometry g (WGS84), its bbox, and properties; links
// and assets are added by the caller.
func NewItem(id string, g orb.Geometry, properties map[string]any) *Item {
	b := g.Bound()
	return &Item{
		Type: "Feature", STACVersion: "1.0.0", STACExtensions: Extensions, ID: id,
		Geometry: geojson.NewGeometry(g), BBox: []float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]},
		Properties: properties, Links: []Link{}, Assets: map[string]Asset{},
	}
}

// Checksum is the file:checksum multihash of a hex SHA-256.
func Checksum(sha256Hex string) string { return "1220" + sha256Hex }
