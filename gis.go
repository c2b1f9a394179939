package offsite

import (
	"context"
	"time"

	"github.com/paulmach/orb"
)

// Extent is the spatial and temporal extent of a collection: the bounding box of its
// geometries (WGS84) and the span of its times; nil fields when it is empty.
type Extent struct {
	Bbox       *orb.Bound
	Start, End *time.Time
}

// Owner is the enterprise a parcel belongs to, as GIS layers and STAC Items name it.
type Owner struct {
	USCC string
	Name string
}

// Collections of GISService.Extent.
const (
	CollectionEnterprises = "enterprises"
	CollectionParcels     = "parcels"
	CollectionFindings    = "findings"
	CollectionCaptures    = "captures"
	CollectionClips       = "clips"
)

// GISService reads what the GIS exports, the OGC API collections and the STAC API need
// beyond the other services.
type GISService interface {
	// Extent returns the extent of a collection (Collection*), of the records agency
	// reaches as the lists of the collection do (0: all).
	Extent(ctx context.Context, collection string, agency int64) (Extent, error)
	// ParcelOwners returns the enterprise of each of the parcels that has one, by parcel id.
	ParcelOwners(ctx context.Context, parcelIDs []string) (map[string]Owner, error)
	// FindClipsBy returns the clips f selects, by capture id and parcel id, and how many it
	// selects.
	FindClipsBy(ctx context.Context, f ClipFilter) ([]*Clip, int, error)
}

// ClipFilter selects clips; zero fields select all.
type ClipFilter struct {
	CaptureID int64
	ParcelID  string
	// Agency keeps the clips of parcels of no enterprise and of the enterprises of that
	// agency and of those under it, as the parcels list does.
	Agency        int64
	Offset, Limit int
}
