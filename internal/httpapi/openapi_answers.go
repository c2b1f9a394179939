package httpapi

import "github.com/offsite/offsite/internal/stac"

// Schemas of the answers that handlers build as maps (OGC API – Features, STAC), named here
// once for the routes that share them. Each lists the keys its handler writes, with Go
// values of the types it writes under them.

// conformanceAnswer is what /ogc/conformance and /stac/conformance write.
func conformanceAnswer() schemaValue {
	return objectOf(map[string]any{"conformsTo": []string{}})
}

// ogcLandingAnswer is handleOGCLanding's answer.
func ogcLandingAnswer() schemaValue {
	return objectOf(map[string]any{"title": "", "description": "", "links": []ogcLink{}})
}

// extentSchema describes the extent an OGC or STAC collection document carries (extentDoc).
var extentSchema = schemaValue{"type": "object", "description": "spatial (bbox) and temporal (interval) extent of the collection's records",
	"properties": map[string]any{"spatial": schemaValue{"type": "object"}, "temporal": schemaValue{"type": "object"}}}

// ogcCollectionAnswer is ogcCollectionDoc's document.
func ogcCollectionAnswer() schemaValue {
	return objectOf(map[string]any{"id": "", "title": "", "description": "", "itemType": "", "crs": []string{},
		"extent": extentSchema, "links": []ogcLink{}})
}

// ogcCollectionsAnswer is handleOGCCollections' answer.
func ogcCollectionsAnswer() schemaValue {
	return objectOf(map[string]any{"links": []ogcLink{}, "collections": arrayOf(ogcCollectionAnswer())})
}

// stacLandingAnswer is handleSTACLanding's Catalog.
func stacLandingAnswer() schemaValue {
	return objectOf(map[string]any{"type": "", "stac_version": "", "id": "", "title": "", "description": "",
		"conformsTo": []string{}, "links": []ogcLink{}})
}

// stacCollectionAnswer is stacCollectionDoc's Collection.
func stacCollectionAnswer() schemaValue {
	return objectOf(map[string]any{"type": "", "stac_version": "", "stac_extensions": []string{}, "id": "", "title": "",
		"description": "", "license": "", "extent": extentSchema, "item_assets": map[string]any{}, "links": []ogcLink{}})
}

// stacCollectionsAnswer is handleSTACCollections' answer.
func stacCollectionsAnswer() schemaValue {
	return objectOf(map[string]any{"collections": arrayOf(stacCollectionAnswer()), "links": []ogcLink{}})
}

// stacItemsAnswer is handleSTACItems' FeatureCollection of Items.
func stacItemsAnswer() schemaValue {
	return objectOf(map[string]any{"type": "", "features": []*stac.Item{}, "links": []ogcLink{},
		"numberMatched": 0, "numberReturned": 0})
}
