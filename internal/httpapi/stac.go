package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/enforce"
	"github.com/offsite/offsite/internal/stac"
)

// A minimal STAC API at /stac (STAC API – Core, Collections and Features, without search):
// the collections captures, clips and findings, their Items with roles and checksums on
// every asset, and HTTP links only: assets are download routes of this API that audit and
// redirect to a presigned URL, links are Item URLs of this API. Clips, findings and the
// collections' extents are scoped by the caller's agency as the parcels and findings lists
// are; captures are every agency's.

// CapturePresigner presigns reads of captures (s3.Store).
type CapturePresigner interface {
	PresignCaptureDownload(ctx context.Context, key string, ttl time.Duration) (*url.URL, error)
}

const stacVersion = "1.0.0"

var stacConformance = []string{
	"https://api.stacspec.org/v1.0.0/core",
	"https://api.stacspec.org/v1.0.0/collections",
	"https://api.stacspec.org/v1.0.0/ogcapi-features",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
	"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
}

var stacCollections = []struct{ id, title, description string }{
	{stac.CollectionCaptures, "Captures", "Satellite scenes, drone mosaics and survey tracks as registered, with their footprint, acquisition time, sensor and SHA-256."},
	{stac.CollectionClips, "Clips", "Captures cut to enterprises' parcels: a Cloud Optimized GeoTIFF and a quick-look per clip, each with its SHA-256."},
	{stac.CollectionFindings, "Findings", "Findings of the detection pipelines: provenance (derived_from the captures with their checksums, pipeline and detector) and the evidence files."},
}

// The STAC routes take only these query parameters.
var stacItemsParams = []string{"limit", "offset"}

func (s *Server) registerSTACRoutes(mux *http.ServeMux) {
	s.handle(mux, "GET", "/stac", operation{
		Response: stacLandingAnswer(),
		Summary:  "STAC API landing page (a Catalog): the collections captures, clips and findings", Roles: rolesRead,
		Responses: map[string]string{"200": "Catalog"},
	}, s.handleSTACLanding)
	s.handle(mux, "GET", "/stac/conformance", operation{
		Response: conformanceAnswer(),
		Summary:  "STAC API conformance classes", Roles: rolesRead,
		Responses: map[string]string{"200": "conformance declaration"},
	}, s.handleSTACConformance)
	s.handle(mux, "GET", "/stac/collections", operation{
		Response: stacCollectionsAnswer(),
		Summary:  "STAC Collections with their real spatial and temporal extents", Roles: rolesRead,
		Responses: map[string]string{"200": "collections"},
	}, s.handleSTACCollections)
	s.handle(mux, "GET", "/stac/collections/{collectionId}", operation{
		Response: stacCollectionAnswer(),
		Summary:  "One STAC Collection", Roles: rolesRead,
		Responses: map[string]string{"200": "Collection", "404": "no such collection"},
	}, s.handleSTACCollection)
	s.handle(mux, "GET", "/stac/collections/{collectionId}/items", operation{
		Response: stacItemsAnswer(), ResponseType: geoJSONType,
		Summary: "STAC Items of a collection, by id", Roles: rolesRead,
		Query:     map[string]string{"limit": "1..1000, default 100", "offset": "default 0"},
		Responses: map[string]string{"200": "FeatureCollection of Items with next/prev links", "400": "bad or unknown query parameter", "404": "no such collection"},
	}, s.handleSTACItems)
	s.handle(mux, "GET", "/stac/collections/{collectionId}/items/{itemId}", operation{
		Response: stac.Item{}, ResponseType: geoJSONType,
		Summary: "One STAC Item", Roles: rolesRead,
		Responses: map[string]string{"200": "Item", "404": "no such collection or item"},
	}, s.handleSTACItem)
	s.handle(mux, "GET", "/api/v1/captures/{id}/data", operation{
		Summary: "Download a capture's object: audited, then redirected to a presigned URL (the data asset of its STAC Item)", Roles: rolesRead,
		Responses: map[string]string{"302": "redirect to a presigned URL valid 15 minutes", "404": "no such capture, or downloads not configured"},
	}, s.handleCaptureData)
}

// stacHrefs are the links of Items served at base (scheme://host).
func stacHrefs(base string, capturesDownload bool) stac.Hrefs {
	h := stac.Hrefs{
		Object: func(key string) string { return base + evidenceObjectPath + key },
		Item: func(collection, id string) string {
			u := base + "/stac/collections/" + collection
			if id != "" {
				u += "/items/" + url.PathEscape(id)
			}
			return u
		},
	}
	if capturesDownload {
		h.Capture = func(c *offsite.Capture) string {
			return base + "/api/v1/captures/" + strconv.FormatInt(c.ID, 10) + "/data"
		}
	}
	return h
}

func (s *Server) handleSTACLanding(w http.ResponseWriter, r *http.Request) {
	if err := onlyParams(r); err != nil {
		s.Error(w, r, err)
		return
	}
	b := baseURL(r)
	links := []ogcLink{
		{b + "/stac", "self", "application/json", "this catalog"},
		{b + "/stac", "root", "application/json", "Offsite STAC API"},
		{b + "/stac/conformance", "conformance", "application/json", "conformance classes"},
		{b + "/stac/collections", "data", "application/json", "collections"},
		{b + "/openapi.json", "service-desc", "application/vnd.oai.openapi+json;version=3.0", "the API definition"},
	}
	for _, c := range stacCollections {
		links = append(links, ogcLink{b + "/stac/collections/" + c.id, "child", "application/json", c.title})
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"type": "Catalog", "stac_version": stacVersion, "id": "offsite", "title": "Offsite evidence",
		"description": "Captures, clips and findings of Offsite's off-site inspection evidence.",
		"conformsTo":  stacConformance, "links": links,
	})
}

func (s *Server) handleSTACConformance(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"conformsTo": stacConformance})
}

func (s *Server) stacCollectionDoc(r *http.Request, i int) (map[string]any, error) {
	c := stacCollections[i]
	extent, err := s.extentDoc(r.Context(), c.id)
	if err != nil {
		return nil, err
	}
	delete(extent["spatial"].(map[string]any), "crs")
	delete(extent["temporal"].(map[string]any), "trs")
	b := baseURL(r)
	self := b + "/stac/collections/" + c.id
	return map[string]any{
		"type": "Collection", "stac_version": stacVersion, "stac_extensions": stac.Extensions, "id": c.id, "title": c.title,
		"description": c.description, "license": "proprietary", "extent": extent,
		"item_assets": map[string]any{},
		"links": []ogcLink{
			{self, "self", "application/json", c.title},
			{b + "/stac", "root", "application/json", "Offsite STAC API"},
			{b + "/stac", "parent", "application/json", "Offsite STAC API"},
			{self + "/items", "items", "application/geo+json", c.title + " items"},
		},
	}, nil
}

func findSTACCollection(id string) (int, error) {
	for i, c := range stacCollections {
		if c.id == id {
			return i, nil
		}
	}
	return 0, offsite.NotFound("STAC collection %q (collections: captures, clips, findings)", id)
}

func (s *Server) handleSTACCollections(w http.ResponseWriter, r *http.Request) {
	if err := onlyParams(r); err != nil {
		s.Error(w, r, err)
		return
	}
	var cs []map[string]any
	for i := range stacCollections {
		doc, err := s.stacCollectionDoc(r, i)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		cs = append(cs, doc)
	}
	b := baseURL(r)
	writeJSON(w, http.StatusOK, map[string]any{"collections": cs, "links": []ogcLink{
		{b + "/stac/collections", "self", "application/json", "collections"},
		{b + "/stac", "root", "application/json", "Offsite STAC API"},
	}})
}

func (s *Server) handleSTACCollection(w http.ResponseWriter, r *http.Request) {
	i, err := findSTACCollection(r.PathValue("collectionId"))
	if err == nil {
		err = onlyParams(r)
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	doc, err := s.stacCollectionDoc(r, i)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, doc)
}

// stacItems builds the Items of one page of a collection.
func (s *Server) stacItems(ctx context.Context, h stac.Hrefs, collection string, offset, limit int) ([]*stac.Item, int, error) {
	if s.GIS == nil {
		return nil, 0, nil
	}
	var items []*stac.Item
	switch collection {
	case stac.CollectionCaptures:
		cs, total, err := s.Captures.FindCaptures(ctx, offsite.CaptureFilter{Offset: offset, Limit: limit})
		if err != nil {
			return nil, 0, err
		}
		for _, c := range cs {
			items = append(items, stac.CaptureItem(c, h))
		}
		return items, total, nil
	case stac.CollectionClips:
		cls, total, err := s.clipsInScope(ctx, offsite.ClipFilter{Offset: offset, Limit: limit})
		if err != nil {
			return nil, 0, err
		}
		items, err := s.clipItems(ctx, h, cls)
		return items, total, err
	}
	fs, total, err := s.Enforce.FindFindingFeatures(ctx, enforce.EnterpriseFilter{Agency: scope(ctx), Offset: offset, Limit: limit})
	if err != nil {
		return nil, 0, err
	}
	items, err = s.findingItems(ctx, h, fs)
	return items, total, err
}

// clipsInScope returns the clips f selects that the caller's agency reaches: those of parcels
// of its enterprises, of those under it and of no enterprise, as the parcels list scopes
// parcels. Without a GIS service only a caller of no agency reads clips.
func (s *Server) clipsInScope(ctx context.Context, f offsite.ClipFilter) ([]*offsite.Clip, int, error) {
	f.Agency = scope(ctx)
	if s.GIS != nil {
		return s.GIS.FindClipsBy(ctx, f)
	}
	if f.Agency != 0 || f.CaptureID == 0 {
		return nil, 0, nil
	}
	cls, err := s.Clips.FindClips(ctx, f.CaptureID)
	cls = slices.DeleteFunc(cls, func(c *offsite.Clip) bool { return f.ParcelID != "" && c.ParcelID != f.ParcelID })
	return cls, len(cls), err
}

func (s *Server) clipItems(ctx context.Context, h stac.Hrefs, cls []*offsite.Clip) ([]*stac.Item, error) {
	var ids []string
	caps := map[int64]*offsite.Capture{}
	for _, cl := range cls {
		ids = append(ids, cl.ParcelID)
		if _, ok := caps[cl.CaptureID]; !ok {
			c, err := s.Captures.FindCaptureByID(ctx, cl.CaptureID)
			if err != nil {
				return nil, err
			}
			caps[cl.CaptureID] = c
		}
	}
	parcels := map[string]*offsite.Parcel{}
	if len(ids) > 0 {
		ps, _, err := s.Parcels.FindParcels(ctx, offsite.ParcelFilter{IDs: ids, Limit: len(ids)})
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			parcels[p.ID] = p
		}
	}
	var items []*stac.Item
	for _, cl := range cls {
		items = append(items, stac.ClipItem(cl, parcels[cl.ParcelID], caps[cl.CaptureID], h))
	}
	return items, nil
}

func (s *Server) findingItems(ctx context.Context, h stac.Hrefs, fs []*offsite.Finding) ([]*stac.Item, error) {
	owners, err := s.findingOwners(ctx, fs)
	if err != nil {
		return nil, err
	}
	var items []*stac.Item
	for _, f := range fs {
		it, err := stac.FindingItem(f, owners[f.ParcelID], h)
		if err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	return items, nil
}

func (s *Server) handleSTACItems(w http.ResponseWriter, r *http.Request) {
	i, err := findSTACCollection(r.PathValue("collectionId"))
	if err == nil {
		err = onlyParams(r, stacItemsParams...)
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	collection := stacCollections[i].id
	limit, err := intParam(r, "limit", 100, 1, 1000)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	offset, err := intParam(r, "offset", 0, 0, 1<<31-1)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	b := baseURL(r)
	items, total, err := s.stacItems(r.Context(), stacHrefs(b, s.CaptureDownloads != nil), collection, offset, limit)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if items == nil {
		items = []*stac.Item{}
	}
	self := b + r.URL.Path
	page := func(off int) string { return self + "?limit=" + strconv.Itoa(limit) + "&offset=" + strconv.Itoa(off) }
	links := []ogcLink{{Href: page(offset), Rel: "self", Type: "application/geo+json"},
		{Href: b + "/stac", Rel: "root", Type: "application/json"},
		{Href: b + "/stac/collections/" + collection, Rel: "collection", Type: "application/json"}}
	if offset+len(items) < total {
		links = append(links, ogcLink{Href: page(offset + limit), Rel: "next", Type: "application/geo+json"})
	}
	if offset > 0 {
		links = append(links, ogcLink{Href: page(max(offset-limit, 0)), Rel: "prev", Type: "application/geo+json"})
	}
	w.Header().Set("Content-Type", "application/geo+json")
	writeJSONCompact(w, http.StatusOK, map[string]any{"type": "FeatureCollection", "features": items, "links": links,
		"numberMatched": total, "numberReturned": len(items)})
}

func (s *Server) handleSTACItem(w http.ResponseWriter, r *http.Request) {
	i, err := findSTACCollection(r.PathValue("collectionId"))
	if err == nil {
		err = onlyParams(r)
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	ctx := r.Context()
	id := r.PathValue("itemId")
	h := stacHrefs(baseURL(r), s.CaptureDownloads != nil)
	var item *stac.Item
	switch stacCollections[i].id {
	case stac.CollectionCaptures:
		n, perr := strconv.ParseInt(id, 10, 64)
		if perr != nil || n <= 0 {
			err = offsite.NotFound("capture item %q", id)
			break
		}
		var c *offsite.Capture
		if c, err = s.Captures.FindCaptureByID(ctx, n); err == nil {
			item = stac.CaptureItem(c, h)
		}
	case stac.CollectionClips:
		capID, parcel, perr := stac.ParseClipID(id)
		if perr != nil {
			err = offsite.NotFound("clip item %q: ids are {capture id}-{parcel id}", id)
			break
		}
		var cls []*offsite.Clip
		if cls, _, err = s.clipsInScope(ctx, offsite.ClipFilter{CaptureID: capID, ParcelID: parcel, Limit: 1}); err == nil && len(cls) == 0 {
			err = offsite.NotFound("clip item %q", id)
		}
		if err == nil {
			var items []*stac.Item
			if items, err = s.clipItems(ctx, h, cls); err == nil {
				item = items[0]
			}
		}
	default:
		var fs []*offsite.Finding
		fs, _, err = s.Enforce.FindFindingFeatures(ctx, enforce.EnterpriseFilter{IDs: []string{id}, Agency: scope(ctx), Limit: 1})
		if err == nil && len(fs) == 0 {
			err = offsite.NotFound("finding item %q", id)
		}
		if err == nil {
			var items []*stac.Item
			if items, err = s.findingItems(ctx, h, fs); err == nil {
				item = items[0]
			}
		}
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/geo+json")
	writeJSONCompact(w, http.StatusOK, item)
}

func (s *Server) handleCaptureData(w http.ResponseWriter, r *http.Request) {
	if s.CaptureDownloads == nil {
		s.Error(w, r, offsite.NotFound("capture downloads are not configured on this server"))
		return
	}
	id, err := idParam(r, "id")
	if err != nil {
		s.Error(w, r, err)
		return
	}
	ctx := r.Context()
	c, err := s.Captures.FindCaptureByID(ctx, id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := offsite.CheckObjectKey(c.Key); err != nil || strings.TrimSpace(c.Key) == "" {
		s.Error(w, r, offsite.NotFound("capture %d has no object to download", id))
		return
	}
	if _, err := s.Store.StatCapture(ctx, c.Key); err != nil {
		s.Error(w, r, err)
		return
	}
	if err := s.Enforce.Audit(ctx, PrincipalFromContext(ctx).Actor(), enforce.AuditEvidenceDownload, "capture/"+strconv.FormatInt(id, 10), map[string]any{"key": c.Key}); err != nil {
		s.Error(w, r, err)
		return
	}
	u, err := s.CaptureDownloads.PresignCaptureDownload(ctx, c.Key, 15*time.Minute)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	http.Redirect(w, r, u.String(), http.StatusFound)
}
